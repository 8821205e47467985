# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Line reader and tokenizer of the Cartesian config language.

The tokenizer mirrors avocado-vt's lexer closely (including its quirks: the
"fast" assignment shortcut, whitespace tokens, quoted strings, the
rest-of-line string after ``include`` and after a condition's colon), because
which texts are accepted, and how, is part of the language.  Our one
deliberate extension: ``|`` is read as ``,`` (the 2009 KVM-Autotest OR).
"""

from __future__ import annotations

from itertools import chain

from .errors import LexerError, ParserError
from .text import elem_end, fast_op, keyword_start, space_end
from .tokens import (  # noqa: F401  (re-exported: lexer.Ident etc. are the token types)
    At,
    Colon,
    Comma,
    Dash,
    Del,
    Dot,
    EndBlock,
    EndL,
    Ident,
    Include,
    Indent,
    Join,
    LBracket,
    LParen,
    No,
    Not,
    Only,
    Oper,
    RBracket,
    RParen,
    String,
    Suffix,
    Token,
    Variants,
    White,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generator, Iterator, List, Optional, Tuple, Type

    from .tokens import Tok

_PUNCT = {
    "-": Dash,
    ".": Dot,
    ":": Colon,
    "@": At,
    ",": Comma,
    "|": Comma,  # extension: KVM-Autotest 2009 spelling of OR
    "[": LBracket,
    "]": RBracket,
    "(": LParen,
    ")": RParen,
    "!": Not,
}
_OPER_PREFIX = {"": "=", "~": "~=", "+": "+=", "<": "<=", "?": "?=", "?+": "?+=", "?<": "?<="}
_IDENT_EXTRA = "_-"
_OPER_CHARS = "+<?~"

# keyword prefixes: (prefix, token class, position after the keyword, skip spaces)
_KEYWORDS = {
    "o": (("only ", Only, 4, True),),
    "n": (("no ", No, 2, True),),
    "i": (("include ", Include, 7, False),),
    "d": (("del ", Del, 3, True),),
    "s": (("suffix ", Suffix, 6, True),),
    "j": (("join ", Join, 4, True),),
}


def fast_assignment(line: str) -> Optional[Tuple[str, str, str]]:
    """Split ``name OP value`` the way avocado-vt's fast path does, or None.

    Valid only for lines that do not start with a keyword.
    """
    m = fast_op(line)
    if m is None:
        return None
    start, end = m
    cind = line.find(":")
    if 0 <= cind <= end:
        return None
    return line[:start].rstrip(), line[start:end], line[end:].lstrip()


def starts_with_keyword(line: str) -> bool:
    """A line that starts with a keyword (the lexer's dispatch on its first characters)."""
    return keyword_start(line)


# ---------------------------------------------------------------- reader


_CHUNK = 32768  # characters split into lines at a time


def _chunks(text: str) -> Iterator[str]:
    """``text`` in pieces that end at a newline (so that their splitlines()
    together are text.splitlines())."""
    start, end = 0, len(text)
    while start < end:
        cut = text.find("\n", start + _CHUNK)
        if cut < 0:
            yield text[start:]
            return
        yield text[start:cut + 1]
        start = cut + 1


# what str.splitlines() ends lines at, besides "\n" (and "\r", which read_text replaces)
_OTHER_BREAKS = "\r\v\f\x1c\x1d\x1e"
_OTHER_BREAKS_WIDE = "\x85\u2028\u2029"


def only_newlines(text: str) -> bool:
    """Whether "\n" is the only character in ``text`` that splitlines() ends a line at."""
    for c in _OTHER_BREAKS:
        if c in text:
            return False
    if not text.isascii():
        for c in _OTHER_BREAKS_WIDE:
            if c in text:
                return False
    return True


def _split_chunks(text: str) -> Iterator[List[str]]:
    """text.splitlines() in lists of a chunk's lines, for a text where only
    "\n" ends lines (split() finds it with memchr: ~5x faster than
    splitlines(), which tests every character for the other breaks)."""
    start, end = 0, len(text)
    while start < end:
        cut = text.find("\n", start + _CHUNK)
        if cut < 0:
            last = text[start:]
            yield (last[:-1] if last[-1] == "\n" else last).split("\n")
            return
        yield text[start:cut].split("\n")
        start = cut + 1


# A token: punctuation and keywords are Token instances, names Ident (a str)


class Reader:
    """Pre-split lines: (stripped text, indent, line number), no blanks/comments.

    ``lines`` iterates over the raw lines; ``pos`` is how many were taken (the
    parser's fast lane takes plain sets from it directly, see TreeBuilder._parse).
    ``raw``, the list of all lines, is kept only if ``keep`` (the parser
    records runs of sets of a text that is no file from it); else lines are
    split a chunk at a time, and freed once read (a file's lines all at once
    were ~5 MB of fresh memory for medium.cfg: time, and peak memory).
    """

    def __init__(self, text: str, filename: str = "<string>", keep: bool = True) -> None:
        self.filename = filename
        if keep or len(text) <= _CHUNK:
            self.raw: Optional[List[str]] = text.splitlines()
            self.lines: Iterator[str] = iter(self.raw)
            if not keep:
                self.raw = None
        else:
            self.raw = None
            self.lines = chain.from_iterable(_split_chunks(text) if only_newlines(text)
                                             else map(str.splitlines, _chunks(text)))
        self.has_tab = "\t" in text  # (a tab in a line keeps it off the parser's fast lane)
        self.pos = 0
        self.peeked: Optional[Tuple[str, int, int]] = None
        self.stored: Optional[Tuple[str, int, int]] = None

    def peek(self) -> Optional[Tuple[str, int, int]]:
        """The next non-blank line (text, indent, number) without taking it."""
        return self._peek()

    def _peek(self) -> Optional[Tuple[str, int, int]]:
        if self.peeked is None:
            pos = self.pos
            for line in self.lines:
                line = line.rstrip()
                pos += 1
                if "\t" in line:
                    line = line.expandtabs()
                stripped = line.lstrip()
                if stripped:
                    c = stripped[0]
                    if c != "#" and (c != "/" or stripped[:2] != "//"):
                        self.peeked = (stripped, len(line) - len(stripped), pos)
                        break
            self.pos = pos
        return self.peeked

    def next_line(self, prev_indent: int) -> Tuple[Optional[str], int, int]:
        if self.stored:
            ret, self.stored = self.stored, None
            return ret
        nxt = self._peek()
        if nxt is None:
            return None, -1, -1
        line, indent, num = nxt
        if indent <= prev_indent:
            return None, indent, num
        self.peeked = None
        return nxt

    def push_line(self, line: str, indent: int, num: int) -> None:
        """Make the next read return ``line`` (the text after a condition's colon)."""
        line = line.strip()
        if line:
            self.stored = (line, indent, num)


# ---------------------------------------------------------------- lexer


class Lexer:
    """Token stream over a Reader, with the parser steering indentation."""

    __deletable__ = ["gen"]  # (close(); for mypyc's compiled build)

    def __init__(self, reader: Reader, is_file: bool) -> None:
        self.reader = reader
        self.is_file = is_file
        self.fid = 0  # the file's index in the parser's assignment log
        self.filename = reader.filename
        self.line: Optional[str] = ""
        self.linenum = 0
        self.rest_as_string = False
        self.prev_indent = 0
        self.fast = False
        self.skip_line = False
        self.gen: Generator[Tok, None, None] = self._tokens()

    def close(self) -> None:
        """Drop the token generator (it refers back to the lexer: with the
        collector off, as in the CLI, the pair and its reader would stay)."""
        self.gen.close()
        del self.gen

    def error(self, msg: str) -> LexerError:
        return LexerError(msg, self.line, self.filename, self.linenum)

    def _tokens(self) -> Generator[Tok, None, None]:
        reader = self.reader
        while True:
            line, indent, num = reader.next_line(self.prev_indent)
            self.line, self.linenum = line, num
            if not line:
                yield EndBlock(indent)
                continue
            yield Indent(indent)
            if self.skip_line:  # the parser consumed the line itself
                self.skip_line = False
                continue
            yield from self._match(line)

    def _match(self, line: str) -> Iterator[Tok]:
        pos = 0
        c = line[0]
        if c == "v":
            if line.startswith("variants:"):
                yield Variants()
                yield Colon()
                pos = 9
            elif line.startswith("variants "):
                yield Variants()
                pos = 8
        elif c == "-":
            yield Dash()
            pos = 1
        else:
            for prefix, cls, after, skip in _KEYWORDS.get(c, ()):
                if line.startswith(prefix):
                    yield cls()
                    pos = after
                    if skip:
                        while line[pos].isspace():
                            pos += 1
        fast = None
        if self.fast and pos == 0:
            fast = fast_assignment(line)
        if self.rest_as_string:
            self.rest_as_string = False
            yield String(line[pos:].lstrip())
        elif fast is not None:
            yield Ident(fast[0])
            yield Oper(fast[1])
            yield String(fast[2])
        else:
            yield from self._chars(line, pos)
            return
        yield EndL()

    def _chars(self, line: str, pos: int) -> Iterator[Tok]:
        """avocado-vt's per-character tokenizer, with runs of identifier
        characters and of whitespace taken whole (one regex match each)."""
        header = pos != 0 and line[0] == "v"  # a variants line: "|" is no OR (avocado-vt)
        chars = ""
        oper = ""
        n = len(line)
        while pos < n:
            char = line[pos]
            if char.isalnum() or char in _IDENT_EXTRA:
                end = elem_end(line, pos)
                chars += line[pos:end]
                pos = end
                continue
            if char in _OPER_CHARS:
                if chars:
                    yield Ident(chars)
                    oper = ""
                chars = ""
                oper += char
                pos += 1
                continue
            if chars:
                yield Ident(chars)
                chars = ""
            if char.isspace():
                end = space_end(line, pos)
                if end < n:
                    yield White()
                    pos = end
                    char = line[pos]
                # else: trailing blanks (never after the reader's strip): the
                # last one falls through to the error below, as in avocado-vt
                else:
                    pos = n - 1
                    char = line[pos]
            token = None
            if char.isalnum() or char in _IDENT_EXTRA:
                chars += char
            elif char == "=":
                if oper not in _OPER_PREFIX:
                    raise self.error("Unexpected character %s on pos %s" % (char, pos))
                yield Oper(_OPER_PREFIX[oper])
                oper = ""
            elif char in _PUNCT and (char != "|" or not header):
                token = _PUNCT[char]()
            elif char == '"':
                end = line.find('"', pos + 1)
                if end < 0:
                    raise self.error("Unterminated string")
                # avocado-vt keeps the quoted text in its identifier buffer
                chars = line[pos + 1:end]
                yield String(chars)
                pos = end
            elif char == "#":
                break
            elif char in _OPER_CHARS:
                oper += char
            else:
                raise self.error(
                    "Unexpected character %s on pos %s. Special chars are allowed only"
                    " in variable assignation statement" % (char, pos)
                )
            if token is not None:
                yield token
            if self.rest_as_string:
                self.rest_as_string = False
                yield String(line[pos + 1:].lstrip())
                break
            pos += 1
        if chars:
            yield Ident(chars)
        yield EndL()

    # -- helpers used by the parser (names follow what they return)

    def next(self) -> Tok:
        return next(self.gen)

    def until(self, end_types: Tuple[Type[Tok], ...]) -> List[Tok]:
        """Tokens up to and including the first of ``end_types``."""
        out = []
        gen = self.gen
        while True:
            tok = next(gen)
            out.append(tok)
            if type(tok) in end_types:
                return out

    def until_no_white(self, end_types: Tuple[Type[Tok], ...]) -> List[Tok]:
        return [t for t in self.until(end_types) if type(t) is not White]

    def until_check(self, allowed: Tuple[Type[Tok], ...], end_types: Tuple[Type[Tok], ...]) -> List[Tok]:
        """Like ``until``, but fails at the first token of another type (as
        avocado-vt does: at the end of the text no end token ever comes)."""
        out = []
        gen = self.gen
        while True:
            tok = next(gen)
            out.append(tok)
            typ = type(tok)
            if typ in end_types:
                return out
            if typ not in allowed:
                raise self.expected(allowed + end_types, tok)

    def rest_line(self) -> List[Tok]:
        out = []
        gen = self.gen
        tok = next(gen)
        while type(tok) is not EndL:
            out.append(tok)
            tok = next(gen)
        return out

    def rest_as_str(self) -> Tok:
        self.rest_as_string = True
        tok = next(self.gen)
        next(self.gen)
        return tok

    def expected(self, types: Tuple[Type[Tok], ...], tok: Tok) -> ParserError:
        names = ", ".join(repr(t.text) for t in types)
        return ParserError(
            "Expected one of [%s], got %r" % (names, str(tok) or tok.text),
            self.line, self.filename, self.linenum,
        )

    def check_next(self, types: Tuple[Type[Tok], ...]) -> Tok:
        tok = next(self.gen)
        if type(tok) not in types:
            raise self.expected(types, tok)
        return tok

    def check_next_nw(self, types: Tuple[Type[Tok], ...]) -> Tok:
        tok = next(self.gen)
        while type(tok) is White:
            tok = next(self.gen)
        if type(tok) not in types:
            raise self.expected(types, tok)
        return tok

    def check(self, tok: Tok, types: Tuple[Type[Tok], ...]) -> Tok:
        if type(tok) not in types:
            raise self.expected(types, tok)
        return tok
