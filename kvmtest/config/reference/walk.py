"""Walking the variant DAG into dicts (avocado-vt's get_dicts semantics).

A depth-first walk carries the context (labels from the root), the pending
filters/conditions inherited from ancestors, the short name and deps.  At
each node every pending filter is decided the way avocado-vt decides it
(``tree.decide``); a condition that matches is "unpacked" in place.  Ops are
never copied around: a leaf's op sequence is re-read from the nodes on its
path (deepest first), entering the conditions unpacked on that path.

Dicts are then built by ``build.LeafBuilder`` which memoizes shared work.
"""

from __future__ import annotations

from ..tree import (
    COND,
    DROP,
    FAIL,
    JOIN,
    KEEP,
    NO,
    NOTCOND,
    ONLY,
    UNPACK,
    Filter,
    Node,
    decide,
    impossible,
    matches,
    prepare,
    project,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        AbstractSet,
        Any,
        Callable,
        Iterator,
        List,
        Optional,
        Sequence,
        Set,
        Tuple,
        Union,
    )

    from ..tree import Item, Labels


def _lost_any(uni: AbstractSet[int], parent_below: Labels, below: Labels) -> bool:
    """Did going down lose any label of ``uni`` from the labels below?"""
    for x in uni:
        if x in parent_below and x not in below:
            return True
    return False


class Leaf:
    """What the walk knows at a leaf; the builder turns it into a dict."""

    __slots__ = ("path", "unpacked", "ctx", "shortname", "dep", "removed_by", "frames")

    def __init__(self, path: List[Node], unpacked: Set[int], ctx: Tuple[int, ...],
                 shortname: Tuple[int, ...], dep: list,
                 removed_by: Optional[Filter] = None, frames: Optional[list] = None) -> None:
        self.path = path
        self.unpacked = unpacked
        self.ctx = ctx
        self.shortname = shortname
        self.dep = dep
        self.removed_by = removed_by  # explain mode: first filter that failed on the path
        self.frames: Any = frames  # walk.StackWalker: the live stack of walk.Frame records


def hoisted_fail(node: Node, ctx: tuple, ctx_set: AbstractSet[int], below: Labels) -> bool:
    """Does a filter of a node that every path below must cross fail already?
    (see ``tree.prepare``)"""
    for item in node.hoist:
        uni = item.universe
        if item.kind == NO:
            # no label of it in the context: it cannot match (the common case)
            if not uni.isdisjoint(ctx_set) and (item.simple or matches(item.words, ctx, ctx_set)):
                return True
        elif uni.isdisjoint(ctx_set) and below.isdisjoint(uni):
            return True  # none of its labels above nor below: every word impossible
        elif not item.simple and impossible(item, ctx_set, below):
            return True
    return False


# Called for a removal: (filter that failed, node, ctx) -> None.  Used by explain.
if TYPE_CHECKING:
    OnFail = Optional[Callable[[Filter, Node, Tuple[int, ...]], None]]


class Walker:
    """Yields Leaf records in avocado-vt's order."""

    def __init__(self, root: Node, longs: List[str], defaults: bool,
                 expand_defaults: List[str], ignore_filters: bool = False,
                 on_fail: OnFail = None) -> None:
        self.root = root
        self.longs = longs
        self.defaults = defaults
        self.expand_defaults = expand_defaults
        self.ignore_filters = ignore_filters
        self.on_fail = on_fail
        self.path: List[Node] = []
        self.unpacked: Set[int] = set()
        self.first_fail: Optional[Filter] = None
        self._dead: set = set()
        self._relevant: dict = {}
        self._sink: List[Filter] = []

    def leaves(self) -> Iterator[AnyLeaf]:
        prepare(self.root)
        return self._visit(self.root, (), frozenset(), (), (), [], None)

    # -- the filter pass at one node -------------------------------------

    def _process(self, items: Sequence[Item], ctx: tuple, ctx_set: AbstractSet[int],
                 below: Labels,
                 keep: list, unpacked: list, node: Node) -> bool:
        ignore = self.ignore_filters
        for item in items:
            if not item.is_filter:
                continue
            verdict = decide(item, ctx, ctx_set, below)
            if verdict == KEEP:
                keep.append(item)
            elif verdict == UNPACK:
                unpacked.append(item.uid)
                if not self._process(item.content, ctx, ctx_set, below, keep, unpacked, node):
                    return False
            elif verdict == FAIL:
                if self.on_fail is not None:
                    self.on_fail(item, node, ctx)
                if not ignore:
                    return False
                self._sink.append(item)
        return True

    def _visit(self, node: Node, ctx: tuple, ctx_set: frozenset, pending: tuple,
               shortname: tuple, dep: list, parent_below: Optional[Labels]) -> Iterator[AnyLeaf]:
        joins = [it for it in node.content if it.is_filter and it.kind == JOIN]
        if joins:
            yield from self._visit_joins(node, joins, ctx, ctx_set, pending, shortname, dep,
                                         parent_below)
            return
        yield from self._visit_plain(node, node.content, ctx, ctx_set, pending, shortname, dep,
                                     parent_below)

    def _pending(self, pending: Sequence[Filter], node: Node, ctx: tuple, new_ctx: tuple,
                 ctx_set: AbstractSet[int], below: Labels, parent_below: Optional[Labels], keep: list,
                 unpacked: list) -> bool:
        """Re-decide inherited filters, skipping those whose inputs did not change."""
        if parent_below is None or self.ignore_filters:
            return self._process(pending, new_ctx, ctx_set, below, keep, unpacked, node)
        name = node.name
        same_below = parent_below is below
        if not name and same_below:
            keep.extend(pending)
            return True
        last = ctx[-1] if ctx else None
        for item in pending:
            uni = item.universe
            if item.simple:
                # "a, b, c": its verdict depends only on whether the context and
                # the labels below meet its labels; it was KEEP (none in the
                # context, some below), so only a new name or the last one
                # gone from below can change that
                if name and not uni.isdisjoint(name):
                    pass  # it matches now: decide below
                elif below.isdisjoint(uni):
                    if item.kind in (NO, COND):
                        continue  # can no longer match: dropped (the common case)
                else:
                    keep.append(item)
                    continue
                if not self._process((item,), new_ctx, ctx_set, below, keep, unpacked, node):
                    return False
                continue
            if ((name and (last in uni or not uni.isdisjoint(name)))
                    or (not same_below and _lost_any(uni, parent_below, below))):
                if not self._process((item,), new_ctx, ctx_set, below, keep, unpacked, node):
                    return False
            else:
                keep.append(item)
        return True

    def _with_deps(self, node: Node, ctx: tuple, dep: list) -> list:
        """``dep`` plus the node's dependencies, named from the context."""
        longs = self.longs
        prefix = [longs[i] for i in ctx]
        for word in node.dep:
            for block in word:
                dep = dep + [".".join(prefix + [e.text for e in block])]
        return dep

    def _remember_dead(self, key: tuple) -> None:
        if len(self._dead) >= 100000:  # bound memory; it is only a cache
            self._dead.clear()
            self._relevant.clear()
        self._dead.add(key)

    def _dead_key(self, node: Node, ctx: tuple, ctx_set: frozenset,
                  pending: tuple) -> tuple:
        """Key under which a subtree's emptiness can be remembered.

        Whether a subtree yields anything depends on the pending filters that
        can remove leaves and on the context only through the labels those
        filters and the subtree's own filters mention (runs of other labels
        collapse to one marker: adjacency matching cannot tell them apart).
        """
        pkey = tuple([it.uid for it in pending if it.failcap])
        rkey = (node.uid, pkey)
        extra = self._relevant.get(rkey)
        rel = node.su
        if extra is None:  # kept apart from su (no big union per key: memory)
            extra = set()
            for it in pending:
                if it.failcap and not it.deep <= rel:
                    extra |= it.deep
            extra = self._relevant[rkey] = frozenset(extra - rel)
        return (rkey, project(ctx, ctx_set, rel, extra))

    def _visit_plain(self, node: Node, content: list, ctx: tuple, ctx_set: frozenset,
                     pending: tuple, shortname: tuple, dep: list,
                     parent_below: Optional[Labels]) -> Iterator[AnyLeaf]:
        if node.dep:
            dep = self._with_deps(node, ctx, dep)
        parent_ctx = ctx
        if node.name:
            ctx = ctx + tuple(node.name)
            ctx_set = ctx_set.union(node.name)
        below = node.labels
        if node.hoist and not self.ignore_filters and hoisted_fail(node, ctx, ctx_set, below):
            return
        memo_key = None
        if len(node.children) > 1 and not self.ignore_filters:
            memo_key = self._dead_key(node, ctx, ctx_set, pending)
            if memo_key in self._dead:
                return
        keep: list = []
        unpacked: list = []
        sink = self._sink = []
        if not (self._process(content, ctx, ctx_set, below, keep, unpacked, node)
                and self._pending(pending, node, parent_ctx, ctx, ctx_set, below, parent_below,
                                  keep, unpacked)):
            return
        if node.append_to_shortname:
            shortname = shortname + tuple(node.name)
        self.path.append(node)
        self.unpacked.update(unpacked)
        outer_fail = self.first_fail
        if sink and outer_fail is None:
            self.first_fail = sink[0]
        try:
            keep_t = tuple(keep)
            children = node.children
            if not children:
                yield Leaf(self.path, self.unpacked, ctx, shortname, dep, self.first_fail)
            elif self.defaults and node.var_name not in self.expand_defaults:
                count = 0
                for child in children:
                    for leaf in self._visit(child, ctx, ctx_set, keep_t, shortname, dep, below):
                        count += 1
                        yield leaf
                    if child.default and count:
                        break
                if memo_key is not None and not count:
                    self._remember_dead(memo_key)
            else:
                count = 0
                for child in children:
                    for leaf in self._visit(child, ctx, ctx_set, keep_t, shortname, dep, below):
                        count += 1
                        yield leaf
                if memo_key is not None and not count:
                    self._remember_dead(memo_key)
        finally:
            self.path.pop()
            self.unpacked.difference_update(unpacked)
            self.first_fail = outer_fail

    # -- join (rare): each join word is an `only`, results are merged -----

    def _visit_joins(self, node: Node, joins: list, ctx: tuple, ctx_set: frozenset,
                     pending: tuple, shortname: tuple, dep: list,
                     parent_below: Optional[Labels]) -> Iterator[AnyLeaf]:
        content = [it for it in node.content if not (it.is_filter and it.kind == JOIN)]
        onlys = []
        for j in joins:
            for words, texts in zip(j.words, j.texts):
                # (the constructor, not __new__: a compiled build's native class
                # runs __init__ from __new__ too)
                f = Filter(ONLY, [], j.line, j.filename, j.linenum, ((words,), [texts], False))
                f.uid = j.uid
                onlys.append(f)
        if not onlys:  # `join` with no words: avocado-vt treats it as absent
            yield from self._visit_plain(node, content, ctx, ctx_set, pending, shortname, dep,
                                         parent_below)
            return
        base = (list(self.path), set(self.unpacked))
        yield from self._multiply(node, content, onlys, ctx, ctx_set, pending, shortname, dep,
                                  base, parent_below)

    def _multiply(self, node: Node, content: list, onlys: list, ctx: tuple, ctx_set: frozenset,
                  pending: tuple, shortname: tuple, dep: list, base: tuple,
                  parent_below: Optional[Labels]) -> Iterator[AnyLeaf]:
        first, rest = onlys[0], onlys[1:]
        first.compute_universe()
        gen = self._visit_plain(node, content + [first], ctx, ctx_set, pending, shortname, dep,
                                parent_below)
        if not rest:
            yield from gen
            return
        for left in gen:
            left_snap = JoinPart(left)
            # a second walker: this one's path stack is busy with the left side
            other = Walker(self.root, self.longs, self.defaults, self.expand_defaults,
                           self.ignore_filters, self.on_fail)
            other.path, other.unpacked = list(base[0]), set(base[1])
            for right in other._multiply(node, content, rest, ctx, ctx_set, pending,
                                         shortname, dep, base, parent_below):
                yield JoinedLeaf(left_snap, right)


class JoinPart:
    """A frozen copy of a Leaf (the walk's path list is reused)."""

    __slots__ = ("path", "unpacked", "ctx", "shortname", "dep")

    path: Union[List[Node], JoinedLeaf]  # (a JoinedLeaf: the rest is empty)

    def __init__(self, leaf: AnyLeaf) -> None:
        if isinstance(leaf, JoinedLeaf):
            self.path = leaf
            self.unpacked: Set[int] = set()
            self.ctx: Tuple[int, ...] = ()
            self.shortname: Tuple[int, ...] = ()
            self.dep: list = []
            return
        self.path = list(leaf.path)
        self.unpacked = set(leaf.unpacked)
        self.ctx = leaf.ctx
        self.shortname = leaf.shortname
        self.dep = leaf.dep


class JoinedLeaf:
    """Two dicts merged by ``join`` (the right one updates the left one)."""

    __slots__ = ("left", "right")

    def __init__(self, left: JoinPart, right: AnyLeaf) -> None:
        self.left = left
        self.right: Union[JoinedLeaf, JoinPart] = (right if isinstance(right, JoinedLeaf)
                                                   else JoinPart(right))


if TYPE_CHECKING:
    AnyLeaf = Union[Leaf, JoinedLeaf]  # what Walker.leaves() yields


__all__ = ["Walker", "Leaf", "hoisted_fail", "JoinedLeaf", "JoinPart", "COND", "NOTCOND", "DROP", "FAIL"]
