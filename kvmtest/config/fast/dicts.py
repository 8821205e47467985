# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Whole dicts straight from the walk (``Parser.get_dicts()``), sharing work
between leaves the way the JSON emitter does (see ``emit``).

A leaf's ops are its path's node contents, deepest node first.  Consecutive
leaves differ at the deep end of their paths (the innermost loop is the
first block parsed) and share the rest, which is applied *last*; so the
shared work is cached as *steps*, not as states:

* the state after the two deepest blocks (base config, machine) is memoized;
* the leaf's steps up to the anchor (the top of the test list) are cached on
  each frame (``JsonEmitter._chain``);
* the anchor's steps up to the root are merged once (``JsonEmitter._top``):
  runs of plain sets become one ``dict.update``.

A leaf then costs one copy of the state, its own few steps, the merged
anchor steps, and its name, map-file and ``_min``/``_max`` keys.  The keys
come out in avocado-vt's order because every step still runs, in order, on
the leaf's dict.  ``compile_steps(maps=True)`` leaves a placeholder where
each ``_*_map_file`` key is first set; the map dicts themselves are built
once per frame, top down (``build.FrameNames``).

Without an anchor worth sharing (none, or one right below the root: a test
list alone, like tp-qemu's subtests.cfg) a leaf goes through ``build_flat``:
the memoized state of its four deepest blocks (often a replayed subtree's),
then its other frames' steps up to the root, cached per frame.
"""

from __future__ import annotations

from ..ops import apply_op, regex_for, substitute
from ..tree import RESERVED, Node
from .build import FrameNames, finish_leaf
from .emit import ANCHOR_MIN, FLAT_DEPTH, JsonEmitter, _Overlay
from .steps import REGEX_OPS, Comp, compile_steps, node_conds
from .walk import ANCHOR_FANOUT, Frame, StackLeaf, StackWalker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, List, Optional, Tuple

    from ..parser import TreeBuilder

_NO_STEPS: list = []
_EMPTY: dict = {}
_NAME_KEYS_ORDER = ("name", "dep", "shortname")
_MAX_AFTERS = 64
_MAX_HEADS = 64


class DictEmitter(JsonEmitter):
    """Builds the dict of each leaf of a StackWalker (with anchors)."""

    def __init__(self, root: Node, names: List[str], longs: List[str],
                 postfix_keys: set, frame_names: Optional[FrameNames] = None) -> None:
        super().__init__(root, names, longs, postfix_keys)
        self.afters: dict = {}  # (state key, anchor steps) -> see _after
        self.heads: dict = {}  # id(state) -> (state, with name keys first, has postfix keys)
        self.chain_post: dict = {}  # id(steps) -> (steps, _chain_post()): build_flat
        self.frame_names = frame_names or FrameNames(names, longs)

    def _block(self, node: Node, unpacked: set) -> tuple:
        # JsonEmitter._block, compiled with the map-file placeholders
        conds = self.conds.get(node.uid)
        if conds is None:
            conds = self.conds[node.uid] = node_conds(node)
        key = (node.uid, tuple([c for c in conds if c in unpacked])) if conds else node.uid
        steps = self.blocks.get(key)
        if steps is None:
            steps = self.blocks[key] = compile_steps(node.content, unpacked, maps=True)
            if not conds and not steps:
                self.inert.add(node.uid)
        return key, steps

    def build(self, leaf: StackLeaf, maps: bool = True) -> dict:
        frames: List[Frame] = leaf.frames
        unpacked = leaf.unpacked
        last = len(frames) - 1
        anchor = frames[last].anchor
        if anchor == last and last:  # the leaf itself is never the anchor
            anchor = last - 1
        below = last - anchor
        k = 2 if below >= 2 else below
        if k:
            skey, state = self._state(frames, last, k, unpacked)
        else:
            skey, state = (), _EMPTY
        chain = self._chain(frames, last - k, anchor + 1, unpacked) if below > k else _NO_STEPS
        # The leaf's own steps, written into a small overlay of the state (as
        # JsonEmitter.line does); a regex op (?=, del...) sends it the long way
        over = _Overlay()
        over.base = state
        regex = False
        for step in chain:
            if type(step) is dict:
                over.update(step)
                continue
            kind = step.op
            key = step.name
            if kind in REGEX_OPS:
                regex = True
                break
            if key in RESERVED:
                continue  # (apply_op ignores them too)
            value = substitute(step.value, over, False) if step.dollar else step.value
            if kind == "=":
                over[key] = value
            elif kind == "+=":
                over[key] = (over[key] if key in over else state.get(key, "")) + value
            elif kind == "<=":
                over[key] = value + (over[key] if key in over else state.get(key, ""))
            elif key not in over and key not in state:  # ~=
                over[key] = value
        top = self._top(frames, anchor, unpacked)
        pair: Tuple[str, str] = (frames[last].names
                                  or self.frame_names.fill(frames, last)[0])
        name, short = pair  # (typed: unpacked without an iterator)
        if not regex and (not top.has_ops or (
                over.keys().isdisjoint(top.compute_reads())
                and not (top.exps and top.any_match(over)))):
            # Fast case: the anchor's steps read nothing the leaf's own steps
            # changed, so their results are the same for every leaf: "state +
            # anchor steps" is computed once (split so that the leaf's new keys
            # land between the state's and the anchor's, as in avocado-vt)
            head: dict  # (typed: see build_flat)
            tail: dict
            fixed: dict
            head, tail, fixed = self._after(skey, state, top)
            d = head.copy()
            d["name"] = name
            d["dep"] = leaf.dep
            d["shortname"] = short
            if over:
                d.update(over)
                if not over.keys().isdisjoint(fixed):
                    tail = fixed  # (re-set what the anchor's steps set after the leaf's)
            if tail:
                d.update(tail)
        else:
            d = {"name": name, "dep": leaf.dep, "shortname": short}
            d.update(state)
            self._apply(chain, d)
            self._apply(top.steps, d)
        return self._finish(d, frames, last, maps)

    def build_flat(self, leaf: StackLeaf, maps: bool = True) -> dict:
        """build() for a leaf with no anchor worth sharing above it: the state
        of its four deepest blocks (memoized: in a test list, often a replayed
        subtree's), then its other frames' steps up to the root, cached per
        frame (``_chain``)."""
        frames: List[Frame] = leaf.frames
        unpacked = leaf.unpacked
        last = len(frames) - 1
        k = FLAT_DEPTH if last >= FLAT_DEPTH else last + 1
        state = self._state(frames, last, k, unpacked)[1]
        # the state with the name keys in front, memoized alongside it: a leaf's
        # dict is then one copy (an update of ~25 keys into a new dict costs 5x);
        # and whether it has X_max/_min/_fixed keys
        head = self.heads.get(id(state))
        if head is None or head[0] is not state:
            named: dict = {"name": None, "dep": None, "shortname": None}
            named.update(state)
            if len(self.heads) >= _MAX_HEADS:
                self.heads.clear()
            pk = self.postfix_keys
            head = self.heads[id(state)] = (state, named, bool(pk) and not pk.isdisjoint(state))
        pair: Tuple[str, str] = (frames[last].names
                                  or self.frame_names.fill(frames, last)[0])
        name, short = pair  # (typed: unpacked without an iterator)
        named = head[1]  # (a dict, typed above: mypyc copies and sets with the dict's C calls)
        d = named.copy()
        d["name"] = name
        d["dep"] = leaf.dep
        d["shortname"] = short
        post: bool = head[2]
        if last >= k:
            chain = self._chain(frames, last - k, 0, unpacked)
            if chain:
                self._apply(chain, d)
                post = post or self._chain_post(chain)
        return finish_leaf(d, frames, last, self.frame_names, maps,
                           self.postfix_keys if post else None)

    def _chain_post(self, chain: list) -> bool:
        """Whether a chain of steps may set an X_max/_min/_fixed key (memoized by
        identity): if neither it nor the state does, postfix_parse is skipped."""
        got = self.chain_post.get(id(chain))
        if got is not None and got[0] is chain:
            return got[1]
        pk = self.postfix_keys
        post = False
        for step in chain:
            if type(step) is dict:
                post = not pk.isdisjoint(step)
            else:  # (a regex op may set any key)
                post = step.op in REGEX_OPS or step.name in pk
            if post:
                break
        if len(self.chain_post) >= 4096:
            self.chain_post.clear()
        self.chain_post[id(chain)] = (chain, post)
        return post

    def _finish(self, d: dict, frames: List[Frame], last: int, maps: bool) -> dict:
        return finish_leaf(d, frames, last, self.frame_names, maps, self.postfix_keys)

    def _after(self, skey: tuple, state: dict, top: Comp) -> tuple:
        """``state`` with the anchor's steps applied, as (head, tail, fixed):
        ``head`` the name keys and the state's keys, ``tail`` the keys the steps
        added, ``fixed`` every key the steps set, with its value (all in order)."""
        akey = (skey, top.serial)
        got = self.afters.get(akey)
        if got is None:
            e: Dict[str, Any] = {"name": None, "dep": None, "shortname": None}
            e.update(state)
            deleted = set()  # (a key deleted and set again moves to the end)
            for step in top.steps:
                if type(step) is dict:
                    e.update(step)
                    continue
                if step.op == "del":
                    exp = regex_for(step)
                    deleted.update([k for k in e if k not in RESERVED and exp.match(k)])
                apply_op(step, e, False)
            head: dict = {}
            for key in _NAME_KEYS_ORDER + tuple(state):
                if key not in deleted and key in e:
                    head[key] = e[key]
            tail = {k: v for k, v in e.items() if k not in head}  # (k, v: not key)
            topkeys = top.keys
            fixed = {k: v for k, v in e.items() if k in topkeys}
            got = (head, tail, fixed)
            if len(self.afters) >= _MAX_AFTERS:
                self.afters.clear()
            self.afters[akey] = got
        return got

def dicts(tree: TreeBuilder, defaults: bool, expand_defaults: List[str], maps: bool = True,
          anchor_min: int = ANCHOR_MIN, anchor_fanout: int = ANCHOR_FANOUT) -> Iterator[dict]:
    """The dicts of ``tree`` (a tree emit.supports()), in get_dicts() order.

    Leaves under an anchor (a test list in a big matrix) go through the
    DictEmitter's build(), which shares the anchor's work; the others
    (configs with no subtree big enough for an anchor, or an anchor right
    below the root) through its build_flat(), which shares the deepest
    blocks' state and each frame's steps up to the root.  ``anchor_min`` and
    ``anchor_fanout`` are for tests (they move the anchors).
    """
    t = tree
    names, longs = t.table.names, t.table.longs
    walker = StackWalker(t.node, longs, defaults, expand_defaults, anchor_min,
                         anchor_fanout=anchor_fanout)
    frame_names = FrameNames(names, longs)
    emitter = DictEmitter(t.node, names, longs, set(t.postfix_keys), frame_names)
    for leaf in walker.leaves():
        # (an anchor right below the root has nothing above it to share: a
        # test list alone, tp-qemu's subtests.cfg, goes faster the other way;
        # the methods called on the emitter, not bound to locals: mypyc calls them natively)
        yield (emitter.build(leaf, maps) if leaf.frames[-1].anchor > 1
               else emitter.build_flat(leaf, maps))


__all__ = ["DictEmitter", "dicts"]
