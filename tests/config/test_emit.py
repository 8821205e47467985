# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""The fast JSON path (stack walker, replay memo, structural emitter) against the plain one.

The plain path is the recursive ``reference.walk.Walker`` with ``reference.build.ExactBuilder``
(replays every op of every leaf on a fresh dict) and ``json.dumps``: slow and
simple.  The fast path must give the same bytes for any config, wherever the
anchors fall, so the anchor threshold is varied too.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvmtest.config import Parser, ParserError
from kvmtest.config.api import REFERENCE
from kvmtest.config.fast.dicts import dicts
from kvmtest.config.fast.emit import FLAT_DEPTH, FLAT_DEPTH_JSON, json_lines, supports
from kvmtest.config.fast.walk import StackWalker
from kvmtest.config.reference.build import ExactBuilder, finish
from tests.hypo import examples

from .cases import CASES
from .gen import random_config
from .test_language import EXPECTED, parse_case

MAX_DICTS = 300
ANCHORS = (1, 2, 3, 5, 1 << 16)


def canonical(d: dict) -> str:
    d = dict(d)
    d.pop("_name_map_file", None)
    d.pop("_short_name_map_file", None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def plain_lines(p: Parser, limit: int = MAX_DICTS) -> list:
    t = p._tree
    exact = ExactBuilder(t.table.names, t.table.longs, t.has_suffix)
    leaves = p._walker(REFERENCE).leaves()
    return [canonical(finish(exact.build(leaf), t.has_suffix))
            for leaf in itertools.islice(leaves, limit)]


def fast_lines(p: Parser, anchor_min: int, limit: int = MAX_DICTS) -> list:
    t = p._tree
    fanout = 1 if anchor_min < 100 else 32  # small thresholds: every node an anchor
    return list(itertools.islice(json_lines(t, p.defaults, p.expand_defaults, anchor_min,
                                            anchor_fanout=fanout), limit))


def plain_dicts(p: Parser, limit: int = MAX_DICTS) -> list:
    t = p._tree
    exact = ExactBuilder(t.table.names, t.table.longs, t.has_suffix)
    leaves = p._walker(REFERENCE).leaves()
    return [finish(exact.build(leaf), t.has_suffix) for leaf in itertools.islice(leaves, limit)]


def fast_dicts(p: Parser, anchor_min: int, limit: int = MAX_DICTS) -> list:
    """get_dicts()'s fast path (dicts.dicts) with the anchors moved."""
    fanout = 1 if anchor_min < 100 else 32
    return list(itertools.islice(dicts(p._tree, p.defaults, p.expand_defaults, True,
                                       anchor_min, fanout), limit))


def same_dicts(got: list, want: list) -> bool:
    """Equal, with the same key order (map-file dicts included)."""
    def order(d: dict) -> list:
        return [list(d), list(d.get("_name_map_file", ())),
                list(d.get("_short_name_map_file", ()))]
    return got == want and [order(d) for d in got] == [order(d) for d in want]


def usable(p: Parser) -> bool:
    return supports(p._tree)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_json_lines_match_avocado_vt(tmp_path, name):
    p = parse_case(tmp_path, CASES[name])
    want = [canonical(d) for d in EXPECTED[name]]
    assert list(p.json_lines()) == want
    if usable(p):
        for anchor_min in ANCHORS:
            assert fast_lines(p, anchor_min, 10 ** 6) == want, anchor_min
            assert same_dicts(fast_dicts(p, anchor_min, 10 ** 6), EXPECTED[name]), anchor_min


def _compare(text: str) -> bool:
    """True if the fast path ran (and agreed) on ``text``."""
    p = Parser()
    try:
        p.parse_string(text)
    except ParserError:
        return False
    if not usable(p):
        return False
    try:
        want = plain_lines(p)
    except ParserError:
        for anchor_min in ANCHORS:
            with pytest.raises(ParserError):
                fast_lines(p, anchor_min)
        return False
    want_dicts = plain_dicts(p)
    for anchor_min in ANCHORS:
        got = fast_lines(p, anchor_min)
        assert got == want, (anchor_min, text)
        assert same_dicts(fast_dicts(p, anchor_min), want_dicts), (anchor_min, text)
    return True


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_random_configs_same_bytes(rnd):
    _compare(random_config(rnd))


# A matrix like the corpus: outer hardware blocks over a test list whose
# subtrees repeat (same filters seen) and whose conditions look outside.
MATRIX = """
base = 1
mem = 512
variants:
    - m1:
        machine = one
    - m2:
        machine = two
        mem += 0
variants subtest:
    - t1:
        k = t1
        variants:
            - s1:
                only m1
            - s2:
                fmt_a: k += -a
            - s3:
                no fmt_b
                nic_x: extra = yes
    - t2:
        k = ${base}-${mem}
        del machine
    - t3:
        kk ?= z
        variants:
            - u1:
            - u2:
                m2: kk = two
variants:
    - nic_x:
        nic = x
    - nic_y:
        nic = y
        k ?+= -y
variants:
    - fmt_a:
        fmt = a
    - fmt_b:
        fmt = b
        mem = 1024
    - fmt_c:
        fmt = c
only m1, m2
"""


def test_matrix_replays_subtrees_and_agrees():
    p = Parser()
    p.parse_string(MATRIX)
    want = plain_lines(p, 10 ** 6)
    assert len(want) > 20
    for anchor_min in ANCHORS:
        t = p._tree
        for fanout in (3, 2, 1):  # anchors only at wide nodes, then at any node
            walker = StackWalker(t.node, t.table.longs, False, [], anchor_min,
                                 anchor_fanout=fanout)
            got = list(json_lines(t, False, [], anchor_min, walker))
            assert got == want, (anchor_min, fanout)
        if anchor_min > 100:  # small thresholds make every node an anchor: no memo
            assert walker._replay, "nothing was replayed: the memo is not exercised"


def matrix_config(rng: random.Random) -> str:
    """A random test matrix: variants blocks stacked over a nested test list,
    with filters, conditions and ops that look at labels of other blocks."""
    labels = []
    keys = ["k", "kk", "mem", "img", "mem_max", "nic"]
    ops = ["=", "+=", "<=", "~=", "?=", "?+=", "?<="]

    def body(indent: int, depth: int) -> list:
        pad = " " * indent
        out = []
        for _ in range(rng.randint(0, 3)):
            r = rng.random()
            if r < 0.5 or not labels:
                val = rng.choice(["1", "2", "${k}", "x${mem}", "512", ""])
                out.append("%s%s %s %s" % (pad, rng.choice(keys), rng.choice(ops), val))
            elif r < 0.65:
                out.append("%s%s %s" % (pad, rng.choice(["only", "no"]),
                                        ", ".join(rng.sample(labels, min(2, len(labels))))))
            elif r < 0.85:
                out.append("%s%s:" % (pad, rng.choice(labels)))
                out.append("%s    %s = c%d" % (pad, rng.choice(keys), rng.randint(0, 9)))
            else:
                out.append("%sdel %s" % (pad, rng.choice(keys)))
        if depth and rng.random() < 0.6:
            out.append("%svariants:" % pad)
            for _ in range(rng.randint(1, 3)):
                name = "n%d" % rng.randint(0, 30)
                labels.append(name)
                out.append("%s    - %s:" % (pad, name))
                out.extend(body(indent + 8, depth - 1))
        return out

    lines = ["k = base", "mem = 256"]
    shape = [rng.randint(1, 3) for _ in range(rng.randint(2, 4))]
    for b, count in enumerate(shape):
        lines.append("variants:")
        for v in range(count):
            name = "b%dv%d" % (b, v)
            lines.append("    - %s:" % name)
            if b == 0 and len(shape) > 2 and rng.random() < 0.4:
                # a machine type that accepts some guest architectures (an outer
                # block): with a final "only" on machine types, whole outer
                # variants can be doomed
                outer = ["b%dv%d" % (len(shape) - 1, i) for i in range(shape[-1])]
                lines.append("        only %s" % ", ".join(rng.sample(outer, 1)))
            lines.extend(body(8, 2 if b == 1 else 0))
            labels.append(name)
    r = rng.random()
    if r < 0.5:
        lines.append("only %s" % ", ".join(rng.sample(labels, min(3, len(labels)))))
    elif r < 0.8:  # machine types only
        machines = ["b0v%d" % i for i in range(shape[0])]
        lines.append("only %s" % ", ".join(rng.sample(machines, rng.randint(1, len(machines)))))
    return "\n".join(lines) + "\n"


def test_random_matrices_same_bytes_and_replay():
    """Random matrices agree with the plain path, and reach the replay memo."""
    rng = random.Random(7)
    ran = replayed = doomed = 0
    for _ in range(250):
        text = matrix_config(rng)
        p = Parser()
        try:
            p.parse_string(text)
        except ParserError:
            continue
        t = p._tree
        try:
            want = plain_lines(p)
        except ParserError:
            continue
        for anchor_min in ANCHORS:
            walker = StackWalker(t.node, t.table.longs, False, [], anchor_min,
                                 anchor_fanout=1 if anchor_min < 100 else 2)
            got = list(itertools.islice(json_lines(t, False, [], anchor_min, walker),
                                        MAX_DICTS))
            assert got == want, (anchor_min, text)
            assert same_dicts(fast_dicts(p, anchor_min), plain_dicts(p)), (anchor_min, text)
            if anchor_min > 100:
                replayed += bool(walker._replay)
        # the doom check at every node (normally only high up): same bytes
        walker = StackWalker(t.node, t.table.longs, False, [], ANCHORS[-1], doom_min=0)
        got = list(itertools.islice(json_lines(t, False, [], ANCHORS[-1], walker), MAX_DICTS))
        assert got == want, ("doom", text)
        doomed += walker.doomed
        # get_dicts() (stack walker with replay, memoizing builder) vs the plain path,
        # map-file keys and key order included
        exact = ExactBuilder(t.table.names, t.table.longs, t.has_suffix)
        plain = [finish(exact.build(leaf), t.has_suffix)
                 for leaf in itertools.islice(p._walker(REFERENCE).leaves(), MAX_DICTS)]
        fast = list(itertools.islice(p.get_dicts(), MAX_DICTS))
        assert fast == plain and [list(d) for d in fast] == [list(d) for d in plain], text
        ran += 1
    assert ran > 100 and replayed > 20 and doomed > 5, (ran, replayed, doomed)


# Guest architectures over a test list over machine types: only x86 machines are
# selected, and each machine accepts only its architectures, so everything under
# the other architectures dies at the machine level.
ARCH_MATRIX = """
variants:
    - pc:
        only x86_64, i386
        machine = pc
    - virt:
        only aarch64
        machine = virt
    - pseries:
        only ppc64
variants:
    - t1:
        variants:
            - a:
            - b:
                only pseries
    - t2:
        x = 1
variants:
    - x86_64:
    - aarch64:
    - ppc64:
    - i386:
        no t2
only pc
"""


def test_doomed_architectures_are_skipped_with_same_output():
    p = Parser()
    p.parse_string(ARCH_MATRIX)
    want = plain_lines(p, 10 ** 6)
    assert [json.loads(x)["name"] for x in want] == [
        "x86_64.t1.a.pc", "x86_64.t2.pc", "i386.t1.a.pc"]
    t = p._tree
    walker = StackWalker(t.node, t.table.longs, False, [], 0, doom_min=0)
    assert list(json_lines(t, False, [], 0, walker)) == want
    # aarch64 and ppc64: no carrier of "pc" can pass; t1.b: "only pseries" cannot
    assert walker.doomed >= 3, walker.doomed


def test_defaults_mode_json(tmp_path):
    text = ("variants:\n    - a:\n    - @b:\n        x = 1\n"
            "variants:\n    - c:\n    - d:\n")
    p = Parser(defaults=True)
    p.parse_string(text)
    assert list(p.json_lines()) == plain_lines(p)


def test_assignments_of(tmp_path):
    (tmp_path / "inc.cfg").write_text("hostname = h2\n")
    (tmp_path / "main.cfg").write_text(
        "hostname = h1\n"
        "variants queue:\n"
        "    - q1:\n"
        "        hostname += x\n"
        "    - q2:\n"
        "include inc.cfg\n"
        "a: hostname ?= 'h3'\n")
    p = Parser()
    p.parse_file(str(tmp_path / "main.cfg"))
    p.parse_string("hostname <= pre")
    got = [(a.op, a.value, a.filename.rsplit("/", 1)[-1], a.linenum, a.line)
           for a in p.assignments_of("hostname")]
    assert got == [
        ("=", "h1", "main.cfg", 1, "hostname = h1"),
        ("+=", "x", "main.cfg", 4, "hostname += x"),
        ("=", "h2", "inc.cfg", 1, "hostname = h2"),
        ("?=", "h3", "main.cfg", 7, "a: hostname ?= 'h3'"),
        ("<=", "pre", "<string>", 1, "hostname <= pre"),
    ]
    queues = [(a.value, a.linenum, a.line) for a in p.assignments_of("queue")]
    assert queues == [("q1", 3, "- q1:"), ("q2", 5, "- q2:")]
    assert p.assignments_of("nothing") == []
    # answers come from the texts as parsed: editing or removing the files
    # afterwards, or changing directory, changes nothing
    (tmp_path / "main.cfg").write_text("hostname = other\n" * 9)
    (tmp_path / "inc.cfg").unlink()
    again = [(a.op, a.value, a.filename.rsplit("/", 1)[-1], a.linenum, a.line)
             for a in p.assignments_of("hostname")]
    assert again == got


def test_assignments_of_keys_in_turn_split_each_file_once(tmp_path):
    """A dry run asks for several keys (assign, hostname, queue): each file's text is split
    into lines once, and every key's answer is what a fresh parser's would be."""
    (tmp_path / "main.cfg").write_text(
        "hostname = h1\nqueue = 1\nvariants:\n    - a:\n        queue = 2\n"
        "        hostname += x\n    - b:\n")
    keys = ("hostname", "queue", "nothing", "hostname")
    p = Parser()
    p.parse_file(str(tmp_path / "main.cfg"))
    got = [[(a.op, a.value, a.linenum, a.line) for a in p.assignments_of(k)] for k in keys]
    for k, answer in zip(keys, got):
        fresh = Parser()
        fresh.parse_file(str(tmp_path / "main.cfg"))
        assert answer == [(a.op, a.value, a.linenum, a.line) for a in fresh.assignments_of(k)]
    assert got[1] == [("=", "1", 2, "queue = 1"), ("=", "2", 5, "queue = 2")]
    assert list(p._tree.log._lines) == [0]  # (one file, split once)


def test_odd_key_characters_keep_key_order():
    """Keys with characters below '"' (or escaped ones) sort differently as
    fragments: the emitter must notice and merge by key instead."""
    text = ("a = 1\nab = 2\nvariants:\n    - x:\n        a b = 3\n        a!c = 4\n"
            "        a\\\\d = 5\n        zz = 6\n    - y:\n        a#b = 7\n        q = 8\n"
            "variants:\n    - m:\n    - n:\n        aa = 9\n")
    p = Parser()
    p.parse_string(text)
    want = plain_lines(p)
    assert any('"a b"' in line for line in want)
    for anchor_min in ANCHORS:
        assert fast_lines(p, anchor_min) == want, anchor_min


RESERVED_REFS = """variants:
    - a:
        x = ${name}-x
    - b:
        y = pre
        y += ${shortname}
variants:
    - c:
    - d:
        z = ${name}
"""


def test_values_that_substitute_reserved_keys():
    """``${name}`` sees the leaf's own name: the parser flags it and the emitter
    falls back to whole dicts (expected lines from avocado-vt 113.0)."""
    p = Parser()
    p.parse_string(RESERVED_REFS)
    assert p._tree.reserved_refs and not supports(p._tree)
    assert list(p.json_lines()) == [
        '{"dep":[],"name":"c.a","shortname":"c.a","x":"c.a-x"}\n',
        '{"dep":[],"name":"c.b","shortname":"c.b","y":"prec.b"}\n',
        '{"dep":[],"name":"d.a","shortname":"d.a","x":"d.a-x","z":"d.a"}\n',
        '{"dep":[],"name":"d.b","shortname":"d.b","y":"pred.b","z":"d.b"}\n',
    ]
    q = Parser()
    q.parse_string(RESERVED_REFS.replace("${name}", "${other}").replace("${shortname}", "1"))
    assert not q._tree.reserved_refs and supports(q._tree)


def test_gc_state_is_restored(tmp_path):
    """Parsing turns the cyclic GC off, then freezes the tree out of its way
    while the Parser lives; get_dicts() of a tree parsed with the GC off
    freezes it while it runs.  All undone afterwards, also when the caller
    stops early (and never undone for someone else's gc.disable()/gc.freeze()).

    In a fresh interpreter: the freeze is process-wide, and a Parser another test
    of this worker left alive (a fixture, a cycle not yet collected) holds it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import sys; from pathlib import Path; from tests.config.test_emit import "
            "check_gc_state; check_gc_state(Path(sys.argv[1]))")
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def check_gc_state(tmp_path):
    """The body of test_gc_state_is_restored (run in its own interpreter)."""
    import gc

    assert gc.isenabled() and gc.get_freeze_count() == 0
    p = parse_case(tmp_path, CASES["basic"])
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # the tree is out of the collector's way
    q = parse_case(tmp_path, CASES["basic"])  # a second Parser shares the freeze
    assert len(list(p.get_dicts())) == 4 and gc.get_freeze_count() > 0
    del p
    assert gc.get_freeze_count() > 0  # (q still holds it)
    del q
    assert gc.get_freeze_count() == 0  # the last Parser gone: unfrozen
    gc.disable()
    try:
        p = parse_case(tmp_path, CASES["basic"])
        p.parse_string("x = 1")
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()
    it = p.get_dicts()
    next(it)
    assert gc.get_freeze_count() > 0  # frozen while it runs
    it.close()
    assert gc.get_freeze_count() == 0
    assert len(list(p.get_dicts())) == 4 and gc.get_freeze_count() == 0
    assert len(list(p.json_lines())) == 4 and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        p = parse_case(tmp_path, CASES["basic"])
        list(p.get_dicts())
        del p
        assert gc.get_freeze_count() > 0  # (not ours to unfreeze)
    finally:
        gc.unfreeze()


def _deep_flat_config(top: str) -> str:
    """Nested variants deeper than the flat path's memoized state, under
    top-level lines ``top``, the deepest leaf first: flat leaves whose other
    frames' steps set keys their state lacks."""
    deepest = max(FLAT_DEPTH, FLAT_DEPTH_JSON) + 2

    def level(n: int, indent: str) -> list:
        if n == deepest:
            return [indent + "k6 = a"]
        return ([indent + "variants:", indent + "    - v%da:" % n]
                + level(n + 1, indent + "        ")
                + [indent + "    - v%db:" % n, indent + "        k%d = b" % n])
    return "\n".join([top] + level(0, "")) + "\n"


@pytest.mark.parametrize("top", [
    # '!' sorts below '"': the fragment of "a!b" sorts before "a"'s, the key after
    "a!b = 1\na = 2\nb = 3",
    # the same, the odd key first seen when the leaf's ops are encoded
    "b = 2\nb!c += 1",
    # ops and _max/_min keys set above the memoized state
    "a = 1\na += x\nsmp = 2\nsmp_min = 4\nmem_max = 3",
    # a regex op above it (the long way)
    "a = 1\nk0 = z\ndel k0\nb ?= 2",
])
def test_flat_leaves_new_keys_above_the_state(top):
    p = Parser()
    p.parse_string(_deep_flat_config(top))
    assert usable(p)
    want = plain_lines(p, 10 ** 6)
    assert len(want) == max(FLAT_DEPTH, FLAT_DEPTH_JSON) + 3
    got = fast_lines(p, 1 << 16, 10 ** 6)
    assert got == want
    assert same_dicts(fast_dicts(p, 1 << 16, 10 ** 6), plain_dicts(p, 10 ** 6))
