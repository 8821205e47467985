# ruff: noqa: UP031  (printf-style messages)
"""The mypyc-compiled build (setup.py, ``KVMTEST_MYPYC=1``) gives the pure build's output.

Slow (``make test``, not ``make check``): the compile takes about a minute, once
per source state (bench/builds.py keeps the wheel under build/mypyc/).  The
wheel is unpacked into a temp dir and put first on PYTHONPATH: then the shared
corpus digests are compared with the checkout's, and tests/config runs again
against the compiled modules (test_cli's ``test_build_is_the_expected_one``
checks that it really is the compiled build there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "..", "shared", "bench")
CORPUS = ["small.cfg", "medium.cfg", os.path.join("qemu", "subtests.cfg")]

pytestmark = pytest.mark.slow

# get_dicts() (all keys, in order), json_lines() and the dry run's pairs: one digest each
DIGESTS = r"""
import hashlib, json, sys
from kvmtest.config import BUILD, Parser
print(BUILD)
for f in sys.argv[1:]:
    hs = [hashlib.sha256() for _ in range(3)]
    p = Parser(); p.parse_file(f)
    for d in p.get_dicts():
        hs[0].update(json.dumps(list(d.items())).encode())
    for line in p.json_lines():
        hs[1].update(line.encode())
    for line, params in p.json_lines_with_params():
        hs[2].update((line + repr([params.get(k) for k in ("name", "vms", "image_name")])
                      ).encode())
    print(f, *[h.hexdigest() for h in hs])
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> str:
    """A directory holding the compiled build (the unpacked wheel)."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        pytest.skip("mypyc is not installed (it comes with mypy: pip install -e '.[test]')")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "builds.py")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr[-5000:]
    dest = tmp_path_factory.mktemp("compiled")
    with zipfile.ZipFile(out.stdout.strip()) as z:
        z.extractall(dest)
    return str(dest)


def _run(path: str, *argv: str, cwd: str, extra_env: dict = ()) -> str:
    """``python argv`` with ``path`` (the compiled build, or the checkout) first on sys.path."""
    env = dict(os.environ, PYTHONPATH=path, **dict(extra_env))
    out = subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return out.stdout


def test_version_names_the_build(compiled, tmp_path):
    ver = _run(compiled, "-m", "kvmtest.config", "--version", cwd=str(tmp_path))
    assert ver.strip().endswith("kvmtest.config compiled (mypyc)")
    ver = _run(ROOT, "-m", "kvmtest.config", "--version", cwd=str(tmp_path))
    assert ver.strip().endswith("kvmtest.config pure Python")


def test_shared_corpus_digests_equal_the_pure_build(compiled, tmp_path):
    files = [os.path.join(BENCH, f) for f in CORPUS if os.path.exists(os.path.join(BENCH, f))]
    if not files:
        pytest.skip("shared corpus not found at %s (CI keeps shared/ beside the clone)" % BENCH)
    got = _run(compiled, "-c", DIGESTS, *files, cwd=str(tmp_path)).splitlines()
    want = _run(ROOT, "-c", DIGESTS, *files, cwd=str(tmp_path)).splitlines()
    assert got[0] == "compiled (mypyc)" and want[0] == "pure Python"
    assert got[1:] == want[1:]
    cli = _run(compiled, "-m", "kvmtest.config", "--json", files[0], cwd=str(tmp_path))
    assert cli == _run(ROOT, "-m", "kvmtest.config", "--json", files[0], cwd=str(tmp_path))


def test_config_suite_passes_on_the_compiled_build(compiled, tmp_path):
    """tests/config again, importing kvmtest from the compiled build (the checkout is
    appended to sys.path for the tests package only)."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=append",
         "--rootdir", ROOT, "-c", os.path.join(ROOT, "pyproject.toml"), "-x",
         "--ignore", os.path.abspath(__file__), here],
        cwd=str(tmp_path), capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=compiled + os.pathsep + ROOT,
                 KVMTEST_EXPECT_BUILD="compiled"))
    assert out.returncode == 0, out.stdout[-8000:] + out.stderr[-3000:]
    assert " passed" in out.stdout.splitlines()[-1]


# small objects made after a parse: where they live, and the region's counters
ARENAS = r"""
import json, sys
import kvmtest.config as c
from kvmtest.config import arenas
p = c.Parser(); p.parse_string(sys.argv[1])
keep = [[i] for i in range(200000)]  # ~14 MB of small objects: new arenas
st = arenas.stats() or {}
inside = sum(st.get("start", 1) <= id(x) < st.get("end", 0) for x in keep)
del keep
big = [[i] for i in range(2000000)]  # ~140 MB, then freed: past the 64 arenas kept
del big
huge = 0
with open("/proc/self/smaps") as f:
    region = False
    for line in f:
        if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            region = bool(st) and lo < st["end"] and hi > st["start"]
        elif region and line.startswith("AnonHugePages:"):
            huge += int(line.split()[1])
print(json.dumps(dict(huge_arenas=c.HUGE_ARENAS, inside=inside, huge_kb=huge,
                      after=arenas.stats())))
"""


def _thp_enabled() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the arenas are Linux only")
def test_compiled_build_serves_small_objects_from_huge_page_arenas(compiled, tmp_path):
    import json

    cfg = "variants:\n    - a:\n        x = 1\n    - b:\n        x = 2\n"
    got = json.loads(_run(compiled, "-c", ARENAS, cfg, cwd=str(tmp_path)))
    assert got["huge_arenas"] is True
    assert got["inside"] > 190000  # (a few reuse older arenas' free blocks)
    after = got["after"]
    assert after["arena_size"] > 0 and after["fallback"] == 0
    assert after["released"] > 0  # freed arenas past the kept 64 give their memory back
    if _thp_enabled():
        assert got["huge_kb"] >= 2048, got  # the kernel backs the region with 2 MiB pages
    off = json.loads(_run(compiled, "-c", ARENAS, cfg, cwd=str(tmp_path),
                          extra_env={"KVMTEST_HUGE_ARENAS": "0"}))
    assert off["huge_arenas"] is False and off["inside"] == 0
    assert off["after"]["installed"] == 0 and off["huge_kb"] == 0
    pure = json.loads(_run(ROOT, "-c", ARENAS, cfg, cwd=str(tmp_path)))
    assert pure["huge_arenas"] is False and pure["after"] is None
