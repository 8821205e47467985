"""The variant walk without nested generators (same leaves, same order as reference.walk.Walker).

``reference.walk.Walker`` recurses with one generator per tree level, so every leaf
is passed up through ~50 generator frames.  This walker keeps an explicit
stack of ``Frame`` records and yields each leaf once.  It covers the common
case only: no ``join`` in the tree and filters honoured (not explain mode);
``api.Parser`` falls back to ``reference.walk.Walker`` otherwise.

With ``anchor_min`` set, frames also carry an anchor (the deepest frame
above with at least that many leaf paths below and ``anchor_fanout``
children: see ``emit``), and below the
anchors a replay memo applies: what a multi-child node's subtree yields
depends only on the node, the pending filters and the context labels the
filters there can see (``_replay_key``).  When such a key comes back, the
walk under it is recorded as a tree of ``(node, unpacked, pending,
children)`` tuples; from then on it is replayed (frames rebuilt, no filter
decided).  In a test matrix that is the test list under each hardware
combination.  Recordings are bounded (``_MAX_RECORDS`` tuples).

Dead subtrees are cut by the hoisted checks (``tree.prepare``) and the doom
check (``_doomed``); below the anchors a dead subtree replays as an empty
record.  ``reference.walk.Walker``'s memo of dead subtrees is not used here: after
those checks it hit in 1% of lookups on the tp-qemu corpus and cost more than
it saved.
"""

from __future__ import annotations

from ..reference.walk import Leaf, Walker, hoisted_fail
from ..tree import ONLY, Filter, Node, impossible, prepare, project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, Dict, Iterator, List, Literal, Optional, Sequence, Tuple, Union

    from ..tree import Labels

_MAX_RECORDS = 300000  # bounds the replay memo's memory (one small tuple per frame)
_DOOM_MIN = 256  # nodes with at least this many leaf paths below get the doom check
ANCHOR_FANOUT = 32  # an anchor also has this many children (the top of a test list)
# a recorded frame: (node, unpacked, pending filters, the children's records or None)
# (typed: a compiled build unpacks it and reads the node natively)
if TYPE_CHECKING:
    Rec = Tuple[Node, tuple, tuple, Optional[list]]
_REPLAYED: frozenset = frozenset()  # a replayed frame's ctx_set (never read: no filters decided)


class Frame:
    """One node on the walk's stack: what its children inherit, and the loop state.

    (``StackWalker._walk`` builds replayed frames without ``__init__``, setting
    every slot itself: a new slot must be set there too.)"""

    __slots__ = ("node", "ctx", "ctx_set", "keep", "shortname", "dep", "below", "i", "entry",
                 "multi", "unpacked", "stop_at_default", "data", "anchor", "recs", "rec",
                 "replay_key", "spliced", "names", "maps", "up")

    def __init__(self, node: Node, ctx: tuple, ctx_set: frozenset, keep: tuple,
                 shortname: tuple, dep: list, below: Optional[Labels], entry: int,
                 multi: bool, unpacked: Sequence[int], stop_at_default: bool) -> None:
        self.node = node
        self.ctx = ctx
        self.ctx_set = ctx_set
        self.keep = keep
        self.shortname = shortname
        self.dep = dep
        self.below = below
        self.i = 0
        self.entry = entry
        self.multi = multi  # more than one child: its subtree may be recorded/replayed
        self.unpacked = unpacked
        self.stop_at_default = stop_at_default
        self.data: Optional[tuple] = None  # the builder's per-frame cache
        self.anchor = 0  # index of the deepest frame above with >= anchor_min leaf paths
        self.recs: Optional[List[Rec]] = None  # replaying: the recorded children
        self.rec: Optional[list] = None  # recording: where children's records go
        self.replay_key: Optional[tuple] = None  # recording root: its key in the replay memo
        self.spliced = False  # recording: children recorded in the parent's place
        self.names: Optional[tuple] = None  # the emitter's (name, shortname) strings
        self.maps: Optional[tuple] = None  # the dict builder's map-file dicts
        # FastBuilder: steps of this frame up to the root (False: they depend on the leaf)
        self.up: Union[list, Literal[False], None] = None


class StackLeaf(Leaf):
    """A Leaf of the stack walker: ``frames`` is the live stack (valid until the next)."""

    __slots__ = ()


class StackWalker(Walker):
    """Yields Leaf records (with ``frames``: the live stack) in avocado-vt's order."""

    def __init__(self, root: Node, longs: List[str], defaults: bool,
                 expand_defaults: List[str], anchor_min: int = 0,
                 doom_min: int = _DOOM_MIN, anchor_fanout: int = ANCHOR_FANOUT) -> None:
        super().__init__(root, longs, defaults, expand_defaults)
        self.doom_min = doom_min  # tests set 0: the doom check at every node
        self.doomed = 0  # subtrees skipped by the doom check
        self.frames: List[Frame] = []
        self.count = 0  # leaves yielded so far
        self.anchor_min = anchor_min
        self.anchor_fanout = anchor_fanout
        self.potential: Dict[int, int] = {}
        # replay memo (below the anchors): key -> recorded children of the node
        self._replay: Optional[dict] = {} if anchor_min else None
        self._rel: dict = {}
        self._keeps: dict = {}
        self._recorded = 0
        self._seen: set = set()
        self._carriers: Dict[int, List[Node]] = {}
        self._carriers_of: dict = {}
        self._hard: dict = {}

    def leaves(self) -> Iterator[StackLeaf]:
        order = prepare(self.root)
        self.potential = potentials(order, self._carriers)
        return self._walk()

    def _doomed(self, keep: Sequence[Filter], ctx_set: AbstractSet[int], below: Labels) -> bool:
        """True if a pending ``only a, b`` can pass on no path below.

        Such a filter passes only on a path through a node named a or b
        (a carrier).  A carrier whose own ``only`` filters (or those of the
        nodes that dominate its leaves) cannot match the context nor any
        label below here is never passed.  When every carrier is blocked,
        every leaf below fails: in a test matrix, a whole test list under a
        guest architecture no machine type accepts (avocado-vt walks it and
        drops each leaf).  Carriers anywhere in the tree count, below here or
        not, so the answer errs on the side of walking.
        """
        for item in keep:
            if item.kind != ONLY or not item.simple:
                continue
            nodes = self._carriers_of.get(item.uid)
            if nodes is None:
                found = {}
                for lid in item.universe:
                    for n in self._carriers.get(lid, ()):
                        found[n.uid] = n
                nodes = self._carriers_of[item.uid] = tuple(found.values())
            for n in nodes:
                hard = self._hard.get(n.uid)
                if hard is None:
                    hard = self._hard[n.uid] = tuple(
                        [it for it in n.filters + n.hoist if it.kind == ONLY])
                for g in hard:
                    if impossible(g, ctx_set, below):
                        break
                else:
                    break  # this carrier may pass: the filter may too
            else:
                return True
        return False

    def _enter(self, node: Node, ctx: tuple, ctx_set: frozenset, pending: tuple,
               shortname: tuple, dep: list, parent_below: Optional[Labels]) -> Optional[Frame]:
        """Decide the filters at ``node``; a Frame if the walk goes on below it."""
        if node.dep:
            dep = self._with_deps(node, ctx, dep)
        parent_ctx = ctx
        name = node.name
        if name:
            ctx = ctx + name
            ctx_set = ctx_set.union(name)
        below = node.labels
        if node.hoist and hoisted_fail(node, ctx, ctx_set, below):
            return None
        keep: list = []
        unpacked: list = []
        filters = node.filters
        if filters and not self._process(filters, ctx, ctx_set, below, keep, unpacked, node):
            return None
        if pending and not self._pending(pending, node, parent_ctx, ctx, ctx_set, below,
                                         parent_below, keep, unpacked):
            return None
        if (keep and self.potential.get(node.uid, 0) >= self.doom_min
                and self._doomed(keep, ctx_set, below)):
            self.doomed += 1
            return None
        if node.append_to_shortname:
            shortname = shortname + name
        stop = self.defaults and node.var_name not in self.expand_defaults
        return Frame(node, ctx, ctx_set, tuple(keep), shortname, dep, below, self.count,
                     len(node.children) > 1, unpacked, stop)

    def _replay_key(self, node: Node, ctx: tuple, ctx_set: frozenset,
                    keep: tuple) -> tuple:
        """What a subtree's walk depends on: its node, the pending filters and
        the context labels any filter in it can test (see ``reference.walk.Walker._dead_key``)."""
        rkey = (node.uid, keep)  # (filters hash by identity: as good as their uids)
        extra = self._rel.get(rkey)
        rel = node.su
        if extra is None:  # kept apart from su (no big union per key: memory)
            extra = set()
            for it in keep:
                if not it.deep <= rel:
                    extra |= it.deep
            extra = self._rel[rkey] = frozenset(extra - rel)
        return (rkey, project(ctx, ctx_set, rel, extra))

    def _walk(self) -> Iterator[StackLeaf]:
        frames = self.frames
        path = self.path
        unpacked = self.unpacked
        potential = self.potential
        anchor_min = self.anchor_min
        fanout = self.anchor_fanout
        memo = self._replay
        top = self._enter(self.root, (), frozenset(), (), (), [], None)
        if top is None:
            return
        frames.append(top)
        path.append(top.node)
        unpacked.update(top.unpacked)
        if not top.node.children:
            self.count += 1
            yield StackLeaf(path, unpacked, top.ctx, top.shortname, top.dep, None, frames)
        while frames:
            f = frames[-1]
            child = None
            recs = f.recs
            if recs is not None:
                i = f.i
                if i < len(recs):
                    f.i = i + 1
                    # a frame replayed from a record: no filters to decide, same
                    # result (inlined: most frames of a test list are replays)
                    node, unp, keep, sub = recs[i]
                    ctx = f.ctx
                    shortname = f.shortname
                    name = node.name
                    if name:
                        ctx = ctx + name
                        if node.append_to_shortname:
                            shortname = shortname + name
                    child = Frame(node, ctx, _REPLAYED, keep, shortname,
                                  self._with_deps(node, f.ctx, f.dep) if node.dep else f.dep,
                                  None, self.count, False, unp, False)
                    child.anchor = f.anchor
                    child.recs = sub
            else:
                children = f.node.children
                i = f.i
                if i < len(children) and not (i and f.stop_at_default
                                              and children[i - 1].default
                                              and self.count > f.entry):
                    f.i = i + 1
                    # (self._enter, not a bound method in a local: a native call when compiled)
                    child = self._enter(children[i], f.ctx, f.ctx_set, f.keep, f.shortname,
                                        f.dep, f.below)
                    if child is None:
                        continue
                    node = child.node
                    if potential.get(node.uid, 0) >= anchor_min:
                        # the deepest wide node with many leaf paths: the top of a
                        # test list, not a test's own (deep but narrow) matrix
                        if len(node.children) >= fanout:
                            child.anchor = len(frames)
                        else:
                            child.anchor = f.anchor
                    else:
                        child.anchor = f.anchor
                        if child.multi and memo is not None:
                            # a subtree below an anchor: replay it, or record it
                            key = self._replay_key(node, child.ctx, child.ctx_set,
                                                   child.keep)
                            got = memo.get(key)
                            if got is not None:
                                child.recs = got
                            elif key not in self._seen:
                                # recorded when its key comes back: most never do
                                if len(self._seen) < _MAX_RECORDS:
                                    self._seen.add(key)
                            elif self._recorded < _MAX_RECORDS:
                                child.rec = []
                                child.replay_key = key
                    if f.rec is not None:
                        sub = child.recs
                        if (sub is None and child.rec is None and node.children
                                and not node.content and not node.name and not node.dep
                                and not child.unpacked):
                            # a bare structural node: its children are recorded in
                            # its place (replay skips it; nothing depends on it)
                            child.rec = f.rec
                            child.spliced = True
                        else:
                            if sub is None and node.children:
                                if child.rec is None:
                                    child.rec = []
                                sub = child.rec
                            keep = self._keeps.setdefault(child.keep, child.keep)
                            f.rec.append((node, tuple(child.unpacked), keep, sub))
                            self._recorded += 1
            if child is not None:
                frames.append(child)
                path.append(child.node)
                if child.unpacked:
                    unpacked.update(child.unpacked)
                if child.node.children:
                    continue
                self.count += 1
                leaf = StackLeaf(path, unpacked, child.ctx, child.shortname, child.dep, None,
                                 frames)
                yield leaf
                f = child
            # done with f
            frames.pop()
            path.pop()
            if f.unpacked:
                unpacked.difference_update(f.unpacked)
            if self.count == f.entry:
                if (f.rec is not None and not f.spliced and frames
                        and frames[-1].rec is not None):
                    frames[-1].rec.pop()  # nothing below: no need to replay it
            if f.replay_key is not None and memo is not None:
                memo[f.replay_key] = f.rec


def potentials(order: List[Node], carriers: Optional[Dict[int, List[Node]]] = None
               ) -> Dict[int, int]:
    """Leaf paths below each node (before filters; capped at 2**30).

    ``order``: every node once, children first (what ``tree.prepare`` returns).
    ``carriers``, if given, is filled with label id -> the nodes named with it.
    """
    pot: Dict[int, int] = {}
    cap = 1 << 30
    for node in order:
        children = node.children
        if children:
            total = 0
            for c in children:
                total += pot[c.uid]
            pot[node.uid] = total if total < cap else cap
        else:
            pot[node.uid] = 1
        if carriers is not None and node.name:
            for lid in node.name:
                got = carriers.get(lid)
                if got is None:
                    carriers[lid] = [node]
                else:
                    got.append(node)
    return pot


__all__ = ["StackWalker", "StackLeaf", "Frame", "potentials", "ANCHOR_FANOUT"]
