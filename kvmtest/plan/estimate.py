"""How long each test will take, for automatic assignment (``assign = auto``).

A ``DurationSource`` gives the durations of recent final runs per short name: the
history store (``kvmtest.history.HistoryStore``) or given results
(``kvmtest.results.durations.ResultsDurations``, ``--durations``). The planning stage
only sees this small interface; the sources live above it.

A test's estimate, in order of fallback (research/next-capabilities.md §2.5):

1. the median of its last ``last`` final runs (``measured``);
2. the median of the measured estimates of tests of the same ``type`` (``same type``);
3. the median of every measured estimate (``global median``);
4. its ``timeout`` (``timeout``): nothing is known, so assume the worst.

The dry run says how many estimates came from each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Protocol, Sequence

# the runner's default when a test has no timeout (kvmtest.run.pipeline.DEFAULT_TIMEOUT)
DEFAULT_TIMEOUT = 600.0
LAST_RUNS = 5

MEASURED = "measured"
SAME_TYPE = "same type"
GLOBAL = "global median"
TIMEOUT = "timeout"
KINDS = (MEASURED, SAME_TYPE, GLOBAL, TIMEOUT)


class DurationSource(Protocol):
    """Durations (seconds) of the recent final runs of each test, oldest first."""

    def durations(self, shortnames: Iterable[str], last: int = LAST_RUNS) -> Dict[str, List[float]]:
        ...  # pragma: no cover


@dataclass(frozen=True)
class TestInfo:
    """What an estimate may use of a test: its name, type and timeout."""

    __test__ = False  # not a pytest class

    shortname: str
    type: str = ""
    timeout: str = ""


@dataclass(frozen=True)
class Estimate:
    seconds: float
    kind: str  # one of KINDS
    runs: int = 0  # measured runs behind it (kind MEASURED)

    def describe(self, source: str = "history") -> str:
        if self.kind == MEASURED:
            return f"{fmt_seconds(self.seconds)} (median of {self.runs} run(s) from {source})"
        if self.kind == TIMEOUT:
            return f"{fmt_seconds(self.seconds)} (a guess: its timeout; never measured)"
        return f"{fmt_seconds(self.seconds)} (a guess: the {self.kind} of measured tests)"


def fmt_seconds(seconds: float) -> str:
    """3.2 s, 12 min 5 s, 1 h 02 min: short and readable."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 and value != float("inf") else DEFAULT_TIMEOUT


def estimate(tests: Sequence[TestInfo], source: Optional[DurationSource] = None,
             last: int = LAST_RUNS) -> Dict[str, Estimate]:
    """One estimate per short name (see the module doc)."""
    import statistics  # (with fractions, decimal, random: not on a listing's import path)

    names = sorted({t.shortname for t in tests})
    runs = source.durations(names, last=last) if source is not None and names else {}
    out: Dict[str, Estimate] = {}
    by_type: Dict[str, List[float]] = {}
    for t in tests:
        seen = [d for d in runs.get(t.shortname, [])[-last:] if d >= 0] if last > 0 else []
        if seen and t.shortname not in out:
            out[t.shortname] = Estimate(statistics.median(seen), MEASURED, len(seen))
            by_type.setdefault(t.type, []).append(out[t.shortname].seconds)
    known = [e.seconds for e in out.values()]
    overall = statistics.median(known) if known else None
    type_median = {k: statistics.median(v) for k, v in by_type.items()}
    for t in tests:
        if t.shortname in out:
            continue
        if t.type in type_median:
            out[t.shortname] = Estimate(type_median[t.type], SAME_TYPE)
        elif overall is not None:
            out[t.shortname] = Estimate(overall, GLOBAL)
        else:
            out[t.shortname] = Estimate(_timeout(t.timeout), TIMEOUT)
    return out


def tally(estimates: Dict[str, Estimate]) -> Dict[str, int]:
    """How many estimates of each kind."""
    out = {k: 0 for k in KINDS}
    for e in estimates.values():
        out[e.kind] += 1
    return out
