"""Watchdog: outcome by exception, escalation order, never blocked by a hung test.

The "guests" here are the kill callback (the system edge); the tests are real
threads. Nothing asserts on durations: timeouts are tiny so the cases end
quickly, and what is checked is the order of events and the outcome.
"""

from __future__ import annotations

import signal
import threading

import pytest

from kvmtest.results.records import (
    ERROR,
    FAIL,
    INTERRUPTED,
    PASS,
    SKIP,
    STOPPED_CLASS,
    TIMEOUT_CLASS,
)
from kvmtest.run.watchdog import Watchdog, classify
from kvmtest.testtypes.errors import TestError, TestFail, TestSkip


class Killer:
    """Records the signals the watchdog sends to the queue's guests."""

    def __init__(self, on_kill=None):
        self.sent = []
        self.on_kill = on_kill

    def __call__(self, sig: int) -> int:
        self.sent.append(sig)
        if self.on_kill:
            self.on_kill(sig)
        return 1


@pytest.mark.parametrize("exc,status,cls", [
    (None, PASS, None),
    (TestFail("bad"), FAIL, "TestFail"),
    (TestSkip("n/a"), SKIP, "TestSkip"),
    (TestError("no qemu"), ERROR, "TestError"),
    (KeyError("x"), ERROR, "KeyError"),
])
def test_classify(exc, status, cls):
    out = classify(exc)
    assert out.status == status
    assert out.fail_class == cls
    if exc is not None and not isinstance(exc, KeyError):
        assert out.fail_reason == str(exc)


def test_crash_reason_names_the_exception():
    assert classify(ZeroDivisionError("division by zero")).fail_reason == \
        "ZeroDivisionError: division by zero"


def test_returning_test_passes_and_no_guest_is_killed():
    k = Killer()
    out = Watchdog(kill=k).run(lambda: None, timeout=30, test_stop=threading.Event())
    assert out.status == PASS and k.sent == []


def test_exception_in_test_is_its_outcome():
    def fn():
        raise TestFail("guest said no")

    out = Watchdog(kill=Killer()).run(fn, timeout=30, test_stop=threading.Event())
    assert (out.status, out.fail_reason) == (FAIL, "guest said no")


def test_timeout_sets_stop_then_sigterm_and_reports_interrupted():
    stop = threading.Event()
    k = Killer()

    def fn():
        stop.wait(60)  # a cooperative test: returns once asked to stop

    out = Watchdog(kill=k, grace=30).run(fn, timeout=0.05, test_stop=stop)
    assert out.status == INTERRUPTED and out.fail_class == TIMEOUT_CLASS
    assert "timed out after 0.05 s" in out.fail_reason
    assert stop.is_set()
    assert k.sent[0] == signal.SIGTERM
    assert not out.abandoned


def test_test_that_ends_only_when_its_guest_dies_gets_sigkill():
    released = threading.Event()

    def on_kill(sig):
        if sig == signal.SIGKILL:
            released.set()  # the "guest" dies only on SIGKILL, unblocking the test

    k = Killer(on_kill)
    out = Watchdog(kill=k, grace=0.05, abandon_after=30).run(
        lambda: released.wait(60), timeout=0.05, test_stop=threading.Event())
    assert k.sent == [signal.SIGTERM, signal.SIGKILL]
    assert out.status == INTERRUPTED and not out.abandoned


def test_hung_thread_is_abandoned_not_waited_for():
    forever = threading.Event()
    try:
        out = Watchdog(kill=Killer(), grace=0.05, abandon_after=0.05).run(
            lambda: forever.wait(), timeout=0.05, test_stop=threading.Event(), name="hung")
        assert out.status == INTERRUPTED and out.abandoned
        assert "abandoned" in out.fail_reason
        hung = [t for t in threading.enumerate() if t.name == "kvmtest-hung"]
        assert hung and hung[0].daemon
    finally:
        forever.set()


def test_job_stop_interrupts_with_the_stop_reason():
    job_stop = threading.Event()
    test_stop = threading.Event()
    wd = Watchdog(kill=Killer(), grace=30, job_stop=job_stop, stop_reason=lambda: "SIGTERM received")

    def fn():
        job_stop.set()  # the "signal" arrives while the test runs
        test_stop.wait(60)

    out = wd.run(fn, timeout=600, test_stop=test_stop)
    assert out.status == INTERRUPTED and out.fail_class == STOPPED_CLASS
    assert out.fail_reason == "stopped: SIGTERM received"


def test_hurry_cuts_the_grace_period():
    hurry = threading.Event()
    hurry.set()
    forever = threading.Event()
    try:
        out = Watchdog(kill=Killer(), grace=3600, abandon_after=3600, hurry=hurry).run(
            lambda: forever.wait(), timeout=0.05, test_stop=threading.Event())
        assert out.abandoned  # it returned although grace and abandon_after are an hour
    finally:
        forever.set()


def test_in_a_hurry_a_thread_that_returns_after_sigkill_is_not_abandoned():
    """A second Ctrl-C (or a new coordinator taking the job over) skips the grace period,
    but the test whose command the SIGKILL ended returns a moment later: it is stopped, not
    abandoned (the reason a resumed cluster job recorded once the reaper got faster)."""
    hurry = threading.Event()
    hurry.set()
    killed = threading.Event()

    def on_kill(sig):
        if sig == signal.SIGKILL:
            threading.Timer(0.05, killed.set).start()  # the thread notices a moment later

    k = Killer(on_kill)
    out = Watchdog(kill=k, grace=3600, abandon_after=3600, hurry=hurry).run(
        lambda: killed.wait(60), timeout=0.05, test_stop=threading.Event())
    assert k.sent == [signal.SIGTERM, signal.SIGKILL]
    assert out.status == INTERRUPTED and not out.abandoned, out.fail_reason


def test_failing_killer_does_not_break_the_watchdog():
    def kill(sig):
        raise OSError("psutil exploded")

    stop = threading.Event()
    out = Watchdog(kill=kill, grace=30).run(lambda: stop.wait(60), timeout=0.05, test_stop=stop)
    assert out.status == INTERRUPTED
