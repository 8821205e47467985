"""Fixtures shared by the whole suite.

* ``tiny_guest``: the tiny guest, built once per session when missing or stale
  (``python -m kvmtest.vm.tinyguest build``), or a skip that says what to install.
* ``no_qemu_left``: a session finalizer that fails the run if any qemu or
  network namespace started by this pytest process survived (after killing it).

SIGTERM and SIGHUP end the session the way Ctrl-C does, so every teardown
runs on interruption too (tests/interrupts.py; tests/test_interrupt.py checks
it with real signals).
"""

from __future__ import annotations

from typing import Dict

import pytest

from tests.interrupts import deferred_stop_signals, route_stop_signals
from tests.vm.guestkit import have_guest_tools, leftover_guests, remove_stale_namespaces


def pytest_configure(config: pytest.Config) -> None:
    route_stop_signals()


@pytest.fixture(scope="session")
def tiny_guest() -> Dict[str, str]:
    """Paths of the tiny guest's kernel, initrd and data disk (built here if needed)."""
    why = have_guest_tools()
    if why is not None:
        pytest.skip(f"tiny guest: {why} (scripts/sysdeps.sh guest)")
    from kvmtest.vm.tinyguest import ensure_built

    try:
        return ensure_built()
    except SystemExit as exc:  # find_kernel/find_busybox say what to install
        pytest.skip(f"tiny guest cannot be built here: {exc}")


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
