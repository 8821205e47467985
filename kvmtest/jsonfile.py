"""Reading JSON files kvmtest wrote earlier (plan.json, results.json) with one clear error.

``--resume`` trusts these files; a truncated, hand-edited or foreign file must
stop the run with one line naming the file and what is wrong in it, never a
traceback and never a silently empty plan. This module imports nothing from
kvmtest, so any stage may use it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple, Type, Union

_MISSING = object()
Types = Union[Type[Any], Tuple[Type[Any], ...]]

_KIND = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
         bool: "true/false", type(None): "null"}


class BadFileError(ValueError):
    """A file kvmtest reads back is not valid JSON or not the shape it should have."""

    def __init__(self, path: Union[str, Path], what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = str(path)
        self.what = what


def kind(value: Any) -> str:
    """'an object', 'a list', 'null'...: how a JSON value is named in messages."""
    return _KIND.get(type(value), type(value).__name__)


def load_json(path: Union[str, Path]) -> Any:
    """The decoded document; BadFileError when the file is not UTF-8 JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except UnicodeDecodeError as exc:
        raise BadFileError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadFileError(path, f"not valid JSON: {exc}") from None


class Checker:
    """Type checks on a decoded document; every failure names the file and the JSON path."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = path

    def fail(self, what: str) -> BadFileError:
        return BadFileError(self.path, what)

    def expect(self, value: Any, types: Types, where: str) -> Any:
        if isinstance(value, bool) and bool not in _as_tuple(types):
            ok = False  # JSON true is not a number here
        else:
            ok = isinstance(value, types)
        if not ok:
            names = " or ".join(_KIND.get(t, t.__name__) for t in _as_tuple(types))
            raise self.fail(f"{where} is {kind(value)}, expected {names}")
        return value

    def get(self, obj: Dict[str, Any], key: str, types: Types, where: str,
            default: Any = _MISSING) -> Any:
        """``obj[key]`` checked against ``types``; missing is an error unless a default is given."""
        if key not in obj:
            if default is _MISSING:
                raise self.fail(f"{where} has no {key!r}")
            return default
        return self.expect(obj[key], types, f"{where}.{key}" if where else key)


def _as_tuple(types: Types) -> Tuple[Type[Any], ...]:
    return types if isinstance(types, tuple) else (types,)
