"""Fast lane of the parser: runs of plain ``name = value`` lines.

Most lines of a real config (45k of medium.cfg's 52k) are plain sets.  The
exact path reads each through the reader, the keyword check and avocado-vt's
``fast_assignment`` split, then ``_assign``; here a few str methods per line
do the same for the lines where the outcome is certain: the value lands in
the pending pre-dict and nothing else happens (recording for
``assignments_of`` is done per run of lines, resolved on demand with
``plain_set``).  Anything else (other operators, ``$``, a tab, keyword-like,
reserved or ``*_max``-style names, a colon near the ``=``) ends the run and
is left to the exact path, so only speed depends on this module's choices.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from .tree import RESERVED

# names whose line the exact path reads differently (keywords), that it never
# stores (reserved) or that it also notes as postfix keys
_NOT_PLAIN = frozenset(("variants", "only", "no", "include", "del", "suffix", "join")) | RESERVED
_POSTFIX = ("_max", "_min", "_fixed")
# a name without operator characters, blanks, ':' or a leading '-' (isidentifier()
# is the quick test for the common case)
_NAME = re.compile(r"[\w.][\w.-]*\Z").match


def _plain_name(key: str) -> bool:
    return ((key.isidentifier() or _NAME(key) is not None) and key not in _NOT_PLAIN
            and not key.endswith(_POSTFIX))


def plain_set(line: str) -> Optional[Tuple[str, str]]:
    """(name, value) if the fast lane takes ``line`` (a raw line) as a plain set.

    The reference for ``take_plain_sets`` (which inlines it): the parser's
    recorded runs of lines are resolved with this.
    """
    if "\t" in line:
        return None
    t = line.lstrip()
    e = t.find("=")
    if e <= 0:
        return None
    key = t[:e].rstrip()
    if not _plain_name(key):
        return None
    v = t[e + 1:].strip()
    if v:
        c = v[0]
        if c == ":" or "$" in v:
            return None
        if (c == '"' or c == "'") and v[-1] == c:
            v = v[1:-1]
    return key, v


def take_plain_sets(reader: object, prev_indent: int, pre: Dict[str, str]) -> int:
    """Store the plain sets from the reader's position on in ``pre``, skipping
    blank and comment lines; stop at any other line or one indented
    ``<= prev_indent``, and leave that line peeked (as Reader.peek would) if
    it has no tab.  The reader must have no line peeked.

    Returns the 1-based number of the last set, 0 if none.
    """
    raw = reader.raw
    pos = reader.pos
    last = 0
    has_tab = reader.has_tab
    not_plain = _NOT_PLAIN
    postfix = _POSTFIX
    lines = iter(raw)
    lines.__setstate__(pos)  # (list iterator: start at pos)
    for s in lines:
        if has_tab and "\t" in s:
            break
        k, eq, v = s.partition("=")
        if eq:
            key = k.strip()
            if ((key.isidentifier() or _NAME(key) is not None) and key not in not_plain
                    and not key.endswith(postfix) and len(k) - len(k.lstrip()) > prev_indent):
                v = v.strip()
                if v:
                    c = v[0]
                    if c in "\"':":
                        if c == ":":
                            break
                        if v[-1] == c:
                            v = v[1:-1]
                    if "$" in v:
                        break
                pre[key] = v
                pos += 1
                last = pos
                continue
        t = s.lstrip()
        if not t or t[0] == "#" or t[:2] == "//":  # blank or comment
            pos += 1
            continue
        break
    else:
        reader.pos = pos
        return last
    if "\t" not in s:  # the line that ends the run, peeked as Reader.peek would
        t = s.lstrip()
        reader.peeked = (t.rstrip(), len(s) - len(t), pos + 1)
        pos += 1
    reader.pos = pos
    return last


class AssignmentLog:
    """Every statement that assigns a key, in parse order (for ``assignments_of``).

    Kept flat and small, there are many: per statement name, where, op, value,
    line (where = file index << 32 | line number; the line text only for texts
    that are not files, else re-read on demand); per run of plain sets taken
    by ``take_plain_sets``: where, last line number, the lines (None for a
    file: re-read) -- resolved with ``plain_set`` when first asked.
    """

    def __init__(self) -> None:
        self.files: List[str] = []
        self._file_ids: Dict[str, int] = {}
        self._log: list = []
        self._index: Dict[str, list] = {}
        self._indexed = 0  # len(self._log) when _index was built

    def fid(self, filename: str) -> int:
        fid = self._file_ids.get(filename)
        if fid is None:
            fid = self._file_ids[filename] = len(self.files)
            self.files.append(filename)
        return fid

    def add(self, name: str, filename: str, linenum: int, op: str, value: str,
            line: Optional[str]) -> None:
        self._log += (name, self.fid(filename) << 32 | linenum, op, value, line)

    def add_run(self, filename: str, first: int, last: int, lines: Optional[List[str]]) -> None:
        """Lines ``first``..``last`` (1-based) were a run of plain sets (and blanks)."""
        self._log += (self.fid(filename) << 32 | first, last, lines)

    def find(self, name: str) -> List[tuple]:
        """(filename, linenum, op, value, line or None) of each statement assigning ``name``."""
        if self._indexed != len(self._log):
            self._build_index()
        return list(self._index.get(name, ()))

    def _build_index(self) -> None:
        index: Dict[str, list] = {}
        files = self.files
        texts: Dict[int, List[str]] = {}
        log = self._log
        i, n = 0, len(log)
        while i < n:
            first = log[i]
            if type(first) is str:
                where = log[i + 1]
                index.setdefault(first, []).append(
                    (files[where >> 32], where & 0xFFFFFFFF, log[i + 2], log[i + 3], log[i + 4]))
                i += 5
                continue
            fid, num = first >> 32, first & 0xFFFFFFFF
            lines, keep = log[i + 2], True
            if lines is None:  # a file: its lines again, read the way the parser did
                keep = False
                if fid not in texts:
                    try:
                        with open(files[fid], encoding="utf-8") as f:
                            texts[fid] = f.read().splitlines()
                    except (OSError, UnicodeDecodeError):
                        texts[fid] = []
                lines = texts[fid][num - 1:log[i + 1]]
            for k, line in enumerate(lines, num):
                got = plain_set(line)
                if got is not None:
                    index.setdefault(got[0], []).append(
                        (files[fid], k, "=", got[1], line.strip() if keep else None))
            i += 3
        self._index = index
        self._indexed = n
