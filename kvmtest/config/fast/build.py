# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""The memoizing leaf builder: compiled per-node steps, shared prefix states.

For trees the emitters do not support (``suffix``: ``api.Parser``); also
home of ``FrameNames`` (a frame's names and map files), which ``dicts``
uses.  Checked against ``reference.build.ExactBuilder`` by
tests/config/test_emit.py.
"""

from __future__ import annotations

from ..ops import apply_op, postfix_parse
from ..reference.walk import Leaf
from ..tree import FileMap, Node
from .steps import compile_steps, concat, node_conds
from .walk import Frame, StackLeaf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, List, Optional, Sequence, Tuple

_PREFIX_DEPTH = 3  # application-order prefixes whose states are kept
_MAX_STATES = 64
_MAX_BLOCKS = 20000
_NO_STEPS: list = []
_NO_CONDS: frozenset = frozenset()


def f_index(frames: List[Frame], f: Frame) -> int:
    for i, g in enumerate(frames):
        if g is f:
            return i
    raise ValueError("frame not on the stack")


_NO_MAPS: tuple = ({}, {})
_NO_NAMES = ("", "")


class FrameNames:
    """A walk frame's name, shortname and map-file dicts, built once per frame
    on its parent's (not per leaf: a leaf's path is ~20 frames, of which only
    the deepest few are new).  Shared by the dict builders of one walk."""

    def __init__(self, names: List[str], longs: List[str]) -> None:
        self.names = names
        self.longs = longs

    def fill(self, frames: List[Frame], i: int) -> tuple:
        """Frame i with ``names`` ((name, shortname)) and ``maps``
        ((``_name_map_file``, ``_short_name_map_file``) in avocado-vt's key
        order: the file of the deepest node first) set on it and the frames
        above it that lacked them; returns (names, maps)."""
        j = i
        while j >= 0 and frames[j].names is None:
            j -= 1
        if j >= 0:
            g = frames[j]
            names, maps = g.names, g.maps
            assert names is not None and maps is not None  # (fill sets both)
        else:
            names = _NO_NAMES
            maps = _NO_MAPS
        name: str = names[0]
        short: str = names[1]
        files: dict = maps[0]
        shorts: dict = maps[1]
        for f in frames[j + 1:i + 1]:
            node = f.node
            own = node.name_parts  # (an attribute: a dict keyed by uid cost ~200
            if own is None:  # instructions a look-up, a boxed int and a hash)
                own = node.name_parts = self._own(node)
            if own is not _NOTHING:
                part: Optional[str] = own[0]
                short_part: Optional[str] = own[1]
                entries: tuple = own[2]
                pname = name
                pshort = short
                if part is not None:
                    name = f"{pname}.{part}" if pname else part  # (one new str)
                    if short_part is not None:
                        short = f"{pshort}.{short_part}" if pshort else short_part
                    names = (name, short)
                if len(entries) == 4:  # one entry per map (the common case), inlined
                    fshort: str = entries[0]
                    sshort: str = entries[2]
                    # (a map value that is the name so far plus the same part is
                    # the name just built: shared, not concatenated again)
                    old: Optional[str] = files.get(fshort)
                    if own[3] and (old is pname if pname else old is None):
                        value = name
                    elif old is None:
                        value = entries[1]
                    else:
                        value = f"{old}.{entries[1]}"
                    if old is not None and len(files) == 1:
                        files = {fshort: value}
                    else:
                        new_files = {fshort: value}
                        if files:
                            new_files.update(files)  # (the others after it, in their order)
                            new_files[fshort] = value
                        files = new_files
                    old = shorts.get(sshort)
                    if own[4] and (old is pshort if pshort else old is None):
                        value = short
                    elif old is None:
                        value = entries[3]
                    else:
                        value = f"{old}.{entries[3]}"
                    if old is not None and len(shorts) == 1:
                        shorts = {sshort: value}
                    else:
                        new_shorts = {sshort: value}
                        if shorts:
                            new_shorts.update(shorts)
                            new_shorts[sshort] = value
                        shorts = new_shorts
                    maps = (files, shorts)
                elif entries:
                    files = _extend(files, entries[0])
                    shorts = _extend(shorts, entries[1])
                    maps = (files, shorts)
            f.names = names
            f.maps = maps
        return names, maps

    def _own(self, node: Node) -> tuple:
        """A node's own name and shortname parts (None if it adds none) and map entries."""
        ids = node.name
        entries = _own_maps(node)
        if not ids and not entries:
            return _NOTHING
        part = short = None
        if ids:
            part = ".".join([self.longs[x] for x in ids])
            if node.append_to_shortname:
                short = ".".join([self.names[x] for x in ids])
        # whether the map entries add the same parts as the name and shortname (fill)
        same_name = part is not None and len(entries) == 4 and entries[1] == part
        same_short = short is not None and len(entries) == 4 and entries[3] == short
        return part, short, entries, same_name, same_short


# (``tuple``, not inferred: mypyc keeps a fixed-length tuple unboxed and boxes a new
# object at each use, which would break ``is _NOTHING``)
_NOTHING: tuple = (None, None, (), False, False)


def _own_maps(node: Node) -> tuple:
    """A node's map-file entries: ((short, name) for ``_name_map_file``, the same
    for ``_short_name_map_file``), or () if it has none; one entry each is
    given flat, as (short, name, short, name)."""
    ops = [op for op in node.content if type(op) is FileMap]
    if not ops:
        return ()
    files = tuple([(op.short, op.name) for op in ops if op.dest == "_name_map_file"])
    shorts = tuple([(op.short, op.name) for op in ops if op.dest == "_short_name_map_file"])
    if len(files) == 1 and len(shorts) == 1:
        return files[0] + shorts[0]  # (short, name, short, name): see fill
    return files, shorts


def _extend(files: dict, own: tuple) -> dict:
    """``files`` with the node's map entries ``own`` put first (the node is
    deeper than every node ``files`` came from: avocado-vt applies it first)."""
    if len(own) == 1:  # (one file per node: the common case)
        short, name = own[0]
        old = files.get(short)
        value = name if old is None else "%s.%s" % (old, name)
        if not files:
            return {short: value}
        out = {short: value}
        out.update(files)  # (the others, in their order; short keeps its place)
        out[short] = value
        return out
    out = {}
    for short, name in own:
        old = files.get(short)
        out[short] = name if old is None else "%s.%s" % (old, name)
    if not out:
        return files  # (only read: copied into each dict)
    rest = files.copy()  # then the others, in their order (C loops: ~5 keys a call)
    for key in out:
        rest.pop(key, None)
    out.update(rest)
    return out


def finish_leaf(d: dict, frames: List[Frame], last: int, frame_names: FrameNames, maps: bool,
                postfix_keys: Optional[set]) -> dict:
    """A stack-walker leaf's dict finished: its map-file keys filled in from the frame's
    (or dropped: ``maps`` false), then ``_max``/``_min``/``_fixed`` applied."""
    if "_name_map_file" in d:
        if maps:
            pair: Tuple[dict, dict] = (frames[last].maps
                                        or frame_names.fill(frames, last)[1])
            names, shorts = pair  # (typed: see build_flat)
            d["_name_map_file"] = names.copy()
            d["_short_name_map_file"] = shorts.copy()
        else:
            del d["_name_map_file"]
            d.pop("_short_name_map_file", None)
    if postfix_keys:
        postfix_parse(d, None, postfix_keys)
    return d


class FastBuilder:
    """Builds leaf dicts from compiled per-node blocks, sharing prefix states.

    A leaf's ops are the concatenation, deepest node first, of each path
    node's content with the conditions unpacked on this path.  Each such
    block is compiled once (runs of plain sets merged into one dict update;
    the ``_*_map_file`` keys kept as placeholders at their first position)
    and the states after the first few blocks (base config, machine...) are
    kept, so a leaf costs one dict copy plus its remaining blocks.
    """

    def __init__(self, names: List[str], longs: List[str], suffixed: bool,
                 postfix_keys: Optional[set] = None,
                 frame_names: Optional[FrameNames] = None) -> None:
        self.names = names
        self.longs = longs
        self.suffixed = suffixed
        self.postfix_keys = postfix_keys
        self.blocks: dict = {}
        self.conds: dict = {}
        self.states: dict = {}
        self.file_maps: dict = {}  # node uid -> its FileMap items
        # names and map files of stack-walker leaves, per frame
        self.frame_names = frame_names or FrameNames(names, longs)

    def _conds(self, node: Node) -> tuple:
        conds = self.conds.get(node.uid)
        if conds is None:
            conds = self.conds[node.uid] = node_conds(node)
        return conds

    def state(self, path: Sequence[Node], unpacked: AbstractSet[int]) -> dict:
        """The op results of a leaf path, without name/shortname/dep."""
        blocks = self.blocks
        keys = []
        key: object
        for node in path[::-1]:
            conds = self._conds(node)
            if conds:
                key = (node.uid, tuple([c for c in conds if c in unpacked]))
            else:
                key = node.uid
            steps = blocks.get(key)
            if steps is None:
                if len(blocks) >= _MAX_BLOCKS:  # bound memory on huge matrices
                    blocks.clear()
                steps = blocks[key] = compile_steps(node.content, unpacked, maps=True)
            keys.append((key, steps))
        states = self.states
        depth = min(_PREFIX_DEPTH, len(keys))
        prefix = tuple([k for k, _ in keys[:depth]])
        d = states.get(prefix)
        if d is None:
            d = {}
            self._apply(d, keys[:depth])
            if len(states) >= _MAX_STATES:
                states.clear()
            states[prefix] = d
        d = d.copy()
        self._apply(d, keys[depth:])
        return d

    def _apply(self, d: dict, keys: Sequence[Tuple[object, list]]) -> None:
        suffixed = self.suffixed
        for _, steps in keys:
            for step in steps:
                if type(step) is dict:
                    d.update(step)
                else:
                    apply_op(step, d, suffixed)

    def _up(self, frames: List[Frame], i: int) -> Optional[list]:
        """Steps of frames i, i-1, ..., 0 (application order), cached on each
        frame and shared by the leaves below it; None if a node among them has
        conditions (then its steps depend on the leaf: see state())."""
        j = i
        while j >= 0 and frames[j].up is None:
            j -= 1
        rest = frames[j].up if j >= 0 else _NO_STEPS
        if rest is None or rest is False:  # (None: j < 0 gave _NO_STEPS)
            return None
        blocks = self.blocks
        for f in frames[j + 1:i + 1]:
            node = f.node
            if self._conds(node):
                for g in frames[f_index(frames, f):i + 1]:
                    g.up = False
                return None
            own = blocks.get(node.uid)
            if own is None:
                own = blocks[node.uid] = compile_steps(node.content, _NO_CONDS, maps=True)
            if own:
                rest = concat(own, rest)
            f.up = rest
        return rest

    def state_frames(self, leaf: StackLeaf) -> dict:
        """state() for a leaf of the stack walker (``leaf.frames``): the steps
        above its deepest blocks come cached per frame (_up)."""
        frames: List[Frame] = leaf.frames
        last = len(frames) - 1
        if last < _PREFIX_DEPTH:
            return self.state(leaf.path, leaf.unpacked)
        up = self._up(frames, last - _PREFIX_DEPTH)
        if up is None:
            return self.state(leaf.path, leaf.unpacked)
        unpacked = leaf.unpacked
        blocks = self.blocks
        keys = []
        for i in range(last, last - _PREFIX_DEPTH, -1):
            node = frames[i].node
            conds = self._conds(node)
            key = (node.uid, tuple([c for c in conds if c in unpacked])) if conds else node.uid
            steps = blocks.get(key)
            if steps is None:
                if len(blocks) >= _MAX_BLOCKS:
                    blocks.clear()
                steps = blocks[key] = compile_steps(node.content, unpacked, maps=True)
            keys.append((key, steps))
        prefix = tuple([k for k, _ in keys])
        d = self.states.get(prefix)
        if d is None:
            d = {}
            self._apply(d, keys)
            if len(self.states) >= _MAX_STATES:
                self.states.clear()
            self.states[prefix] = d
        d = d.copy()
        self._apply(d, ((None, up),))
        return d

    def build(self, leaf: Leaf, maps: bool = True) -> dict:
        if not isinstance(leaf, Leaf):
            raise TypeError("joined leaves need the exact builder")
        if isinstance(leaf, StackLeaf):
            return self._build_frames(leaf, maps)
        longs = self.longs
        names = self.names
        d: dict = {
            "name": ".".join([longs[i] for i in leaf.ctx]),
            "dep": leaf.dep,
            "shortname": ".".join([names[i] for i in leaf.shortname]),
        }
        d.update(self.state(leaf.path, leaf.unpacked))
        if "_name_map_file" in d:
            if maps:
                d["_name_map_file"] = {}
                d["_short_name_map_file"] = {}
                file_maps = self.file_maps
                for node in leaf.path[::-1]:
                    own = file_maps.get(node.uid)
                    if own is None:
                        own = file_maps[node.uid] = tuple(
                            [op for op in node.content if type(op) is FileMap])
                    for op in own:
                        files = d[op.dest]
                        old = files.get(op.short)
                        files[op.short] = op.name if old is None else "%s.%s" % (op.name, old)
            else:
                del d["_name_map_file"]
                d.pop("_short_name_map_file", None)
        if self.postfix_keys:
            postfix_parse(d, None, self.postfix_keys)
        return d

    def _build_frames(self, leaf: StackLeaf, maps: bool) -> dict:
        """build() of a stack-walker leaf: names and map files come per frame."""
        frames: List[Frame] = leaf.frames
        last = len(frames) - 1
        pair: Tuple[str, str] = (frames[last].names
                                  or self.frame_names.fill(frames, last)[0])
        name, short = pair  # (typed: unpacked without an iterator)
        d: dict = {"name": name, "dep": leaf.dep, "shortname": short}
        d.update(self.state_frames(leaf))
        return finish_leaf(d, frames, last, self.frame_names, maps, self.postfix_keys)


__all__ = ["FastBuilder", "FrameNames"]
