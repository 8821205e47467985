"""A read-only view of each leaf's params next to its JSON line (the dry run).

The planner reads ~15 params of every test and prints the rest: building
146,928 whole dicts for that would cost more than the expansion itself.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from .emit import _MISSING, ANCHOR_MIN, JsonEmitter
from .walk import StackLeaf, StackWalker

if TYPE_CHECKING:
    from ..parser import TreeBuilder


def json_lines_with_params(tree: TreeBuilder, defaults: bool, expand_defaults: List[str],
                           lines: bool = True, parts: bool = False) -> Iterator[tuple]:
    """(canonical JSON line, LeafParams) per leaf; the view is valid until the next one.
    ``lines=False``: each line is "" (not encoded); ``parts``: each line as the list of
    its fragments (``JsonEmitter.line_parts``: a caller adding fields joins once)."""
    walker = StackWalker(tree.node, tree.table.longs, defaults, expand_defaults, ANCHOR_MIN)
    emitter = JsonEmitter(tree.node, tree.table.names, tree.table.longs, set(tree.postfix_keys))
    line = emitter.line_parts if parts and lines else emitter.line
    shared = _Shared()
    for leaf in walker.leaves():
        text = line(leaf, lines)
        yield text, LeafParams(emitter, leaf, shared)


_NAME_KEYS = frozenset(("name", "shortname", "dep"))


class _KeysState:
    """What ``values_of`` keeps between the leaves of one walk, for one keys tuple."""

    __slots__ = ("keys", "index", "keyset", "plain", "bases")

    def __init__(self, keys: Tuple[str, ...]) -> None:
        self.keys = keys  # (kept: the id it is found by stays its own)
        self.index = {k: i for i, k in enumerate(keys)}
        self.keyset = frozenset(keys)
        self.plain = _NAME_KEYS.isdisjoint(keys)  # (name keys come from the frames)
        self.bases: Dict[int, tuple] = {}  # id(base values) -> (them, their keys' values)


class _Shared(Dict[int, _KeysState]):
    """id(keys tuple) -> its _KeysState, for the few tuples callers ask about."""

    def state(self, keys: Tuple[str, ...]) -> _KeysState:
        if len(self) >= 16:
            self.clear()
        got = self[id(keys)] = _KeysState(keys)
        return got


class LeafParams:
    """A read-only, dict-like view of the leaf an emitter just encoded."""

    __slots__ = ("_emitter", "_leaf", "_names", "_shared")

    def __init__(self, emitter: JsonEmitter, leaf: StackLeaf, shared: Optional[_Shared] = None) -> None:
        self._emitter = emitter
        self._leaf = leaf
        self._names: Optional[tuple] = None
        self._shared = shared if shared is not None else _Shared()

    def _name_pair(self) -> tuple:
        if self._names is None:
            frames = self._leaf.frames
            name, short = frames[-1].names or self._emitter._names(frames, len(frames) - 1)
            if "\\" in name or "\\" in short:
                name, short = json.loads(f'"{name}"'), json.loads(f'"{short}"')
            self._names = (name, short)
        return self._names

    def get(self, key: str, default: object = None) -> object:
        if key in _NAME_KEYS:
            if key == "dep":
                return list(self._leaf.dep)
            return self._name_pair()[key == "shortname"]
        # JsonEmitter.value, inlined: the planner asks ~15 keys of every leaf
        d, touched, base_values, _ = self._emitter._leaf
        if base_values is None or key in touched:
            return d.get(key, default)
        value = base_values.get(key, _MISSING)
        return default if value is _MISSING or value is None else value

    def plan_fields(self, keys: Tuple[str, ...]) -> tuple:
        """(name, shortname, dep, ``values_of(keys)``): what the planner reads of every
        test (kvmtest.plan.build.Planner.add), in one call instead of five."""
        name, short = self._name_pair()
        return name, short, list(self._leaf.dep), self.values_of(keys)

    def values_of(self, keys: Tuple[str, ...]) -> tuple:
        """``tuple(self.get(k) for k in keys)``, cheaply: a leaf under a shared base
        takes the base's tuple (made once per base) and patches the keys it set itself
        (~20 per leaf, rarely one of ``keys``).

        The planner asks for the ~60 keys it reads of any test at once, as the key of
        its memo (kvmtest.plan.memo): one call per test where ~25 ``get`` calls cost
        more than the rest of planning it.
        """
        d, touched, base_values, _ = self._emitter._leaf
        shared = self._shared.get(id(keys))
        if shared is None:
            shared = self._shared.state(keys)
        if not shared.plain:
            return tuple([self.get(k) for k in keys])
        if base_values is None:
            return tuple(map(d.get, keys))
        # (an emitter never changes a base's values once a leaf used them)
        bases = shared.bases
        entry = bases.get(id(base_values))
        if entry is None or entry[0] is not base_values:
            if len(bases) >= 64:
                bases.clear()
            entry = bases[id(base_values)] = (base_values, tuple(map(base_values.get, keys)))
        own = touched.intersection(shared.keyset)
        if not own:
            return entry[1]
        values = list(entry[1])
        index = shared.index
        get = d.get
        for k in own:
            values[index[k]] = get(k)
        return tuple(values)

    def __getitem__(self, key: str) -> object:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._emitter.keys() | {"name", "shortname", "dep"}))

    def keys(self) -> list:
        return list(self)

    def items(self) -> list:
        return [(k, self.get(k)) for k in self]


__all__ = ["LeafParams", "json_lines_with_params"]
