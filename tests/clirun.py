"""``./run.py ARGS`` in this process: for tests of what the CLI decides, says and returns.

A ``python run.py`` process costs a few tenths of a second of CPU to start and import the
package; the plan-time checks (bad input, dry runs, listings) run in milliseconds. Tests of
those call ``kvmtest.cli.main(argv)`` here: the same code path after the interpreter has
started, with stdout and stderr captured and the exit code returned. So do the tests of what
a job writes and what ``compare``, ``history``, ``report`` and ``results`` make of it (a job
in-process installs its signal handlers only in the main thread and restores them, its
loggers' handlers are restored here; set its environment with ``monkeypatch``). What only a
process shows stays a real process: ``run.py``'s bootstrap, signals, SIGKILL and resume,
the process's exit status, a closed stdout, the umask, ``python -m`` entry points
(tests/test_cli_exitcodes.py, tests/test_cli_run.py, tests/run/, ...).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

from kvmtest import cli


def _logger_state() -> Dict[str, tuple]:
    loggers = [logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict) if n.startswith("kvmtest")]
    return {lg.name: (list(lg.handlers), lg.level) for lg in loggers}


def run_cli(*args: Union[str, Path], cwd: Optional[Union[str, Path]] = None,
            main: Callable[[Sequence[str]], int] = cli.main) -> subprocess.CompletedProcess:
    """``main(args)`` (default ``kvmtest.cli.main``) with cwd ``cwd``: a CompletedProcess as
    ``subprocess.run`` gives.

    argparse's own refusals (``SystemExit``) become the exit code they carry; any other
    exception propagates, so a traceback fails the test as it would fail a process's.
    """
    argv: List[str] = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    before = _logger_state()
    old_cwd = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: usage errors (2), --help/--version (0)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(old_cwd)
        for name, (handlers, level) in before.items():  # a run adds stderr handlers for its notices
            lg = logging.getLogger(name)
            lg.handlers[:] = handlers
            lg.setLevel(level)
        for name in set(_logger_state()) - set(before):
            logging.getLogger(name).handlers.clear()
    return subprocess.CompletedProcess([main.__module__, *argv], code, out.getvalue(), err.getvalue())
