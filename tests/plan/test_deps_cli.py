"""``dep`` through the real CLI: dry run, --explain and the run apply the same checks.

Dry runs, --explain and refused runs call the CLI in this process (tests/clirun.py,
``in_process``); runs that run tests are real ./run.py processes (``kvmtest``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]
BENCH_SMALL = Path("/work/shared/bench/small.cfg")

# migrate (queue q2) depends on boot, which only queue q1 runs
CROSS = """\
variants:
    - @q1:
        queue = q1
        env = e1
    - @q2:
        queue = q2
        env = e2
variants:
    - boot:
        type = host_cmd
        host_cmd = touch {tmp}/boot.ran
        q2:
            no boot
    - migrate: boot
        type = host_cmd
        host_cmd = touch {tmp}/migrate.ran
        q1:
            no migrate
hostname = localhost
"""

# the queue variants come last, so migrate's dep is 'q1.boot': a test this selection removed
UNMATCHED = """\
variants:
    - boot:
        type = host_cmd
        host_cmd = true
        only nothing_selects_me
    - migrate: boot
        type = host_cmd
        host_cmd = touch {tmp}/migrate.ran
variants:
    - @q1:
        queue = q1
        env = e1
hostname = localhost
"""


def kvmtest(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """./run.py ARGS, the job runs (in this process: its warnings and files are the point)."""
    return run_cli(*args, cwd=tmp)


def in_process(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=tmp)


def write(tmp: Path, text: str) -> str:
    cfg = tmp / "t.cfg"
    cfg.write_text(text.format(tmp=tmp))
    return str(cfg)


CROSS_ERROR = ("error: test migrate.q2 ({h}/q2) depends on 'boot', which is test boot.q1 on"
               " another queue ({h}/q1): a queue runs its tests one after another")


def host() -> str:
    import socket

    return socket.gethostname()


def test_dep_on_another_queue_fails_the_dry_run_explain_and_run_alike(tmp_path):
    cfg = write(tmp_path, CROSS)
    expected = CROSS_ERROR.format(h=host())
    dry = in_process(tmp_path, "-c", cfg, "--dry-run")
    assert dry.returncode == 2 and expected in dry.stderr, dry.stderr
    assert "2 test(s) on host" in dry.stdout  # the listing is still shown
    why = in_process(tmp_path, "-c", cfg, "--explain", "migrate")
    assert why.returncode == 2 and expected in why.stderr, why.stderr
    assert ("    depends on 'boot', which is test boot.q1 on another queue"
            f" ({host()}/q1)") in why.stdout
    run = in_process(tmp_path, "-c", cfg, "--results", str(tmp_path / "r"))
    assert run.returncode == 2 and expected in run.stderr, run.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "boot.ran").exists()


def test_ignore_deps_runs_them_all(tmp_path):
    cfg = write(tmp_path, CROSS)
    dry = in_process(tmp_path, "-c", cfg, "--dry-run", "--ignore-deps")
    assert dry.returncode == 0, dry.stderr
    assert "warning: --ignore-deps: 1 test(s) run without their 1 dep entries" in dry.stderr
    run = kvmtest(tmp_path, "-c", cfg, "--ignore-deps", "--results", str(tmp_path / "r"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "boot.ran").exists() and (tmp_path / "migrate.ran").exists()
    plan = json.loads((tmp_path / "r" / "plan.json").read_text())
    assert all(t["dep"] == [] for q in plan["queues"] for t in q["tests"])  # --resume agrees


def test_dep_matching_no_planned_test_is_a_warning_and_the_test_runs(tmp_path):
    cfg = write(tmp_path, UNMATCHED)
    warning = (f"warning: test q1.migrate ({host()}/q1) depends on 'q1.boot', which matches no planned"
               " test; 1 dep entry (1 distinct) match no planned test: their tests run without"
               " them")
    dry = in_process(tmp_path, "-c", cfg, "--dry-run")
    assert dry.returncode == 0 and warning in dry.stderr, dry.stderr
    run = kvmtest(tmp_path, "-c", cfg, "--results", str(tmp_path / "r"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert warning in run.stderr and (tmp_path / "migrate.ran").exists()
    assert "matches no planned test" in (tmp_path / "r" / "job.log").read_text()


@pytest.mark.skipif(not BENCH_SMALL.exists(), reason="needs /work/shared/bench (tp-qemu configs)")
def test_tp_qemu_config_on_one_queue_has_no_dep_error(tmp_path):
    """tp-qemu tests depend on unattended_install tests no usual selection keeps."""
    cfg = tmp_path / "one.cfg"
    cfg.write_text(f"include {BENCH_SMALL}\nbase_mac_r0 = 02:00:00:00:00:00\nrange_size_r0 = 256\n"
                   "variants:\n    - @q1:\n        queue = 1\n        env = env1\n"
                   "        mac_ranges = r0\n        hostname = localhost\n")
    dry = in_process(tmp_path, "-c", str(cfg), "--dry-run", "--format", "json")
    dep_errors = [ln for ln in dry.stderr.splitlines()
                  if ln.startswith("error:") and "depends on" in ln]
    assert not dep_errors, dep_errors
    assert "3358 dep entries (19 distinct) match no planned test" in dry.stderr
