"""Start from a plain checkout with whatever ``python3`` is at hand.

``./run.py`` and ``samples/control`` begin with ``#!/usr/bin/env python3``: on a
fresh machine that is the system Python, which lacks kvmtest's dependencies
(netaddr, tabulate...). ``make venv`` installs them into the checkout's
``.venv``; ``need_deps`` re-executes the script with that interpreter, or, when
there is none, says in one line what to run. Standard library only: this module
runs before any dependency can be imported.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import List, Optional, Sequence

# Import names of setup.cfg's install_requires (tests/test_cli_bootstrap.py keeps them in step).
REQUIRED = ("jinja2", "netaddr", "pexpect", "psutil", "tabulate")
# Set across the one re-exec: a .venv whose python still lacks the dependencies must not loop.
REEXEC_ENV = "KVMTEST_REEXEC"
EXIT_NO_DEPS = 3  # kvmtest.exitcodes.INFRA: the machine lacks software (kept literal: no imports)


def missing_modules(names: Sequence[str] = REQUIRED) -> List[str]:
    """The modules of ``names`` this interpreter cannot import."""
    return [n for n in names if importlib.util.find_spec(n) is None]


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def need_deps(root: str, argv: Optional[Sequence[str]]) -> None:
    """Return when this interpreter has the dependencies; else re-exec or exit with one line.

    ``root`` is the checkout (where ``.venv`` lives); ``argv`` is the command to run again
    with ``root/.venv/bin/python`` (script path first), or None when it cannot be re-run
    (a control file exec()'d by autotest).
    """
    came_back = os.environ.pop(REEXEC_ENV, None) is not None
    missing = missing_modules()
    if not missing:
        return
    venv = os.path.join(root, ".venv")
    venv_python = os.path.join(venv, "bin", "python")
    in_venv = _same_path(sys.prefix, venv)
    if argv and not came_back and not in_venv and os.access(venv_python, os.X_OK):
        os.environ[REEXEC_ENV] = "1"
        try:
            os.execv(venv_python, [venv_python, *argv])
        except OSError:
            os.environ.pop(REEXEC_ENV, None)  # fall through to the message
    if in_venv or came_back:
        todo = f"its .venv lacks them too: run `make venv` in {root}"
    else:
        todo = f"run `make venv` in {root} (it creates .venv/, which ./run.py then uses)"
    print(f"kvmtest: {sys.executable} cannot import {', '.join(missing)}: {todo}",
          file=sys.stderr)
    sys.exit(EXIT_NO_DEPS)
