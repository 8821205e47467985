"""A read-only view of each leaf's params next to its JSON line (the dry run).

The planner reads ~15 params of every test and prints the rest: building
146,928 whole dicts for that would cost more than the expansion itself.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterator, List, Optional

from .emit import _MISSING, ANCHOR_MIN, JsonEmitter
from .walk import StackLeaf, StackWalker

if TYPE_CHECKING:
    from ..parser import TreeBuilder


def json_lines_with_params(tree: TreeBuilder, defaults: bool, expand_defaults: List[str]
                           ) -> Iterator[tuple]:
    """(canonical JSON line, LeafParams) per leaf; the view is valid until the next one."""
    walker = StackWalker(tree.node, tree.table.longs, defaults, expand_defaults, ANCHOR_MIN)
    emitter = JsonEmitter(tree.node, tree.table.names, tree.table.longs, set(tree.postfix_keys))
    line = emitter.line
    for leaf in walker.leaves():
        text = line(leaf)
        yield text, LeafParams(emitter, leaf)


_NAME_KEYS = frozenset(("name", "shortname", "dep"))


class LeafParams:
    """A read-only, dict-like view of the leaf an emitter just encoded."""

    __slots__ = ("_emitter", "_leaf", "_names")

    def __init__(self, emitter: JsonEmitter, leaf: StackLeaf) -> None:
        self._emitter = emitter
        self._leaf = leaf
        self._names: Optional[tuple] = None

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
