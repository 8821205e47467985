"""The config language's fixed text patterns, matched without ``re``.

``import re`` (with the enum, functools and collections modules it pulls in)
costs ~7 ms of CPU, and compiling the parser's fifteen patterns ~1 ms more: a
twentieth of expanding a config of 9,000 dicts, paid by every CLI run and
every control file.  These functions give the same answers as the regular
expressions named in their docstrings (tests/config/test_text.py checks them
against ``re`` on real config lines and on generated text), so ``re`` is
imported only for what needs a real regular expression: a ``?=``/``del``
pattern that is not a plain key name (see ops.regex_for), or a
``--filter``-style search.

``\\w`` in a ``str`` pattern is ``c.isalnum() or c == "_"``, ``\\s`` is
``c.isspace()``, and ``.`` is any character but ``"\\n"``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Optional, Tuple

_SEPS = ",|"


def elem_end(s: str, i: int) -> int:
    """End of the ``[\\w-]+`` run at ``i`` (``i`` itself if there is none)."""
    n = len(s)
    while i < n:
        c = s[i]
        if c.isalnum() or c == "_" or c == "-":
            i += 1
        else:
            break
    return i


def space_end(s: str, i: int) -> int:
    """End of the ``\\s*`` run at ``i``."""
    n = len(s)
    while i < n and s[i].isspace():
        i += 1
    return i


def _blank_end(s: str, i: int) -> int:
    """End of the `` *`` run at ``i`` (spaces only)."""
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    return i


def word_end(s: str, i: int, double_dots: bool = True) -> int:
    """End of ``[\\w-]+(?:\\.\\.?[\\w-]+)*`` at ``i`` (``(?:\\.[\\w-]+)*`` without
    ``double_dots``), or -1 if no word starts there."""
    j = elem_end(s, i)
    if j == i:
        return -1
    n = len(s)
    while j < n and s[j] == ".":
        k = j + 1
        if double_dots and k < n and s[k] == ".":
            k += 1
        e = elem_end(s, k)
        if e == k:
            break  # the dots end the word (they belong to what follows)
        j = e
    return j


def plain_name(key: str) -> bool:
    """``re.match(r"[\\w.][\\w.-]*\\Z", key)``: a key the fast lane takes as is."""
    if not key or key[0] == "-":
        return False
    return key.replace("_", "a").replace(".", "a").replace("-", "a").isalnum()


_KEYWORDS = ("-", "variants:", "variants ", "only ", "no ", "include ", "del ", "suffix ",
             "join ")


def keyword_start(line: str) -> bool:
    """``re.match(r"-|variants[: ]|only |no |include |del |suffix |join ", line)``."""
    return line.startswith(_KEYWORDS)


def fast_op(line: str) -> Optional[Tuple[int, int]]:
    """(start, end) of ``re.search(r"=|\\+=|<=|~=|\\?=|\\?\\+=|\\?<=", line)``, or None.

    Every operator ends with the first "=": the match starts at most two
    characters before it."""
    i = line.find("=")
    if i < 0:
        return None
    if i >= 2 and line[i - 2] == "?" and line[i - 1] in "+<":
        return i - 2, i + 1
    if i >= 1 and line[i - 1] in "+<~?":
        return i - 1, i + 1
    return i, i + 1


def variants_line(line: str) -> Optional[str]:
    """``re.match(r"variants(?::| +([\\w-]+) *:)\\Z", line)``: the block's name
    ("" for none), or None if the line is no plain variants header."""
    if not line.startswith("variants"):
        return None
    n = len(line)
    if n == 9 and line[8] == ":":
        return ""
    i = _blank_end(line, 8)
    if i == 8:
        return None
    j = elem_end(line, i)
    if j == i:
        return None
    k = _blank_end(line, j)
    if k == n - 1 and line[k] == ":":
        return line[i:j]
    return None


def dash_line(line: str) -> Optional[Tuple[bool, str, str]]:
    """``re.match(r"- *(@?)([\\w-]+(?:\\.[\\w-]+)*):(.*)", line)`` as (``@`` given,
    the dotted name, the rest), or None."""
    if not line.startswith("-"):
        return None
    i = _blank_end(line, 1)
    at = line.startswith("@", i)
    if at:
        i += 1
    j = word_end(line, i, double_dots=False)
    if j < 0 or not line.startswith(":", j):
        return None
    rest = line[j + 1:]
    cut = rest.find("\n")  # ("." matches no newline)
    return at, line[i:j], rest if cut < 0 else rest[:cut]


def word_list(text: str) -> Optional[List[str]]:
    """The words of a filter list, as ``_LIST_SEP.split`` after a ``_LIST`` match
    (filters.py: words joined by a comma or bar and blanks, or by blanks), or None."""
    words = []
    i = 0
    n = len(text)
    while True:
        j = word_end(text, i)
        if j < 0:
            return None
        words.append(text[i:j])
        if j == n:
            return words
        c = text[j]
        if c in _SEPS:
            i = _blank_end(text, j + 1)
        elif c == " ":
            i = _blank_end(text, j)
        else:
            return None


def cond_words(line: str) -> Optional[Tuple[List[str], int]]:
    """A condition's words and the position after its colon, as ``_COND_SEP.split``
    of a ``_COND`` match's group and its end (filters.py), or None."""
    words = []
    i = 0
    n = len(line)
    while True:
        j = word_end(line, i)
        if j < 0:
            return None
        words.append(line[i:j])
        k = _blank_end(line, j)
        if k < n and line[k] in _SEPS:
            i = _blank_end(line, k + 1)
        elif k < n and line[k] == ":":
            return words, k + 1
        else:
            return None


def subst_refs(value: str) -> List[Tuple[int, int, str]]:
    """(start, end, key) of each ``re.finditer(r"\\$\\{(.+?)\\}", value)`` match."""
    out = []
    i = value.find("${")
    while i >= 0:
        j = value.find("}", i + 3)
        if j >= 0 and "\n" not in value[i + 2:j]:
            out.append((i, j + 1, value[i + 2:j]))
            i = value.find("${", j + 1)
        else:
            i = value.find("${", i + 1)
    return out


def has_statement(text: str) -> bool:
    """``re.search(r"^[ \\t\\f\\v]*(?:[^\\s#/]|/(?!/))", text, re.M)``: a line that is
    neither blank nor a comment."""
    start = 0
    n = len(text)
    while start <= n:
        end = text.find("\n", start)
        if end < 0:
            end = n
        i = start
        while i < end and text[i] in " \t\f\v":
            i += 1
        if i < end:
            c = text[i]
            if not c.isspace() and c != "#" and (c != "/" or text[i + 1:i + 2] != "/"):
                return True
        start = end + 1
    return False


def is_literal_name(pattern: str) -> bool:
    """Whether ``re.compile(pattern + "$").match(k)`` is ``k == pattern`` for a key
    (a key has no newline): a pattern of ``[\\w-]`` characters only (ASCII, where
    no case folding or class can apply)."""
    return bool(pattern) and pattern.isascii() and elem_end(pattern, 0) == len(pattern)


class BadPattern(ValueError):
    """A ``?=``/``del`` key pattern ``re`` cannot compile (the message is re's)."""


class LiteralKey:
    """A key pattern without regex syntax: ``match`` as ``re.compile(name + "$").match``."""

    __slots__ = ("name", "alt")

    def __init__(self, name: str) -> None:
        self.name = name
        self.alt = name + "\n"  # ("$" matches before a final newline too)

    def match(self, key: str) -> bool:
        return key == self.name or key == self.alt


def key_pattern(name: str) -> Any:
    """What ``?=``, ``?+=``, ``?<=`` and ``del`` match keys with: an object whose
    ``match(key)`` is true as ``re.compile(name + "$").match(key)`` is; ``re`` only
    for a name with regex syntax.  Raises BadPattern for a pattern re rejects."""
    if is_literal_name(name):
        return LiteralKey(name)
    import re

    try:
        return re.compile(name + "$")
    except (re.error, RecursionError, OverflowError) as exc:  # (deep nesting: RecursionError)
        raise BadPattern(str(exc)) from exc


__all__ = ["BadPattern", "LiteralKey", "key_pattern", "cond_words", "dash_line", "elem_end", "fast_op", "has_statement", "is_literal_name",
           "keyword_start", "plain_name", "space_end", "subst_refs", "variants_line", "word_end",
           "word_list"]
