# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Canonical JSON lines straight from the walk (``python -m kvmtest.config --json``).

Byte-identical to ``json.dumps(d, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` of each dict get_dicts() yields (map-file keys
removed), but most of the work is shared between leaves:

* a leaf's ops are its path's node contents, deepest node first.  The walk
  stack is cut at an anchor frame T (the deepest node with many leaf paths
  below: in a test matrix, the top of the test list).  The steps of T up to
  the root (``_top``) and of each frame up to T (``_chain``) are cached per
  frame, keyed by the pending conditions the leaf unpacked below.
* the first two blocks of a leaf (base config, machine) give a memoized
  state S.  A leaf is ``S.copy()`` plus its steps below T.
* when T's ops read nothing those steps changed, ``S + T's steps`` is the
  same for every leaf under T: it is encoded once (sorted keys and
  ``"key":"value"`` fragments, derived from the previous such base); a leaf
  patches the keys touched below T, merges in its new keys, sets name,
  shortname and dep, and joins the fragments.  Otherwise (rare) T's steps
  are applied to the leaf and only the keys T sets for good are shared.
"""

from __future__ import annotations

from _json import encode_basestring  # (json.dumps of a str, ensure_ascii=False)
from bisect import bisect

from ..ops import apply_op, postfix_parse, regex_for, substitute
from ..tree import RESERVED, Node, Op
from .steps import REGEX_OPS as _REGEX_OPS
from .steps import Base, Comp, compile_steps, concat, node_conds, pending_conds, supports
from .walk import ANCHOR_FANOUT, Frame, StackLeaf, StackWalker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Iterator, List, Optional, Tuple

    from ..parser import TreeBuilder

ANCHOR_MIN = 1 << 16  # an anchor has at least this many leaf paths below (before filters)
_MAX_STATES = 64
_MAX_BASES = 64
_PER_KEY = 512
# flat leaves: memoized state of this many deepest blocks (subtests.cfg compiled lib:
# 881 M Ir at 4, 884 M at 5, 862 M at 6, 866 M at 7, 859 M at 8; medium.cfg the same at 4 and 6)
FLAT_DEPTH = 6
# the same for flat JSON lines, whose memoized state also carries its encoding: deeper pays
# (subtests.cfg compiled cli 1,242 M Ir at 4, 1,200 M at 6, 1,190 M at 8, 1,542 M at 10:
# past 8 the states no longer repeat enough to be memoized)
FLAT_DEPTH_JSON = 6
_EMPTY: dict = {}
_NO_STEPS: list = []
_NO_CONDS: frozenset = frozenset()
_MISSING = object()
_NO_KEYS: frozenset = frozenset()


class _Overlay(dict):
    """A leaf's own writes over its state (``base``): ``[]`` falls through to it,
    so ``${key}`` substitution sees both."""

    __slots__ = ("base",)
    base: dict

    def __missing__(self, key: str) -> object:
        return self.base[key]



def _name_parts(parts: List[str], pos: Dict[str, int], names: tuple, dep_frag: str) -> None:
    """A leaf's own fragments in its line's parts: name, shortname and dep."""
    parts[pos["name"]] = f'"name":"{names[0]}"'
    parts[pos["shortname"]] = f'"shortname":"{names[1]}"'
    parts[pos["dep"]] = dep_frag


def _find_key(frags: List[str], key: str) -> int:
    """Index of the fragment of ``key`` in ``frags`` (-1 if none)."""
    head = encode_basestring(key) + ":"
    for i, frag in enumerate(frags):
        if frag.startswith(head):
            return i
    return -1


_NO_CHAIN: tuple = ([], (), False)


class JsonEmitter:
    """Encodes the leaves of a StackWalker as canonical JSON lines."""

    def __init__(self, root: Node, names: List[str], longs: List[str],
                 postfix_keys: set) -> None:
        self.names = names
        self.longs = longs
        self.postfix_keys = postfix_keys
        self.blocks: dict = {}
        self.conds: dict = {}
        self.states: dict = {}
        self.bases: dict = {}
        self.last_full: dict = {}  # state key -> the last base built on it (to derive from)
        self.tops: dict = {}
        self.inert: set = set()  # uids of nodes whose content gives no steps
        self.pconds: dict = {}  # pending filters -> uids of the conditions among them
        self.enc_longs: Optional[List[str]] = None  # labels JSON-escaped, no quotes
        self.enc_names: Optional[List[str]] = None
        self.sortable = True  # fragments sort like keys (no odd characters in any key)
        self.matching: dict = {}  # regex pattern -> (keys it matches, keys checked)
        self.frags: Dict[str, Dict[str, str]] = {}
        self.own_names: dict = {}  # node uid -> its escaped (name, shortname or None) parts
        self.flat_ref: Optional[Base] = None  # the last flat_line's encoding
        self.dep_frags: dict = {}  # id(dep list) -> (the list, its "dep" fragment)
        self.chain_frags: dict = {}  # id(steps) -> (the steps, _chain_frags()): flat_line
        self.state_bases: dict = {}  # id(state) -> (state, _state_base()): flat_line

    # -- steps of one node, given the leaf's unpacked conditions ----------

    def _block(self, node: Node, unpacked: set) -> tuple:
        conds = self.conds.get(node.uid)
        if conds is None:
            conds = self.conds[node.uid] = node_conds(node)
        key = (node.uid, tuple([c for c in conds if c in unpacked])) if conds else node.uid
        steps = self.blocks.get(key)
        if steps is None:
            steps = self.blocks[key] = compile_steps(node.content, unpacked)
            if not conds and not steps:
                self.inert.add(node.uid)
        return key, steps

    def _pc(self, f: Frame) -> tuple:
        """The emitter's data on a frame: (chains by key, pending conditions, by anchor)."""
        cache = f.data
        if cache is None:
            keep = f.keep
            pc = self.pconds.get(keep)
            if pc is None:
                pc = pending_conds(keep)
                if len(self.pconds) < 4096:
                    self.pconds[keep] = pc
            cache = f.data = ({}, pc, {})
        return cache

    def _chain(self, frames: List[Frame], low: int, high: int, unpacked: set) -> list:
        """Steps of frames low, low-1, ..., high in application order.

        Cached on each frame (a leaf's ancestors are shared with its
        siblings), keyed by the pending conditions declared in these frames
        (not above ``high``: those belong to other steps) that the leaf
        unpacked below.
        """
        inert = self.inert
        excl = self._pc(frames[high - 1])[1] if high else _NO_CONDS
        todo = []
        rest = _NO_STEPS
        i = low
        while i >= high:
            f = frames[i]
            i -= 1
            if f.node.uid in inert:  # no steps, whatever is unpacked: skip it
                continue
            chains, pc, rels = f.data or self._pc(f)
            if pc:
                rel = rels.get(high)
                if rel is None:
                    rel = rels[high] = pc - excl
                key = (high, rel & unpacked) if rel else high
            else:
                key = high
            got = chains.get(key)
            if got is not None:
                rest = got
                break
            todo.append((f.node, chains, key))
        conds = self.conds
        blocks = self.blocks
        for node, chains, key in todo[::-1]:  # (reversed(): mypyc crash on Any items)
            if conds.get(node.uid, True):
                own = self._block(node, unpacked)[1]
            else:  # (a node seen with no conditions: compiled under its uid)
                own = blocks[node.uid]
            rest = chains[key] = concat(own, rest) if own else rest
        return rest

    def _top(self, frames: List[Frame], anchor: int, unpacked: set) -> Comp:
        """The anchor's merged steps (up to the root), as a Comp (cached on the frame)."""
        steps = self._chain(frames, anchor, 0, unpacked)
        tops = self.tops
        comp = tops.get(id(steps))
        if comp is None or comp.source is not steps:
            merged: list = []
            run: Optional[dict] = None
            for step in steps:
                if type(step) is dict:
                    if run is None:
                        run = step.copy()
                        merged.append(run)
                    else:
                        run.update(step)
                else:
                    run = None
                    merged.append(step)
            comp = Comp(merged)
            comp.source = steps
            if len(tops) >= _MAX_BASES:
                tops.clear()
            tops[id(steps)] = comp
        return comp

    def _state(self, frames: List[Frame], leaf: int, k: int, unpacked: set) -> tuple:
        """(key, memoized state) of the ``k`` deepest blocks of a leaf."""
        keys = []
        conds = self.conds
        for i in range(leaf, leaf - k, -1):
            node = frames[i].node
            if conds.get(node.uid, True):  # (a node seen with no conditions: its uid)
                keys.append(self._block(node, unpacked)[0])
            else:
                keys.append(node.uid)
        skey = tuple(keys)
        d = self.states.get(skey)
        if d is None:
            d = {}
            blocks = self.blocks  # (compiled by _block, never dropped)
            for key in keys:
                for step in blocks[key]:
                    if type(step) is dict:
                        d.update(step)
                    else:
                        apply_op(step, d, False)
            if len(self.states) >= _MAX_STATES:
                self.states.clear()
            self.states[skey] = d
        return skey, d

    def _base(self, skey: tuple, state: dict, comp: Comp) -> Base:
        bkey = (skey, comp.serial)
        base = self.bases.get(bkey)
        if base is None:
            e = state.copy()
            e.update(comp.compute_fixed())
            for k in ("name", "shortname", "dep"):
                e[k] = None
            keys = sorted(e)
            base = Base(keys, [self._frag(k, e[k]) for k in keys])
            if len(self.bases) >= _MAX_BASES:
                self.bases.clear()
            self.bases[bkey] = base
        return base

    def _frag(self, key: str, value: object) -> str:
        if value is None:
            return ""
        per_key = self.frags.get(key)
        if per_key is None:
            per_key = self.frags[key] = {}
            if not key or min(key) <= '"' or "\\" in key:
                # '"key":...' fragments sort like the keys only if no key has a
                # character below '"' or one JSON escapes
                self.sortable = False
        if type(value) is str:
            frag = per_key.get(value)
            if frag is None:
                frag = "%s:%s" % (encode_basestring(key), encode_basestring(value))
                if len(per_key) < _PER_KEY:
                    per_key[value] = frag
            return frag
        from json import dumps  # (not at import: get_dicts() alone never loads json)

        return "%s:%s" % (encode_basestring(key), dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":")))

    # -- one leaf ---------------------------------------------------------

    def _names(self, frames: List[Frame], i: int) -> tuple:
        """(name, shortname) of frame i, JSON-escaped without the quotes, built on
        its parent's (cached per frame: escaping is per character)."""
        j = i
        while j >= 0 and frames[j].names is None:
            j -= 1
        found = frames[j].names if j >= 0 else None
        name: str = found[0] if found is not None else ""
        short: str = found[1] if found is not None else ""
        if self.enc_longs is None:
            self.enc_longs = [encode_basestring(x)[1:-1] for x in self.longs]
            self.enc_names = [encode_basestring(x)[1:-1] for x in self.names]
        own_names = self.own_names
        for f in frames[j + 1:i + 1]:
            node = f.node
            if node.name:
                own = own_names.get(node.uid)
                if own is None:
                    own = own_names[node.uid] = self._own_names(node)
                part: str = own[0]
                short_part: Optional[str] = own[1]
                name = f"{name}.{part}" if name else part  # (one new str)
                if short_part is not None:
                    short = f"{short}.{short_part}" if short else short_part
            f.names = (name, short)
        return name, short

    def _own_names(self, node: Node) -> tuple:
        """A node's own (name, shortname) parts, JSON-escaped (shortname None if
        the node does not append to it)."""
        assert self.enc_longs is not None and self.enc_names is not None  # (see _names)
        own = ".".join([self.enc_longs[x] for x in node.name])
        short = (".".join([self.enc_names[x] for x in node.name])
                 if node.append_to_shortname else None)
        return own, short

    def _on_copy(self, steps: list, state: dict) -> tuple:
        """(dict, keys set) after running ``steps`` on a copy of ``state``."""
        d = state.copy()
        touched: set = set()
        self._run(steps, d, touched, True)
        return d, touched

    def _run(self, steps: list, d: dict, touched: set, mark_sets: bool) -> None:
        """Apply ``steps`` to ``d``; the keys ops set (and plain sets, if
        ``mark_sets``) go into ``touched``."""
        for step in steps:
            if type(step) is dict:
                d.update(step)
                if mark_sets:
                    touched.update(step)
            elif step.op in _REGEX_OPS:
                self._regex_op(step, d, touched)
            else:
                if step.name not in RESERVED:
                    touched.add(step.name)
                apply_op(step, d, False)

    def _apply(self, steps: list, d: dict) -> None:
        """Run ``steps`` on ``d`` (regex ops through the emitter's per-pattern
        memo of matching keys, not a regex match per key of every dict)."""
        for step in steps:
            if type(step) is dict:
                d.update(step)
            elif step.op in _REGEX_OPS:
                self._regex_op(step, d, set())  # (the keys it touched: not needed)
            else:
                apply_op(step, d, False)

    def _regex_op(self, op: Op, d: dict, touched: set) -> None:
        """``?=``, ``?+=``, ``?<=``, ``del``: like ops.apply_op, by set operations.

        Which keys a pattern matches is remembered (per pattern, for every key
        checked so far), so finding the keys of ``d`` it changes is mostly two
        set operations instead of a regex match per key of every dict.
        """
        known = self.matching.get(op.name)
        if known is None:
            known = self.matching[op.name] = (set(), set())
        matching, checked = known
        unknown = d.keys() - checked
        if unknown:
            exp = regex_for(op)
            matching.update([k for k in unknown if k not in RESERVED and exp.match(k)])
            checked.update(unknown)
        hit = d.keys() & matching
        if not hit:
            return
        touched.update(hit)
        kind = op.op
        if kind == "del":
            for k in hit:
                del d[k]
            return
        val = substitute(op.value, d, False) if op.dollar else op.value
        if kind == "?=":
            for k in hit:
                d[k] = val
        elif kind == "?+=":
            for k in hit:
                d[k] += val
        else:
            for k in hit:
                d[k] = val + d[k]

    def _full_base(self, skey: tuple, state: dict, top: Comp) -> Base:
        """The encoded ``state`` with the anchor's steps applied (no name/shortname/dep)."""
        bkey = (skey, -top.serial)
        base = self.bases.get(bkey)
        if base is None:
            e = state.copy()
            for step in top.steps:
                if type(step) is dict:
                    e.update(step)
                else:
                    apply_op(step, e, False)
            pk = self.postfix_keys
            pf = bool(pk) and not pk.isdisjoint(e)
            for k in ("name", "shortname", "dep"):
                e[k] = None
            base = self._base_of(self.last_full.get(skey), e)
            base.postfix = pf
            base.values = e
            if len(self.bases) >= _MAX_BASES:
                self.bases.clear()
            self.bases[bkey] = base
            self.last_full[skey] = base
        return base

    def _base_of(self, ref: Optional[Base], d: dict) -> Base:
        """The encoding of ``d``: a patch of ``ref``'s where that pays, else encoded anew."""
        base = self._derive(ref, d) if ref is not None else None
        if base is None:
            keys = sorted(d)
            base = Base(keys, [self._frag(k, d[k]) for k in keys])
        return base

    def _derive(self, ref: Base, e: dict) -> Optional[Base]:
        """``e`` encoded by patching ``ref`` (an encoded dict that differs a little)."""
        old = ref.values
        changed = [k for k, v in e.items() if old.get(k, _MISSING) is not v]
        if len(changed) > 64:
            return None  # not worth it
        parts = ref.parts[:]
        pos = ref.pos
        new = []
        for k in changed:
            i = pos.get(k)
            if i is None:
                new.append(k)
            else:
                parts[i] = self._frag(k, e[k])
        # (every key of e is in old, but for the new ones: fewer keys means some are gone)
        gone = old.keys() - e.keys() if len(e) - len(new) < len(old) else _NO_KEYS
        if not new and not gone:
            return Base(ref.keys, parts, pos)
        for k in gone:
            parts[pos[k]] = None
        keys = ref.keys[:]
        for k in new:
            i = bisect(keys, k)
            keys.insert(i, k)
            parts.insert(i, self._frag(k, e[k]))
        if gone:
            keep = [i for i, p in enumerate(parts) if p is not None]
            keys = [keys[i] for i in keep]
            parts = [parts[i] for i in keep]
        return Base(keys, parts)

    def line(self, leaf: StackLeaf, encode: bool = True) -> str:
        """The leaf's canonical JSON line; ``encode=False``: "" (only what ``value`` reads
        is set up: a caller of the params alone skips the encoding, ~40% of a walk)."""
        parts = self.line_parts(leaf, encode)
        if not parts:
            return ""
        parts[0] = "{" + parts[0]  # (never empty: name, shortname and dep are there)
        parts[-1] += "}\n"
        return ",".join(parts)

    def line_parts(self, leaf: StackLeaf, encode: bool = True) -> List[str]:
        """The fragments of the leaf's line (``"key":value``, in order, no braces: the
        line is ``"{" + ",".join(parts) + "}\n"``), a new list the caller may change (the
        dry run puts its fields in front and joins once); ``encode=False``: [] (as ``line``)."""
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
            skey, state = (), {}
        # The leaf's own steps, written into a small overlay of the state (reads
        # fall through to it).  A regex op (?=, del...) looks at every key of the
        # dict: then the steps run on a whole copy instead.
        chain = self._chain(frames, last - k, anchor + 1, unpacked) if below > k else _NO_STEPS
        over = _Overlay()
        over.base = state
        d = None
        for step in chain:
            if type(step) is dict:
                over.update(step)
                continue
            kind = step.op
            key = step.name
            if kind in _REGEX_OPS:
                d, touched = self._on_copy(chain, state)
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
        if d is None:
            d = over
            touched = set(over)
        top = self._top(frames, anchor, unpacked)
        # Fast case: the anchor's ops read nothing the leaf's own steps changed,
        # so "state + anchor steps" is the same for all leaves: encoded once.
        base = None
        fast = False
        if not top.has_ops or (touched.isdisjoint(top.compute_reads())
                               and not (top.exps and top.any_match(touched))):
            base = self._full_base(skey, state, top)
            pk = self.postfix_keys
            if base.postfix or (pk and not pk.isdisjoint(touched)):
                base = None
            else:
                touched.difference_update(top.keys)
                fixed = _EMPTY
                fast = True
        if base is None:  # the general case: apply the anchor's steps to this leaf
            if d is over:
                d = state.copy()
                d.update(over)
            self._run(top.steps, d, touched, False)
            base = self._base(skey, state, top)
            fixed = top.compute_fixed()
            if self.postfix_keys:
                tmp = postfix_parse(d, None, self.postfix_keys)
                if tmp:
                    touched.update(tmp)
                    fixed = _EMPTY  # post-processing may change fixed keys too
        # what value() needs to answer for this leaf (no copies: plain references)
        self._leaf = (d, touched, base.values if fast else None, leaf)
        if not encode:
            return []
        parts = base.parts[:]
        pos = base.pos
        _name_parts(parts, pos, frames[last].names or self._names(frames, last),
                    self._dep_frag(leaf.dep))
        newf = None  # fragments of keys the base lacks (newk: their keys)
        gone = False
        frags = self.frags
        for key in touched:
            if fixed and key in fixed:
                continue
            value = d.get(key, _MISSING)
            if value is _MISSING:
                if key in pos:
                    parts[pos[key]] = ""
                    gone = True
                continue
            per_key = frags.get(key)
            f = per_key.get(value) if per_key is not None else None
            if f is None:
                f = self._frag(key, value)
            i = pos.get(key)
            if i is None:
                if newf is None:
                    newf = []
                    newk = []
                newf.append(f)
                newk.append(key)
            else:
                parts[i] = f
        if newf:
            if self.sortable:
                # fragments sort like their keys here (see _frag): append and sort
                # (timsort merges the sorted base and the few new ones in C)
                parts += newf
                parts.sort()
                if gone:
                    parts = parts[parts.count(""):]
                    gone = False
            else:
                # merge the new keys in (sorted, each after the base keys below it)
                bkeys = base.keys
                out: list = []
                prev = 0
                for key, f in sorted(zip(newk, newf)):
                    i = bisect(bkeys, key, prev)
                    if i != prev:
                        out += parts[prev:i]
                        prev = i
                    out.append(f)
                out += parts[prev:]
                parts = out
        if gone:
            parts = [p for p in parts if p]
        return parts


    def flat_line(self, leaf: StackLeaf) -> str:
        """line() for a leaf with no anchor worth sharing above it (a test list
        alone): its dict built as ``dicts.DictEmitter.build_flat`` does (the
        memoized state of its deepest blocks, then its other frames' steps).

        Encoded from the state's encoding (memoized with it) and the steps'
        (memoized with them): the fragments of the keys the steps set by plain
        assignment are fixed, those of the keys their ops and ``_min``/``_max``
        set are encoded per leaf, and one sort merges the two runs.  Without
        ops or ``_min``/``_max`` keys the dict is not even built.  A regex op,
        or keys whose fragments do not sort like them, take the long way: a
        patch of the previous flat leaf's encoding (``_derive``)."""
        frames: List[Frame] = leaf.frames
        unpacked = leaf.unpacked
        last = len(frames) - 1
        k = FLAT_DEPTH_JSON if last >= FLAT_DEPTH_JSON else last + 1
        state = self._state(frames, last, k, unpacked)[1]
        chain = self._chain(frames, last - k, 0, unpacked) if last >= k else _NO_STEPS
        cf = self._chain_frags(chain)
        parts: Optional[list] = None
        if cf is not None and self.sortable:
            base, spost = self._state_base(state)
            plain: List[Tuple[str, str]] = cf[0]
            op_keys: Tuple[str, ...] = cf[1]
            cpost: bool = cf[2]
            parts = base.parts[:]
            pos: Dict[str, int] = base.pos
            extra: List[str] = []
            for key, frag in plain:
                i = pos.get(key)
                if i is None:
                    extra.append(frag)
                else:
                    parts[i] = frag
            if op_keys or spost or cpost:  # (the values need the dict)
                d = state.copy()
                self._apply(chain, d)
                fixed = (postfix_parse(d, None, self.postfix_keys) if spost or cpost
                         else _EMPTY)
                for key in op_keys:
                    frag = self._frag(key, d[key])
                    i = pos.get(key)
                    if i is None:
                        extra.append(frag)
                    else:
                        parts[i] = frag
                for key in fixed:
                    frag = self._frag(key, d[key])
                    i = pos.get(key)
                    if i is None:
                        j = _find_key(extra, key)
                        if j < 0:
                            extra.append(frag)
                        else:
                            extra[j] = frag
                    else:
                        parts[i] = frag
            names = frames[last].names or self._names(frames, last)
            _name_parts(parts, pos, names, self._dep_frag(leaf.dep))
            if extra:
                if not self.sortable:  # (a key just seen sorts unlike its fragment)
                    parts = None
                else:
                    parts += extra
                    parts.sort()  # (two sorted runs: one merge)
        if parts is None:
            d = state.copy()
            if chain:
                self._apply(chain, d)
            if self.postfix_keys:
                postfix_parse(d, None, self.postfix_keys)
            d["name"] = d["shortname"] = d["dep"] = None  # (their fragments: set below)
            # encoded by patching the previous flat leaf's (siblings differ little)
            ref = self._base_of(self.flat_ref, d)
            ref.values = d
            self.flat_ref = ref
            parts = ref.parts[:]
            _name_parts(parts, ref.pos, frames[last].names or self._names(frames, last),
                        self._dep_frag(leaf.dep))
        parts[0] = "{" + parts[0]  # (never empty: name, shortname and dep are there)
        parts[-1] += "}\n"
        return ",".join(parts)

    def _dep_frag(self, dep: List[str]) -> str:
        """The ``"dep":[...]`` fragment of a dep list (a walk frame's, shared by the
        leaves below it: memoized by identity, the list kept alive with it)."""
        if not dep:
            return '"dep":[]'
        got = self.dep_frags.get(id(dep))
        if got is not None and got[0] is dep:
            return got[1]
        frag = '"dep":[%s]' % ",".join([encode_basestring(x) for x in dep])
        if len(self.dep_frags) >= _MAX_BASES:
            self.dep_frags.clear()
        self.dep_frags[id(dep)] = (dep, frag)
        return frag

    def _chain_frags(self, chain: list) -> Optional[tuple]:
        """What flat_line needs of a chain of steps (memoized by identity):
        (sorted (key, fragment) pairs of the keys only plain assignments set,
        the keys ops set, whether any is a ``_min``/``_max``/``_fixed`` key);
        None if it has a regex op (its keys depend on the dict)."""
        if not chain:
            return _NO_CHAIN
        got = self.chain_frags.get(id(chain))
        if got is not None and got[0] is chain:
            return got[1]
        plain: dict = {}
        op_keys: dict = {}
        out: Optional[tuple] = None
        for step in chain:
            if type(step) is dict:
                plain.update(step)
            elif step.op in _REGEX_OPS:
                break
            elif step.name not in RESERVED:
                op_keys[step.name] = True
        else:
            frags = [(k, self._frag(k, v)) for k, v in sorted(plain.items())
                     if k not in op_keys]
            pk = self.postfix_keys
            post = bool(pk) and not (pk.isdisjoint(plain) and pk.isdisjoint(op_keys))
            out = (frags, tuple(op_keys), post)
        if len(self.chain_frags) >= 4096:
            self.chain_frags.clear()
        self.chain_frags[id(chain)] = (chain, out)
        return out

    def _state_base(self, state: dict) -> Tuple[Base, bool]:
        """(the encoding of a memoized state plus name/shortname/dep placeholders,
        whether it has ``_min``/``_max``/``_fixed`` keys)."""
        got = self.state_bases.get(id(state))
        if got is not None and got[0] is state:
            return got[1]
        e = state.copy()
        e["name"] = e["shortname"] = e["dep"] = None
        keys = sorted(e)
        out = (Base(keys, [self._frag(k, e[k]) for k in keys]),
               bool(self.postfix_keys) and not self.postfix_keys.isdisjoint(state))
        if len(self.state_bases) >= _MAX_STATES:
            self.state_bases.clear()
        self.state_bases[id(state)] = (state, out)
        return out

    def value(self, key: str, default: object = None) -> object:
        """The final value of ``key`` in the leaf last encoded by ``line`` (not name/shortname/dep).

        For callers that need a few params of every leaf (the planner) without
        building whole dicts: in the shared-base case a key the leaf did not
        touch comes from the encoded base, otherwise from the leaf's own dict.
        """
        d, touched, base_values, _ = self._leaf
        if base_values is None or key in touched:
            return d.get(key, default)
        value = base_values.get(key, _MISSING)
        return default if value is _MISSING or value is None else value

    def keys(self) -> set:
        """Every key of the leaf last encoded (slow path: for a first look at a dict)."""
        d, touched, base_values, _ = self._leaf
        if base_values is None:
            return set(d) - RESERVED
        out = {k for k, v in base_values.items() if v is not None}
        out.update(k for k in touched if k in d)
        out.difference_update(k for k in touched if k not in d)
        return out - RESERVED


def json_lines(tree: TreeBuilder, defaults: bool, expand_defaults: List[str],
               anchor_min: int = ANCHOR_MIN, walker: Optional[StackWalker] = None,
               anchor_fanout: int = ANCHOR_FANOUT) -> Iterator[str]:
    """Canonical JSON lines of ``tree`` (a parser.TreeBuilder), in get_dicts() order.

    ``anchor_min``, ``anchor_fanout`` (tests vary them) and ``walker`` (tests
    inspect it) are for tests.
    """
    if walker is None:
        walker = StackWalker(tree.node, tree.table.longs, defaults, expand_defaults,
                             anchor_min, anchor_fanout=anchor_fanout)
    leaves = walker.leaves()
    emitter = JsonEmitter(tree.node, tree.table.names, tree.table.longs,
                          set(tree.postfix_keys))
    for leaf in leaves:
        # (as in dicts.dicts: an anchor right below the root shares nothing; the
        # methods called on the emitter, not bound to locals: mypyc calls them natively)
        yield emitter.line(leaf) if leaf.frames[-1].anchor > 1 else emitter.flat_line(leaf)


__all__ = ["JsonEmitter", "json_lines", "supports", "Comp", "ANCHOR_MIN"]
