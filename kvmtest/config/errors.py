# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Errors of the config language; each names file, line and offending text."""

from __future__ import annotations

from typing import Optional


class ParserError(Exception):
    """A config text avocado-vt would reject (or crash on)."""

    def __init__(
        self,
        msg: str,
        line: Optional[str] = None,
        filename: Optional[str] = None,
        linenum: Optional[int] = None,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.line = line
        self.filename = filename
        self.linenum = linenum

    def __str__(self) -> str:
        if self.line:
            return "%s: %r (%s:%s)" % (self.msg, self.line, self.filename, self.linenum)
        return "%s (%s:%s)" % (self.msg, self.filename, self.linenum)


class LexerError(ParserError):
    """A character that cannot start any token."""


class MissingIncludeError(ParserError):
    """``include PATH`` names no regular file.

    A ParserError subclass here (unlike avocado-vt) so one ``except`` covers all
    config errors; it has the same four attributes.
    """

    def __init__(self, line: str, filename: str, linenum: int) -> None:
        super().__init__("file does not exist or it's not a regular file", line, filename, linenum)

    def __str__(self) -> str:
        return "%r (%s:%s): file does not exist or it's not a regular file" % (
            self.line,
            self.filename,
            self.linenum,
        )
