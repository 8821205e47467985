"""Planning: test sets, hosts, queues and address ranges.

A control file (or the CLI) calls ``load``; the result says which host runs
which test in which queue with which MAC/IP addresses::

    import kvmtest
    plan = kvmtest.load(["kvm_hosts.cfg"], test_set="nightly", extra=["only boot"])
    for queue in plan.for_host("hostname1"):
        print(queue.key, [t.shortname for t in queue.tests])
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from kvmtest.plan.auto import AutoAssignment, plan_auto
from kvmtest.plan.build import Planner
from kvmtest.plan.errors import PlanError
from kvmtest.plan.estimate import DurationSource
from kvmtest.plan.model import Address, PlannedTest, QueuePlan
from kvmtest.plan.ranges import AddressRange

# Keys every dict gets from the variant path, whatever is assigned: a param can't set them.
COMPUTED_KEYS = ("name", "shortname", "dep", "_name_map_file", "_short_name_map_file")

__all__ = [
    "Address",
    "AddressRange",
    "AutoAssignment",
    "DurationSource",
    "Plan",
    "PlanError",
    "PlannedTest",
    "Planner",
    "QueuePlan",
    "collect",
    "load",
    "finish",
    "make_parser",
    "new_planner",
    "iter_tests",
    "plan_auto",
]


@dataclass
class Plan:
    """Every host's queues, their ordered tests, the ranges and the warnings."""

    local_host: str
    queue_plans: Dict[Tuple[str, str], QueuePlan] = field(default_factory=dict)
    ranges: Dict[str, AddressRange] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    auto: Optional[AutoAssignment] = None  # how an ``assign = auto`` set was placed (else None)

    @property
    def hosts(self) -> List[str]:
        return sorted({h for h, _ in self.queue_plans})

    def for_host(self, hostname: Optional[str] = None) -> List[QueuePlan]:
        """The queues of ``hostname`` (default: this host), in first-seen order."""
        host = hostname or self.local_host
        return [q for (h, _), q in self.queue_plans.items() if h == host]

    @property
    def queues(self) -> List[QueuePlan]:
        """This host's queues: what ``./run.py`` runs here."""
        return self.for_host(self.local_host)

    @property
    def tests(self) -> List[PlannedTest]:
        return [t for q in self.queue_plans.values() for t in q.tests]

    def to_json(self) -> Dict[str, object]:
        return {
            "local_host": self.local_host,
            "queues": [
                {
                    "hostname": q.hostname,
                    "queue": q.queue,
                    "env": q.env,
                    "ranges": q.ranges,
                    "tests": [t.to_json() for t in q.tests],
                }
                for q in self.queue_plans.values()
            ],
            "warnings": self.warnings,
        }


def make_parser(
    config_files: Sequence[str],
    test_set: Optional[str] = None,
    extra: Iterable[str] = (),
    params: Iterable[Tuple[str, str]] = (),
    only: Iterable[str] = (),
    no: Iterable[str] = (),
):
    """A config Parser with the files, extra statements, filters and the set applied.

    ``extra`` are config statements (``"only boot"``, ``"mem = 2048"``) parsed
    after the files, in order; the set's ``only`` comes last so it wins.
    """
    from kvmtest.config import Parser

    parser = Parser()
    for path in config_files:
        parser.parse_file(path)
    for text in extra:
        parser.parse_string(text)
    for key, value in params:
        if key in COMPUTED_KEYS:
            raise PlanError(f"param {key!r} cannot be set (-p {key}=...): the config language"
                            f" computes it; computed keys: {', '.join(COMPUTED_KEYS)}")
        parser.assign(key, value)
    for flt in only:
        parser.only_filter(flt)
    for flt in no:
        parser.no_filter(flt)
    if test_set:
        sets = parser.outer_variants()
        if test_set not in sets:
            files = ", ".join(config_files) or "the config"
            known = f"the sets are {', '.join(sets)}" if sets else "it defines no test set"
            raise PlanError(f"no test set {test_set!r} in {files}: {known} (a set is a variant"
                            " of the outermost 'variants:' block; --only takes any filter)")
        parser.only_filter(test_set)
    return parser


def new_planner(parser, local_host: Optional[str] = None, ignore_deps: bool = False) -> Planner:
    """A Planner whose errors point at the config statement (file:line) at fault."""

    def locate(key: str) -> Optional[str]:
        found = parser.assignments_of(key)
        return f"{found[-1].filename}:{found[-1].linenum}" if found else None

    return Planner(local_host or socket.gethostname(), locate=locate, ignore_deps=ignore_deps)


def finish(parser, planner: Planner) -> List[str]:
    """Whole-plan checks and warnings, including declared hosts/queues left without tests."""
    warnings = planner.finish()
    used_hosts = {host for host, _ in planner.queues}
    used_queues = {queue for _, queue in planner.queues}
    for key, used, what in (("hostname", used_hosts, "host"), ("queue", used_queues, "queue")):
        seen = set()
        for a in parser.assignments_of(key):
            value = a.value.strip()
            if key == "hostname" and value in ("", "localhost"):
                value = planner.local_host
            if a.op != "=" or value in used or value in seen:
                continue
            seen.add(value)
            warnings.append(f"{what} {value} ({a.filename}:{a.linenum}) has no test in this selection")
    return warnings


def iter_tests(parser, planner: Planner) -> Iterator[PlannedTest]:
    """Plan each dict the parser yields, lazily (a dry run streams through this)."""
    for params in parser.get_dicts():
        yield planner.add(params)


def collect(
    parser,
    planner: Planner,
    keep: Optional[Callable[[PlannedTest], bool]] = None,
) -> Plan:
    """Plan every dict of ``parser``; keep the tests ``keep`` accepts (default: all).

    Validation always covers every test, kept or not: a clash with another
    host's queue is found even when only this host's tests are kept.
    """
    plan = Plan(planner.local_host)
    for test in iter_tests(parser, planner):
        if keep is not None and not keep(test):
            continue
        key = (test.hostname, test.queue)
        qp = plan.queue_plans.get(key)
        if qp is None:
            qp = plan.queue_plans[key] = QueuePlan(test.hostname, test.queue, test.env)
        qp.tests.append(test)
    plan.warnings = finish(parser, planner)
    for key, qp in plan.queue_plans.items():
        qp.ranges = list(planner.queues[key].ranges)
    plan.ranges = dict(planner.ranges)
    return plan


def load(
    config_files: Sequence[str],
    test_set: Optional[str] = None,
    extra: Iterable[str] = (),
    params: Iterable[Tuple[str, str]] = (),
    only: Iterable[str] = (),
    no: Iterable[str] = (),
    local_host: Optional[str] = None,
    ignore_deps: bool = False,
    durations: Optional[DurationSource] = None,
) -> Plan:
    """Parse, select, plan and validate; raises ``ParserError`` or ``PlanError``.

    An ``assign = auto`` set is placed from ``durations`` (a DurationSource: the history
    store, ``kvmtest.results.durations.ResultsDurations``; none: every estimate a guess).
    """
    if isinstance(config_files, str):
        config_files = [config_files]
    parser = make_parser(config_files, test_set, extra, params, only, no)
    planner = new_planner(parser, local_host, ignore_deps)
    auto = plan_auto(parser, planner.local_host, durations, ignore_deps)
    plan = collect(auto.parser if auto else parser, planner)
    plan.auto = auto if auto is not None and auto.bundles else None
    return plan
