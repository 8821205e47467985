"""Config errors stay readable and point at the input (issue 11): a huge line is
echoed cut, bytes that are not UTF-8 are reported at their file and line, and
a config without a statement is refused instead of giving one unnamed test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kvmtest.config import Parser, ParserError
from kvmtest.config.errors import ECHO_MAX

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUGE = 1_000_000


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kvmtest.config", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("text,linenum", [
    ("only a" + "b" * HUGE + "$\n", 1),  # a lexer error
    ("variants:\n    - a:\n" + "x" * HUGE + " y\n", 3),  # a parser error
    ("include " + "z" * HUGE + "\n", 1),  # a missing include
])
def test_huge_line_is_echoed_cut(tmp_path, text, linenum):
    path = tmp_path / "huge.cfg"
    path.write_text(text)
    with pytest.raises(ParserError) as info:
        Parser().parse_file(str(path))
    err = info.value
    assert err.linenum == linenum
    assert len(err.line) < ECHO_MAX + 40 and "characters)" in err.line
    assert len(str(err)) < 3 * ECHO_MAX + 200
    out = cli(str(path))
    assert out.returncode == 2
    assert len(out.stderr) < 3 * ECHO_MAX + 200, out.stderr[:500]
    assert f"huge.cfg:{linenum}:" in out.stderr
    out = cli("--json", str(path))
    assert out.returncode == 2 and len(out.stdout) < 3 * ECHO_MAX + 200


def test_huge_message_text_is_cut(tmp_path):
    """Messages that quote input (here a regular expression) are cut too."""
    path = tmp_path / "re.cfg"
    path.write_text("a = 1\n" + "(" * HUGE + " ?= 1\n")
    with pytest.raises(ParserError) as info:
        list(Parser(str(path)).get_dicts())
    assert len(str(info.value)) < 4 * ECHO_MAX + 200


@pytest.mark.parametrize("where", ["main", "include"])
def test_not_utf8_names_file_and_line(tmp_path, where):
    bad = tmp_path / ("main.cfg" if where == "main" else "inc.cfg")
    bad.write_bytes(b"a = 1\n# fine\nb = caf\xe9\n")
    main = tmp_path / "main.cfg"
    if where == "include":
        main.write_text("x = 1\ninclude inc.cfg\n")
    with pytest.raises(ParserError) as info:
        Parser().parse_file(str(main))
    err = info.value
    assert err.filename == str(bad) and err.linenum == 3
    assert "UTF-8" in err.msg and "0xe9" in err.msg and "column 8" in err.msg
    assert err.line == "b = caf\ufffd"
    out = cli(str(main))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"{bad}:3: not UTF-8")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n   \n// and another\n"])
def test_empty_config_is_an_error(tmp_path, text):
    path = tmp_path / "empty.cfg"
    path.write_text(text)
    with pytest.raises(ParserError) as info:
        Parser().parse_file(str(path))
    assert info.value.filename == str(path) and "empty config" in info.value.msg
    out = cli(str(path))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"{path}: empty config")


def test_one_statement_or_an_empty_include_is_fine(tmp_path):
    (tmp_path / "empty.cfg").write_text("# placeholder\n")
    (tmp_path / "one.cfg").write_text("include empty.cfg\n")
    assert [d["name"] for d in Parser(str(tmp_path / "one.cfg")).get_dicts()] == [""]
    (tmp_path / "two.cfg").write_text("/tmp = 1\n")  # "/" alone starts no comment
    assert list(Parser(str(tmp_path / "two.cfg")).get_dicts())[0]["/tmp"] == "1"
