"""Every command in README.md and docs/*.md works as written (the acceptance gate of issue 10).

The commands are the lines of the code blocks fenced as ``sh`` (``bash``, ``shell``,
``console``), with ``\\`` continuations and heredocs joined. They run like a
newcomer runs them: in a fresh copy of the checkout (tracked and unignored files
only, plus the ``.venv`` and ``images/`` that the README's two ``make`` commands
create), with the system ``python3`` first on PATH (no virtualenv active, no
PYTHONPATH), one ``bash -c`` per command, in document order so a later command can
read what an earlier one wrote. ``/tmp/`` in a command is moved into a temp dir, so
parallel runs do not collide.

The ``python`` blocks of one doc run as one script, in order (a later block may use
names an earlier one defined), with the checkout's ``.venv/bin/python`` in the same
fresh copy; PY_FRAGMENTS lists the docs whose python blocks are fragments.

Commands that need guests, root, daemons or package installs are not run here:
they are listed in BY_HAND with the reason, are run by hand, and
``test_by_hand_list_matches_the_docs`` keeps that list in step with the docs.
Conventions the docs keep (checked here): runnable commands are fenced ``sh``, a
synopsis with placeholders is fenced ``text``, no command starts with a bare
``python`` (Debian 12 has only ``python3``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
LOOKS_LIKE_A_COMMAND = re.compile(r"^(\./|\.venv/|python3? |make |scripts/|pip3? |sudo )")

# Run by hand (they boot guests, need root/daemons, install packages, or are the suite itself).
BY_HAND: Dict[str, str] = {
    "make demo": "boots real guests (and installs packages, builds the .venv)",
    "make test": "is this suite (and installs packages)",
    "make guest": "make's venv prerequisite may reinstall the shared .venv",
    "./run.py -c samples/demo/kvm_hosts.cfg --set smoke --results /tmp/smoke --kcidb /tmp/smoke.kcidb.json":
        "boots real guests",
    "./run.py --resume /tmp/smoke": "resumes the guest run above",
    ".venv/bin/python -m pytest -q tests/vm tests/testtypes": "is part of this suite (boots guests)",
    '.venv/bin/python -m pytest -q tests/vm tests/testtypes -m "not guest"': "is part of this suite",
    ".venv/bin/python bench/boot_bench.py --reps 5": "boots guests for minutes",
    "scripts/sysdeps.sh libvirt": "installs Debian packages (root, network)",
    ".venv/bin/python -m pip install libvirt-python": "installs from PyPI (network)",
    "scripts/libvirtd.sh start": "starts system daemons",
    "scripts/libvirtd.sh status": "depends on whether a daemon runs",
    "scripts/libvirtd.sh stop": "stops system daemons",
    ".venv/bin/python -m pytest -q tests/vm/test_libvirt_xml.py": "is part of this suite",
    ".venv/bin/python -m pytest -q tests/vm/test_libvirt_guest.py": "is part of this suite (libvirt domains)",
    ".venv/bin/python -m pytest -q -m libvirt tests": "is part of this suite (libvirt domains)",
    ".venv/bin/python -m pytest -q tests/vm/test_console_fast.py tests/vm/test_qmp_fast.py"
    " tests/vm/test_vm_states.py": "is part of this suite (a second pytest here costs ~2 s of CPU)",
    "make demo-cluster": "needs root (network namespaces) and boots real guests on two hosts",
    "make check": "runs this suite (and make's venv prerequisite may reinstall the shared .venv)",
    "KVMTEST_MYPYC=1 .venv/bin/python -m pip wheel --no-build-isolation --no-deps -w /tmp/kvmtest-wheel .":
        "compiles for a minute (tests/config/test_compiled.py builds the same wheel)",
}

# Docs whose python blocks are fragments of a larger program, not runnable alone.
PY_FRAGMENTS: Dict[str, str] = {
    "docs/results.md": "the ResultWriter example calls run_job(queues, results_dir, ...) of the caller",
}


@dataclass(frozen=True)
class Command:
    doc: str  # README.md, docs/guests.md
    line: int
    text: str  # as written, comments included

    @property
    def key(self) -> str:
        """The command without its trailing comment and extra blanks (BY_HAND's key)."""
        first = self.text.split("\n", 1)[0]
        return " ".join(_strip_comment(first).split())


def _strip_comment(line: str) -> str:
    """Drop a trailing ``# ...`` that is outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def code_blocks(path: Path) -> List[Tuple[str, int, List[str]]]:
    """(language, line of the first body line, body lines) of each fenced block."""
    out = []
    lang, start, body = None, 0, []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        fence = re.match(r"^\s*```\s*(\S*)", line)
        if lang is None and fence:
            lang, start, body = fence.group(1).lower(), n + 1, []
        elif lang is not None and line.strip().startswith("```"):
            out.append((lang, start, body))
            lang = None
        elif lang is not None:
            body.append(line)
    return out


def commands(path: Path) -> List[Command]:
    doc = str(path.relative_to(ROOT))
    out = []
    for lang, start, body in code_blocks(path):
        if lang not in SHELL:
            continue
        i = 0
        while i < len(body):
            line, first = body[i], start + i
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [line]
            while parts[-1].rstrip().endswith("\\") and i < len(body):
                parts.append(body[i])
                i += 1
            heredoc = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", _strip_comment(parts[0]))
            if heredoc:
                while i < len(body):
                    parts.append(body[i])
                    i += 1
                    if parts[-1].strip() == heredoc.group(1):
                        break
            out.append(Command(doc, first, "\n".join(parts)))
    return out


ALL = [c for doc in DOCS for c in commands(doc)]


def newcomer_env(home_tmp: Path) -> Dict[str, str]:
    """The environment of someone who just ran `make demo`: no venv active, system python3 first."""
    venv_bins = {str(Path(sys.prefix) / "bin"), str(ROOT / ".venv" / "bin")}
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and p not in venv_bins and "/.venv" not in p]
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
           and not k.startswith(("KVMTEST_", "PYTEST_"))}
    env["PATH"] = os.pathsep.join(path)
    env["TMPDIR"] = str(home_tmp)
    env["XDG_DATA_HOME"] = str(home_tmp / "xdg-data")  # a newcomer's empty history (docs/history.md)
    return env


@pytest.fixture(scope="module")
def fresh_checkout(tmp_path_factory) -> Path:
    """A copy of the checkout as a clone has it, with the .venv and images/ that `make demo` made."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv: run make venv (the README's commands assume it)")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    dest = tmp_path_factory.mktemp("clone") / "kvmtest"
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    if (ROOT / "images").exists():
        (dest / "images").symlink_to((ROOT / "images").resolve())
    return dest


def _system_python3_lacks_deps(env: Dict[str, str]) -> bool:
    code = "import netaddr, psutil, pexpect, tabulate"
    return subprocess.run(["python3", "-c", code], env=env, capture_output=True).returncode != 0


# Docs whose commands run many whole jobs (about 0.9 s of CPU each): marked slow, so make check
# (under a minute, docs/hacking.md) leaves them to make test; their features have own tests.
SLOW_DOCS: Dict[str, str] = {
    "docs/compare.md": "6 jobs and 5 comparisons",
    "docs/history.md": "4 jobs and 7 history commands",
    "docs/report.md": "4 jobs, 3 reports and a report benchmark",
}


def _doc_params() -> list:
    return [pytest.param(doc, marks=pytest.mark.slow) if doc in SLOW_DOCS else doc
            for doc in (str(d.relative_to(ROOT)) for d in DOCS)]


@pytest.mark.parametrize("doc", _doc_params())
def test_doc_commands_work_as_written(doc, fresh_checkout, tmp_path):
    """Runs every command of ``doc`` that needs no guest; reports all failures at once."""
    env = newcomer_env(tmp_path)
    todo = [c for c in ALL if c.doc == doc and c.key not in BY_HAND]
    if not todo:
        pytest.skip(f"{doc}: no command runnable without guests/root/daemons")
    failures = []
    for cmd in todo:
        text = cmd.text.replace("/tmp/", f"{tmp_path}/")
        res = subprocess.run(["bash", "-c", text], cwd=fresh_checkout, env=env, capture_output=True,
                             text=True, timeout=300, stdin=subprocess.DEVNULL)
        out = res.stdout + res.stderr
        if res.returncode != 0 or "Traceback (most recent call last)" in out:
            failures.append(f"{cmd.doc}:{cmd.line}: `{cmd.key}` exit {res.returncode}\n"
                            + "\n".join("    " + ln for ln in out.strip().splitlines()[-8:]))
    if failures:  # (python3 asked only then: a process per doc that passes costs CPU for nothing)
        ran = f"ran {len(todo)} commands of {doc} with PATH's python3" + (
            " (which lacks kvmtest's dependencies)" if _system_python3_lacks_deps(env) else "")
        pytest.fail(ran + "; these failed:\n" + "\n".join(failures))


def python_blocks(path: Path) -> List[Tuple[int, str]]:
    return [(start, "\n".join(body)) for lang, start, body in code_blocks(path) if lang in ("python", "py")]


@pytest.mark.parametrize("doc", [str(d.relative_to(ROOT)) for d in DOCS if python_blocks(d)])
def test_doc_python_examples_run(doc, fresh_checkout, tmp_path):
    if doc in PY_FRAGMENTS:
        pytest.skip(f"{doc}: {PY_FRAGMENTS[doc]}")
    blocks = python_blocks(ROOT / doc)
    script = "\n".join(f"# {doc}:{start}\n{body}" for start, body in blocks)
    res = subprocess.run([str(fresh_checkout / ".venv" / "bin" / "python"), "-"], input=script,
                         cwd=fresh_checkout, env=newcomer_env(tmp_path), capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, f"the python examples of {doc} (lines {[b[0] for b in blocks]}) failed:\n" + \
        res.stderr[-2000:]


def test_slow_docs_are_docs_with_commands():
    """SLOW_DOCS names docs that exist and have commands (a renamed doc would run again in make check)."""
    with_commands = {c.doc for c in ALL}
    assert set(SLOW_DOCS) <= with_commands, sorted(set(SLOW_DOCS) - with_commands)


def test_by_hand_list_matches_the_docs():
    """Every BY_HAND entry is still a command in the docs (the list printed is the by-hand list)."""
    keys = {c.key for c in ALL}
    stale = sorted(k for k in BY_HAND if k not in keys)
    assert not stale, f"BY_HAND lists commands no doc has any more: {stale}"
    for c in ALL:
        if c.key in BY_HAND:
            print(f"by hand: {c.doc}:{c.line}: {c.key}  ({BY_HAND[c.key]})")


def test_by_hand_pytest_commands_name_files_that_exist():
    """The suite's own pytest commands are run by hand (they are this suite), so that a renamed
    or moved test file still fails here, every path they name exists."""
    named = [(c, word) for c in ALL if c.key in BY_HAND and " -m pytest " in c.key
             for word in c.key.split() if word.startswith("tests")]
    assert named
    missing = [f"{c.doc}:{c.line}: {word}" for c, word in named
               if not (ROOT / word.split("::")[0]).exists()]
    assert not missing, missing


def test_docs_keep_the_conventions():
    """Runnable commands are fenced sh (so this test runs them); none starts with bare `python`."""
    problems = []
    for doc in DOCS:
        rel = doc.relative_to(ROOT)
        for lang, start, body in code_blocks(doc):
            if lang == "":
                cmds = [ln for ln in body if LOOKS_LIKE_A_COMMAND.match(ln.strip())]
                if cmds:
                    problems.append(f"{rel}:{start}: commands in an unlabelled block, fence it as sh "
                                    f"(runnable) or text (a synopsis): {cmds[0].strip()!r}")
    for c in ALL:
        if re.match(r"^python\s", c.text):
            problems.append(f"{c.doc}:{c.line}: bare `python` (Debian 12 has only python3): {c.key!r}")
    assert not problems, "\n".join(problems)


def test_walker_finds_commands_heredocs_and_comments():
    """The extraction itself, on a doc written for it."""
    doc = ROOT / "docs" / "config-language.md"
    found = {c.key: c for c in commands(doc)}
    heredoc = next(c for k, c in found.items() if k.startswith("python3 - <<'PY'"))
    assert heredoc.text.splitlines()[-1] == "PY" and "p.explain" in heredoc.text
    assert "python3 -m kvmtest.config docs/examples/matrix.cfg" in found  # comment stripped
    assert _strip_comment("./run.py --explain 'a # b'   # why") == "./run.py --explain 'a # b'"
