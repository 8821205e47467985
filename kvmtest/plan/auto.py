"""``assign = auto``: a test set whose tests kvmtest places on hosts and queues itself.

The set's hosts and queues form a pool. The Cartesian expansion already says where a
test *may* run: the set's ``hostname1: only Windows`` blocks leave each test in the
(host, queue) variants that allow it, so every expanded dict of a test (same short
name) is one eligible queue; a test the set restricts to one host or one queue is
pinned there. A queue whose ranges hold fewer addresses than the test has NICs (or
that has no ``mac_ranges`` for a TAP NIC) is not eligible; a test eligible nowhere is
a ``PlanError`` naming it. Tests linked by ``dep`` form a bundle that goes whole to
one queue eligible for all of them. ``kvmtest.plan.assign`` picks one queue per
bundle from the estimates (``kvmtest.plan.estimate``).

The chosen dicts are then replayed, in expansion order, through the ordinary
planner (``ReplayParser``): addresses, range checks, dependency checks, plan.json,
the runner and ``--resume`` see a plan like a hand-written one. Tests without
``assign = auto`` stay where the expansion put them; their estimates load their
queues. The expansion is held in memory (one dict per test and eligible queue) while
choosing, which is why it is opt-in per set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from kvmtest.plan.assign import Bundle, Placement, assign
from kvmtest.plan.errors import PlanError
from kvmtest.plan.estimate import (
    KINDS,
    LAST_RUNS,
    MEASURED,
    DurationSource,
    Estimate,
    TestInfo,
    estimate,
    fmt_seconds,
    tally,
)
from kvmtest.plan.model import DEFAULT_QUEUE
from kvmtest.plan.params import guest_nics
from kvmtest.plan.ranges import RangeError, parse_range

ASSIGN_KEY = "assign"
AUTO = "auto"
MANUAL = "manual"
_MAP_KEYS = ("_name_map_file", "_short_name_map_file")
_LOCAL = ("", "localhost")


@dataclass
class AutoTest:
    """One test of the set (a short name) and the queues its expansion offers."""

    shortname: str
    info: TestInfo
    deps: Tuple[str, ...]
    auto: bool
    eligible: List[str] = field(default_factory=list)  # queue keys, expansion order
    refused: Dict[str, str] = field(default_factory=dict)  # queue key -> why not
    names: List[str] = field(default_factory=list)  # full names of its dicts


class ReplayParser:
    """The chosen dicts, in expansion order, where the planner and the CLI expect a Parser."""

    def __init__(self, parser: Any, dicts: List[Dict[str, str]]) -> None:
        self._parser = parser
        self._dicts = dicts

    def get_dicts(self, maps: bool = True) -> Iterator[Dict[str, str]]:
        for d in self._dicts:
            yield d if maps else {k: v for k, v in d.items() if k not in _MAP_KEYS}

    def json_lines_with_params(self, lines: bool = True,
                               parts: bool = False) -> Iterator[Tuple[str, Dict[str, str]]]:
        """As ``Parser.json_lines_with_params``; the lines always come whole."""
        from kvmtest.config.encode import LineEncoder

        enc = LineEncoder().encode
        for d in self.get_dicts(maps=False):
            yield enc(d) if lines else "", d

    def explain(self, pattern: str) -> Iterator[Any]:
        return self._parser.explain(pattern)

    def assignments_of(self, key: str) -> List[Any]:
        return self._parser.assignments_of(key)

    def outer_variants(self) -> List[str]:
        return self._parser.outer_variants()


@dataclass
class AutoAssignment:
    """What ``plan_auto`` decided, and enough to explain it."""

    parser: ReplayParser
    tests: Dict[str, AutoTest]
    pool: List[str]
    bundles: Dict[str, Bundle]  # bundle name -> bundle
    bundle_of: Dict[str, str]  # short name -> bundle name
    estimates: Dict[str, Estimate]
    result: Placement
    fixed_load: Dict[str, float]
    source: str = "history"
    unchosen: Set[str] = field(default_factory=set)  # full names of dicts not kept

    def queue_of(self, shortname: str) -> Optional[str]:
        b = self.bundle_of.get(shortname)
        return self.result.placement.get(b) if b else None

    def counts(self) -> Dict[str, int]:
        out = {q: 0 for q in self.pool}
        for t in self.tests.values():
            if t.auto:
                out[self.queue_of(t.shortname) or ""] += 1
            else:
                for q in t.eligible:
                    out[q] += 1
        return out

    def summary(self, queues: Optional[Sequence[str]] = None) -> List[str]:
        """The dry run's lines: estimates by kind, per queue tests and time, the makespan."""
        auto = [t for t in self.tests.values() if t.auto]
        kinds = tally({s: e for s, e in self.estimates.items() if s in self.tests})
        guesses = sum(v for k, v in kinds.items() if k != MEASURED)
        lines = [
            f"automatic assignment: {len(auto)} test(s) in {len(self.bundles)} bundle(s) on"
            f" {len(self.pool)} queue(s) (+{len(self.tests) - len(auto)} placed by hand)",
            f"estimates: {kinds[MEASURED]} from {self.source}, {guesses} guessed ("
            + ", ".join(f"{kinds[k]} {k}" for k in KINDS if k != MEASURED) + ")",
        ]
        counts = self.counts()
        shown = [q for q in self.pool if queues is None or q in queues]
        width = max([len(q) for q in shown] + [5])
        lines.append(f"{'queue':<{width}}  tests  estimated")
        for q in shown:
            lines.append(f"{q:<{width}}  {counts[q]:>5}  {fmt_seconds(self.result.loads[q])}")
        r = self.result
        lines.append(f"estimated makespan {fmt_seconds(r.makespan)}, lower bound"
                     f" {fmt_seconds(r.lower_bound)}: ratio {r.ratio:.3f}"
                     f" ({r.moves} improvement step(s))")
        return lines

    def explain(self, shortname: str) -> List[str]:
        """Why ``shortname`` went where it went (``--explain``)."""
        t = self.tests.get(shortname)
        if t is None:
            return []
        est = self.estimates[shortname].describe(self.source)
        if not t.auto:
            return [f"placed by hand (no '{ASSIGN_KEY} = {AUTO}'); estimate {est}"]
        out = [f"assigned automatically: eligible {len(t.eligible)} of {len(self.pool)} queues:"
               f" {' '.join(t.eligible)}"]
        out += [f"not eligible on {q}: {why}" for q, why in sorted(t.refused.items())]
        out.append(f"estimate {est}")
        b = self.bundles[self.bundle_of[shortname]]
        if len(b.members) > 1:
            out.append(f"bundled by dep with {', '.join(m for m in b.members if m != shortname)}:"
                       f" {fmt_seconds(b.duration)} in all, eligible {' '.join(b.eligible)}")
        c = self.result.choices[b.name]
        if c.how == "pinned":
            out.append(f"chose {c.finishes[0][0]}: the only eligible queue")
        else:
            finishes = ", ".join(f"{q} {fmt_seconds(f)}" for q, f in c.finishes)
            first = min(c.finishes, key=lambda f: (f[1], f[0]))[0]
            out.append(f"chose {first}: earliest finish (longest first; it would end at {finishes})")
        out += c.moves
        return out


def _queue_key(params: Dict[str, str], local_host: str) -> str:
    host = params.get("hostname", "")
    host = local_host if host in _LOCAL else host
    return f"{host}/{params.get('queue') or DEFAULT_QUEUE}"


class _Capacity:
    """Addresses each queue's ``mac_ranges`` hold (bad ranges are the planner's to report)."""

    def __init__(self) -> None:
        self._size: Dict[str, Optional[int]] = {}

    def why_not(self, params: Dict[str, str]) -> Optional[str]:
        nics = guest_nics(params)
        if not nics:
            return None
        names = params.get("mac_ranges", "").split()
        if not names:
            tap = [f"{vm}/{nic}" for vm, nic, mode in nics if mode == "tap"]
            return f"puts {', '.join(tap)} on TAP networking, the queue has no mac_ranges" if tap else None
        total = 0
        for name in names:
            if name not in self._size:
                try:
                    self._size[name] = parse_range(params, name).size
                except RangeError:
                    self._size[name] = None
            size = self._size[name]
            if size is None:
                return None
            total += size
        if len(nics) > total:
            return f"needs {len(nics)} addresses, ranges {' '.join(names)} hold {total}"
        return None


def _dep_links(tests: Dict[str, AutoTest]) -> Dict[str, Set[str]]:
    """Short name -> the short names its dep entries match (by a dot-suffix of the short
    name, or a whole full name), as ``kvmtest.plan.deps`` matches them."""
    wanted = {d for t in tests.values() for d in t.deps}
    if not wanted:
        return {}
    named: Dict[str, Set[str]] = {}
    for t in tests.values():
        parts = t.shortname.split(".")
        for s in [".".join(parts[i:]) for i in range(len(parts))] + t.names:
            if s in wanted:
                named.setdefault(s, set()).add(t.shortname)
    return {t.shortname: set().union(*(named.get(d, set()) for d in t.deps)) - {t.shortname}
            for t in tests.values() if t.deps}


def _bundles(tests: Dict[str, AutoTest], ignore_deps: bool,
             estimates: Dict[str, Estimate]) -> Tuple[Dict[str, Bundle], Dict[str, str]]:
    """Union the auto tests linked by dep; each bundle's eligibility is the intersection."""
    parent = {s: s for s, t in tests.items() if t.auto}

    def root(s: str) -> str:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    limits: Dict[str, List[Tuple[str, List[str]]]] = {}  # auto test -> (hand-placed dep, queues)
    if not ignore_deps:
        for s, linked in sorted(_dep_links(tests).items()):
            for other in sorted(linked):
                if s in parent and other in parent:
                    a, b = root(s), root(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                elif s in parent:  # depends on a test placed by hand: go where it is
                    limits.setdefault(s, []).append((other, tests[other].eligible))
                elif other in parent:  # a hand-placed test depends on an auto one
                    limits.setdefault(other, []).append((s, tests[s].eligible))
    groups: Dict[str, List[str]] = {}
    for s in sorted(parent):
        groups.setdefault(root(s), []).append(s)
    bundles: Dict[str, Bundle] = {}
    bundle_of: Dict[str, str] = {}
    for name, members in groups.items():
        eligible = set(tests[members[0]].eligible)
        for m in members[1:]:
            eligible &= set(tests[m].eligible)
        for m in members:
            for _, queues in limits.get(m, []):
                eligible &= set(queues)
        if not eligible:
            where = "; ".join(f"{m}: {' '.join(tests[m].eligible)}" for m in members)
            where += "".join(f"; {o} (placed by hand): {' '.join(qs)}"
                             for m in members for o, qs in limits.get(m, []))
            raise PlanError(f"tests linked by dep must share a queue, but no queue may run all of"
                            f" them: {where} (widen the set's host/queue blocks, or run with"
                            " --ignore-deps)")
        duration = sum(estimates[m].seconds for m in members)
        bundles[name] = Bundle(name, duration, tuple(sorted(eligible)), tuple(members))
        for m in members:
            bundle_of[m] = name
    return bundles, bundle_of


def _own_deps(params: Dict[str, str], short: str) -> Tuple[str, ...]:
    """The dep entries, without the set/host/queue labels of this expansion: the config
    language writes ``after: setup`` as ``auto.h1.q1.setup`` in queue h1/1's dict, which
    in an auto set means 'setup, wherever after goes'."""
    dep: Any = params.get("dep") or []
    entries = dep.split() if isinstance(dep, str) else list(dep)
    name = params.get("name") or short
    prefix = name[:-len(short)] if short and name.endswith(short) else ""
    return tuple(e[len(prefix):] if prefix and e.startswith(prefix) else e for e in entries)


def _mode(params: Dict[str, str]) -> bool:
    value = (params.get(ASSIGN_KEY) or MANUAL).strip()
    if value not in (AUTO, MANUAL):
        raise PlanError(f"{ASSIGN_KEY} = {value!r}: expected {AUTO} or {MANUAL}"
                        f" (test {params.get('shortname') or params.get('name')})")
    return value == AUTO


def plan_auto(parser: Any, local_host: str, durations: Optional[DurationSource] = None,
              ignore_deps: bool = False, last: int = LAST_RUNS,
              source: str = "history") -> Optional[AutoAssignment]:
    """Assign the tests of an ``assign = auto`` selection; None when nothing in the config
    assigns ``assign`` (the common case costs nothing). Plan with ``result.parser``."""
    where = parser.assignments_of(ASSIGN_KEY)
    if not where:
        return None
    stream: List[Tuple[Dict[str, str], str, str]] = []  # (dict, queue key, short name)
    tests: Dict[str, AutoTest] = {}
    capacity = _Capacity()
    try:
        for d in parser.get_dicts():
            key = _queue_key(d, local_host)
            short = d.get("shortname") or d.get("name") or ""
            auto = _mode(d)
            t = tests.get(short)
            if t is None:
                deps = _own_deps(d, short)
                t = tests[short] = AutoTest(short, TestInfo(short, d.get("type", ""),
                                                            d.get("timeout", "")), deps, auto)
            elif t.auto != auto:
                raise PlanError(f"test {short} has '{ASSIGN_KEY} = {AUTO}' on some queues and not"
                                f" on others ({key}): set it for the whole test")
            t.names.append(d.get("name") or short)
            why = capacity.why_not(d) if auto else None
            if why:
                t.refused[key] = why
            elif key not in t.eligible:
                t.eligible.append(key)
            stream.append((d, key, short))
    except PlanError as exc:
        a = where[-1]
        at = "the command line" if a.filename == "<string>" else f"{a.filename}:{a.linenum}"
        raise PlanError(f"{at}: {exc}") from None
    pool = list(dict.fromkeys(key for _, key, _ in stream))
    if not any(t.auto for t in tests.values()):
        return None if not stream else AutoAssignment(
            ReplayParser(parser, [d for d, _, _ in stream]), tests, pool, {}, {}, {},
            Placement({}, {}, {}, 0.0), {}, source)
    for t in tests.values():
        if t.auto and not t.eligible:
            refused = "; ".join(f"{q}: {why}" for q, why in t.refused.items())
            raise PlanError(f"test {t.shortname} fits no queue of the pool: {refused}")
    estimates = estimate([t.info for t in tests.values()], durations, last)
    fixed: Dict[str, float] = {}
    for t in tests.values():
        if not t.auto:
            for q in t.eligible:
                fixed[q] = fixed.get(q, 0.0) + estimates[t.shortname].seconds
    bundles, bundle_of = _bundles(tests, ignore_deps, estimates)
    result = assign(list(bundles.values()), pool, fixed)
    kept, unchosen = [], set()
    for d, key, short in stream:
        if not tests[short].auto or result.placement[bundle_of[short]] == key:
            kept.append(d)
        else:
            unchosen.add(d.get("name") or short)
    return AutoAssignment(ReplayParser(parser, kept), tests, pool, bundles, bundle_of, estimates,
                          result, fixed, source, unchosen)

