"""The dry run's output: the table's rows, kept in a few bytes each until the table is
written, and the JSON lines with the plan's fields.

A table's column widths are known only after its last row, so its rows wait. As
tuples of strings they took ~190 bytes a row (the short name alone ~190 more);
here a row is two ints: the test's number in the planner, whose name store gives
the short name back, and one of the few distinct (host, queue, env, addresses)
tuples of the plan.
"""

from __future__ import annotations

import json
from array import array
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    Union,
)

from kvmtest.plan.model import Address, PlannedTest

if TYPE_CHECKING:
    from kvmtest.plan.build import Placement, Planner

Row = Tuple[str, str, str, str, str]
Line = Union[str, List[str]]  # a JSON line, or its fragments (see with_plan_fields)


class ListingRows:
    """(short name, host, queue, env, addresses) rows, iterated in the order added."""

    def __init__(self, shortname: Callable[[int], str]) -> None:
        self._shortname = shortname  # test number -> short name (Planner.shortname)
        self._test = array("I")
        self._where = array("I")
        self._ids: Dict[Tuple[str, str, str, str], int] = {}
        self._wheres: List[Tuple[str, str, str, str]] = []
        self._name_width = 0

    def add(self, test: int, shortname_len: int, where: Tuple[str, str, str, str]) -> None:
        """Row of test number ``test``; ``where`` is (host, queue, env, addresses)."""
        wid = self._ids.get(where)
        if wid is None:
            wid = self._ids[where] = len(self._wheres)
            self._wheres.append(where)
        self._test.append(test)
        self._where.append(wid)
        if shortname_len > self._name_width:
            self._name_width = shortname_len

    def __len__(self) -> int:
        return len(self._test)

    def __iter__(self) -> Iterator[Row]:
        shortname, wheres = self._shortname, self._wheres
        for t, w in zip(self._test, self._where):
            yield (shortname(t),) + wheres[w]

    def lines(self, widths: Sequence[int]) -> Iterator[str]:
        """The rows as write_table writes them (``fmt.format(*row).rstrip()``), cheaper:
        the (host, queue, env, addresses) part of a line is formatted once per distinct
        tuple and the short name padded in front (stripped itself where that part is
        blank, as rstrip() then strips into it)."""
        rest = "".join(f"  {{:<{w}}}" for w in widths[1:-1]) + "  {}"
        tails = [rest.format(*w).rstrip() + "\n" for w in self._wheres]
        shortname, width = self._shortname, widths[0]
        for t, w in zip(self._test, self._where):
            tail = tails[w]
            yield (shortname(t).ljust(width) + tail if len(tail) > 1
                   else shortname(t).rstrip() + "\n")

    def widths(self, headers: Sequence[str]) -> List[int]:
        """Each column's width: its longest cell or header."""
        used = [self._wheres[i] for i in sorted(set(self._where))]
        longest = [self._name_width] + [max((len(w[c]) for w in used), default=0)
                                        for c in range(4)]
        return [max(len(h), n) for h, n in zip(headers, longest)]


def listed(pairs: Iterable[Tuple[Line, Mapping[str, str]]], planner: Planner, every: bool,
           local: Callable[[PlannedTest], None]) -> Iterator[Tuple[Line, PlannedTest]]:
    """Plan each (JSON line, params) pair (``Parser.json_lines_with_params``); yield the
    pairs of the tests listed: every host's (``every``) or this host's. Each test of
    this host also goes to ``local`` (the run's preflight)."""
    add, here = planner.add, planner.local_host
    for line, params in pairs:
        test = add(params)
        if test.hostname == here:
            local(test)
        elif not every:
            continue
        yield line, test


def write_table(out: TextIO, rows: Union[Sequence[Tuple[str, ...]], ListingRows],
                headers: Tuple[str, ...], widths: Optional[Sequence[int]] = None) -> None:
    """format_table, written out ~64 KiB at a time (a 150,000-row table as one string
    would be tens of megabytes on top of the rows; a chunk above glibc's mmap threshold
    is a fresh mapping per write, see config.encode.CHUNK). ``rows`` is read in order
    only (a ``ListingRows`` makes its tuples as they are read); ``widths``: the columns'
    widths when known (else computed from the rows)."""
    if len(rows) <= 2000:
        out.write(format_table(list(rows), headers))
        return
    if widths is None:
        widths = [max(len(h), max(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    from kvmtest.config.encode import write_lines

    out.write(fmt.format(*headers).rstrip() + "\n" + "  ".join("-" * w for w in widths) + "\n")
    form = fmt.format
    write_lines(rows.lines(widths) if isinstance(rows, ListingRows)
                else (form(*r).rstrip() + "\n" for r in rows), out)


def format_table(rows: Sequence[Tuple[str, ...]], headers: Tuple[str, ...]) -> str:
    """A plain aligned table (tabulate's "simple" layout) that stays fast at 100,000 rows."""
    if len(rows) <= 2000:
        from kvmtest.texttable import simple_table  # (tabulate's layout, ~40 ms less to import)

        return simple_table(rows, headers) + "\n"
    widths = [max(len(h), max(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    lines = [fmt.format(*headers).rstrip(), "  ".join("-" * w for w in widths)]
    lines.extend(fmt.format(*r).rstrip() for r in rows)
    return "\n".join(lines) + "\n"


_PLAN_KEYS = ("hostname", "queue", "env")
# (id of the addresses or None, host, queue, env, the params' own values of _PLAN_KEYS),
# or id(a placement) -> (the addresses or the placement, the line's new head, (old, new)
# fragments to swap): a few per plan
_HEADS: Dict[object, tuple] = {}


def with_plan_fields(line: Line, test: PlannedTest,
                     placement: Optional[Placement] = None) -> str:
    """A canonical config JSON line with the planning fields set: addresses, and the
    resolved hostname, queue and env (replacing the params' own values when they differ).
    ``line`` may be the list of the line's fragments (``Parser.json_lines_with_params(
    parts=True)``, changed here): the fields go in front and the line is joined once,
    where a whole line would be copied to swap and to prepend.

    Safe on the encoded text: inside a JSON string every quote is escaped, so
    ``,"key":`` can only be a key boundary. What to add and swap is worked out once per
    distinct (addresses, placement, own values): the planner shares one address list
    per allocation, and the params view answers the three values in one call.
    ``placement``: the planner's for this test (``Planner.placement``, read right after
    ``add``): then once per placement object, which holds all of that.
    """
    if placement is not None:
        got = _HEADS.get(id(placement))
        if got is None or got[0] is not placement:
            if len(_HEADS) >= 4096:
                _HEADS.clear()
            got = _HEADS[id(placement)] = (placement,) + _plan_head(
                placement[4], test, placement[5])[1:]
    else:
        addresses = test.addresses
        params = test.params
        own = getattr(params, "values_of", None)  # (as kvmtest.plan.memo.values_of)
        olds = own(_PLAN_KEYS) if own is not None else tuple(map(params.get, _PLAN_KEYS))
        # (a test without addresses has a new empty list: keyed by None, never kept)
        key = (id(addresses) if addresses else None, test.hostname, test.queue, test.env, olds)
        got = _HEADS.get(key)
        if got is None or (addresses and got[0] is not addresses):
            if len(_HEADS) >= 4096:
                _HEADS.clear()
            got = _HEADS[key] = _plan_head(addresses, test, olds)
    if isinstance(line, str):
        for old, new in got[2]:
            for sep in (",", "{"):
                if sep + old in line:
                    line = line.replace(sep + old, sep + new, 1)
                    break
        return got[1] + line[1:]
    for old, new in got[2]:  # (the fragments: a swap is one of them, exactly)
        try:
            line[line.index(old)] = new
        except ValueError:
            pass
    line[0] = got[1] + line[0]
    line[-1] += "}\n"
    return ",".join(line)


def _plan_head(addresses: List[Address], test: PlannedTest, olds: tuple) -> tuple:
    """(addresses or None, '{' + the fields added + ',', fragments to swap) for with_plan_fields."""
    from json.encoder import encode_basestring

    head = ['"addresses":' + json.dumps([a.to_json() for a in addresses], separators=(",", ":"))]
    swaps = []
    for key, value, old in zip(_PLAN_KEYS, (test.hostname, test.queue, test.env), olds):
        if old == value:
            continue
        if old is not None:
            swaps.append((f'"{key}":' + encode_basestring(old), f'"{key}":' + encode_basestring(value)))
        else:
            head.append(f'"{key}":' + encode_basestring(value))
    return (addresses or None), "{" + ",".join(head) + ",", tuple(swaps)
