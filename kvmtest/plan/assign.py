"""Automatic assignment: place bundles of tests on queues so the job ends early.

Pure functions over plain data (no config, no files), so they can be tested for
invariants and benchmarked alone (bench/assign_bench.py). The config side
(``kvmtest.plan.auto``) turns a test set into ``Bundle``s and feeds the choice back
into the ordinary planner, so plan.json, the runner and ``--resume`` do not change.

The problem is restricted-assignment makespan scheduling (each bundle may only go on
some queues). What is done, as in research/next-capabilities.md §2.5:

1. bundles with one eligible queue (pins) are placed first;
2. the rest in LPT order, longest first (ties: fewer eligible queues first, then the
   name), each on the eligible queue where it would *finish* earliest (ties: the
   queue's name). LPT is within 4/3 of the optimum without eligibility limits, and
   within 1 + 1/k when the last queue to finish runs k tests;
3. a bounded improvement pass: while the most loaded queue can hand a bundle to, or
   swap one with, another eligible queue and so finish earlier, do the best such
   move (at most ``max_moves``).

Every tie is broken by a name, never by input position: the same bundles in another
order give the same placement.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

MAX_MOVES = 2000


@dataclass(frozen=True)
class Bundle:
    """Tests that must share a queue (linked by ``dep``), placed as one.

    ``duration`` is the sum of its tests' estimates; ``eligible`` the queue keys every
    one of its tests may run on (sorted, not empty).
    """

    name: str
    duration: float
    eligible: Tuple[str, ...]
    members: Tuple[str, ...] = ()


@dataclass
class Choice:
    """How one bundle got its queue (what ``--explain`` prints)."""

    queue: str
    how: str  # "pinned", "earliest finish", then maybe "moved" / "swapped"
    finishes: Tuple[Tuple[str, float], ...] = ()  # (queue, finish time) it compared, sorted
    moves: List[str] = field(default_factory=list)  # improvement steps that moved it


@dataclass
class Placement:
    """The placement: bundle name -> queue key, with loads and how each was chosen."""

    placement: Dict[str, str]
    loads: Dict[str, float]
    choices: Dict[str, Choice]
    lower_bound: float
    moves: int = 0

    @property
    def makespan(self) -> float:
        return max(self.loads.values(), default=0.0)

    @property
    def ratio(self) -> float:
        """makespan / lower bound (1.0 when both are 0)."""
        if self.lower_bound <= 0:
            return 1.0
        return self.makespan / self.lower_bound

    def counts(self, bundles: Iterable[Bundle]) -> Dict[str, int]:
        """Tests per queue."""
        out = {q: 0 for q in self.loads}
        for b in bundles:
            out[self.placement[b.name]] += max(1, len(b.members))
        return out


def lower_bound(bundles: Sequence[Bundle], queues: Sequence[str],
                fixed: Optional[Dict[str, float]] = None) -> float:
    """No placement can finish before this.

    The longest bundle; the total over all queues; and, for every distinct eligible
    set S, what must run inside S (the bundles eligible only there, plus the fixed load
    of S) spread over S. The last one is what makes eligibility limits visible: a
    queue that alone may run 3 hours of tests cannot finish in less.
    """
    fixed = fixed or {}
    best = max((b.duration for b in bundles), default=0.0)
    best = max(best, max(fixed.values(), default=0.0))
    sets = {tuple(sorted(queues))} | {b.eligible for b in bundles}
    for s in sets:
        members = set(s)
        inside = sum(b.duration for b in bundles if members.issuperset(b.eligible))
        inside += sum(fixed.get(q, 0.0) for q in s)
        if s:
            best = max(best, inside / len(s))
    return best


def assign(bundles: Sequence[Bundle], queues: Sequence[str],
           fixed: Optional[Dict[str, float]] = None, max_moves: int = MAX_MOVES) -> Placement:
    """Place every bundle on one of its eligible queues (see the module doc).

    ``queues`` is the pool; ``fixed`` the load already on a queue (tests placed by
    hand). Raises ValueError for a bundle with no eligible queue of the pool.
    """
    pool = sorted(set(queues))
    known = set(pool)
    loads = {q: float((fixed or {}).get(q, 0.0)) for q in pool}
    placement: Dict[str, str] = {}
    choices: Dict[str, Choice] = {}
    by_name: Dict[str, Bundle] = {}
    for b in bundles:
        if b.name in by_name:
            raise ValueError(f"two bundles named {b.name!r}")
        eligible = tuple(sorted(q for q in b.eligible if q in known))
        if not eligible:
            raise ValueError(f"bundle {b.name!r} has no eligible queue in the pool")
        by_name[b.name] = Bundle(b.name, b.duration, eligible, b.members)
    ordered = sorted(by_name.values(), key=lambda b: (len(b.eligible) > 1, -b.duration,
                                                      len(b.eligible), b.name))
    for b in ordered:
        if len(b.eligible) == 1:
            q = b.eligible[0]
            choices[b.name] = Choice(q, "pinned", ((q, loads[q] + b.duration),))
        else:
            finishes = tuple((q, loads[q] + b.duration) for q in b.eligible)
            q = min(finishes, key=lambda f: (f[1], f[0]))[0]
            choices[b.name] = Choice(q, "earliest finish", finishes)
        placement[b.name] = q
        loads[q] += b.duration
    moves = _improve(by_name, placement, loads, choices, max_moves)
    return Placement(placement, loads, choices, lower_bound(list(by_name.values()), pool, fixed),
                      moves)


def _improve(bundles: Dict[str, Bundle], placement: Dict[str, str], loads: Dict[str, float],
             choices: Dict[str, Choice], max_moves: int) -> int:
    """Bounded local search on the most loaded queue: moves, then swaps. Each step
    lowers the sum of squared loads, so it ends; ``max_moves`` bounds it anyway."""
    on: Dict[str, List[Tuple[float, str]]] = {q: [] for q in loads}
    for name, q in placement.items():
        on[q].append((bundles[name].duration, name))
    for items in on.values():
        items.sort()
    done = 0
    while done < max_moves:
        top = max(loads, key=lambda q: (loads[q], q))
        step = _best_move(bundles, on, loads, top) or _best_swap(bundles, on, loads, top)
        if step is None:
            break
        done += 1
        for name, src, dst in step:
            d = bundles[name].duration
            on[src].remove((d, name))
            bisect.insort(on[dst], (d, name))
            loads[src] -= d
            loads[dst] += d
            placement[name] = dst
        note = ("moved" if len(step) == 1 else "swapped with " + step[1][0])
        name, src, dst = step[0]
        choices[name].moves.append(f"{note}: {src} -> {dst} (improvement step {done})")
        choices[name].queue = dst
        if len(step) == 2:
            other, osrc, odst = step[1]
            choices[other].moves.append(f"swapped with {name}: {osrc} -> {odst}"
                                        f" (improvement step {done})")
            choices[other].queue = odst
    return done


_EPS = 1e-9


def _best_move(bundles: Dict[str, Bundle], on: Dict[str, List[Tuple[float, str]]],
               loads: Dict[str, float], top: str) -> Optional[List[Tuple[str, str, str]]]:
    best: Optional[Tuple[float, str, str]] = None
    for d, name in on[top]:
        if d <= 0:
            continue
        for q in bundles[name].eligible:
            if q == top or loads[q] + d >= loads[top] - _EPS:
                continue
            key = max(loads[top] - d, loads[q] + d)
            if best is None or (key, name, q) < best:
                best = (key, name, q)
    return None if best is None else [(best[1], top, best[2])]


def _best_swap(bundles: Dict[str, Bundle], on: Dict[str, List[Tuple[float, str]]],
               loads: Dict[str, float], top: str) -> Optional[List[Tuple[str, str, str]]]:
    """Swap a bundle of ``top`` for a shorter one of another queue q (each eligible on
    the other's queue) when both then finish before ``top`` does now. The best swap
    moves (loads[top] - loads[q]) / 2: looked up by bisection in q's sorted list."""
    best: Optional[Tuple[float, str, str, str]] = None
    for d, name in on[top]:
        for q in bundles[name].eligible:
            if q == top:
                continue
            gap = loads[top] - loads[q]
            if gap <= _EPS:
                continue
            items = on[q]
            # candidates c with d - gap < d_c < d; the ideal d_c is d - gap / 2
            lo = bisect.bisect_right(items, (d - gap + _EPS, "\uffff"))
            hi = bisect.bisect_left(items, (d - _EPS, ""))
            if lo >= hi:
                continue
            mid = bisect.bisect_left(items, (d - gap / 2, ""), lo, hi)
            for i in range(max(lo, mid - 2), min(hi, mid + 2)):
                dc, cname = items[i]
                if top not in bundles[cname].eligible:
                    continue
                key = max(loads[top] - d + dc, loads[q] - dc + d)
                if key < loads[top] - _EPS and (best is None or (key, name, cname, q) < best):
                    best = (key, name, cname, q)
    if best is None:
        return None
    _, name, cname, q = best
    return [(name, top, q), (cname, q, top)]


def round_robin(bundles: Sequence[Bundle], queues: Sequence[str]) -> Dict[str, str]:
    """The hand-written split's equivalent, for comparison: bundles in the given order,
    each on the next of its eligible queues in turn (no durations)."""
    turn = 0
    placement = {}
    for b in bundles:
        eligible = [q for q in queues if q in b.eligible]
        placement[b.name] = eligible[turn % len(eligible)]
        turn += 1
    return placement


def loads_of(placement: Dict[str, str], durations: Dict[str, float],
             queues: Sequence[str]) -> Dict[str, float]:
    """Each queue's total duration under ``placement`` (e.g. with measured durations)."""
    loads = {q: 0.0 for q in queues}
    for name, q in placement.items():
        loads[q] += durations[name]
    return loads
