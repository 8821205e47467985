"""Plain ``name = value`` lines, the parser's fast lane, and the assignment log.

Most lines of a real config (45k of medium.cfg's 52k) are plain sets.  The
exact path reads each through the reader, the keyword check and avocado-vt's
``fast_assignment`` split, then ``_assign``; the parser's fast lane (inline in
TreeBuilder._parse, defined by ``plain_set`` here) does the same with a few
str methods per line, for the lines where the outcome is certain: the value
lands in the pending pre-dict and nothing else happens (recording for
``assignments_of`` is done per run of lines, resolved on demand).  The same
loop also takes ``name += value`` and ``name = value`` with a ``$`` (plain
names) to TreeBuilder._op_line, which does what ``_assign`` does for them
(each is logged on its own).  Anything else (other operators, a tab,
keyword-like, reserved or ``*_max``-style names, a colon near the ``=``) is
left to the exact path, so only speed depends on these choices.
"""

from __future__ import annotations

from bisect import bisect_left

from .text import plain_name
from .tree import RESERVED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Tuple

# names whose line the exact path reads differently (keywords), that it never
# stores (reserved) or that it also notes as postfix keys
NOT_PLAIN = frozenset(("variants", "only", "no", "include", "del", "suffix", "join")) | RESERVED
POSTFIX = ("_max", "_min", "_fixed")


def _plain_name(key: str) -> bool:
    """A name without operator characters, blanks, ':' or a leading '-' (isidentifier()
    is the quick test for the common case), no keyword, reserved or postfix key."""
    return ((key.isidentifier() or plain_name(key)) and key not in NOT_PLAIN
            and not key.endswith(POSTFIX))


def plain_set(line: str) -> Optional[Tuple[str, str]]:
    """(name, value) if the fast lane takes ``line`` (a raw line) as a plain set.

    The reference for the parser's fast lane (which inlines it): its recorded
    runs of lines are resolved with this.
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


class AssignmentLog:
    """Every statement that assigns a key, in parse order (for ``assignments_of``).

    Kept flat and small, there are many: per statement name, line number, op,
    value, line (the line text only for texts that are not files, else taken
    from the file's text on demand); per run of plain sets the fast lane took:
    the number of the line before it, the last line number, the lines (None
    for a file) -- resolved with ``plain_set`` per query (~10-20 ms for
    medium.cfg; assignments_of is for rare questions); ``~file index`` where
    the entries after it come from another file (see ``enter``).  Each file's text is
    kept as parsed (~2 MB for the tp-qemu corpus), so answers never depend on
    the file being edited or the working directory changing afterwards.
    """

    def __init__(self) -> None:
        self.files: List[str] = []
        self.texts: List[Optional[str]] = []  # per file index: the text parsed
        self._lines: Dict[int, List[str]] = {}  # per file index: its text's lines, when asked
        self._file_ids: Dict[str, int] = {}
        self.entries: list = []  # flat, see above (the parser adds entries itself)
        self.cur = -1  # the file index the last entries are from

    def fid(self, filename: str, text: Optional[str] = None) -> int:
        """The index of ``filename``; ``text``: its content (for files)."""
        fid = self._file_ids.get(filename)
        if fid is None:
            fid = self._file_ids[filename] = len(self.files)
            self.files.append(filename)
            self.texts.append(text)
        return fid

    def enter(self, fid: int) -> None:
        """Entries from now on are from file ``fid`` (the parser says so where it
        starts or leaves a file: an entry needs no file index of its own)."""
        if fid != self.cur:
            self.entries.append(~fid)
            self.cur = fid

    def add(self, name: str, linenum: int, op: str, value: str, line: Optional[str]) -> None:
        self.entries += (name, linenum, op, value, line)

    def find(self, name: str) -> List[tuple]:
        """(filename, linenum, op, value, line or None) of each statement assigning ``name``."""
        out = []
        files = self.files
        hits: Dict[int, tuple] = {}  # file index -> (its lines, indexes of lines with name)
        log = self.entries
        i, n = 0, len(log)
        fid = 0
        while i < n:
            first = log[i]
            if type(first) is str:
                if first == name:
                    num = log[i + 1]
                    line = log[i + 4]
                    if line is None:
                        got = hits.get(fid)
                        if got is None:
                            got = hits[fid] = self._lines_with(fid, name)
                        if 0 < num <= len(got[0]):
                            line = got[0][num - 1].strip()
                    out.append((files[fid], num, log[i + 2], log[i + 3], line))
                i += 5
                continue
            if first < 0:
                fid = ~first
                i += 1
                continue
            num, last, lines = first + 1, log[i + 1], log[i + 2]
            i += 3
            if lines is not None:  # a text that is no file: the run's own lines
                for k, line in enumerate(lines, num):
                    got = plain_set(line) if name in line else None
                    if got is not None and got[0] == name:
                        out.append((files[fid], k, "=", got[1], line.strip()))
                continue
            got = hits.get(fid)
            if got is None:
                got = hits[fid] = self._lines_with(fid, name)
            lines, where = got
            j = bisect_left(where, num - 1)
            while j < len(where) and where[j] < last:
                line = lines[where[j]]
                j += 1
                got = plain_set(line)
                if got is not None and got[0] == name:
                    out.append((files[fid], where[j - 1] + 1, "=", got[1], line.strip()))
        return out

    def _lines_with(self, fid: int, name: str) -> tuple:
        """A file's lines as parsed, and the indexes of those that contain ``name``.
        (The lines are kept: a dry run asks for several keys, and splitting the texts
        again for each was most of each query.)"""
        text = self.texts[fid] or ""
        lines = self._lines.get(fid)
        if lines is None:
            lines = self._lines[fid] = text.splitlines()
        if name not in text:
            return lines, []
        return lines, [k for k, line in enumerate(lines) if name in line]
