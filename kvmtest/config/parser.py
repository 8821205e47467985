# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Statement parser: builds the variant DAG exactly as avocado-vt 113.0 does.

The structure (pre-dict batching of plain sets, where ops land, how variant
nodes wrap the tree built so far) follows avocado-vt's ``Parser._parse``
because the resulting op order *is* the semantics.
"""

from __future__ import annotations

import mmap
import os

from . import lexer as lx
from .errors import MissingIncludeError, ParserError
from .filters import WordCache, parse_filter, simple_condition
from .lexer import fast_assignment
from .scan import NOT_PLAIN, POSTFIX, AssignmentLog
from .text import (
    BadPattern,
    has_statement,
    key_pattern,
    keyword_start,
    plain_name,
    subst_refs,
    variants_line,
)
from .tree import (
    COND,
    JOIN,
    NO,
    NOTCOND,
    ONLY,
    RESERVED,
    Filter,
    LabelTable,
    Node,
    Op,
    PreDict,
    SuffixOp,
)
from .variants import DOT, VariantBlocks, block_name, dash_entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Set, Tuple, Type

    from .tree import Container

# (``tuple``: identity tested with ``is``, which mypyc keeps only for a boxed tuple)
_BLOCK_ALLOWED: tuple = (lx.Variants, lx.Ident, lx.Only, lx.No, lx.Include, lx.Del, lx.Not,
                  lx.Suffix, lx.Join)
_VARIANTS_ALLOWED: tuple = (lx.Dash,)
_IDENT_ENDS = (lx.Oper, lx.Colon, lx.EndL)
_VARIANTS_IN = (lx.LBracket, lx.Colon, lx.Ident, lx.EndL)
_INDENTS = (lx.Indent, lx.EndBlock)
_NO_META: Dict[str, list] = {}
_INDENTED = tuple(" " * n for n in range(64))
_KEYWORD_FIRST = frozenset("-vonidsj")  # first characters of text.keyword_start's prefixes
# a value with none of these substitutes no reserved key (the exact test is subst_refs')
_RESERVED_REFS = tuple("${%s}" % key for key in sorted(RESERVED))
_OPS = {op: op for op in ("=", "+=", "<=", "~=", "?=", "?+=", "?<=")}  # one string each


def _noted(keys: Set[str], key: str) -> bool:
    """Add ``key`` to ``keys``; True (for use inside a condition)."""
    keys.add(key)
    return True


def read_text(path: str) -> str:
    """A file's text, as ``open(path, encoding="utf-8").read()`` gives it, but
    decoded at once from the mapped file (the text layer's chunked decoding
    and a copy of the bytes cost ~2 ms for medium.cfg's files).  Text that is
    not UTF-8 is a ParserError naming the file and line."""
    with open(path, "rb") as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty, or no regular file
            raw = f.read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(exc, raw, path) from None
        else:
            with data:
                try:
                    text = str(data, "utf-8")
                except UnicodeDecodeError as exc:
                    raise _not_utf8(exc, bytes(data), path) from None
    if "\r" in text:  # (universal newlines)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _not_utf8(exc: UnicodeDecodeError, data: bytes, path: str) -> ParserError:
    """The error for a file that is not UTF-8: file, line, column and the line."""
    start = data.rfind(b"\n", 0, exc.start) + 1
    end = data.find(b"\n", exc.start)
    line = data[start:end if end >= 0 else len(data)].decode("utf-8", "replace").rstrip("\r")
    return ParserError("not UTF-8 text (byte 0x%02x at column %d)" % (
        data[exc.start], exc.start - start + 1), line, path, data.count(b"\n", 0, exc.start) + 1)






class TreeBuilder(VariantBlocks):
    """Holds the root node and parses texts into it."""

    def __init__(self, defaults: bool, expand_defaults: List[str]) -> None:
        self.node = Node()
        self.table = LabelTable()
        self.words = WordCache(self.table)
        self.defaults = defaults
        self.expand_defaults = list(expand_defaults)
        self.has_suffix = False  # without `suffix`, keys never become tuples
        self.postfix_keys: set = set()  # assigned names ending in _max/_min/_fixed
        self.has_join = False  # `join` needs the recursive walker
        self.reserved_refs = False  # some value substitutes ${name} (or another reserved key)
        self.log = AssignmentLog()  # for Parser.assignments_of
        self.plain_keys: set = set()  # names the fast lane found plain (while parsing)
        # and the lines it took as plain sets, per block indentation: line -> (name, value)
        self.plain_lines: Dict[str, Dict[str, Tuple[str, str]]] = {}

    # ------------------------------------------------------------ entry points

    def parse_text(self, text: str, filename: Optional[str]) -> None:
        reader = lx.Reader(text, filename or "<string>", filename is None)
        lexer = lx.Lexer(reader, filename is not None)
        lexer.fid = self.log.fid(reader.filename, text if filename is not None else None)
        self.log.enter(lexer.fid)
        try:
            node = self._parse(lexer, self.node, -1)
            assert isinstance(node, Node)  # (_parse returns the node it was given)
            self.node = node
        except ParserError:
            raise
        except (StopIteration, IndexError, ValueError, TypeError, AttributeError,
                KeyError, RuntimeError) as exc:  # malformed text the port did not foresee
            raise ParserError("Syntax error (%s)" % type(exc).__name__, lexer.line,
                              lexer.filename, lexer.linenum) from exc
        finally:
            lexer.close()
            self.plain_keys.clear()
            self.plain_lines.clear()

    def parse_file(self, path: str) -> None:
        """Parse a top-level file; one without a statement is an error (avocado-vt
        gives one unnamed dict for it: a test nobody meant)."""
        text = read_text(path)
        if not has_statement(text):  # (see Reader: "#" and "//" start comments)
            raise ParserError("empty config: no statements (only blank lines and comments)"
                              if text.strip() else "empty config: the file is empty",
                              None, path, None)
        self.parse_text(text, path)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _flush(lexer: lx.Lexer, node: Container, pre: Dict[str, str]) -> Dict[str, str]:
        """The pending plain sets as a PreDict in ``node`` (none if there are
        none: an empty one changes no dict); returns the new pending dict."""
        if not pre:
            return pre
        node.content.append(PreDict(pre, lexer.filename, lexer.linenum))
        return {}

    def _record(self, name: str, lexer: lx.Lexer, op: str, value: str, linenum: int) -> None:
        self.log.add(name, linenum, op, value,
                     None if lexer.is_file else lexer.line)

    def assignments(self, name: str) -> List[tuple]:
        """(filename, linenum, op, value, line or None) of each statement assigning ``name``."""
        return self.log.find(name)

    def _err(self, lexer: lx.Lexer, msg: str) -> ParserError:
        return ParserError(msg, lexer.line, lexer.filename, lexer.linenum)

    @staticmethod
    def _apply_to_pre(op: Op, pre: Dict[str, str]) -> None:
        """Apply an op without ``$`` to the pending pre-dict (avocado-vt does)."""
        name, value, kind = op.name, op.value, op.op
        if kind in ("=", "+=", "<=", "~="):
            if name in RESERVED:
                return
            if kind == "=":
                pre[name] = value
            elif kind == "+=":
                pre[name] = pre.get(name, "") + value
            elif kind == "<=":
                pre[name] = value + pre.get(name, "")
            elif name not in pre:
                pre[name] = value
            return
        try:
            exp = key_pattern(name)
        except BadPattern as exc:
            raise ParserError("Bad regular expression %r: %s" % (name, exc), None,
                              op.filename, op.linenum) from exc
        for key in pre:
            if key not in RESERVED and exp.match(key):
                if kind == "?=":
                    pre[key] = value
                elif kind == "?+=":
                    pre[key] += value
                else:
                    pre[key] = value + pre[key]

    # ------------------------------------------------------------ the parser

    def _statement(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str], tok: lx.Tok,
                   indent: int) -> Dict[str, str]:
        """One statement the token way (not variants, ``-``, ``suffix`` or
        ``include``, which change the block's state): an assignment or a
        condition (``tok`` an identifier), only/no/join, del, ``!cond:``.
        Returns the pre-dict."""
        typ = type(tok)
        if typ is lx.Ident:
            ident = lexer.until_no_white(_IDENT_ENDS)
            last = ident[-1]
            if type(last) is lx.Oper:
                if len(ident) == 1:
                    name = str(tok)
                else:
                    name = "".join(str(x) for x in [tok] + ident[:-1])
                value = lexer.check_next((lx.String,))
                pre = self._assign(lexer, node, pre, name, last.op, str(value))
                lexer.check_next((lx.EndL,))
            elif type(last) is lx.Colon:
                cfilter = parse_filter(lexer, [tok] + ident[:-1] + [lx.EndL()], self.table)
                pre = self._condition(lexer, node, pre, COND, cfilter, indent)
            else:
                raise self._err(lexer, 'Syntax ERROR expected ":" or operand')

        elif typ in (lx.Only, lx.No, lx.Join):
            words = parse_filter(lexer, lexer.rest_line(), self.table)
            if isinstance(node, Filter) and typ is lx.Join:
                raise self._err(lexer, "'join' is not allowed inside a conditional block")
            pre = self._flush(lexer, node, pre)
            kind = ONLY if typ is lx.Only else NO if typ is lx.No else JOIN
            if kind == JOIN:
                self.has_join = True
            node.content.append(Filter(kind, words, lexer.line, lexer.filename,
                                       lexer.linenum))

        elif typ is lx.Del:
            to_del = lexer.check_next_nw((lx.Ident,))
            lexer.check_next_nw((lx.EndL,))
            pre = self._flush(lexer, node, pre)
            node.content.append(Op("del", str(to_del), "None", lexer.filename,
                                   lexer.linenum))

        elif typ is lx.Not:
            toks = lexer.until_no_white((lx.Colon, lx.EndL))
            if type(toks[-1]) is not lx.Colon:
                raise self._err(lexer, 'Syntax ERROR expected ":"')
            words = parse_filter(lexer, toks[:-1], self.table)
            pre = self._condition(lexer, node, pre, NOTCOND, words, indent)
        else:  # pragma: no cover - check_next enforces allowed types
            raise self._err(lexer, "Syntax ERROR expected")
        return pre

    def _variants_header(self, lexer: lx.Lexer) -> Tuple[str, bool, Dict[str, list]]:
        """The rest of a ``variants [meta] name:`` line the token way:
        (block name, whether expand_defaults can name it, meta)."""
        toks: Optional[List[lx.Tok]] = lexer.until_no_white(_VARIANTS_IN)
        assert toks is not None
        vtok = toks[-1]
        var_name = ""
        var_comparable = True
        meta: Dict[str, list] = {}
        while type(vtok) not in (lx.Colon, lx.EndL):
            if type(vtok) is lx.Ident:
                if var_name != "":
                    raise self._err(lexer, 'Syntax ERROR expected "[" or ":"')
                var_name, var_comparable = block_name(toks)
            elif type(vtok) is lx.LBracket:
                ident = lexer.check_next_nw((lx.Ident,))
                t2 = lexer.check_next_nw((lx.Oper, lx.RBracket))
                if type(t2) is lx.RBracket:
                    meta.setdefault(str(ident), []).append(True)
                else:
                    assert isinstance(t2, lx.Oper)  # (check_next_nw)
                    if t2.op != "=":
                        raise self._err(lexer, 'Syntax ERROR expected "="')
                    words = lexer.until_no_white((lx.RBracket, lx.EndL))
                    if type(words[-1]) is not lx.RBracket:
                        raise self._err(lexer, 'Syntax ERROR expected "]"')
                    meta.setdefault(str(ident), []).append(
                        tuple(DOT if type(t) is lx.Dot else t for t in words[:-1]))
            vtok = lexer.check_next_nw(_VARIANTS_IN)
            toks = None  # (see block_name)
        for wd in meta.get("default", ()):
            if not isinstance(wd, tuple):
                raise self._err(lexer, "Syntax ERROR expected [default=xxx]")
        if type(vtok) is lx.EndL:
            raise self._err(lexer, 'Syntax ERROR expected ":"')
        lexer.check_next_nw((lx.EndL,))
        return var_name, var_comparable, meta

    def _plain_lines(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str],
                     indented: str) -> Dict[str, str]:
        """The fast lane's run of plain ``name = value`` lines, straight into the
        pre-dict as _assign would store them (scan.plain_set is the reference
        for what is taken; inline here, the common case, for speed); then the
        first other line is peeked as Reader._peek would.  Returns the pre-dict
        (a ``name += value`` or ``$`` value in the run flushes it: _op_line).

        Called once per other line of a config (~10,000 times for tp-qemu's
        subtests.cfg): what only a new line needs is looked up there."""
        reader = lexer.reader
        seen = self.plain_lines.get(indented)  # line -> (name, value), see __init__
        if seen is None:
            seen = self.plain_lines[indented] = {}
        first = pos = reader.pos
        last = 0
        for s in reader.lines:
            pos += 1
            got = seen.get(s)  # (half of the plain sets repeat a line taken before;
            # a method call on the dict, not a bound method: mypyc calls the dict's C get)
            if got is not None:
                pre[got[0]] = got[1]
                last = pos
                continue
            k, eq, v = s.partition("=")
            if eq and not (reader.has_tab and "\t" in s):
                key = k.strip()
                if ((key in self.plain_keys  # (else checked, and noted if plain)
                        or (key.isidentifier() or plain_name(key))
                        and key not in NOT_PLAIN and not key.endswith(POSTFIX)
                        and _noted(self.plain_keys, key))
                        and k.startswith(indented)):  # (other blanks: exact way)
                    v = v.strip()
                    if not v or "$" not in v and v[0] not in "\"':":
                        pre[key] = v
                        seen[s] = (key, v)
                        last = pos
                        continue
                    c = v[0]
                    if c == ":":
                        kind = ""
                    elif "$" not in v:  # quoted
                        if v[-1] == c:
                            v = v[1:-1]
                        pre[key] = v
                        seen[s] = (key, v)
                        last = pos
                        continue
                    else:
                        kind = "="  # a value with "$": an Op
                elif k[-1:] == "+" and k.startswith(indented):  # "name += value"
                    key = key[:-1].rstrip()
                    kind = ""
                    if ((key.isidentifier() or plain_name(key))
                            and key not in NOT_PLAIN and not key.endswith(POSTFIX)):
                        v = v.strip()
                        if not v or v[0] != ":":
                            kind = "+="
                else:
                    kind = ""
                if kind:  # as _assign (after the run so far)
                    if last:
                        self.log.entries += (first, last, None if lexer.is_file or reader.raw is None
                                             else reader.raw[first:last])
                        last = 0
                    first = pos
                    pre = self._op_line(lexer, node, pre, key, kind, v, pos, s)
                    continue
            s = s.rstrip()
            if "\t" in s:
                s = s.expandtabs()
            t = s.lstrip()
            if t and t[0] != "#" and (t[0] != "/" or t[:2] != "//"):
                reader.peeked = (t, len(s) - len(t), pos)
                break
        reader.pos = pos
        if last:  # a run: see AssignmentLog
            self.log.entries += (first, last, None if lexer.is_file or reader.raw is None
                                 else reader.raw[first:last])
        return pre

    def _block(self, lexer: lx.Lexer, node: Container, prev_indent: int) -> Container:
        """``_parse(lexer, node, prev_indent)``; a block of plain sets only (most
        variants' and conditions' bodies) is read here, without it."""
        reader = lexer.reader
        peeked = reader.peeked  # (a local: mypy must not narrow reader.peeked to None,
        # which mypyc's compiled build would check at the read below)
        if reader.stored is not None or lexer.rest_as_string or peeked is not None:
            return self._parse(lexer, node, prev_indent)
        lexer.fast = True  # (as _parse: its fast lane, up to the first other line)
        pre = self._plain_lines(lexer, node, {}, _INDENTED[prev_indent + 1]
                                if prev_indent < 63 else " " * (prev_indent + 1))
        nxt = reader.peeked
        if nxt is None or nxt[1] <= prev_indent:  # (peeked None: the end of the text)
            lexer.line, lexer.linenum = None, -1 if nxt is None else nxt[2]
            if pre:
                node.content.append(PreDict(pre, lexer.filename, lexer.linenum))  # (_flush)
            return node
        return self._parse(lexer, node, prev_indent, pre)

    def _parse(self, lexer: lx.Lexer, node: Container, prev_indent: int,
               pre: Optional[Dict[str, str]] = None) -> Container:
        """Statements of a block (lines indented deeper than ``prev_indent``) into
        ``node``; ``pre``: plain sets read before (see _block)."""
        allowed: Tuple[Type[lx.Tok], ...] = _BLOCK_ALLOWED
        var_indent = 0
        var_name = ""
        var_comparable = True  # see variants.block_name
        meta: Dict[str, list] = _NO_META  # set by each `variants` line
        if pre is None:
            pre = {}
        suffix = None
        lexer.fast = True
        wcache = self.words
        reader = lexer.reader
        # a line of this block starts so
        indented = _INDENTED[prev_indent + 1] if prev_indent < 63 else " " * (prev_indent + 1)
        while True:
            if (reader.stored is None and not lexer.rest_as_string
                    and (lexer.fast or allowed is _VARIANTS_ALLOWED)):
                # fast lane: common lines read straight from the reader, without the
                # token stream (which is between lines here, so it simply goes on
                # after them); anything unusual is left to the token way below
                if allowed is _BLOCK_ALLOWED and reader.peeked is None:
                    pre = self._plain_lines(lexer, node, pre, indented)
                nxt = reader.peeked or reader._peek()
                if nxt is None or nxt[1] <= prev_indent:  # what the token way ends a block on
                    lexer.line, lexer.linenum = None, -1 if nxt is None else nxt[2]
                    if pre:
                        pre = self._flush(lexer, node, pre)
                    if suffix:
                        node.content.append(suffix)
                    return node
                line, indent, num = nxt
                c = line[0]
                if allowed is _VARIANTS_ALLOWED:
                    entry = dash_entry(line, wcache) if c == "-" else None
                    if entry is not None:
                        reader.peeked = None
                        lexer.line, lexer.linenum = line, num
                        node = self._variant_block(lexer, node, pre, indent, var_indent,
                                                   var_name, meta, entry, var_comparable)
                        pre = {}
                        allowed = _BLOCK_ALLOWED
                        continue
                elif (line.startswith("only ") if c == "o"
                      else c == "n" and line.startswith("no ")):
                    got = wcache.list(line[5 if c == "o" else 3:].lstrip())
                    if isinstance(got, tuple):
                        reader.peeked = None
                        lexer.line, lexer.linenum = line, num
                        content = node.content
                        if pre:  # (_flush)
                            content.append(PreDict(pre, lexer.filename, num))
                            pre = {}
                        content.append(Filter(ONLY if c == "o" else NO, got[0], line,
                                              lexer.filename, num, got[1]))
                        continue
                elif c not in _KEYWORD_FIRST or not keyword_start(line):
                    # (a line simple_condition takes has no operator before its colon)
                    cond = ((wcache.conds.get(line) or wcache.condition(line)) if line[-1] == ":"
                            else None)
                    if not cond:
                        fast = fast_assignment(line)
                        if fast is not None:
                            reader.peeked = None
                            lexer.line, lexer.linenum = line, num
                            pre = self._assign(lexer, node, pre, fast[0], fast[1], fast[2])
                            continue
                        cond = simple_condition(line, self.table)
                    if isinstance(cond, tuple):  # (as _condition does)
                        reader.peeked = None
                        lexer.line, lexer.linenum = line, num
                        if cond[1]:  # the text after the colon, read as the block's first line
                            reader.stored = (cond[1], indent + 1, num)
                        flt = Filter(COND, cond[0], line, lexer.filename, num,
                                     cond[2] if len(cond) > 2 else None)
                        self._block(lexer, flt, indent)
                        content = node.content
                        if pre:  # (_flush)
                            content.append(PreDict(pre, lexer.filename, lexer.linenum))
                            pre = {}
                        content.append(flt)
                        lexer.fast = True
                        continue
                elif c == "v" and not isinstance(node, Filter):
                    header = variants_line(line)  # (the token way reads it the same)
                    if header is not None:
                        reader.peeked = None
                        lexer.line, lexer.linenum = line, num
                        lexer.fast = False
                        var_name = header
                        var_comparable = True
                        meta = {}
                        allowed = _VARIANTS_ALLOWED
                        var_indent = indent
                        continue
            lexer.prev_indent = prev_indent
            tok = lexer.check_next(_INDENTS)
            if type(tok) is lx.EndBlock:
                if pre:
                    pre = self._flush(lexer, node, pre)
                if suffix:
                    node.content.append(suffix)
                return node
            assert isinstance(tok, lx.Indent)  # (check_next)
            indent = tok.length

            line = lexer.line or ""  # (None only at the end: an EndBlock)
            if (allowed is _BLOCK_ALLOWED and lexer.fast and not lexer.rest_as_string
                    and not lx.starts_with_keyword(line)):
                fast = fast_assignment(line)
                if fast is not None:
                    lexer.skip_line = True
                    pre = self._assign(lexer, node, pre, fast[0], fast[1], fast[2])
                    continue

            tok = lexer.check_next(allowed)
            typ = type(tok)

            if typ is lx.Dash:
                node = self._variant_block(lexer, node, pre, indent, var_indent, var_name, meta,
                                           None, var_comparable)
                pre = {}
                allowed = _BLOCK_ALLOWED

            elif typ is lx.Variants:
                if isinstance(node, Filter):
                    raise ParserError("'variants' is not allowed inside a conditional block",
                                      lexer.line, reader.filename, lexer.linenum)
                lexer.fast = False
                var_name, var_comparable, meta = self._variants_header(lexer)
                allowed = _VARIANTS_ALLOWED
                var_indent = indent

            elif typ is lx.Suffix:
                if pre:
                    pre = self._flush(lexer, node, pre)
                val = lexer.check_next((lx.Ident,))
                lexer.check_next((lx.EndL,))
                suffix = SuffixOp(str(val), lexer.filename, lexer.linenum)
                self.has_suffix = True

            elif typ is lx.Include:
                node, pre = self._include(lexer, node, pre, prev_indent)

            else:
                pre = self._statement(lexer, node, pre, tok, indent)

    def _assign(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str], name: str,
                kind: str, value: str) -> Dict[str, str]:
        """One assignment; returns the (possibly new) pending pre-dict."""
        if value and (value[0] == value[-1] == '"' or value[0] == value[-1] == "'"):
            value = value[1:-1]
        if name.endswith(("_max", "_min", "_fixed")):
            self.postfix_keys.add(name)
        self._record(name, lexer, _OPS.get(kind, kind), value, lexer.linenum)
        if kind == "=" and "$" not in value:
            if name not in RESERVED:
                pre[name] = value
            return pre
        return self._add_op(lexer, node, pre, name, kind, value, lexer.linenum)

    def _op_line(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str], name: str,
                 kind: str, value: str, linenum: int, line: str) -> Dict[str, str]:
        """``name = value`` with a ``$`` or ``name += value`` (a plain name, the
        value stripped) from the fast lane's loop: _assign without the token way."""
        if value and (value[0] == value[-1] == '"' or value[0] == value[-1] == "'"):
            value = value[1:-1]
        self.log.entries += (name, linenum, kind, value,  # (log.add)
                             None if lexer.is_file else line.strip())
        return self._add_op(lexer, node, pre, name, kind, value, linenum)

    def _add_op(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str], name: str,
                kind: str, value: str, linenum: int) -> Dict[str, str]:
        """The Op of an assignment that is no plain set (returns the pending pre-dict)."""
        op = Op(kind, name, value, lexer.filename, linenum)
        plain = not op.dollar
        if (not plain and not self.reserved_refs and "${" in value
                and any(ref in value for ref in _RESERVED_REFS)):
            self.reserved_refs = any(ref[2] in RESERVED for ref in subst_refs(value))
        if pre:
            if name in pre and plain:
                self._apply_to_pre(op, pre)
                return pre
            node.content.append(PreDict(pre, lexer.filename, linenum))  # (_flush)
            pre = {}
        node.content.append(op)
        return pre

    def _condition(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str], kind: int,
                   words: list, indent: int) -> Dict[str, str]:
        """A conditional block (the fast lane in _parse does the same inline)."""
        rest = str(lexer.rest_as_str())
        line = lexer.line
        if rest != "":
            lexer.reader.push_line(rest, indent + 1, lexer.linenum)
        cond = Filter(kind, words, line, lexer.filename, lexer.linenum)
        self._parse(lexer, cond, indent)
        pre = self._flush(lexer, node, pre)
        node.content.append(cond)
        lexer.fast = True
        return pre

    def _include(self, lexer: lx.Lexer, node: Container, pre: Dict[str, str],
                 prev_indent: int) -> tuple:
        path = str(lexer.rest_as_str())
        filename = os.path.expanduser(path)
        if lexer.is_file and not os.path.isabs(filename):
            filename = os.path.join(os.path.dirname(lexer.filename), filename)
        if not os.path.isfile(filename):
            raise MissingIncludeError(lexer.line, lexer.filename, lexer.linenum)
        pre = self._flush(lexer, node, pre)
        text = read_text(filename)
        sub = lx.Lexer(lx.Reader(text, filename, False), True)
        sub.fid = self.log.fid(filename, text)
        self.log.enter(sub.fid)
        try:
            node = self._parse(sub, node, -1)
        except ParserError:
            raise
        except (StopIteration, IndexError, ValueError, TypeError, AttributeError,
                KeyError, RuntimeError) as exc:
            raise ParserError("Syntax error (%s)" % type(exc).__name__, sub.line,
                              sub.filename, sub.linenum) from exc
        finally:
            sub.close()
        self.log.enter(lexer.fid)
        lexer.prev_indent = prev_indent
        lexer.fast = True
        return node, pre
