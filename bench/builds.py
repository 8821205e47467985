#!/usr/bin/env python3
# ruff: noqa: UP031  (printf-style messages, as the other benches)
"""The mypyc-compiled wheel of this checkout, built once per source state.

    .venv/bin/python bench/builds.py [--cache DIR]    # prints the wheel's path

Builds ``KVMTEST_MYPYC=1 pip wheel --no-build-isolation`` (setup.py) with
this interpreter, which needs mypy, setuptools, wheel and a C compiler (the
dev venv has them), from a copy of the sources in a temporary directory: the
checkout never gets build artefacts.  The wheel is kept under
``build/mypyc/<key>/`` (git-ignored), ``key`` a hash of the sources, the
Python version and mypy's version, so bench/config_bench.py and
tests/config/test_compiled.py pay the ~1 min compile once per source change.
Fails loudly when the compile fails or the wheel lacks a compiled module.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, "build", "mypyc")
TOP_FILES = ("setup.py", "setup.cfg", "pyproject.toml", "README.md")


def _sources() -> list:
    """Paths (relative to ROOT) of everything the wheel is built from, sorted."""
    out = [f for f in TOP_FILES]
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "kvmtest")):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".so")):
                out.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return out


def source_key() -> str:
    """Hash of the sources, this Python's version and mypy's (a new key: a new build)."""
    from importlib.metadata import version

    h = hashlib.sha256()
    h.update(("%s mypy %s\n" % (sys.version, version("mypy"))).encode())
    for rel in _sources():
        h.update(rel.encode() + b"\0")
        with open(os.path.join(ROOT, rel), "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _compiled_modules() -> list:
    """The modules setup.py compiles (``kvmtest/config/tree`` ...)."""
    import ast

    with open(os.path.join(ROOT, "setup.py")) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and len(node.elts) > 5 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            return ["kvmtest/config/%s" % e.value for e in node.elts]
    raise SystemExit("setup.py: MYPYC_MODULES not found")


def wheel(cache: str = CACHE) -> str:
    """The compiled wheel's path (built now if this source state has none)."""
    dest = os.path.join(cache, source_key())
    if os.path.isdir(dest):
        for name in os.listdir(dest):
            if name.endswith(".whl"):
                return os.path.join(dest, name)
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kvmtest-mypyc-") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        for rel in _sources():
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(src, rel))
        out = os.path.join(tmp, "out")
        print("compiling kvmtest.config with mypyc (about a minute) ...", file=sys.stderr,
              flush=True)
        env = dict(os.environ, KVMTEST_MYPYC="1")
        # (nothing from an index: the build uses this venv's mypy, setuptools and wheel)
        res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation",
                              "--no-index", "--disable-pip-version-check", "--no-deps",
                              "-w", out, src], env=env, cwd=src,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if res.returncode != 0:
            sys.stderr.write(res.stdout[-5000:])
            raise SystemExit("the mypyc build failed (exit %d): no compiled wheel"
                             % res.returncode)
        (name,) = [n for n in os.listdir(out) if n.endswith(".whl")]
        with zipfile.ZipFile(os.path.join(out, name)) as z:
            names = set(z.namelist())
        missing = [m for m in _compiled_modules()
                   if not any(n.startswith(m + ".") and n.endswith(".so") for n in names)]
        if missing:
            raise SystemExit("the wheel %s lacks compiled modules: %s" % (name, missing))
        part = dest + ".part-%d" % os.getpid()
        os.makedirs(part)
        shutil.move(os.path.join(out, name), os.path.join(part, name))
        try:
            os.rename(part, dest)
        except OSError:  # (another process built it meanwhile)
            shutil.rmtree(part)
    return wheel(cache)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=CACHE)
    print(wheel(ap.parse_args().cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
