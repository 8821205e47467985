# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""The config language against avocado-vt 113.0's output (baked into expected.json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kvmtest.config import MissingIncludeError, Parser, ParserError
from kvmtest.config.api import expansion
from kvmtest.config.reference.build import ExactBuilder

from .cases import CASES, ERRORS

ROOT = Path(__file__).resolve().parents[2]

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "expected.json")) as _f:
    EXPECTED = json.load(_f)


def write_files(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def parse_case(tmp_path, case) -> Parser:
    write_files(tmp_path, case["files"])
    p = Parser(defaults=case.get("defaults", False), expand_defaults=case.get("expand", []))
    p.parse_file(str(tmp_path / case.get("main", "main.cfg")))
    for s in case.get("strings", []):
        p.parse_string(s)
    return p


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_avocado_vt(tmp_path, name):
    got = list(parse_case(tmp_path, CASES[name]).get_dicts())
    assert got == EXPECTED[name]
    # same key order too (matters for _min/_max post-processing)
    assert [list(d) for d in got] == [list(d) for d in EXPECTED[name]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_builder_agrees(tmp_path, name):
    """The memoizing builder and the plain replaying one give the same dicts."""
    p = parse_case(tmp_path, CASES[name])
    t = p._tree
    exact = ExactBuilder(t.table.names, t.table.longs, True)
    from kvmtest.config.reference.build import finish

    got = [finish(exact.build(leaf), True) for leaf in p._walker(expansion(p._tree)).leaves()]
    assert got == EXPECTED[name]


def test_some_expectations_by_hand(tmp_path):
    """Spot checks readable without expected.json."""
    got = list(parse_case(tmp_path, CASES["basic"]).get_dicts())
    assert [d["name"] for d in got] == ["red.one", "red.two", "blue.one", "blue.two"]
    assert got[2]["c"] == "z" and got[2]["b"] == "x" and got[0]["a"] == "1"
    deps = list(parse_case(tmp_path / "d", CASES["dotted_label_and_deps"]).get_dicts())
    reboot = [d for d in deps if d["shortname"] == "RHEL.8.reboot"][0]
    assert reboot["dep"] == ["RHEL.8.boot"]
    ops = list(parse_case(tmp_path / "o", CASES["operators"]).get_dicts())[0]
    assert ops["a"] == "012" + "first" and ops["b"] == "first" and ops["c"] == "quoted value"
    assert ops["f"] == "012/${missing}/${a}" and ops["name"] == "v"
    mm = list(parse_case(tmp_path / "m", CASES["min_max_fixed"]).get_dicts())[0]
    assert (mm["mem"], mm["cpus"], mm["disk"], mm["drive"]) == ("512", "4", "2048M", "virtio")


def test_pipe_is_or(tmp_path):
    a = list(parse_case(tmp_path / "a", CASES["filter_pipe_extension"]).get_dicts())
    b = list(parse_case(tmp_path / "b", CASES["filter_whitespace_or"]).get_dicts())
    assert a == b and len(a) == 3


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_name_file_and_line(tmp_path, name):
    files, where, cls, linenum = ERRORS[name]
    write_files(tmp_path, files)
    p = Parser()
    with pytest.raises(ParserError) as info:
        p.parse_file(str(tmp_path / "main.cfg"))
    err = info.value
    assert type(err).__name__ == cls
    assert err.linenum == linenum
    assert err.filename.endswith(where)
    assert err.line  # the offending text
    assert "%s" % err  # printable


def test_missing_include_attributes(tmp_path):
    (tmp_path / "main.cfg").write_text("include nope.cfg\n")
    with pytest.raises(MissingIncludeError) as info:
        Parser().parse_file(str(tmp_path / "main.cfg"))
    e = info.value
    assert (e.filename, e.linenum, e.line) == (str(tmp_path / "main.cfg"), 1, "include nope.cfg")
    assert e.msg


def test_errors_raised_while_parsing_not_lazily():
    p = Parser()
    with pytest.raises(ParserError):
        p.parse_string("variants:\n    - a:\nonly (a\n")


def test_bad_token_in_last_variant_entry_is_an_error_not_a_hang():
    # the entry reader used to loop for ever at the end of such a text
    import signal

    def hang(signum, frame):
        raise AssertionError("parse_string did not return")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(10)
    try:
        with pytest.raises(ParserError) as info:
            Parser().parse_string("variants:\n    - b:\n - x = 1\n")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert info.value.linenum == 3


def test_parse_string_appends_and_programmatic_filters():
    p = Parser()
    p.parse_string("variants:\n    - a:\n    - b:\n")
    p.parse_string("variants:\n    - x:\n    - y:\n")
    assert len(list(p.get_dicts())) == 4
    p.only_filter("a")
    p.no_filter("y")
    p.assign("k", "v")
    got = list(p.get_dicts())
    assert [d["name"] for d in got] == ["x.a"] and got[0]["k"] == "v"
    assert p.only_filters == ["only a"] and p.no_filters == ["no y"]


_LAZY_SCRIPT = """
import collections.abc, gc
from kvmtest.config import Parser, api
p = Parser()
gc.freeze()  # (someone else froze first: the Parser leaves the freeze alone)
p.parse_string("variants:\\n" + "".join("    - v%d:\\n" % i for i in range(50)))
gc.unfreeze()
assert gc.get_freeze_count() == 0 and api._HOLDERS[0] == 0
gen = p.get_dicts()
assert isinstance(gen, collections.abc.Generator)
assert gc.get_freeze_count() == 0  # (lazy: nothing done before the first item)
assert next(gen)["name"] == "v0"
assert gc.get_freeze_count() > 0  # the walk froze the tree
assert next(gen)["name"] == "v1"
gen.close()
try:
    next(gen)
    raise AssertionError("a closed generator yielded")
except StopIteration:
    pass
assert gc.get_freeze_count() == 0  # closing it ended the freeze it took
print("ok")
"""


def test_get_dicts_is_a_lazy_generator():
    """A generator by protocol (the compiled build's is not a CPython
    ``types.GeneratorType``): lazy, closable, and closing it ends the GC
    freeze it took for the walk.  In a fresh interpreter: in this one, objects
    frozen or freed by earlier tests move the freeze count under the test."""
    res = subprocess.run([sys.executable, "-c", _LAZY_SCRIPT], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert res.returncode == 0 and res.stdout == "ok\n", res.stderr


_FREEZE_SCRIPT = """
import copy, gc
from kvmtest.config import Parser, api
assert gc.get_freeze_count() == 0 and api._HOLDERS[0] == 0
p = Parser()
p.parse_string("variants:\\n" + "".join("    - v%d:\\n" % i for i in range(50)))
assert gc.get_freeze_count() > 0 and api._HOLDERS[0] == 1
q = copy.copy(p)
assert len(list(q.get_dicts())) == 50
del p
assert gc.get_freeze_count() == 0 and api._HOLDERS[0] == 0
del q
assert api._HOLDERS[0] == 0
print("ok")
"""


def test_a_parser_holds_the_gc_freeze_while_it_lives():
    """The parsed tree is frozen out of the cyclic GC's scans while its Parser
    lives (api._hold_freeze); the last Parser gone (a copy does not hold it)
    unfreezes it, once.  In a fresh interpreter: this one froze objects before."""
    res = subprocess.run([sys.executable, "-c", _FREEZE_SCRIPT], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert res.returncode == 0 and res.stdout == "ok\n", res.stderr


# (the sentinel's class in a module of its own: one defined in the script would
# hold __main__'s globals in a frozen cycle, and they would never be freed)
_SENTINEL = """
import os

class Sentinel:  # put in the tree: says when the tree is torn down
    def __del__(self, write=os.write):
        write(1, b"tree freed\\n")
"""
_EXIT_SCRIPT = """
import sys
from kvmtest.config import Parser
from sentinel import Sentinel

p = Parser()
p.parse_string("a = 1\\nvariants:\\n    - x:\\n")
assert len(list(p.get_dicts())) == 1
p._tree.node.content.append(Sentinel())  # (after the walk, which reads the content)
if sys.argv[1] == "del":
    del p
    print("parser gone", flush=True)
"""


@pytest.mark.parametrize("when, out", [("del", "tree freed\nparser gone\n"), ("exit", "")])
def test_a_parsed_tree_is_freed_with_its_parser_but_left_to_the_os_at_exit(tmp_path, when, out):
    """A Parser freed while the program runs frees its tree (api._hold_freeze's
    cycle is broken); one still alive at interpreter exit leaves its tree to
    the OS instead of tearing it down object by object (no "tree freed")."""
    (tmp_path / "sentinel.py").write_text(_SENTINEL)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    res = subprocess.run([sys.executable, "-c", _EXIT_SCRIPT, when], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, env=env)
    assert res.returncode == 0 and res.stdout == out, (res.stdout, res.stderr)


def test_name_map_files(tmp_path):
    got = list(parse_case(tmp_path, CASES["include"]).get_dicts())
    assert got[0]["_name_map_file"] == {"inc.cfg": "p"}
    assert got[1]["_short_name_map_file"] == {"inc.cfg": "q"}
    no_maps = list(parse_case(tmp_path / "n", CASES["include"]).get_dicts(maps=False))
    assert "_name_map_file" not in no_maps[0]


def test_dicts_after_more_text_is_parsed_match_a_fresh_parse():
    """Name parts cached on the tree's nodes by a first get_dicts() (fast.build.FrameNames:
    Node.name_parts) stay right when more text is parsed on top of the tree."""
    first = "a = 1\nvariants:\n    - x1:\n        b = 2\n    - x2:\n"
    more = "variants:\n    - y1:\n        c = 3\n    - @y2:\n"
    used = Parser()
    used.parse_string(first)
    assert expansion(used._tree) == "fast"
    assert len(list(used.get_dicts())) == 2
    used.parse_string(more)
    fresh = Parser()
    fresh.parse_string(first)
    fresh.parse_string(more)
    got = [list(d.items()) for d in used.get_dicts()]
    assert got == [list(d.items()) for d in fresh.get_dicts()]
    assert [d[0] for d in got] == [("name", "y1.x1"), ("name", "y1.x2"), ("name", "y2.x1"),
                                   ("name", "y2.x2")]
