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


def take_plain_sets(raw: List[str], pos: int, prev_indent: int, pre: Dict[str, str],
                    has_tab: bool) -> Tuple[int, int]:
    """Store the plain sets from ``raw[pos]`` on in ``pre``, skipping blank and
    comment lines; stop at any other line or one indented ``<= prev_indent``.

    Returns (position of that line, 1-based number of the last set or 0).
    """
    end = len(raw)
    last = 0
    not_plain = _NOT_PLAIN
    postfix = _POSTFIX
    while pos < end:
        s = raw[pos]
        if has_tab and "\t" in s:
            break
        t = s.lstrip()
        if not t:
            pos += 1
            continue
        e = t.find("=")
        if e > 0 and len(s) - len(t) > prev_indent:
            key = t[:e].rstrip()
            if ((key.isidentifier() or _NAME(key) is not None) and key not in not_plain
                    and not key.endswith(postfix)):
                v = t[e + 1:].strip()
                if v:
                    c = v[0]
                    if c == ":" or "$" in v:
                        break
                    if (c == '"' or c == "'") and v[-1] == c:
                        v = v[1:-1]
                pre[key] = v
                pos += 1
                last = pos
                continue
        c = t[0]
        if c == "#" or (c == "/" and t[:2] == "//"):
            pos += 1
            continue
        break
    return pos, last
