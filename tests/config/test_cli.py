# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""The command-line tool and the shared corpus digests (real processes, real files)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "..", "shared", "bench")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "kvmtest.config", *args], cwd=ROOT,
                          capture_output=True, text=True, input=stdin)


def test_listing_and_contents(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("a = 1\nvariants:\n    - x:\n    - y:\n        b = 2\n")
    out = run(str(cfg))
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["dict    1:  x", "dict    2:  y"]
    full = run("--contents", str(cfg), "only y").stdout.splitlines()
    assert full[0] == "dict    1:  y"
    assert "    a = 1" in full and "    b = 2" in full


def test_json_lines(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("a = 1\nvariants:\n    - x:\n    - y:\n        b = ü\n")
    out = run("--json", str(cfg))
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    d = json.loads(lines[1])
    assert d == {"a": "1", "b": "ü", "dep": [], "name": "y", "shortname": "y"}
    assert lines[1] == json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_defaults_and_expand(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("variants s:\n    - @a:\n    - b:\nvariants g:\n    - @x:\n    - y:\n")
    assert len(run("--defaults", str(cfg)).stdout.splitlines()) == 1
    assert len(run("--defaults", "--expand", "g", str(cfg)).stdout.splitlines()) == 2


def test_error_output_and_exit_code(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("a = 1\nvariants:\n    - x:\nonly x..\nonly (x\n")
    out = run(str(cfg))
    assert out.returncode == 2
    assert out.stderr.startswith("%s:5: " % cfg) and "only (x" in out.stderr
    assert "Traceback" not in out.stderr
    js = run("--json", str(cfg))
    assert js.returncode == 2
    err = json.loads(js.stdout)
    assert err["error"] == "ParserError" and err["linenum"] == 5 and err["filename"] == str(cfg)
    missing = json.loads(run("--json", str(tmp_path / "nope.cfg")).stdout)
    assert missing["error"] == "FileNotFoundError"


def test_missing_include_json(tmp_path):
    cfg = tmp_path / "inc.cfg"
    cfg.write_text("x = 1\ninclude other.cfg\n")
    err = json.loads(run("--json", str(cfg)).stdout)
    assert err["error"] == "MissingIncludeError" and err["linenum"] == 2


def test_broken_pipe_is_quiet(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text("variants:\n" + "".join("    - v%d:\n" % i for i in range(300))
                   + "variants:\n" + "".join("    - w%d:\n" % i for i in range(300)))
    proc = subprocess.Popen([sys.executable, "-m", "kvmtest.config", "--json", str(cfg)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0
    assert "Traceback" not in err and "BrokenPipe" not in err


CORPUS = [
    ("avocado-vt-selftest/test1.cfg", 465,
     "35a4451cd4a414748adc3a6e34f615e04f5bcfef5f6f1566c4d86a66685f4d00"),
    ("small.cfg", 4372, "823b1fb10b35cc7f515cc6a4f7b053afb2171e2f0af5c2db2f2e25c568e651d4"),
    # medium reaches the replay memo and the anchored emitter on real data (~1.5 s)
    ("medium.cfg", 8548, "330a5edb02a75ce232cfaadd9af0a715be57aa2e895f1febbb77e631ab3bce26"),
]


@pytest.mark.parametrize("rel,count,digest", CORPUS)
def test_shared_corpus_digest(rel, count, digest):
    path = os.path.join(BENCH, rel)
    if not os.path.exists(path):
        pytest.skip("shared corpus not found at %s (CI keeps shared/ beside the clone)" % BENCH)
    out = subprocess.run([sys.executable, "-m", "kvmtest.config", "--json", path], cwd=ROOT,
                         capture_output=True, check=True)
    assert out.stdout.count(b"\n") == count
    assert hashlib.sha256(out.stdout).hexdigest() == digest


def test_test1_against_its_own_oracle():
    """test1.cfg.repr.gz is avocado-vt's own expected output (a repr() list)."""
    import ast
    import gzip

    path = os.path.join(BENCH, "avocado-vt-selftest", "test1.cfg")
    if not os.path.exists(path + ".repr.gz"):
        pytest.skip("shared corpus not found at %s" % BENCH)
    from kvmtest.config import Parser

    with gzip.open(path + ".repr.gz", "rt") as f:
        want = ast.literal_eval(f.read())
    p = Parser()
    p.parse_file(path)
    assert list(p.get_dicts()) == want


def test_json_widens_its_stdout_pipe(tmp_path):
    # --json writes 1 MiB chunks: a pipe that holds a whole chunk lets the reader
    # drain it while the next one is encoded (bench: ~1 s of wall on large.cfg)
    import fcntl
    cfg = tmp_path / "t.cfg"
    cfg.write_text("a = 1\nvariants:\n    - x:\n    - y:\n")
    proc = subprocess.Popen([sys.executable, "-m", "kvmtest.config", "--json", str(cfg)],
                            cwd=ROOT, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    assert proc.wait() == 0
    assert out.count(b"\n") == 2
    size = fcntl.fcntl(proc.stdout.fileno(), getattr(fcntl, "F_GETPIPE_SZ", 1032))
    proc.stdout.close()
    assert size >= 1 << 20


@pytest.mark.parametrize("argv", [
    ["--json", "t.cfg"],
    ["t.cfg", "only a", "no b"],
    ["-c", "-f", "t.cfg"],
    ["--contents", "--fullname", "--defaults", "t.cfg", "x = 1"],
    ["-d", "-e", "a,b", "t.cfg"],
    ["--defaults", "--expand", "a", "t.cfg"],
    ["--defaults", "--expand=a,b", "--json", "t.cfg"],
    ["t.cfg", "--json"],
])
def test_plain_command_lines_parse_like_argparse(argv):
    """The argparse-free path for common command lines gives argparse's answer."""
    from kvmtest.config import __main__ as cli

    fast = cli._plain_args(argv)
    assert fast is not None
    assert vars(fast) == vars(cli._full_args(argv))


@pytest.mark.parametrize("argv", [["-h"], ["--jso", "t.cfg"], ["--", "t.cfg"], ["-x", "t.cfg"],
                                  [], ["--expand"], ["-e", "--json", "t.cfg"]])
def test_other_command_lines_go_to_argparse(argv):
    from kvmtest.config import __main__ as cli

    assert cli._plain_args(argv) is None


def test_build_is_the_expected_one():
    """The checkout (the dev venv's editable install) is pure Python, never compiled;
    test_compiled runs this suite again on the mypyc build with KVMTEST_EXPECT_BUILD."""
    import kvmtest.config

    want = os.environ.get("KVMTEST_EXPECT_BUILD", "pure")
    assert kvmtest.config.COMPILED is (want == "compiled"), kvmtest.config.__file__
    assert kvmtest.config.BUILD == ("compiled (mypyc)" if want == "compiled" else "pure Python")
