# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""``variants:`` blocks: their ``- name: deps`` entries and the nodes they make.

Part of the statement parser (TreeBuilder mixes VariantBlocks in): each
entry wraps the tree built so far, as avocado-vt's ``Parser._parse`` does.
Per entry is the parser's second hottest path (medium.cfg: ~4800 entries),
so the common ``- name:`` line is read inline.
"""

from __future__ import annotations

from . import lexer as lx
from .errors import ParserError
from .filters import WordCache, parse_filter
from .scan import AssignmentLog
from .text import dash_line
from .tree import FileMap, Filter, LabelTable, Node, Op, block_labels

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Set, Tuple

    from .tree import Container

DOT = object()  # stands for a '.' token inside [default=...] comparisons
_POSTFIX = ("_max", "_min", "_fixed")


def raw_name(names: list) -> tuple:
    """An entry's name as [default=...] texts are compared with it."""
    raw = [names[0]]
    for n in names[1:]:
        raw += (DOT, n)
    return tuple(raw)


def dash_entry(line: str, words: WordCache) -> Optional[tuple]:
    """A ``- name:`` / ``- @a.b: deps`` line in a common shape as
    (is_default, names, raw name for [default=] matching or None, deps), else None."""
    if line[-1] == ":" and line[1:2] == " " and line[0] == "-":  # no deps, the most common
        name = line[2:-1]
        if name.isidentifier() and name.isascii():  # (then only [A-Za-z0-9_])
            return False, [name], None, []
        is_default = name[:1] == "@"
        if is_default:
            name = name[1:]
        # dash_line's name, ASCII: [\w-] runs joined by single dots
        if (name and name.isascii()
                and ("_" + name.replace(".", "_").replace("-", "_")).isidentifier()
                and (name[0] != "." != name[-1] and ".." not in name)):
            return is_default, name.split("."), None, []
    m = dash_line(line)
    if m is None:
        return None
    rest = m[2].lstrip()
    deps: Optional[list] = []
    if rest:
        got = words.list(rest)
        if not isinstance(got, tuple):
            return None
        deps = got[0]
    names = m[1].split(".")
    return m[0], names, raw_name(names), deps


# what avocado-vt 113.0 names a block whose name follows a ``[meta]`` (see block_name)
CLASS_NAME = "<class 'virttest.cartesian_config.LIdentifier'>"


def block_name(toks: Optional[list]) -> Tuple[str, bool]:
    """The name of a ``variants NAME:`` block, as avocado-vt 113.0 takes it,
    and whether ``expand_defaults`` entries can equal it.

    avocado-vt takes the *first* token read before the name, not the name:
    ``variants @foo:`` is the block ``@`` (dicts get ``(@=a)`` and key ``@``),
    ``variants !foo:`` the block ``!``.  A name after a ``[meta]`` is read by
    another call that returns (type, token), so the name is the token's type:
    ``variants [x] foo:`` names the block ``<class '...LIdentifier'>``.  Only
    a name that is a string (the identifier, or a quoted string) can be in
    ``expand_defaults``; avocado-vt compares the others by identity.
    ``toks``: the tokens read up to the name, or None after a ``[meta]``.
    """
    if toks is None:
        return CLASS_NAME, False
    first = toks[0]
    return str(first), isinstance(first, str)


class VariantBlocks:
    """TreeBuilder's ``variants:`` block parsing (uses its table, log, _parse...)."""

    # provided by TreeBuilder (parser.py), which mixes this class in
    table: LabelTable
    words: WordCache
    log: AssignmentLog
    defaults: bool
    expand_defaults: List[str]
    postfix_keys: Set[str]

    # (defined by TreeBuilder: plain methods here, not under TYPE_CHECKING, as mypyc
    # compiles no statement of that kind in a class body)
    @staticmethod
    def _flush(lexer: lx.Lexer, node: Container, pre: Dict[str, str]) -> Dict[str, str]:
        raise NotImplementedError

    def _err(self, lexer: lx.Lexer, msg: str) -> ParserError:
        raise NotImplementedError

    def _parse(self, lexer: lx.Lexer, node: Container, prev_indent: int) -> Container:
        raise NotImplementedError

    def _block(self, lexer: lx.Lexer, node: Container, prev_indent: int) -> Container:
        raise NotImplementedError

    def _variant_block(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str], indent: int,
                       var_indent: int, var_name: str, meta: Dict[str, list],
                       entry: Optional[tuple] = None, comparable: bool = True) -> Node:
        """Parse ``- name: deps`` entries of one ``variants:`` block.

        The first entry is ``entry`` if the fast lane read its line (see
        dash_entry), else the token stream is just after its ``-``.
        ``comparable``: whether ``expand_defaults`` can name the block (see block_name).
        """
        if pre:
            self._flush(lexer, node, pre)
        if isinstance(node, Filter):
            raise self._err(lexer, "'variants' is not allowed inside a conditional block")
        table = self.table
        already_default = False
        defaults_meta = meta.get("default")
        in_expand = not comparable or var_name not in self.expand_defaults
        block = Node()
        block.filename, block.linenum = lexer.filename, lexer.linenum
        head_line, head_num = lexer.line, lexer.linenum
        reader = lexer.reader
        filename = lexer.filename
        log_entries = self.log.entries
        longs = table.longs
        ids = table.ids
        words = self.words
        children = block.children
        first_default = self.defaults
        var = var_name or None
        if var_name.endswith(_POSTFIX):
            self.postfix_keys.add(var_name)
        tokens_next = entry is None  # the first entry's "-" was read as a token
        while True:
            lexer.prev_indent = var_indent
            deps = None
            if entry is not None:
                is_default, names, raw, deps = entry
                entry = None
                linenum = lexer.linenum
                short = names[0] if len(names) == 1 else ".".join(names)
            elif not tokens_next and reader.stored is None and not lexer.rest_as_string:
                # fast lane, as in _parse
                nxt = reader.peeked or reader._peek()
                if nxt is None or nxt[1] <= var_indent:
                    lexer.line, lexer.linenum = None, -1 if nxt is None else nxt[2]
                    break
                line, _, linenum = nxt
                short = line[2:-1]
                if (line[-1] == ":" and line[1:2] == " " and line[0] == "-"
                        and short.isidentifier() and short.isascii()):  # "- name:" (as dash_entry)
                    is_default = False
                    names = raw = None
                else:
                    entry = dash_entry(line, words)
                    if entry is None:
                        tokens_next = True
                        continue
                reader.peeked = None
                lexer.line, lexer.linenum = line, linenum
                if entry is not None:
                    continue
            else:
                tokens_next = False
                is_default, names, raw, deps = self._entry_tokens(lexer)
                if is_default is None:
                    break
                linenum = lexer.linenum
                short = names[0] if len(names) == 1 else ".".join(names)

            inner = Node([node], node.labels)
            if var_name:
                inner.content.append(Op("=", var_name, short, filename, linenum))
                log_entries += (var_name, linenum, "=", short,  # (log.add)
                                None if lexer.is_file else lexer.line)
            variant = self._block(lexer, inner, indent)
            assert isinstance(variant, Node)  # (_parse returns the node it was given)
            if var_name and comparable:  # (the walker's defaults test; see block_name)
                variant.var_name = var_name
            if names is None or len(names) == 1:
                lid = ids.get((var, short))
                if lid is None:
                    lid = table.intern(var, short)
                variant.name = (lid,)
                full = longs[lid]
            else:
                variant.name = tuple([table.intern(var, n) for n in names])
                full = ".".join([longs[i] for i in variant.name])
            if deps:
                variant.dep = deps
            variant.filename, variant.linenum = filename, linenum
            if defaults_meta:
                if raw is None:
                    raw = raw_name(names or [short])
                for wd in defaults_meta:
                    if all(a == b for a, b in zip(wd, raw)):
                        is_default = True
                        defaults_meta.remove(wd)
            if is_default and not already_default and in_expand:
                variant.default = True
                already_default = True
            variant.append_to_shortname = not is_default
            num = lexer.linenum
            variant.content += (FileMap(filename, full, "_name_map_file", num),
                                FileMap(filename, short, "_short_name_map_file", num))
            if variant.default and first_default:
                children.insert(0, variant)
            else:
                children.append(variant)
        block.labels = block_labels(children)
        if defaults_meta:  # reported at the block's first entry (avocado-vt: end of block)
            raise ParserError("Missing default variant %s" % (
                [["." if t is DOT else str(t) for t in wd] for wd in defaults_meta],),
                head_line, lexer.filename, head_num)
        return block

    def _entry_tokens(self, lexer: lx.Lexer) -> tuple:
        """A variant entry line from the token stream, as dash_entry gives it,
        or (None, ...) at the end of the block."""
        tok = lexer.check_next_nw((lx.Ident, lx.At, lx.Indent, lx.EndBlock))
        if type(tok) is lx.EndBlock:
            return None, None, None, None
        if type(tok) is lx.Indent:
            lexer.check_next_nw((lx.Dash,))
            tok = lexer.check_next_nw((lx.Ident, lx.At))
        if type(tok) is lx.At:
            is_default = True
            name = lexer.until_check((lx.Ident, lx.Dot), (lx.Colon,))
        else:
            is_default = False
            name = [tok] + lexer.until_check((lx.Ident, lx.Dot), (lx.Colon,))
        if len(name) == 2:
            raw_name = [name[0]]
            name = raw_name
        else:
            raw_name = name[:-1]
            name = [x for x in name[:-1] if isinstance(x, lx.Ident)]
        tok = lexer.next()
        while type(tok) is lx.White:
            tok = lexer.next()
        deps: list = []
        if type(tok) is not lx.EndL:
            deps = parse_filter(lexer, [tok] + lexer.until((lx.EndL,)), self.table)
        raw = tuple(DOT if type(t) is lx.Dot else t for t in raw_name)
        return is_default, [str(n) for n in name], raw, deps
