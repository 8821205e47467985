"""The parser's fast lanes read lines as the token way does (avocado-vt 113.0's
answers noted where they were checked against it)."""

from __future__ import annotations

import random

import pytest

from kvmtest.config import Parser, ParserError
from kvmtest.config import lexer as lx


@pytest.mark.parametrize("text", [
    "variants:\n    - a:\n    x b:\n",  # (was read as "- b:")
    "variants:\n    - a:\n    :\n",  # (was an IndexError)
    "variants:\n    - a:\n        x = 1\n    :\n",
])
def test_variant_block_line_without_dash(text):
    # avocado-vt: "Expected ['-'] got ..." at the last line
    with pytest.raises(ParserError) as info:
        Parser().parse_string(text)
    assert "'-'" in str(info.value)
    assert info.value.linenum == text.count("\n")


def _ops(text):
    p = Parser()
    p.parse_string(text)
    t = p._tree
    out = [(type(x).__name__, getattr(x, "values", None) or (x.op, x.name, x.value, x.linenum))
           for x in t.node.content]
    return out, [tuple(a) for a in t.assignments("a")], t.reserved_refs


def test_append_and_dollar_lines_as_the_token_way():
    text = "a = 1\nb = 2\na += x\nc = $a\na += $b\n= y\nb += 'q'\na = ${name}\na = 3\n"
    ops, asg, reserved = _ops(text)
    assert ops == [
        ("PreDict", {"a": "1x", "b": "2"}),
        ("Op", ("=", "c", "$a", 4)),
        ("Op", ("+=", "a", "$b", 5)),
        ("PreDict", {"": "y"}),
        ("Op", ("+=", "b", "q", 7)),  # (b is not pending: no merge)
        ("Op", ("=", "a", "${name}", 8)),
        ("PreDict", {"a": "3"}),
    ]
    assert [a[1:4] for a in asg] == [(1, "=", "1"), (3, "+=", "x"), (5, "+=", "$b"),
                                     (8, "=", "${name}"), (9, "=", "3")]
    assert reserved


# avocado-vt 113.0's params (without name/shortname/dep/map files) after "b = 0"
APPEND_LINES = {
    "a + = 1": {"a +": "1"},
    "a ++= 1": {"a +": "1"},
    "a ?+= 1": {},
    "only += 1": None,  # an error
    "a_max += 1": {"a": "1", "a_max": "1"},
    "a += :x": {"a": ":x"},
    "a +=:x": None,
    "a:b += 1": {},
    "a\t+= 1": {"a": "1"},
    "a += x $y": {"a": "x $y"},
    "= y": {"": "y"},
    "a += 'q'": {"a": "q"},
}


@pytest.mark.parametrize("line", sorted(APPEND_LINES))
def test_unusual_assignment_lines(line):
    p = Parser()
    want = APPEND_LINES[line]
    if want is None:
        with pytest.raises(ParserError):
            p.parse_string("b = 0\n" + line + "\n")
        return
    p.parse_string("b = 0\n" + line + "\n")
    skip = ("name", "shortname", "dep", "_name_map_file", "_short_name_map_file", "b")
    got = [{k: v for k, v in d.items() if k not in skip} for d in p.get_dicts()]
    assert got == [want]


def test_chunked_lines_are_splitlines():
    pieces = ["a", "b = c", "\n", "\r\n", "\r", "\x0c", "\u2028", "\x1c", "\x85", " ", "\n\n"]
    rng = random.Random(3)
    old = lx._CHUNK
    lx._CHUNK = 5
    try:
        for _ in range(3000):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
            assert list(lx.Reader(text, "f", False).lines) == text.splitlines()
        plain = ["a", "b = c", "\n", " ", "\n\n", "\xe9", "\t"]  # (split("\n") per chunk)
        for _ in range(3000):
            text = "".join(rng.choice(plain) for _ in range(rng.randint(0, 25)))
            assert lx.only_newlines(text)
            assert list(lx.Reader(text, "f", False).lines) == text.splitlines()
        for odd in pieces[3:9] + ["\v", "\x1d", "\x1e", "\u2029"]:
            assert not lx.only_newlines("a" + odd + "\xe9")
    finally:
        lx._CHUNK = old


def test_read_text_as_text_mode(tmp_path):
    from kvmtest.config.parser import read_text

    for data in [b"a = 1\r\nb = 2\rc = 3\n\r\n", b"", b"\xc3\xa9 = \xe2\x80\xa8x\r", b"x\r\r\n"]:
        path = tmp_path / "t.cfg"
        path.write_bytes(data)
        with open(path, encoding="utf-8") as f:
            assert read_text(str(path)) == f.read()
    assert read_text("/dev/null") == ""
    path.write_bytes(b"a = \xff\n")
    with pytest.raises(ParserError, match="not UTF-8"):  # (see test_input_errors)
        read_text(str(path))


def _runs(log):
    """(file index, first line number, last line number, lines or None) of each
    run of plain sets the fast lane logged."""
    entries = log.entries
    i, fid = 0, 0
    while i < len(entries):
        e = entries[i]
        if type(e) is str:
            i += 5
        elif e < 0:
            fid = ~e
            i += 1
        else:
            yield fid, e + 1, entries[i + 1], entries[i + 2]
            i += 3


def _check_runs(p: Parser) -> int:
    """The fast lane's runs and scan.plain_set (which resolves them for
    assignments_of) agree: every line of a run is a plain set, a blank line or a
    comment, and plain_set reads each set as avocado-vt's split does."""
    from kvmtest.config.scan import plain_set

    log = p._tree.log
    checked = 0
    split: dict = {}
    for fid, num, last, lines in _runs(log):
        if lines is None:
            if fid not in split:
                split[fid] = log.texts[fid].splitlines()
            lines = split[fid][num - 1:last]
        for line in lines:
            t = line.strip()
            got = plain_set(line)
            if not t or t.startswith(("#", "//")):
                assert got is None, line
                continue
            assert got is not None, line
            name, op, value = lx.fast_assignment(t)
            if value and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            assert (name, op, value) == (got[0], "=", got[1]), line
            checked += 1
    return checked


def test_fast_lane_runs_agree_with_plain_set_on_random_configs():
    from .gen import random_config

    rng = random.Random(11)
    checked = 0
    for _ in range(300):
        p = Parser()
        try:
            p.parse_string(random_config(rng))
        except ParserError:
            continue
        checked += _check_runs(p)
    assert checked > 20


def test_fast_lane_runs_agree_with_plain_set_on_the_corpus():
    import os

    bench = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench")
    path = os.path.join(bench, "medium.cfg")
    if not os.path.exists(path):
        pytest.skip("no shared corpus next to the checkout")
    p = Parser()
    p.parse_file(path)
    assert _check_runs(p) > 30000
