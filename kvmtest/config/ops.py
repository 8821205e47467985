# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Applying content ops to a dict, exactly as avocado-vt does at a leaf.

Includes ``${key}`` substitution, suffixed (tuple) keys and their flattening,
and the ``_min``/``_max``/``_fixed`` post-processing.
"""

from __future__ import annotations

from .errors import ParserError
from .text import BadPattern, key_pattern, subst_refs
from .tree import RESERVED, FileMap, Op, PreDict, SuffixOp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

    from .tree import ContentOp

_REGEX_CACHE: Dict[str, Any] = {}


def regex_for(op: Op) -> Any:
    """The key matcher of a ``?=``/``?+=``/``?<=``/``del`` op (see text.key_pattern)."""
    exp = _REGEX_CACHE.get(op.name)
    if exp is None:
        try:
            exp = key_pattern(op.name)
        except BadPattern as exc:
            raise ParserError("Bad regular expression %r: %s" % (op.name, exc), None,
                              op.filename, op.linenum) from exc
        _REGEX_CACHE[op.name] = exp
    return exp


def drop_suffixes(d: dict) -> dict:
    """Flatten suffixed keys (tuples) into plain names; returns a copy."""
    flat = d.copy()
    for key in d:
        if type(key) is not tuple:
            continue
        gen = key[0]
        if gen in d and d[gen] == d[key]:
            flat.pop(key)
            continue
        can_drop = True
        for k in d:
            kname = k[0] if type(k) is tuple else k
            if kname == gen and d[key] != d[k]:
                can_drop = False
                break
        new_key = gen if can_drop else "".join(key[:1] + key[1:][::-1])
        flat[new_key] = flat.pop(key)
    return flat


def substitute(value: str, d: dict, suffixed: bool = True) -> str:
    """Replace ``${key}`` from ``d`` until the first unknown key."""
    if "$" not in value:
        return value
    refs = _REFS.get(value)
    if refs is None:  # (each value's references found once, not per dict)
        refs = subst_refs(value)
        if len(_REFS) >= 4096:
            _REFS.clear()
        _REFS[value] = refs
    flat = drop_suffixes(d) if suffixed else d
    out = []
    start = 0
    for begin, end, key in refs:
        try:
            val = flat[key]
        except KeyError:
            break
        out.append(value[start:begin])
        out.append(str(val))
        start = end
    out.append(value[start:])
    return "".join(out)


_REFS: Dict[str, List[Tuple[int, int, str]]] = {}  # value -> its ${key} references (substitute)


def apply_op(op: ContentOp, d: dict, suffixed: bool = True) -> None:
    """Apply one content op to ``d`` in place."""
    if type(op) is not Op:
        _apply_other(op, d)
        return
    kind = op.op
    name = op.name
    if kind == "=":
        if name not in RESERVED:
            d[name] = substitute(op.value, d, suffixed) if op.dollar else op.value
    elif kind == "+=":
        if name not in RESERVED:
            val = substitute(op.value, d, suffixed) if op.dollar else op.value
            d[name] = d.get(name, "") + val
    elif kind == "<=":
        if name not in RESERVED:
            val = substitute(op.value, d, suffixed) if op.dollar else op.value
            d[name] = val + d.get(name, "")
    elif kind == "~=":
        if name not in RESERVED and name not in d:
            d[name] = substitute(op.value, d, suffixed) if op.dollar else op.value
    elif kind == "del":
        exp = regex_for(op)
        doomed = [k for k in d if k not in RESERVED
                  and exp.match("".join(k) if type(k) is tuple else k)]
        for k in doomed:
            del d[k]
    else:
        exp = regex_for(op)
        val = substitute(op.value, d, suffixed) if op.dollar else op.value
        for key in d:
            if key in RESERVED or not exp.match("".join(key) if type(key) is tuple else key):
                continue
            if kind == "?=":
                d[key] = val
            elif kind == "?+=":
                d[key] += val
            else:
                d[key] = val + d[key]


def _apply_other(op: ContentOp, d: dict) -> None:
    """apply_op for what is not an Op: a run of plain sets, a map-file entry, ``suffix``."""
    if isinstance(op, PreDict):
        d.update(op.values)
    elif isinstance(op, FileMap):
        files = d.get(op.dest)
        if files is None or op.dest not in d:
            files = d[op.dest] = {}
        old = files.get(op.short)
        files[op.short] = op.name if old is None else "%s.%s" % (op.name, old)
    elif isinstance(op, SuffixOp):
        for key in list(d):
            if key not in RESERVED:
                new_key = (key if type(key) is tuple else (key,)) + (op.value,)
                d[new_key] = d.pop(key)


_ORDERS = {"B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
_ORDER_CHARS = "BbKkMmGgTt"


def _data_size(size: str, default: str) -> int:
    order = [c for c in size[-1] if c in _ORDER_CHARS]
    if not order:
        size += default
        order = [default]
    return int(float(size[0:-1]) * _ORDERS[order[0].upper()])


def compare_string(a: str, b: str) -> int:
    """-1/0/1 comparing numbers with optional B/K/M/G/T suffixes (M default)."""
    if any(c in _ORDER_CHARS for c in a + b):
        va, vb = _data_size(a, "M"), _data_size(b, "M")
    else:
        va, vb = int(a), int(b)
    return -1 if va < vb else (0 if va == vb else 1)


def postfix_parse(d: dict, where: Optional[str] = None, keys: Optional[set] = None) -> dict:
    """Apply ``X_max``/``X_min``/``X_fixed`` keys to ``X``; returns what it set.

    ``keys``: every such name the config can assign (a superset is fine); lets
    a dict be handled without testing each of its keys' endings.
    """
    if keys is not None:
        # (a few such names, ~40 keys a dict: test the names, not a set of the keys)
        present = [k for k in keys if k in d] if len(keys) < len(d) else list(d.keys() & keys)
        if not present:
            return {}
        if len(present) > 1:
            present_set = set(present)
            order = [k for k in d if k in present_set]
        else:
            order = present
    else:
        order = [k for k in d if type(k) is not tuple]
    tmp = {}
    try:
        for key in order:
            if key.endswith("_max"):
                base = key.split("_max")[0]
                if base not in d or compare_string(d[base], d[key]) > 0:
                    tmp[base] = d[key]
            elif key.endswith("_min"):
                base = key.split("_min")[0]
                if base not in d or compare_string(d[base], d[key]) < 0:
                    tmp[base] = d[key]
            elif key.endswith("_fixed"):
                tmp[key.split("_fixed")[0]] = d[key]
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        raise ParserError("Cannot compare %r values (%s) in %s" % (key, exc, where or d.get("name"))
                          ) from exc
    d.update(tmp)
    return tmp
