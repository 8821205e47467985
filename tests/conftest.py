"""Fixtures shared by the whole suite.

* ``tiny_guest``: the tiny guest, built once per session when missing or stale
  (``python -m kvmtest.vm.tinyguest build``), or a skip that says what to install.
* ``demo_files``: a data dir of empty stand-ins for the tiny guest's files, so a dry run of
  the demo (which checks they exist) plans on a machine where ``make guest`` never ran.
* ``no_qemu_left``: a session finalizer that fails the run if any qemu or
  network namespace started by this pytest process survived (after killing it).

* The history: every job a test runs indexes itself in the history
  (``kvmtest.history``); ``KVMTEST_HISTORY`` points it at a file in a temp dir of this
  session (inherited by the subprocesses tests start), never the user's own.
* The state dir (``KVMTEST_STATE_DIR``, ``kvmtest.vm.orphans``): each test has its own, so
  the orphan reaping every run does at its start sees only that test's runners. A test that
  SIGKILLs a runner on purpose then runs beside the others: no other test's run (nor another
  suite's, nor a real job on this machine) reaps what the killed runner left.

SIGTERM and SIGHUP end the session the way Ctrl-C does, so every teardown
runs on interruption too (tests/interrupts.py; tests/test_interrupt.py checks
it with real signals).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict

import pytest

from tests.hypo import load_profile
from tests.interrupts import deferred_stop_signals, route_stop_signals
from tests.vm.guestkit import have_guest_tools, leftover_guests, remove_stale_namespaces

_HISTORY_DIR = tempfile.mkdtemp(prefix="kvmtest-test-history-")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow-report", type=float, default=None, metavar="SECONDS",
                     help="after the run, list the tests that took longer than SECONDS"
                          " (setup + call + teardown) and the sum of all test durations"
                          " (make check passes it: its budget is docs/hacking.md's)")


def pytest_configure(config: pytest.Config) -> None:
    route_stop_signals()
    load_profile()  # HYPOTHESIS_PROFILE=check: make check's smaller counts (tests/hypo.py)
    # the suite's jobs index themselves here, never in the user's ~/.local/share/kvmtest
    os.environ["KVMTEST_HISTORY"] = os.path.join(_HISTORY_DIR, "history.db")
    # (module and session fixtures' runs; each test gets its own below)
    os.environ["KVMTEST_STATE_DIR"] = os.path.join(_HISTORY_DIR, "state")
    if config.getoption("--slow-report", None) is not None:
        config.pluginmanager.register(SlowReport(config.getoption("--slow-report")), "kvmtest-slow-report")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_HISTORY_DIR, ignore_errors=True)


class SlowReport:
    """``--slow-report N``: name the tests over N seconds, so that make check stays under a minute.

    It reports, it does not fail: a test's time depends on the machine's load. Under
    pytest-xdist the reports reach the controller, so one list covers every worker.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.durations: Dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration

    def pytest_terminal_summary(self, terminalreporter) -> None:
        slow = sorted(((d, n) for n, d in self.durations.items() if d > self.limit), reverse=True)
        total = sum(self.durations.values())
        write = terminalreporter.write_line
        write(f"sum of test durations: {total:.1f} s over {len(self.durations)} tests"
              f" (load average {os.getloadavg()[0]:.1f})")
        if slow:
            terminalreporter.section(f"tests over {self.limit:g} s (make check's budget:"
                                     " make them faster, or mark them slow; docs/hacking.md)",
                                     yellow=True)
            for d, n in slow:
                write(f"{d:6.1f} s  {n}")


@pytest.fixture(scope="session")
def tiny_guest() -> Dict[str, str]:
    """Paths of the tiny guest's kernel, initrd and data disk (built here if needed)."""
    why = have_guest_tools()
    if why is not None:
        pytest.skip(f"tiny guest: {why} (scripts/sysdeps.sh guest)")
    from kvmtest.vm.tinyguest import TinyGuestError, ensure_built

    try:
        return ensure_built()
    except TinyGuestError as exc:  # find_kernel/find_busybox say what to install
        pytest.skip(f"tiny guest cannot be built here: {exc}")


@pytest.fixture
def demo_files(tmp_path, monkeypatch) -> Path:
    """``KVMTEST_DATA_DIR`` set to a dir holding empty ``images/tiny/`` kernel, initrd and data
    disk: what a dry run's preflight looks for (existence only; nothing boots from them)."""
    tiny = tmp_path / "data" / "images" / "tiny"
    tiny.mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img", "data.qcow2"):
        (tiny / name).write_bytes(b"")
    monkeypatch.setenv("KVMTEST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session", autouse=True)
def no_qemu_left():
    """Session finalizer: fail the run if any qemu of ours survived, after killing it."""
    yield
    with deferred_stop_signals():
        left = leftover_guests()
        for pid in left:
            import psutil

            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
        stale_ns = remove_stale_namespaces()
    assert not left, f"qemu processes left running after the suite: {left}"
    assert not stale_ns, f"network namespaces left after the suite: {stale_ns}"



QEMU_SHIM = """#!/bin/sh
case "$1" in  # asking qemu about itself starts no guest: the real binary answers
  --version|-version|--help|-help|-h)
    PATH="$KVMTEST_REAL_PATH" exec "$(basename "$0")" "$@" ;;
esac
[ -n "$KVMTEST_QEMU_SHIM_LOG" ] && echo "$(basename "$0") $*" >> "$KVMTEST_QEMU_SHIM_LOG"
echo "kvmtest test suite: this test starts $(basename "$0") but is not marked" \\
     "@pytest.mark.guest: mark it (make check skips guest tests)" >&2
exit 97
"""


@pytest.fixture(scope="session")
def _qemu_shim_dir(tmp_path_factory) -> str:
    shims = tmp_path_factory.mktemp("no-qemu")
    for name in ("qemu-system-x86_64", "qemu-system-i386", "qemu-kvm"):
        path = shims / name
        path.write_text(QEMU_SHIM)
        path.chmod(0o755)
    return str(shims)


@pytest.fixture(autouse=True)
def _own_state_dir(monkeypatch, tmp_path_factory):
    """Each test's runs record their runners in a state dir of its own (the module's docstring).

    No later run of another test reaps what a runner this test killed left, so the test's
    teardown does, as such a run would have (a test that failed between its SIGKILL and its
    resume left a paused qemu behind)."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("KVMTEST_STATE_DIR", str(state))
    yield
    if (state / "runners").is_dir():  # a job ran in this test
        from kvmtest.vm.orphans import reap_orphans

        reap_orphans()


@pytest.fixture(autouse=True)
def _guest_tests_are_marked(request, monkeypatch, tmp_path_factory, _qemu_shim_dir):
    """A test without the ``guest`` marker that starts qemu fails, saying to mark it.

    ``make check`` runs ``-m "not guest"`` in under a minute only if every test that
    boots a guest says so. In-process or through a subprocess, qemu is found on PATH:
    there a shim records the call (and exits 97), and the test fails here.
    """
    if request.node.get_closest_marker("guest") is not None:
        yield
        return
    calls = tmp_path_factory.mktemp("qemu-calls") / "calls"
    monkeypatch.setenv("KVMTEST_REAL_PATH", os.environ.get("PATH", ""))
    monkeypatch.setenv("PATH", _qemu_shim_dir + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("KVMTEST_QEMU_SHIM_LOG", str(calls))
    yield
    if calls.exists():
        pytest.fail(f"this test starts qemu ({calls.read_text().splitlines()[0]}) but has no "
                    "@pytest.mark.guest marker: mark it, so that make check can leave it out")
