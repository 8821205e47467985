# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Filter texts (``only``/``no``/``join``, conditions, variant deps) -> words.

``parse_filter`` is avocado-vt's algorithm over the token stream (errors
included).  The ``simple_*`` functions are the parser's fast lane for the
common shapes (plain names joined by ``.``/``..``, separated by commas or
blanks), read straight from the line text; they return None for anything
else, which then goes the token way.
"""

from __future__ import annotations

from . import lexer as lx
from .errors import ParserError
from .text import cond_words, word_list
from .tree import LabelTable, filter_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Union

# The common shapes (text.word_list, text.cond_words): a word is ``[\w-]+`` runs
# joined by "." or "..".  In only/no/deps lists a blank run is a separator, as is a
# comma followed by blanks (blanks before a comma are an error: the token way
# reports it); in a condition (blanks are dropped there): words, commas, the colon.


def _words(parts: List[str], table: LabelTable) -> list:
    out = []
    for w in parts:
        if "." in w:
            out.append([[table.element(None, e) for e in b.split(".")] for b in w.split("..")])
        else:
            out.append([[table.element(None, w)]])
    return out


def simple_list(text: str, table: LabelTable) -> Optional[list]:
    """Words of an only/no/deps filter text in a common shape, else None."""
    if text.isidentifier() and text.isascii():  # one name, the most common
        return [[[table.element(None, text)]]]
    words = word_list(text)
    if words is None:
        return None
    return _words(words, table)


def simple_condition(line: str, table: LabelTable) -> Optional[tuple]:
    """(words, text after the colon) of a condition line in a common shape, else None.

    ``line`` must not start with a keyword (see text.keyword_start).
    """
    if line[-1] == ":":
        name = line[:-1]
        if name.isidentifier() and name.isascii():  # "name:", the most common
            return [[[table.element(None, name)]]], ""
    got = cond_words(line)
    if got is None:
        return None
    return _words(got[0], table), line[got[1]:].lstrip()


class WordCache:
    """``simple_list``/``simple_condition`` answers per text, each computed once.

    Real configs repeat a few hundred filter texts thousands of times (medium.cfg:
    ~950 distinct of ~6000); words are only ever read (Filter copies them, Node.dep
    and the walk read them), so equal texts can share them.  Per LabelTable.
    """

    def __init__(self, table: LabelTable) -> None:
        self.table = table
        self.lists: dict = {}  # text -> words, or False (not a common shape)
        self.conds: dict = {}  # line -> (words, rest), or False

    def list(self, text: str) -> Union[tuple, bool]:
        """(simple_list(text), tree.filter_words of it), False for None."""
        got = self.lists.get(text)
        if got is None:
            words = simple_list(text, self.table)
            got = self.lists[text] = (words, filter_words(words)) if words else False
        return got

    def condition(self, line: str) -> Union[tuple, bool]:
        """simple_condition(line) + (tree.filter_words of its words,), False for None."""
        got = self.conds.get(line)
        if got is None:
            cond = simple_condition(line, self.table)
            got = self.conds[line] = cond + (filter_words(cond[0]),) if cond else False
        return got


def parse_filter(lexer: lx.Lexer, tokens: List[lx.Tok], table: LabelTable) -> list:
    """Filter tokens -> words (OR) of blocks (AND) of elements (adjacent)."""
    it = iter(tokens + [lx.EndL()])
    check = lexer.check

    def next_nw() -> lx.Tok:
        tok = next(it)
        while type(tok) is lx.White:
            tok = next(it)
        return tok

    def err(msg: str) -> ParserError:
        return ParserError(msg, lexer.line, lexer.filename, lexer.linenum)

    tok = check(next(it), (lx.Ident, lx.LParen, lx.EndL, lx.White))
    typ = type(tok)
    or_filters: list = []
    and_filter: list = []
    con_filter: list = []
    dots = 1
    while typ is not lx.EndL:
        if typ in (lx.Ident, lx.LParen):
            if typ is lx.LParen:
                ident = check(next_nw(), (lx.Ident,))
                typ2 = type(check(next_nw(), (lx.Oper, lx.RParen)))
                if typ2 is lx.Oper:
                    value = check(next_nw(), (lx.Ident, lx.String))
                    check(next_nw(), (lx.RParen,))
                    elem = table.element(str(ident), str(value))
                else:
                    elem = table.element(None, str(ident))
            else:
                elem = table.element(None, str(tok))
            if dots == 1:
                con_filter.append(elem)
            elif dots == 2:
                and_filter.append(con_filter)
                con_filter = [elem]
            else:
                raise err('Syntax Error expected "." between Identifier.')
            dots = 0
        elif typ is lx.Dot:
            dots += 1
        elif typ in (lx.Comma, lx.White):
            if dots > 0:
                raise err('Syntax Error expected identifier between "." and ",".')
            if and_filter:
                if con_filter:
                    and_filter.append(con_filter)
                    con_filter = []
                or_filters.append(and_filter)
                and_filter = []
            elif con_filter:
                or_filters.append([con_filter])
                con_filter = []
            else:
                raise err('Syntax Error expected "," between Identifier.')
            dots = 1
            tok = next_nw()
            tok = check(tok, (lx.Ident, lx.Comma, lx.Dot, lx.LParen, lx.EndL))
            typ = type(tok)
            continue
        tok = check(next(it), (lx.Ident, lx.Comma, lx.Dot, lx.LParen, lx.EndL, lx.White))
        typ = type(tok)
    if and_filter:
        if con_filter:
            and_filter.append(con_filter)
            con_filter = []
        or_filters.append(and_filter)
    if con_filter:
        or_filters.append([con_filter])
    for word in or_filters:
        for block in word:
            if not block:  # avocado-vt crashes (IndexError) on these later
                raise err("Syntax Error: empty filter block")
    return or_filters
