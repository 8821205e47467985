# ruff: noqa: UP031  (printf-style, as the lexer)
"""Token classes of the Cartesian config lexer (the class is the token's type).

A module of its own so that an optional mypyc-compiled build (setup.py,
KVMTEST_MYPYC=1) can compile the lexer and leave this one interpreted:
``Ident`` subclasses ``str`` and the punctuation classes are made with
``type()``, neither of which mypyc's native classes allow.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union


class Token:
    """Base class of punctuation/keyword tokens; the class is the type."""

    __slots__ = ()
    text = ""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "'%s'" % self.text


class Ident(str):
    """An identifier ([A-Za-z0-9_-]+, plus the fast path's free-form names)."""

    __slots__ = ()
    text = "identifier"


class String(Ident):
    """A string token (quoted text, rest of a line, an assignment value)."""

    __slots__ = ()
    text = "string"


class White(Token):
    __slots__ = ()
    text = "whitespace"


class EndL(Token):
    __slots__ = ()
    text = "end of line"


class Indent(Token):
    __slots__ = ("length",)
    text = "indent"

    def __init__(self, length: int) -> None:
        self.length = length


class EndBlock(Indent):
    __slots__ = ()
    text = "end of block"


def _simple(name: str, text: str) -> type:
    return type(name, (Token,), {"__slots__": (), "text": text})


Colon = _simple("Colon", ":")
Variants = _simple("Variants", "variants")
Dot = _simple("Dot", ".")
Dash = _simple("Dash", "-")
At = _simple("At", "@")
Only = _simple("Only", "only")
No = _simple("No", "no")
Include = _simple("Include", "include")
Del = _simple("Del", "del")
Suffix = _simple("Suffix", "suffix")
Join = _simple("Join", "join")
Not = _simple("Not", "!")
Comma = _simple("Comma", ",")
LBracket = _simple("LBracket", "[")
RBracket = _simple("RBracket", "]")
LParen = _simple("LParen", "(")
RParen = _simple("RParen", ")")


class Oper(Token):
    """An assignment operator; ``op`` is one of = += <= ~= ?= ?+= ?<=."""

    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = op

    def __str__(self) -> str:
        return self.op

    __repr__ = __str__


if TYPE_CHECKING:
    Tok = Union[Token, Ident]
