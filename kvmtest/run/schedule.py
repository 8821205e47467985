"""Pure scheduling: which tests each queue pipeline runs, in which order, after what.

No threads, no files: plain data in, plain data out, so the invariants
(plan order kept, every pending test exactly once, dependencies only on
earlier tests of the same queue, input order irrelevant) are unit-tested.

Dependencies follow avocado-vt's ``dep`` list with the planner's rules
(``kvmtest.plan.deps``): matches earlier in the test's own queue are waited
for; a dependency that only matches tests of another queue or later tests is
a ``PlanError`` raised before anything runs (a queue is a sequential pipeline
and cannot wait for another); one that matches nothing is dropped with a
warning, as avocado-vt runs such tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Dict, Iterable, List, Optional, Sequence, Tuple

from kvmtest.plan.deps import DepIndex
from kvmtest.plan.errors import PlanError
from kvmtest.plan.model import PlannedTest, QueuePlan
from kvmtest.plan.names import safe_name, test_name_part

__all__ = ["QueueSchedule", "ScheduledTest", "all_test_ids", "safe_name", "schedule"]


_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")  # as kvmtest.plan.names (for legacy ids only)


@dataclass(frozen=True)
class ScheduledTest:
    """A planned test with its job-unique id and the ids it depends on."""

    id: str
    index: int  # 1-based position in its queue's plan
    test: PlannedTest
    deps: Tuple[str, ...] = ()


@dataclass
class QueueSchedule:
    """What one pipeline does: its queue's pending tests, in plan order."""

    plan: QueuePlan
    tests: List[ScheduledTest] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.plan.key


def make_test_id(plan: QueuePlan, index: int, test: PlannedTest) -> str:
    """'<host>/<queue>/<n>-<shortname>': unique per job, stable for --resume."""
    return f"{plan.hostname}/{plan.queue}/{index}-{test_name_part(test.shortname)}"


def legacy_test_ids(plan: QueuePlan, index: int, test: PlannedTest) -> Tuple[str, ...]:
    """Ids earlier kvmtest versions gave this test (the short name's first 80 characters;
    then those with a hash): --resume maps results written with them to today's id."""
    head = f"{plan.hostname}/{plan.queue}/{index}-"
    cleaned = _UNSAFE.sub("_", test.shortname).strip("._") or "_"
    return (head + cleaned[:80], head + safe_name(test.shortname))


def dep_matches(dep: str, test: PlannedTest) -> bool:
    """Does avocado-vt style ``dep`` entry name ``test``?"""
    dep = dep.strip()
    if not dep:
        return False
    for n in (test.name, test.shortname):
        if n == dep or n.endswith("." + dep):
            return True
    return False


def _check_queues(queues: Sequence[QueuePlan]) -> None:
    seen = set()
    for q in queues:
        if q.key in seen:
            raise PlanError(f"queue {q.key} is planned twice")
        seen.add(q.key)
        for t in q.tests:
            if (t.hostname, t.queue) != (q.hostname, q.queue):
                raise PlanError(
                    f"test {t.name} says it runs on {t.hostname}/{t.queue} "
                    f"but is listed in queue {q.key}"
                )


def resolve_deps(queues: Sequence[QueuePlan],
                 warnings: Optional[List[str]] = None) -> Dict[str, Tuple[str, ...]]:
    """Map every test id to the ids of the tests it depends on; raise PlanError if impossible.

    The rules are the planner's (kvmtest.plan.deps): a dep entry that matches no test of
    ``queues`` is dropped and reported in ``warnings``.
    """
    _check_queues(queues)
    report = DepIndex.of_queues(queues).check()
    if report.errors:
        raise PlanError("\n".join(report.errors))
    if warnings is not None:
        warnings.extend(report.warnings)
    ids = {(q.key, i): make_test_id(q, i, t) for q in queues for i, t in enumerate(q.tests, 1)}
    return {tid: tuple(ids[p] for p in report.links.get(pos, ())) for pos, tid in ids.items()}


def schedule(queues: Iterable[QueuePlan], done: Collection[str] = (),
             warnings: Optional[List[str]] = None) -> List[QueueSchedule]:
    """One QueueSchedule per queue (sorted by key), skipping tests whose id is in ``done``.

    Queues with nothing left to run are dropped. Raises PlanError before
    anything runs when the plan is inconsistent.
    """
    ordered = sorted(queues, key=lambda q: q.key)
    deps = resolve_deps(ordered, warnings)
    done_set = set(done)
    out = []
    for q in ordered:
        pending = []
        for i, t in enumerate(q.tests, 1):
            tid = make_test_id(q, i, t)
            if tid not in done_set:
                pending.append(ScheduledTest(tid, i, t, deps[tid]))
        if pending:
            out.append(QueueSchedule(q, pending))
    return out


def all_test_ids(queues: Iterable[QueuePlan]) -> List[str]:
    return [make_test_id(q, i, t) for q in queues for i, t in enumerate(q.tests, 1)]
