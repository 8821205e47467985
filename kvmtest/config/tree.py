# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""The variant tree: labels, nodes, content items (ops, filters, conditions).

Like avocado-vt, the tree is a DAG: when a ``variants:`` block is parsed, the
tree built so far becomes the single child of every variant, so the content
of a leaf path is in file order from the deepest node up.

Labels are interned to ints.  A filter element matches a name label the way
avocado-vt's asymmetric ``Label.__eq__`` does: a plain ``x`` matches every
label named ``x`` (``(subtest=x)`` too); ``(v=x)`` matches only ``(v=x)``.
Each filter element is therefore the (live) set of label ids it matches.
"""

from __future__ import annotations

import itertools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, Any, Dict, Final, List, Literal, Optional, Set, Tuple, Union

# (Final: a compiled build inlines them instead of looking up module globals)
ONLY: Final = 0
NO: Final = 1
COND: Final = 2
NOTCOND: Final = 3
JOIN: Final = 4
KIND_NAMES = {ONLY: "only", NO: "no", COND: "condition", NOTCOND: "!condition", JOIN: "join"}
RESERVED = frozenset(("name", "shortname", "dep", "_short_name_map_file", "_name_map_file"))

_uids = itertools.count(1)
_EMPTY: frozenset = frozenset()  # (shared: each frozenset() call makes a new 216-byte set)
_SHORT: Dict[str, str] = {}  # FileMap.short per filename


class LabelTable:
    """Interns variant labels ``(var_name, name)`` to ints."""

    def __init__(self) -> None:
        self.ids: Dict[Tuple[Optional[str], str], int] = {}
        self.names: List[str] = []
        self.longs: List[str] = []
        self.by_name: Dict[str, Set[int]] = {}

    def intern(self, var: Optional[str], name: str) -> int:
        key = (var or None, name)
        lid = self.ids.get(key)
        if lid is None:
            lid = len(self.names)
            self.ids[key] = lid
            self.names.append(name)
            self.longs.append("(%s=%s)" % (var, name) if var else name)
            fs = self.by_name.get(name)
            if fs is None:
                fs = self.by_name[name] = set()
            fs.add(lid)
        return lid

    def element(self, var: Optional[str], name: str) -> Elem:
        """A filter element: the set of label ids it matches, and its text."""
        if var:
            lid = self.intern(var, name)
            return Elem({lid}, self.longs[lid])
        fs = self.by_name.get(name)
        if fs is None:
            fs = self.by_name[name] = set()
        return Elem(fs, name)


class Elem:
    __slots__ = ("fs", "text")

    def __init__(self, fs: Set[int], text: str) -> None:
        self.fs = fs
        self.text = text


# ---------------------------------------------------------------- content


class Op:
    """``name OP value`` (also ``del name``: op ``del``)."""

    __slots__ = ("op", "name", "value", "filename", "linenum", "dollar", "regex")
    is_filter: Literal[False] = False

    def __init__(self, op: str, name: str, value: str, filename: str, linenum: int) -> None:
        self.op = op
        self.name = name
        self.value = value
        self.filename = filename
        self.linenum = linenum
        self.dollar = "$" in value
        self.regex = None

    def __repr__(self) -> str:
        return "%s %s %r" % (self.name, self.op, self.value)


class PreDict:
    """A run of plain ``key = value`` sets, applied as one dict update."""

    __slots__ = ("values", "filename", "linenum")
    is_filter: Literal[False] = False
    op = "predict"

    def __init__(self, values: Dict[str, str], filename: str, linenum: int) -> None:
        self.values = values
        self.filename = filename
        self.linenum = linenum

    def __repr__(self) -> str:
        return "PreDict %r" % (self.values,)


class FileMap:
    """Records which file a variant name came from (``_name_map_file``)."""

    __slots__ = ("short", "name", "dest", "filename", "linenum")
    is_filter: Literal[False] = False
    op = "filemap"

    def __init__(self, filename: str, name: str, dest: str, linenum: int) -> None:
        short = _SHORT.get(filename)
        if short is None:
            short = _SHORT[filename] = (filename if filename == "<string>"
                                        else filename.rsplit("/", 1)[-1])
        self.short = short
        self.name = name
        self.dest = dest
        self.filename = filename
        self.linenum = linenum


class SuffixOp:
    __slots__ = ("value", "filename", "linenum")
    is_filter: Literal[False] = False
    op = "suffix"

    def __init__(self, value: str, filename: str, linenum: int) -> None:
        self.value = value
        self.filename = filename
        self.linenum = linenum


def filter_words(words: List[List[List[Elem]]]) -> tuple:
    """(Filter.words, Filter.texts, whether every word is one label) of parsed
    words; shared by the filters of one text (all three are only read)."""
    ws: List[tuple] = []
    texts = []
    simple = True
    for w in words:  # (plain loops: built per distinct filter text)
        if len(w) == 1 and len(w[0]) == 1:
            e = w[0][0]
            ws.append(((e.fs,),))
            texts.append([[e.text]])
        else:
            simple = False
            ws.append(tuple([tuple([e.fs for e in blk]) for blk in w]))
            texts.append([[e.text for e in blk] for blk in w])
    return tuple(ws), texts, simple


class Filter:
    """``only``/``no``/``join`` statements and (negative) conditional blocks.

    ``words`` is OR of words; a word is AND of blocks; a block is a sequence
    of elements that must be adjacent in the name.
    """

    __slots__ = ("kind", "words", "texts", "line", "filename", "linenum", "content", "uid",
                 "universe", "deep", "failcap", "simple")
    is_filter: Literal[True] = True

    def __init__(self, kind: int, words: List[List[List[Elem]]], line: Optional[str],
                 filename: str, linenum: int, prepared: Optional[tuple] = None) -> None:
        self.kind = kind
        # ``prepared``: filter_words(words), kept by the parser per filter text
        self.words, self.texts, simple = prepared or filter_words(words)
        self.line = line
        self.filename = filename
        self.linenum = linenum
        self.content: List[Item] = []
        self.uid: Any = next(_uids)  # (boxed: see Node.uid)
        self.universe: frozenset = _EMPTY
        self.deep: frozenset = _EMPTY
        self.failcap = kind in (ONLY, NO)
        # every word one label ("a, b, c"): no adjacency, no AND
        self.simple = simple and kind != JOIN

    def compute_universe(self, cache: Optional[Dict[int, frozenset]] = None) -> None:
        """All label ids this filter can match (labels are final after parsing).

        ``deep`` adds what nested filters match; ``failcap`` says whether the
        item (or something inside it) can remove a leaf.  ``cache``: universes
        by ``id(words)`` (filters of one text share their words), for one
        prepare, while the filters live.
        """
        words = self.words
        uni = None if cache is None else cache.get(id(words))
        if uni is None:
            sets = [fs for w in words for b in w for fs in b]
            uni = frozenset(sets[0]) if len(sets) == 1 else frozenset().union(*sets)
            if cache is not None:
                cache[id(words)] = uni
        self.universe = uni
        if not self.content:
            self.deep = uni
            self.failcap = self.kind <= NO  # (ONLY or NO)
            return
        deep = set(uni)
        failcap = self.kind <= NO
        for item in self.content:
            if item.is_filter:
                item.compute_universe(cache)
                deep |= item.deep
                failcap = failcap or item.failcap
        self.deep = frozenset(deep)
        self.failcap = failcap

    def __repr__(self) -> str:
        return "%s %r (%s:%s)" % (KIND_NAMES[self.kind], self.line, self.filename, self.linenum)


class Node:
    """A tree node: a variant (named) or a structural node (unnamed)."""

    __slots__ = ("var_name", "name", "dep", "content", "children", "labels",
                 "append_to_shortname", "default", "uid", "filename", "linenum", "hoist", "su",
                 "filters", "name_parts")

    def __init__(self, children: Optional[List[Node]] = None,
                 labels: Optional[Labels] = None) -> None:
        self.var_name: Optional[str] = None
        self.name: Tuple[int, ...] = ()  # (the parser sets tuples too)
        self.dep: List[List[List[Elem]]] = []
        self.content: List[Item] = []
        self.children: List[Node] = [] if children is None else children
        self.labels: Labels = set() if labels is None else labels
        self.append_to_shortname = False
        self.default = False
        # an int, typed Any so that the compiled build keeps it as a Python int:
        # as a native int, every use as a dict or set key made a new int object
        self.uid: Any = next(_uids)
        self.filename = ""
        self.linenum = 0
        self.hoist: Tuple[Filter, ...] = ()
        self.su: frozenset = _EMPTY
        self.filters: Tuple[Filter, ...] = ()  # the filters in content (set by prepare)
        # its name, shortname and map-file parts for the dicts (fast.build.FrameNames:
        # set on first use; they depend only on the node and its tree's label table)
        self.name_parts: Optional[tuple] = None


class SharedLabels:
    """Labels below a variants block: its own labels plus one shared big set.

    Each ``variants:`` block sits on top of the whole tree parsed before it,
    so its label set would copy that (large) set again; sharing it keeps
    memory flat.  Supports what the walk needs: ``in`` and ``isdisjoint``.
    """

    __slots__ = ("own", "base")

    def __init__(self, own: Set[int], base: AbstractSet[int]) -> None:
        self.own = own
        self.base = base

    def __contains__(self, x: int) -> bool:
        return x in self.own or x in self.base

    def isdisjoint(self, other: AbstractSet[int]) -> bool:
        return self.own.isdisjoint(other) and self.base.isdisjoint(other)

    def __len__(self) -> int:
        return len(self.own) + len(self.base)


_SHARE_MIN = 256

# What a content list holds (Node.content, Filter.content), and the labels below a node
if TYPE_CHECKING:  # (import them under TYPE_CHECKING too: at run time they do not exist)
    ContentOp = Union[Op, PreDict, FileMap, SuffixOp]
    Item = Union[ContentOp, Filter]
    Container = Union[Node, Filter]  # what statements are parsed into
    Labels = Union[Set[int], AbstractSet[int], SharedLabels]


def block_labels(children: List[Node]) -> Labels:
    """Labels below a variants block with these variant nodes as children."""
    base: Optional[AbstractSet[int]] = None
    for child in children:
        lab = child.labels
        cand = lab.base if isinstance(lab, SharedLabels) else lab
        if len(cand) >= _SHARE_MIN and (base is None or len(cand) > len(base)):
            base = cand
    own: Set[int] = set()
    own.update(*[child.name for child in children])
    done = None  # the variants of a block mostly share one label set: add it once
    for child in children:
        lab = child.labels
        if lab is done:
            continue
        done = lab
        if isinstance(lab, SharedLabels):
            if lab.base is not base:
                own.update(lab.base)
            own.update(lab.own)
        elif lab is not base:
            own.update(lab)
    if base is None:
        return own
    return SharedLabels(own, base)


# ---------------------------------------------------------------- matching


def project(ctx: Tuple[int, ...], ctx_set: AbstractSet[int], rel: frozenset,
            extra: frozenset) -> tuple:
    """``ctx`` reduced to the labels in ``rel | extra``, each run of other labels
    collapsed to one -1 (adjacency matching cannot tell such runs apart)."""
    hits = ctx_set & rel
    if extra:
        hits = hits | (ctx_set & extra)
    if not hits:
        return (-1,) if ctx else ()
    if len(ctx_set) != len(ctx):  # a label repeats: walk the context
        proj = []
        other = False
        for x in ctx:
            if x in hits:
                proj.append(x)
                other = False
            elif not other:
                proj.append(-1)
                other = True
        return tuple(proj)
    index = ctx.index
    where = sorted([index(x) for x in hits])
    proj = [-1] if where[0] else []
    prev = where[0] - 1
    for i in where:
        if i - prev > 1 and proj:
            proj.append(-1)
        proj.append(ctx[i])
        prev = i
    if prev < len(ctx) - 1:
        proj.append(-1)
    return tuple(proj)


def match_adjacent(block: Tuple[Set[int], ...], ctx: Tuple[int, ...],
                   ctx_set: AbstractSet[int]) -> int:
    """How many elements of ``block`` match adjacently in ``ctx`` (avocado-vt's rule)."""
    first = block[0]
    if first.isdisjoint(ctx_set):
        return 0
    n = len(block)
    if n == 1:
        return 1
    if block[1].isdisjoint(ctx_set):
        return 1 if ctx[-1] in first else 0
    i = 0
    while ctx[i] not in first:
        i += 1
    k = 0
    size = len(ctx)
    while i < size:
        if k > 0 and ctx[i] not in block[k]:
            i -= k - 1
            k = 0
        if ctx[i] in block[k]:
            k += 1
            if k >= n:
                break
            if block[k].isdisjoint(ctx_set):
                break
        i += 1
    return k


def matches(words: tuple, ctx: Tuple[int, ...], ctx_set: AbstractSet[int]) -> bool:
    for word in words:
        for block in word:
            if match_adjacent(block, ctx, ctx_set) != len(block):
                break
        else:
            return True
    return False


def might_match(words: tuple, ctx: Tuple[int, ...], ctx_set: AbstractSet[int],
                below: Labels) -> bool:
    for word in words:
        for block in word:
            m = match_adjacent(block, ctx, ctx_set)
            for fs in block[m:]:
                if below.isdisjoint(fs):
                    break
            else:
                continue
            break
        else:
            return True
    return False


FAIL: Final = 0
DROP: Final = 1
KEEP: Final = 2
UNPACK: Final = 3


def decide(item: Filter, ctx: Tuple[int, ...], ctx_set: AbstractSet[int], below: Labels) -> int:
    """What avocado-vt's process_content does with a filter at a node."""
    kind = item.kind
    if item.simple:  # one label per word: set tests say it all
        uni = item.universe
        if not uni.isdisjoint(ctx_set):  # matches (and so might match)
            return (DROP, FAIL, UNPACK, DROP)[kind]
        if below.isdisjoint(uni):  # cannot match any more
            return (FAIL, DROP, DROP, UNPACK)[kind]
        return KEEP
    words = item.words
    if kind == ONLY:
        if not might_match(words, ctx, ctx_set, below):
            return FAIL
        return DROP if matches(words, ctx, ctx_set) else KEEP
    if kind == NO:
        if matches(words, ctx, ctx_set):
            return FAIL
        return KEEP if might_match(words, ctx, ctx_set, below) else DROP
    if kind == COND:
        if matches(words, ctx, ctx_set):
            return UNPACK
        return KEEP if might_match(words, ctx, ctx_set, below) else DROP
    # NOTCOND
    if not might_match(words, ctx, ctx_set, below):
        return UNPACK
    return DROP if matches(words, ctx, ctx_set) else KEEP


def impossible(item: Filter, ctx_set: AbstractSet[int], below: Labels) -> bool:
    """True if an `only` can match neither what is above nor what is below."""
    for word in item.words:
        for block in word:
            for fs in block:
                if fs.isdisjoint(ctx_set) and below.isdisjoint(fs):
                    break
            else:
                continue
            break
        else:
            return False
    return True


def prepare(root: Node) -> List[Node]:
    """Per-walk precomputation: filter universes and hoisted dead-subtree checks.

    A node D that lies on every path below A (D dominates A's leaves) will
    evaluate its own top-level only/no filters there; some outcomes are
    already certain at A: a ``no`` that matches the context (matching only
    grows with the context) or an ``only`` with a word element that is
    neither in the context nor below A.  Checking these at A prunes whole
    subtrees avocado-vt would walk (its failed_cases cache makes it skip
    them quickly; here they are not entered at all).  Same output.

    Returns every node once, children before parents.
    """
    idom: Dict[int, Optional[Node]] = {}  # uid -> the first node on every path below
    dlen: Dict[int, int] = {}  # uid -> length of its chain (itself, idom, idom's idom...)
    own: Dict[int, Tuple[Filter, ...]] = {}
    seen = {root.uid}
    order: List[Node] = []
    # depth first, the last child first, each node after its children (``left``:
    # how many children of each stacked node are still to visit; typed lists and
    # ints, which mypyc runs as C, not iterators of tuples)
    stack: List[Node] = [root]
    left: List[int] = [len(root.children)]
    while stack:
        node = stack[-1]
        i = left[-1]
        while i > 0:
            i -= 1
            child = node.children[i]
            if child.uid not in seen:
                seen.add(child.uid)
                left[-1] = i
                stack.append(child)
                left.append(len(child.children))
                break
        else:
            order.append(stack.pop())
            left.pop()
    unis: Dict[int, frozenset] = {}  # (see Filter.compute_universe)
    for node in order:  # children before parents
        if type(node.name) is list:  # (tuples: the walk extends contexts with them)
            node.name = tuple(node.name)
        node.filters = tuple([x for x in node.content if isinstance(x, Filter)])  # (a C loop)
        found = node.filters
        own_su: AbstractSet[int] = _EMPTY
        own_filters: Tuple[Filter, ...] = ()
        if found:
            filters: List[Filter] = []
            deep: Set[int] = set()
            for item in found:
                item.compute_universe(unis)
                deep |= item.deep
                if item.kind <= NO:  # ONLY or NO
                    filters.append(item)
            own_su, own_filters = deep, tuple(filters)
        # share frozensets along chains: these sets can be large near the root
        # (the variants of a block mostly have one su, the tree parsed before
        # them: ``is`` first, a subset test walks the whole set)
        su = None
        for child in node.children:
            csu = child.su
            if su is None:
                su = csu
            elif csu is su or csu <= su:
                continue
            elif su <= csu:
                su = csu
            else:
                su = su | csu
        if su is None:
            su = frozenset(own_su)
        elif own_su and not own_su <= su:
            su = su | own_su
        node.su = su
        own[node.uid] = own_filters
        # The nodes on every path from here to a leaf form a chain: the first
        # one below (idom), its first one, and so on; the hoist is their own
        # filters.  One child: that child and its chain.  Several: where
        # their chains meet (they share everything after that).
        children = node.children
        first: Optional[Node]
        if len(children) == 1:  # the common case
            first = children[0]
        elif children:
            first = children[0]
            for child in children[1:]:
                first = _meet(first, child, idom, dlen)
                if first is None:
                    break
        else:
            first = None
        idom[node.uid] = first
        if first is None:
            dlen[node.uid] = 1
            node.hoist = ()
        else:
            dlen[node.uid] = dlen[first.uid] + 1
            node.hoist = own[first.uid] + first.hoist
    return order


def _meet(a: Node, b: Node, idom: Dict[int, Optional[Node]],
          dlen: Dict[int, int]) -> Optional[Node]:
    """The first node on both dominator chains (from a and from b), or None."""
    la, lb = dlen[a.uid], dlen[b.uid]
    x: Optional[Node] = a
    y: Optional[Node] = b
    while la > lb and x is not None:
        x = idom[x.uid]
        la -= 1
    while lb > la and y is not None:
        y = idom[y.uid]
        lb -= 1
    while x is not y:
        if x is None or y is None:
            return None
        x = idom[x.uid]
        y = idom[y.uid]
    return x

