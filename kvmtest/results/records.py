"""Result records: one per executed test, plus the job they belong to.

Both are plain dataclasses whose ``to_json``/``from_json`` round-trip without
loss, so a result can be written, read back, merged on ``--resume`` or sent
to another host unchanged. Key names follow avocado's ``results.json`` where
avocado has one (``name``, ``status``, ``fail_reason``, ``start``, ``end``,
``time``, ``logdir``, ``fail_class``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Iterable, List, Optional, Tuple

from kvmtest.plan.model import Address

PASS = "PASS"
FAIL = "FAIL"
ERROR = "ERROR"
SKIP = "SKIP"
INTERRUPTED = "INTERRUPTED"

#: Every status a result can carry, in summary-column order.
STATUSES = (PASS, FAIL, ERROR, SKIP, INTERRUPTED)
#: Statuses ``--resume`` keeps; an INTERRUPTED test is run again.
FINAL_STATUSES = frozenset({PASS, FAIL, ERROR, SKIP})

#: ``fail_class`` values the runner itself sets (test code sets the exception class name).
TIMEOUT_CLASS = "TestTimeout"
STOPPED_CLASS = "JobInterrupted"
DEP_CLASS = "DependencyNotMet"
#: ``fail_class`` values that blame the machine, the runner or the config, not the system
#: under test (an env that could not be set up, a killed runner, a lost host, a bad param,
#: a machine fault): ``kvmtest compare`` leaves such runs out of the pass/fail counts and
#: ``history flaky`` counts them as neither a pass nor a failure.
INFRA_CLASSES = frozenset({"EnvError", "RunnerError", "RunnerKilled", "HostLost", "ParamError",
                           "InfraError"})


#: ``Metric.better`` values: which direction of change is an improvement.
BETTER = ("higher", "lower")


def is_final(status: str) -> bool:
    """True when ``--resume`` must not run the test again."""
    return status in FINAL_STATUSES


REASON_WIDTH = 120


def short_reason(reason: str, width: int = REASON_WIDTH) -> str:
    """The first non-blank line of ``reason``, cut at a word boundary to ``width`` (' ...' marks
    the cut). The whole reason stays in results.json; a progress line only has to say which."""
    line = next((ln.strip() for ln in reason.splitlines() if ln.strip()), "")
    if len(line) <= width:
        return line
    cut = line.rfind(" ", 0, width - 3)
    if cut <= 0:  # one huge word (a path): keep it whole rather than cut it
        cut = line.find(" ")
        return line if cut < 0 else line[:cut] + " ..."
    return line[:cut].rstrip() + " ..."


_TAG_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def parse_tag(text: str) -> Tuple[str, str]:
    """``KEY=VALUE`` of ``--tag`` (and of a history selection) as a pair, or ValueError saying why.

    Keys are ``A-Za-z0-9_.-``; a value is any non-empty text without ``,`` (it separates the
    parts of a selection like ``kernel=6.8,role=dev``) or a line break.
    """
    key, eq, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not eq or not key or not value:
        raise ValueError(f"tag {text!r}: expected KEY=VALUE (e.g. kernel=6.8-rc1)")
    if not _TAG_KEY.fullmatch(key):
        raise ValueError(f"tag {text!r}: the key may only have letters, digits and _.-")
    if "," in value or "\n" in value or "\r" in value:
        raise ValueError(f"tag {text!r}: the value may not contain ',' or a line break")
    return key, value


def parse_tags(texts: Iterable[str]) -> Dict[str, str]:
    """``--tag`` values as a dict (a key given twice: the last value wins)."""
    return dict(parse_tag(t) for t in texts)


@dataclass
class Metric:
    """One named number a test measured (MMTests-style): compared across runs, not judged."""

    name: str
    value: float
    unit: str = ""
    better: str = "higher"  # "higher" or "lower": which way is an improvement

    def __post_init__(self) -> None:
        if self.better not in BETTER:
            raise ValueError(f"metric {self.name!r}: better must be 'higher' or 'lower', "
                             f"not {self.better!r}")
        self.value = float(self.value)

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "better": self.better}

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> Metric:
        return cls(name=d["name"], value=d["value"], unit=d.get("unit", ""),
                   better=d.get("better", "higher"))


@dataclass
class TestResult:
    """What happened to one planned test in one attempt."""

    __test__ = False  # not a pytest class

    id: str  # "<host>/<queue>/<n>-<shortname>": unique in a job, stable across --resume
    name: str
    shortname: str
    status: str
    hostname: str
    queue: str
    start: float  # epoch seconds
    end: float
    fail_reason: Optional[str] = None
    fail_class: Optional[str] = None
    logdir: str = ""  # relative to the results directory
    addresses: List[Address] = field(default_factory=list)
    attempt: int = 1  # 2 after one --resume re-ran it, ...
    accel: Optional[str] = None  # what its guests were started with ("kvm", "tcg"); None: no guest
    metrics: List[Metric] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r} for {self.id}")

    @property
    def time(self) -> float:
        """Duration in seconds, as avocado's ``time`` key."""
        return max(0.0, self.end - self.start)

    @property
    def reason_line(self) -> str:
        """Why it did not pass, in one short whole line ('' for a PASS); all of it: fail_reason."""
        return short_reason(self.fail_reason or "")

    def to_json(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["addresses"] = [a.to_json() for a in self.addresses]
        d["metrics"] = [m.to_json() for m in self.metrics]
        d["time"] = round(self.time, 6)
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> TestResult:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["addresses"] = [Address.from_json(a) for a in d.get("addresses", [])]
        kw["metrics"] = [Metric.from_json(m) for m in d.get("metrics", [])]
        return cls(**kw)


@dataclass
class JobInfo:
    """Who ran what, when: the ``job`` object of results.json."""

    job_id: str
    set: str = ""
    hostname: str = ""
    cmdline: List[str] = field(default_factory=list)
    start: float = 0.0
    end: Optional[float] = None
    runs: List[Dict[str, Any]] = field(default_factory=list)  # one per start/--resume
    interrupted: Optional[str] = None  # signal name when the last run was stopped
    # files the job also writes, by format ({"kcidb": "/abs/path.json"}): --resume refreshes them
    exports: Dict[str, str] = field(default_factory=dict)
    tags: Dict[str, str] = field(default_factory=dict)  # --tag KEY=VALUE: kernel=6.8-rc1, role=dev
    # per planned host: its facts that matter when comparing runs (kernel, qemu, cpu_model...)
    hosts: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> JobInfo:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
