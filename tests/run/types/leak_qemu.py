"""Test type for runner tests: starts a real qemu marked like kvmtest's guests, then waits.

The qemu is in its own session and the test never stops it, so only the
runner's kill_guests (which finds guests by KVMTEST_JOB/KVMTEST_QUEUE in their
environment) can clean it up. ``-S`` keeps the vCPU paused: no CPU burned.
"""

import os
import subprocess
from pathlib import Path

from kvmtest.vm.reaper import ENV_JOB, ENV_QUEUE

START_VM = False


def run(test, params, env):
    penv = dict(os.environ, **{ENV_JOB: test.job_id, ENV_QUEUE: test.queue})
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
         "-m", "32", "-monitor", "none", "-serial", "none"],
        env=penv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    (Path(test.logdir) / "qemu.pid").write_text(str(proc.pid))
    test.log.info("started qemu pid %d", proc.pid)
    test.stop.wait(float(params.get("leak_wait", "600")))
