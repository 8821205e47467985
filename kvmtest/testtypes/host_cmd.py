"""``host_cmd``: run ``host_cmd`` on the host (argv via shlex, never a shell).

Passes when the exit status equals ``expected_status`` (default 0) and, when
``expected_output`` is set, the output matches that regex. ``cmd_timeout``
(default 60 s) bounds it; the runner's stop flag kills it early. ``metrics`` (with
a ``metric_regex_NAME`` per metric) records numbers from the output
(kvmtest/testtypes/metrics.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict

from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.testtypes.metrics import metric_specs, record_metrics
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_float, get_int, split_args

START_VM = False


def run(test: TestContext, params: Dict[str, str], env: Env) -> None:
    raw = params.get("host_cmd", "").strip()
    if not raw:
        raise TestError("host_cmd test without a host_cmd param")
    try:
        argv = split_args(raw)
    except ValueError as exc:
        raise TestError(f"cannot split host_cmd {raw!r}: {exc}") from None
    specs = metric_specs(params)
    timeout = get_float(params, "cmd_timeout", 60.0)
    expected = get_int(params, "expected_status", 0)
    out_path = Path(test.logdir) / "host_cmd.log"
    Path(test.logdir).mkdir(parents=True, exist_ok=True)
    with open(out_path, "w+b") as out:
        try:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=test.logdir,
            )
        except OSError as exc:
            raise TestError(f"cannot run {argv[0]!r}: {exc}") from None
        deadline = time.monotonic() + timeout
        why = None
        while proc.poll() is None:
            if test.stop.wait(0.05):
                why = "stopped"
            elif time.monotonic() > deadline:
                why = f"host_cmd timed out after {timeout:g} s"
            if why:
                _kill_group(proc)
                break
        out.seek(0)
        output = out.read().decode(errors="replace")
    if why == "stopped":
        raise TestError("stopped")
    if why:
        raise TestFail(why)
    test.log.info("host_cmd %s exited %d", argv, proc.returncode)
    if proc.returncode != expected:
        tail = output.strip().splitlines()[-5:]
        raise TestFail(f"host_cmd exited {proc.returncode}, expected {expected}; output tail: {tail}")
    pattern = params.get("expected_output")
    if pattern and not re.search(pattern, output, re.MULTILINE):
        raise TestFail(f"host_cmd output does not match {pattern!r}")
    record_metrics(test, specs, output)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
