"""Dependencies between planned tests (avocado-vt's ``dep``), checked once over the whole plan.

The planner, the dry run, ``--explain`` and the runner all go through ``DepIndex``, so a plan
the dry run accepts is a plan the run accepts. Each ``dep`` entry names another test by its
full name or short name, or by a dot-separated suffix of either (``dep = boot`` matches
``qcow2.virtio_blk.boot``). Verdicts, per entry:

* matches tests earlier in the same queue: the test waits for them (SKIP if one did not PASS);
* matches only tests of another queue, or only later ones: an error (a queue is a sequential
  pipeline and cannot wait for another), unless ``ignore`` (``--ignore-deps``);
* matches no planned test at all: a warning, and the test runs without it. That is what
  avocado-vt does (its runner only looks at tests that already ran; since 88.0 it drops ``dep``
  altogether), and what lets tp-qemu configs whose ``unattended_install`` tests are not selected
  run at all.

Problems are grouped (one line per kind and queue pair, with a count and an example), so a
100,000-test plan gives a few lines, not thousands.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from kvmtest.plan.namestore import NameLog

Pos = Tuple[str, int]  # (queue key "<host>/<queue>", 1-based position in that queue)


@dataclass
class DepReport:
    """What ``DepIndex.check`` found: the links to honour, the errors and the warnings."""

    links: Dict[Pos, Tuple[Pos, ...]] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


@dataclass
class _Group:
    count: int = 0
    example: str = ""


def _suffixes(name: str) -> List[str]:
    """'a.b.c' -> ['a.b.c', 'b.c', 'c']: every dep string that names it."""
    parts = name.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


class DepIndex:
    """Fed every planned test in plan order (``add``), then ``check``ed once.

    Keeps little per test, never its params: a dry run of 150,000 tests streams.
    Names and short names go to a compressed log (``NameLog``, ~17 bytes per test),
    dep lists are kept once per distinct list, positions in arrays: ~30 bytes per test
    in all.
    """

    def __init__(self) -> None:
        self._names = NameLog()  # per test: (name, short name)
        self._dep = array("i")  # per test: index into _dep_lists (0: no dep)
        self._dep_lists: List[Tuple[str, ...]] = [()]
        self._dep_ids: Dict[Tuple[str, ...], int] = {(): 0}
        self._queue = array("H")  # index into _queues, per test
        self._index_in_queue = array("I")  # 1-based position in its queue, per test
        self._queues: List[str] = []
        self._queue_ids: Dict[str, int] = {}
        self._count: Dict[str, int] = {}
        self._matches: Optional[Dict[str, Dict[str, List[Tuple[int, str]]]]] = None
        self._by_name: Optional[Dict[str, int]] = None
        self._last_deps: Tuple[Optional[list], int] = (None, 0)  # (a dep list, its index)

    def __len__(self) -> int:
        return len(self._dep)

    def add(self, name: str, shortname: str, deps: Iterable[str], queue_key: str) -> Pos:
        """Record one test; returns its position (queue key, 1-based index in the queue)."""
        n = self._count.get(queue_key, 0) + 1
        self._count[queue_key] = n
        qid = self._queue_ids.get(queue_key)
        if qid is None:
            qid = self._queue_ids[queue_key] = len(self._queues)
            self._queues.append(queue_key)
        self._names.add(name, shortname)
        # (kept once each: in tp-qemu most tests depend on one of a few dozen tests, and
        # on the same as the test before: a list equal to the last one is not stripped again)
        last = self._last_deps
        if type(deps) is list and deps == last[0]:
            did = last[1]
        else:
            entries = tuple([d for d in (d.strip() for d in deps) if d])
            known = self._dep_ids.get(entries)
            if known is None:
                known = self._dep_ids[entries] = len(self._dep_lists)
                self._dep_lists.append(entries)
            did = known
            if type(deps) is list:
                self._last_deps = (list(deps), did)
        self._dep.append(did)
        self._queue.append(qid)
        self._index_in_queue.append(n)
        self._matches = self._by_name = None
        return (queue_key, n)

    def name(self, i: int) -> str:
        """The full name of the ``i``-th test added (0-based)."""
        return self._names.name(i)

    def shortname(self, i: int) -> str:
        """The short name of the ``i``-th test added (cheapest read in the order added)."""
        return self._names.short(i)

    def short_hashes(self) -> array:
        """hash() of each test's short name, in plan order (a name planned on two queues is
        found by sorting them: 8 bytes a test where a dict of the names would take ~70)."""
        return self._names.short_hashes()

    def queue_key(self, i: int) -> str:
        """The queue key ("<host>/<queue>") of the ``i``-th test added."""
        return self._queues[self._queue[i]]

    def queue_id(self, i: int) -> int:
        """A small int per distinct queue key (equal ids: the same queue)."""
        return self._queue[i]

    def _pos(self, i: int) -> Pos:
        return (self._queues[self._queue[i]], self._index_in_queue[i])

    def _row(self, i: int) -> Tuple[str, str, Tuple[str, ...], Pos]:
        return (self.name(i), self.shortname(i), self._dep_lists[self._dep[i]], self._pos(i))

    @classmethod
    def of_queues(cls, queues: Sequence) -> DepIndex:
        """An index over ``QueuePlan``s (what the runner has: this host's queues)."""
        index = cls()
        for q in queues:
            for t in q.tests:
                index.add(t.name, t.shortname, t.dep, q.key)
        return index

    @property
    def has_deps(self) -> bool:
        return any(self._dep)

    def _index(self) -> Dict[str, Dict[str, List[Tuple[int, str]]]]:
        """dep string -> queue key -> [(position, name)] of the tests it names, in order."""
        if self._matches is not None:
            return self._matches
        wanted = {d for deps in self._dep_lists for d in deps}
        last = {d.rpartition(".")[2] for d in wanted}
        out: Dict[str, Dict[str, List[Tuple[int, str]]]] = {}
        # cheap filter: most tests are named by no dep (their last word is no dep's)
        for t, name, short in self._names.ending_in(last):
            hits: Set[str] = set()
            if name[name.rfind(".") + 1:] in last:
                hits.update(s for s in _suffixes(name) if s in wanted)
            if short != name and short[short.rfind(".") + 1:] in last:
                hits.update(s for s in _suffixes(short) if s in wanted)
            if hits:
                qkey, i = self._pos(t)
                for dep in hits:
                    out.setdefault(dep, {}).setdefault(qkey, []).append((i, name))
        self._matches = out
        return out

    def verdicts(self, name: str, ignore: bool = False) -> List[str]:
        """One line per ``dep`` entry of test ``name`` (for --explain)."""
        if self._by_name is None:
            self._by_name = {}
            for n, (test_name, _) in enumerate(self._names):
                self._by_name.setdefault(test_name, n)
        found = self._by_name.get(name)
        if found is None:
            return []
        deps, pos = self._dep_lists[self._dep[found]], self._pos(found)
        if ignore:
            return [f"depends on {d!r}: ignored (--ignore-deps)" for d in deps]
        return [self._verdict(d, pos)[1] for d in deps]

    def _verdict(self, dep: str, pos: Pos) -> Tuple[str, str, List[Pos]]:
        """(kind, text, links) for one entry; kind is ok, other, later or none."""
        qkey, i = pos
        by_queue = self._index().get(dep, {})
        own = [(j, n) for j, n in by_queue.get(qkey, []) if j != i]
        before = own[:bisect.bisect_left(own, (i, ""))]
        head = f"depends on {dep!r}"
        if before:
            shown = ", ".join(f"{n} (#{j})" for j, n in before[:3])
            more = f" and {len(before) - 3} more" if len(before) > 3 else ""
            return "ok", f"{head}: waits for {shown}{more}", [(qkey, j) for j, _ in before]
        others = [(k, v) for k, v in sorted(by_queue.items()) if k != qkey]
        if others:
            k, v = others[0]
            return "other", f"{head}, which is test {v[0][1]} on another queue ({k})", []
        if own:
            j, n = own[0]
            return "later", f"{head}, which is test {n}, planned after it (#{j} of {qkey})", []
        return "none", f"{head}, which matches no planned test", []

    def check(self, ignore: bool = False) -> DepReport:
        """Resolve every entry; group the problems (see the module doc)."""
        report = DepReport()
        dependent = [t for t, did in enumerate(self._dep) if did]
        if not dependent:
            return report
        dep_lists = self._dep_lists
        if ignore:
            entries = sum(len(dep_lists[self._dep[t]]) for t in dependent)
            first = dependent[0]
            report.warnings.append(
                f"--ignore-deps: {len(dependent)} test(s) run without their {entries} dep"
                f" entries (e.g. {self.name(first)} depends on {dep_lists[self._dep[first]][0]!r})")
            return report
        groups: Dict[Tuple[str, str, str], _Group] = {}
        unmatched: set = set()
        index = self._index()
        for t in dependent:
            pos = self._pos(t)
            links: List[Pos] = []
            for dep in dep_lists[self._dep[t]]:
                if dep not in index:  # the common case in tp-qemu plans: no need for words
                    unmatched.add(dep)
                    g = groups.setdefault(("none", pos[0], ""), _Group())
                    g.count += 1
                    if not g.example:
                        g.example = f"test {self.name(t)} ({pos[0]}) {self._verdict(dep, pos)[1]}"
                    continue
                kind, text, found = self._verdict(dep, pos)
                if kind == "ok":
                    links.extend(p for p in found if p not in links)
                    continue
                target = ""
                if kind == "other":
                    target = min(k for k in index[dep] if k != pos[0])
                if kind == "none":
                    unmatched.add(dep)
                g = groups.setdefault((kind, pos[0], target), _Group())
                g.count += 1
                if not g.example:
                    g.example = f"test {self.name(t)} ({pos[0]}) {text}"
            report.links[pos] = tuple(links)
        for (kind, qkey, _target), g in groups.items():
            more = ""
            if g.count > 1:
                more = f" (and {g.count - 1} more such dep entries of tests on {qkey})"
            if kind == "other":
                report.errors.append(
                    f"{g.example}{more}: a queue runs its tests one after another and cannot"
                    " wait for another queue; plan both on one queue, or run with --ignore-deps")
            elif kind == "later":
                report.errors.append(
                    f"{g.example}{more}: a dependency must come earlier in the same queue;"
                    " reorder the config, or run with --ignore-deps")
        nones = [g for (kind, _, _), g in groups.items() if kind == "none"]
        if nones:
            total = sum(g.count for g in nones)
            report.warnings.append(
                f"{nones[0].example}; {total} dep entr{'y' if total == 1 else 'ies'}"
                f" ({len(unmatched)} distinct) match no planned test: their tests run without"
                " them, as avocado-vt runs them")
        return report
