# ruff: noqa: UP031  (printf-style messages)
"""Build of kvmtest: metadata in setup.cfg; this file only adds the optional compiled build.

A plain ``pip install .`` (and the dev venv's editable install) is pure Python.
With ``KVMTEST_MYPYC=1`` the hot modules of kvmtest.config are compiled to C
extensions with mypyc, the way black and mypy ship their wheels:

    KVMTEST_MYPYC=1 .venv/bin/python -m pip wheel --no-build-isolation --no-deps -w dist .

``--no-build-isolation``: the build needs mypy (the dev venv has it, test
extras) plus setuptools and wheel, and a C compiler with the Python headers.
A requested compile that cannot run fails the build: it never falls back to a
pure build.  The compiled build needs nothing at run time (mypyc's runtime is
compiled in).  See docs/hacking.md.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

# kvmtest.config's modules that mypyc compiles. Left interpreted: tokens.py (str
# subclasses, classes made by type()), api.py (a module __getattr__, which mypyc's
# module init calls too early), __init__ and __main__ (no hot code).
MYPYC_MODULES = [
    "kvmtest/config/%s.py" % name for name in (
        "errors", "records", "text", "tree", "ops", "filters", "lexer", "scan", "variants", "parser",
        "encode", "reference/walk", "reference/build", "fast/steps", "fast/walk", "fast/build",
        "fast/dicts", "fast/emit", "fast/view", "fast/gcfreeze")
]


def _editable() -> bool:
    return any(arg in ("develop", "editable_wheel") for arg in sys.argv[1:])


def ext_modules() -> list:
    if os.environ.get("KVMTEST_MYPYC", "") in ("", "0"):
        return []
    if _editable():
        raise SystemExit("KVMTEST_MYPYC=1: the compiled build is for regular installs and "
                         "wheels; an editable install stays pure Python (no .so in the tree)")
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        raise SystemExit("KVMTEST_MYPYC=1 but mypyc cannot be imported (%s): build from a "
                         "venv with mypy, setuptools and wheel, with pip's "
                         "--no-build-isolation" % exc) from exc
    exts = mypycify(MYPYC_MODULES, opt_level="3", group_name="kvmtest_config_mypyc")
    if sys.platform.startswith("linux"):  # pymalloc's arenas on huge pages (mmap, madvise)
        exts.append(Extension("kvmtest.config._arena", ["kvmtest/config/_arena.c"]))
    return exts


setup(ext_modules=ext_modules())
