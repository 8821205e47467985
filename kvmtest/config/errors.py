# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Errors of the config language; each names file, line and offending text."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


ECHO_MAX = 200  # characters of input an error message repeats


def clip(text: str, limit: int = ECHO_MAX) -> str:
    """``text`` cut to its first ``limit`` characters (saying how long it was):
    a message must stay readable when the offending line is megabytes long."""
    if len(text) <= limit:
        return text
    return "%s... (%d characters)" % (text[:limit], len(text))


class ParserError(Exception):
    """A config text avocado-vt would reject (or crash on).

    ``line`` and ``msg`` are clipped (see clip): every way of printing the
    error echoes at most the first ~200 characters of the input.
    """

    def __init__(
        self,
        msg: str,
        line: Optional[str] = None,
        filename: Optional[str] = None,
        linenum: Optional[int] = None,
    ) -> None:
        msg = clip(msg, 2 * ECHO_MAX)
        super().__init__(msg)
        self.msg = msg
        self.line = None if line is None else clip(line)
        self.filename = filename
        self.linenum = linenum

    def where(self) -> str:
        """``FILE:LINE``, or ``FILE`` for an error about the whole file."""
        if self.linenum is None:
            return "%s" % (self.filename,)
        return "%s:%s" % (self.filename, self.linenum)

    def __str__(self) -> str:
        if self.line:
            return "%s: %r (%s)" % (self.msg, self.line, self.where())
        return "%s (%s)" % (self.msg, self.where())


class LexerError(ParserError):
    """A character that cannot start any token."""


class MissingIncludeError(ParserError):
    """``include PATH`` names no regular file.

    A ParserError subclass here (unlike avocado-vt) so one ``except`` covers all
    config errors; it has the same four attributes.
    """

    def __init__(self, line: Optional[str], filename: Optional[str],
                 linenum: Optional[int]) -> None:
        super().__init__("file does not exist or it's not a regular file", line, filename, linenum)

    def __str__(self) -> str:
        return "%r (%s:%s): file does not exist or it's not a regular file" % (
            self.line,
            self.filename,
            self.linenum,
        )
