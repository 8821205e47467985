# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""The public Parser facade (same calls as avocado-vt's ``cartesian_config.Parser``)."""

from __future__ import annotations

import _thread
import atexit
import gc

from .encode import LineEncoder
from .fast.build import FastBuilder
from .fast.dicts import dicts
from .fast.emit import ANCHOR_MIN, json_lines, supports
from .fast.gcfreeze import frozen
from .fast.walk import StackWalker
from .parser import TreeBuilder
from .reference.build import ExactBuilder, finish
from .reference.walk import Leaf, Walker
from .tree import Node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterator, List, Optional

    from .records import Assignment, Candidate, Statement  # noqa: F401


class _NoCyclicGC:
    """The cyclic garbage collector off while parsing: the tree is hundreds of
    thousands of objects that all stay alive, and each full collection would
    rescan the part built so far (a third of medium.cfg's parse time).
    Parsing makes no cyclic garbage.  The previous state is restored, and the
    tree is then frozen out of the collector's way (see _hold_freeze).
    (A class, not contextlib: ``import kvmtest.config`` loads neither contextlib
    nor typing: ~2% of a library run on subtests.cfg, measured in instructions.)"""

    __slots__ = ("parser", "was")

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.was = False

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            _hold_freeze(self.parser)
            gc.enable()


_HOLDERS = [0]  # live Parsers holding the freeze (see _hold_freeze)
_EXITING = [False]  # set at interpreter exit: a Parser freed then keeps the freeze
_HOLD_LOCK = _thread.RLock()  # (parsers in several threads; reentrant: a finalizer may run inside)


def _hold_freeze(parser: Parser) -> None:
    """Freeze the objects alive after a parse (the tree: ~10^5 objects) out of
    the cyclic GC's scans (``gc.freeze()``) while ``parser`` lives.  Else the
    first collections after the parse walk the whole young tree, each full one
    during get_dicts() rescans it, and so does the one at interpreter exit
    (together a fifth to a quarter of a library run on tp-qemu's subtests.cfg).
    When the last such Parser is gone, ``gc.unfreeze()`` puts every frozen
    object back.  Left alone if someone else froze objects first."""
    with _HOLD_LOCK:
        if parser._holds_freeze:
            gc.freeze()  # what this parse added joins the frozen tree
            return
        if _HOLDERS[0] == 0 and gc.get_freeze_count():
            return  # not ours: the caller manages the freeze
        # a frozen cycle that holds the tree: when the Parser is freed at
        # interpreter exit, the tree stays behind for the OS to reclaim, not
        # torn down object by object (~2% of a library run on subtests.cfg;
        # the CLI gets the same from os._exit); Parser.__del__ breaks the cycle
        # when the Parser goes before that
        keeper: list = [parser._tree]
        keeper.append(keeper)
        parser._keeper = keeper
        gc.freeze()
        _HOLDERS[0] += 1
        parser._holds_freeze = True
    # (released by Parser.__del__; not at exit: the collection at interpreter
    # exit would rescan the tree)


@atexit.register
def _at_exit() -> None:
    _EXITING[0] = True


def _release_freeze() -> None:
    if _EXITING[0]:
        return
    with _HOLD_LOCK:
        _HOLDERS[0] -= 1
        if _HOLDERS[0] == 0:
            gc.unfreeze()


# How get_dicts(), json_lines() and json_lines_with_params() expand a tree
# (``expansion``).  Every way gives the same dicts and lines:
# tests/config/test_emit.py compares FAST and STACK with REFERENCE.
FAST = "fast"  # fast.walk.StackWalker + fast.dicts / fast.emit (shared work between leaves)
STACK = "stack"  # fast.walk.StackWalker + a builder per leaf (fast.build.FastBuilder, or
# reference.build.ExactBuilder where values read the leaf's own name): suffix, ${name}
REFERENCE = "reference"  # reference.walk.Walker + builder per leaf: join (also explain())


def expansion(tree: TreeBuilder) -> str:
    """FAST, STACK or REFERENCE: the first of them that handles what ``tree`` uses."""
    if tree.has_join:
        return REFERENCE  # (only the recursive walker merges joined leaves)
    return FAST if supports(tree) else STACK


class Parser:
    """Parse config texts, then expand them to dicts with get_dicts()."""

    def __init__(self, filename: Optional[str] = None, defaults: bool = False,
                 expand_defaults: Optional[List[str]] = None, debug: bool = False) -> None:
        self.defaults = defaults
        self.expand_defaults = [str(x) for x in (expand_defaults or [])]
        self._tree = TreeBuilder(defaults, self.expand_defaults)
        self.filename = filename
        self.only_filters: List[str] = []
        self.no_filters: List[str] = []
        self.assignments: List[str] = []
        self._first_get = True
        self._holds_freeze = False  # see _hold_freeze
        self._keeper: Optional[list] = None  # (the same)
        if filename:
            self.parse_file(filename)

    def __del__(self) -> None:
        if self.__dict__.get("_holds_freeze"):  # (not if __init__ failed before it)
            self._holds_freeze = False
            keeper = self._keeper
            if keeper is not None and not _EXITING[0]:
                keeper.clear()  # (see _hold_freeze)
            _release_freeze()

    def __copy__(self) -> Parser:
        """A copy shares the tree but not the freeze: only this Parser releases it."""
        new = object.__new__(Parser)
        new.__dict__.update(self.__dict__)
        new._holds_freeze = False
        new._keeper = None
        return new

    @property
    def node(self) -> Node:
        return self._tree.node

    def parse_file(self, filename: str) -> None:
        """Parse a file (includes are relative to it); may be called repeatedly."""
        with _NoCyclicGC(self):
            self._tree.parse_file(filename)
        self.filename = filename

    def parse_string(self, s: str) -> None:
        """Parse config text (includes are relative to the working directory)."""
        with _NoCyclicGC(self):
            self._tree.parse_text(s, None)

    def only_filter(self, variant: str) -> None:
        string = "only %s" % variant
        self.only_filters.append(string)
        self.parse_string(string)

    def no_filter(self, variant: str) -> None:
        string = "no %s" % variant
        self.no_filters.append(string)
        self.parse_string(string)

    def assign(self, key: str, value: str) -> None:
        string = "%s = %s" % (key, value)
        self.assignments.append(string)
        self.parse_string(string)

    def outer_variants(self) -> List[str]:
        """Names of the variants of the last top-level ``variants:`` block, in file order.

        Every test name starts with one of them: ``kvm_hosts.cfg`` puts its test sets
        (``- @nightly:``) there, which is how ``--set`` names are checked.
        """
        names = self._tree.table.names
        return [".".join(names[i] for i in child.name) for child in self.node.children
                if child.name]

    # ------------------------------------------------------------ expansion

    def _walker(self, kind: str, ignore_filters: bool = False) -> Walker:
        """The walker of expansion ``kind`` (see ``expansion``); ``ignore_filters``
        (``explain``) needs the reference walker."""
        t = self._tree
        if kind == REFERENCE or ignore_filters:
            return Walker(t.node, t.table.longs, self.defaults, self.expand_defaults,
                          ignore_filters=ignore_filters)
        return StackWalker(t.node, t.table.longs, self.defaults, self.expand_defaults,
                           ANCHOR_MIN)

    def get_dicts(self, maps: bool = True) -> Iterator[dict]:
        """Yield the dicts, in avocado-vt's order (a generator: memory stays flat).

        ``maps=False`` leaves out the two ``_*_map_file`` keys (saves time).
        Like avocado-vt, only the first call on a Parser flattens suffixed keys.
        The parsed tree stays out of the cyclic GC's scans (see _hold_freeze
        and fast.gcfreeze).
        """
        t = self._tree
        if expansion(t) == FAST:  # (compiled all the way to the caller: see gcfreeze)
            self._first_get = False  # (no suffixes: nothing to flatten, as json_lines)
            return frozen(dicts(t, self.defaults, self.expand_defaults, maps))
        return frozen(self._dicts(maps))

    def _dicts(self, maps: bool) -> Iterator[dict]:
        drop = self._first_get
        self._first_get = False
        t = self._tree
        names, longs = t.table.names, t.table.longs
        suffixed = t.has_suffix
        drop = drop and suffixed  # without suffixes flattening changes nothing
        kind = expansion(t)
        exact = ExactBuilder(names, longs, suffixed)
        leaves = self._walker(kind).leaves()  # prepares the tree
        fast = None
        if not t.reserved_refs:  # (see reference.build.needs_exact)
            fast = FastBuilder(names, longs, suffixed, set(t.postfix_keys))
        for leaf in leaves:
            if fast is not None and isinstance(leaf, Leaf):
                d = fast.build(leaf, maps)
            else:  # (join results, and leaves whose values read their own name)
                d = exact.build(leaf)
                if not maps:
                    d.pop("_name_map_file", None)
                    d.pop("_short_name_map_file", None)
            yield finish(d, drop)

    def assignments_of(self, key: str) -> List[Assignment]:
        """Every statement in the parsed texts that assigns ``key``, in parse order.

        Any operator counts (``=``, ``+=``, ``?=`` ...; regex operators only
        when written with this exact key), whether or not a dict ends up with
        it: e.g. to warn about a declared host or queue no test uses.
        """
        from .records import Assignment

        out = []
        for filename, linenum, op, value, line in self._tree.assignments(key):
            if line is None:
                import linecache  # (rare: the log keeps the texts it parsed)

                line = linecache.getline(filename, linenum).strip()
            out.append(Assignment(key, op, value, filename, linenum, line))
        return out

    def json_lines(self) -> Iterator[str]:
        """Canonical JSON lines of get_dicts(maps=False), byte for byte, but faster.

        ``json.dumps(d, sort_keys=True, separators=(",", ":"),
        ensure_ascii=False) + "\\n"`` per dict; see ``emit`` for how.
        """
        t = self._tree
        if expansion(t) != FAST:
            enc = LineEncoder().encode
            return (enc(d) for d in self.get_dicts(maps=False))
        self._first_get = False
        return frozen(json_lines(t, self.defaults, self.expand_defaults))

    def json_lines_with_params(self, lines: bool = True, parts: bool = False) -> Iterator[tuple]:
        """(JSON line, params) per dict: the line as ``json_lines`` gives it, and a
        read-only dict-like view of the same dict (``get``, ``in``, ``[]``) valid
        until the next pair. For callers that read a few params of every dict and
        print the rest (a dry run) without building every dict. ``lines=False``:
        each line is "" (a caller of the params alone skips the encoding).
        ``parts``: a line may come as the list of its fragments (the line is
        ``"{" + ",".join(parts) + "}\n"``; where the fast expansion runs), for a
        caller that adds fields and joins once.
        """
        t = self._tree
        if expansion(t) != FAST:
            enc = LineEncoder().encode if lines else (lambda d: "")
            return ((enc(d), d) for d in self.get_dicts(maps=False))
        self._first_get = False
        from .fast.view import json_lines_with_params  # (the dry run only)

        return frozen(json_lines_with_params(t, self.defaults, self.expand_defaults, lines, parts))

    def explain(self, pattern: str) -> Iterator[Candidate]:
        """Leaves that would exist without only/no filters, whose name matches.

        ``pattern`` is a regular expression searched in each full name.  For
        each candidate, ``removed_by`` is the first only/no statement on its
        path that removed it (also inside conditional blocks and variant
        bodies), or None if get_dicts() yields it.  Filtered-out variants are
        still expanded below the failing filter so their names are known.
        """
        import re  # (here: importing kvmtest.config does not load re, see text.py)

        from .records import Candidate, Statement

        rx = re.compile(pattern)
        t = self._tree
        longs, names = t.table.longs, t.table.names
        for leaf in self._walker(REFERENCE, ignore_filters=True).leaves():
            if not isinstance(leaf, Leaf):
                continue  # join results are merged dicts, not single leaves
            name = ".".join([longs[i] for i in leaf.ctx])
            if not rx.search(name):
                continue
            item = leaf.removed_by
            stmt = None if item is None else Statement(item.filename, item.linenum,
                                                       item.line or "")
            yield Candidate(name, ".".join([names[i] for i in leaf.shortname]), stmt is None,
                            stmt)


_RECORDS = ("Assignment", "Candidate", "Statement")


def __getattr__(name: str) -> type:
    # the records live in .records, imported on first use: the command-line
    # expansion needs none of them (and dataclasses costs ~6 ms to import)
    if name in _RECORDS:
        from . import records

        return getattr(records, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


__all__ = ["Parser", "Assignment", "Candidate", "Statement"]  # noqa: F822 (see __getattr__)
