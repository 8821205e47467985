# ruff: noqa: UP031  (the regular expressions as filters.py had them)
"""kvmtest.config.text against the regular expressions it stands for.

Each hand-written matcher must give ``re``'s answer: on generated text over an
alphabet of the characters that matter (word characters of several scripts,
digits that are not ASCII, every kind of blank, the separators, dots, colons,
``${}``, newlines), on hand-picked edge cases, and on every line of the shipped
configs and of the shared corpus when it is there.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvmtest.config import text
from tests.hypo import examples

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

_ELEM = r"[\w-]+"
_WORD = r"%s(?:\.\.?%s)*" % (_ELEM, _ELEM)
PLAIN_NAME = re.compile(r"[\w.][\w.-]*\Z")
KEYWORD_START = re.compile(r"-|variants[: ]|only |no |include |del |suffix |join ")
FAST_OPS = re.compile(r"=|\+=|<=|~=|\?=|\?\+=|\?<=")
VARIANTS_LINE = re.compile(r"variants(?::| +([\w-]+) *:)\Z")
DASH_LINE = re.compile(r"- *(@?)([\w-]+(?:\.[\w-]+)*):(.*)")
LIST = re.compile(r"%s(?:(?:[,|] *| +)%s)*\Z" % (_WORD, _WORD))
LIST_SEP = re.compile(r"[,|] *| +")
COND = re.compile(r"(%s(?: *[,|] *%s)*) *:" % (_WORD, _WORD))
COND_SEP = re.compile(r" *[,|] *")
SUBST = re.compile(r"\$\{(.+?)\}")
STATEMENT = re.compile(r"^[ \t\f\v]*(?:[^\s#/]|/(?!/))", re.M)
IDENT_RUN = re.compile(r"[\w-]*")
SPACE_RUN = re.compile(r"\s*")

# word characters of several scripts and digit kinds (\w is str.isalnum() or "_"),
# every blank \s knows, and the characters the patterns treat specially
ALPHABET = ("aZ_9-.,|:;@=+<~?$ {}#/\\\n\t\r\x0b\x0c\x1c\x85\xa0\u2003\u3000é"
            "ß\u0663\u00b2\u2167\u4e00\u05d0\u0301\u200b!'\"[]()")
texts = st.text(alphabet=ALPHABET, max_size=24)
# mostly the shapes the patterns accept, so that matches are common
shaped = st.lists(st.sampled_from(["a", "b1", "x-y", "_", "é", "\u0663", ".", "..", "...", ",",
                                   "|", " ", "  ", ":", "@", "-", "variants", "only ", "=", "+",
                                   "?", "<", "~", "${", "}", "\n", "\t"]),
                  max_size=10).map("".join)
anything = st.one_of(texts, shaped)


def _regex_answers(s: str) -> dict:
    m = FAST_OPS.search(s)
    v = VARIANTS_LINE.match(s)
    d = DASH_LINE.match(s)
    c = COND.match(s)
    return {
        "plain_name": PLAIN_NAME.match(s) is not None,
        "keyword_start": KEYWORD_START.match(s) is not None,
        "fast_op": None if m is None else (m.start(), m.end()),
        "variants_line": None if v is None else (v.group(1) or ""),
        "dash_line": None if d is None else (d.group(1) == "@", d.group(2), d.group(3)),
        "word_list": LIST_SEP.split(s) if LIST.match(s) else None,
        "cond_words": None if c is None else (COND_SEP.split(c.group(1)), c.end()),
        "subst_refs": [(x.start(), x.end(), x.group(1)) for x in SUBST.finditer(s)],
        "has_statement": STATEMENT.search(s) is not None,
        "is_literal_name": None,  # (checked through key_pattern below)
    }


def _check(s: str) -> None:
    want = _regex_answers(s)
    for name, expected in want.items():
        if expected is None and name == "is_literal_name":
            continue
        got = getattr(text, name)(s)
        assert got == expected, (name, s, got, expected)
    for i in range(len(s) + 1):
        assert text.elem_end(s, i) == IDENT_RUN.match(s, i).end(), (s, i)
        assert text.space_end(s, i) == SPACE_RUN.match(s, i).end(), (s, i)
    # a ?=/del key pattern: the same keys as re's, literal or not
    try:
        exp = re.compile(s + "$")
    except (re.error, RecursionError, OverflowError):
        with pytest.raises(text.BadPattern):
            text.key_pattern(s)
        return
    pattern = text.key_pattern(s)
    for key in {s, s + "\n", s + "x", s[:-1], s.upper(), "a", "a-b", "", "x" + s}:
        assert bool(pattern.match(key)) == bool(exp.match(key)), (s, key)


# (generated text such as "[[" makes re warn of a future change to sets: a pattern's own matter)
@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=examples(3000), deadline=None)
@given(anything)
def test_matchers_agree_with_re_on_generated_text(s):
    _check(s)


EDGES = [
    "", "-", "--", "a", "a-", "-a", ".a", "a.", "a..b", "a...b", "a.-b", "\u0663", "\u00b2x",
    "a = b", "a += b", "a ?+= b", "a ?<= b", "a~+= b", "a+?= b", "<?=", "=", "?", "a == b",
    "variants:", "variants :", "variants  x :", "variants x: ", "variants x.y:", "variants:x",
    "variants_x:", "- a:", "-  @a.b: c d", "-@a:", "- a..b:", "- a.:", "- a:\nb", "- a :",
    "a b", "a, b", "a ,b", "a,b|c", "a  b ", "a,", ",a", "a:", "a, b:x", "a , b :  y", "a,:",
    "a..b, c.d: e", "${a}", "${}", "${}}", "${}x}", "${a\n}${b}", "$${a}}", "${a}${b}",
    "# c\n  // d\n", "  /x", "//", "/", " \t\x0b\x0c#x\n\r a", "\n\n", "x\n", " \u3000a",
    "a|b", "only a", "no  b", "include x", "del k", "suffix _s", "join a b", "variants",
]


@pytest.mark.parametrize("s", EDGES)
def test_matchers_agree_with_re_on_edge_cases(s):
    _check(s)


def _config_lines() -> list:
    paths = glob.glob(os.path.join(ROOT, "cfg", "*.cfg"))
    paths += glob.glob(os.path.join(ROOT, "samples", "**", "*.cfg"), recursive=True)
    shared = os.path.join(ROOT, "..", "shared", "bench")
    paths += glob.glob(os.path.join(shared, "*.cfg")) + glob.glob(os.path.join(shared, "qemu",
                                                                              "*.cfg"))
    lines = set()
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                stripped = line.strip()
                lines.add(stripped)
                lines.add(stripped.partition("=")[0].strip())  # (a key: plain_name's input)
                lines.add(stripped.partition("=")[2].strip())  # (a value: subst_refs')
    return sorted(lines)


def test_matchers_agree_with_re_on_every_config_line():
    lines = _config_lines()
    assert len(lines) > 100  # (the shipped configs at least)
    for s in lines:
        want = _regex_answers(s)
        for name, expected in want.items():
            if name != "is_literal_name":
                assert getattr(text, name)(s) == expected, (name, s)


def test_whole_text_statement_search():
    body = "# only comments\n\n   // and this\n"
    assert not text.has_statement(body * 50)
    assert text.has_statement(body * 50 + "  x = 1\n")
    assert text.has_statement("x")


def test_importing_and_expanding_a_config_does_not_load_re():
    """The point of text.py: a CLI run or a control file on a config without regex
    key patterns never imports re (~7 ms of CPU: re, enum, functools, collections)."""
    cfg = os.path.join(ROOT, "samples", "kvm_tests.cfg")
    code = ("import sys\n"
            "from kvmtest.config import Parser\n"
            "assert 're' not in sys.modules, 'imported by kvmtest.config'\n"
            "p = Parser()\n"
            "p.parse_file(sys.argv[1])\n"
            "n = sum(1 for _ in p.get_dicts())\n"
            "assert n > 0\n"
            "assert 're' not in sys.modules, 'imported while parsing or expanding'\n"
            "p.parse_string('x ?= 1\\ny.* ?= 2')\n"
            "sum(1 for _ in p.get_dicts())\n"
            "assert 're' in sys.modules  # (a real pattern: re, lazily)\n")
    subprocess.run([sys.executable, "-c", code, cfg], check=True, cwd=ROOT)
