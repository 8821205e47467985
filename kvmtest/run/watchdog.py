"""Run one test in a worker thread under a deadline, and classify how it ended.

The queue's pipeline thread never blocks on the test itself: it waits on an
event with the test's timeout. On expiry (or when the job is stopped) it
escalates: set ``test.stop``, SIGTERM the queue's guests, wait ``grace``,
SIGKILL them, wait ``abandon_after``; a worker still running after that is
left behind as a daemon thread and the queue moves on. A timed-out or
stopped test is INTERRUPTED, whatever it returns afterwards.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from kvmtest.results.records import (
    ERROR,
    FAIL,
    INTERRUPTED,
    PASS,
    SKIP,
    STOPPED_CLASS,
    TIMEOUT_CLASS,
    Metric,
)
from kvmtest.testtypes.errors import TestError, TestFail, TestSkip

log = logging.getLogger("kvmtest.run.watchdog")

#: How often the waiting pipeline looks at the job-wide stop flag.
POLL = 0.1
HURRIED_RETURN = 1.0  # hurry: how long a SIGKILLed test's thread gets to return


@dataclass
class Outcome:
    status: str
    fail_reason: Optional[str] = None
    fail_class: Optional[str] = None
    abandoned: bool = False  # the worker thread was still running when we gave up on it
    exc: Optional[BaseException] = None  # what the test raised, for the runner to look at
    accel: Optional[str] = None  # the test's guests' accelerator (TestContext.accel)
    metrics: List[Metric] = field(default_factory=list)  # what it measured (TestContext.metrics)


def classify(exc: Optional[BaseException]) -> Outcome:
    """Outcome by exception, as test types signal it."""
    if exc is None:
        return Outcome(PASS)
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, TestFail):
        return Outcome(FAIL, text, name, exc=exc)
    if isinstance(exc, TestSkip):
        return Outcome(SKIP, text, name, exc=exc)
    if isinstance(exc, TestError):
        return Outcome(ERROR, text, name, exc=exc)
    return Outcome(ERROR, f"{name}: {text}", name, exc=exc)


def worker_name(name: str) -> str:
    """Thread name of a test's worker: log handlers route its records by it."""
    return f"kvmtest-{name}"


class _Worker(threading.Thread):
    def __init__(self, fn: Callable[[], None], name: str, test_log: logging.Logger) -> None:
        super().__init__(name=name, daemon=True)
        self.fn = fn
        self.test_log = test_log
        self.exc: Optional[BaseException] = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as exc:  # noqa: B036 - every way out is an outcome
            self.exc = exc
            if not isinstance(exc, (TestFail, TestSkip)):
                self.test_log.error("test raised:\n%s", "".join(
                    traceback.format_exception(type(exc), exc, exc.__traceback__)))
            else:
                self.test_log.info("%s: %s", type(exc).__name__, exc)
        finally:
            self.done.set()


@dataclass
class Watchdog:
    """Escalation policy for one queue; ``kill(sig)`` signals that queue's guests."""

    kill: Callable[[int], int]
    grace: float = 10.0
    abandon_after: float = 5.0
    job_stop: Optional[threading.Event] = None
    hurry: Optional[threading.Event] = None  # a second Ctrl-C: skip the grace period
    stop_reason: Callable[[], str] = lambda: "job interrupted"

    def run(self, fn: Callable[[], None], timeout: float, test_stop: threading.Event,
            name: str = "test", test_log: Optional[logging.Logger] = None) -> Outcome:
        worker = _Worker(fn, worker_name(name), test_log or log)
        worker.start()
        deadline = time.monotonic() + timeout
        why: Optional[Outcome] = None
        while not worker.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                why = Outcome(INTERRUPTED, f"timed out after {timeout:g} s", TIMEOUT_CLASS)
                break
            if self.job_stop is not None and self.job_stop.is_set():
                why = Outcome(INTERRUPTED, f"stopped: {self.stop_reason()}", STOPPED_CLASS)
                break
            worker.done.wait(min(left, POLL) if self.job_stop is not None else left)
        if why is None:
            return classify(worker.exc)
        (test_log or log).warning("%s: %s; stopping it", name, why.fail_reason)
        why.abandoned = not self._escalate(worker, test_stop)
        if why.abandoned:
            why.fail_reason = f"{why.fail_reason}; test thread did not return and was abandoned"
            (test_log or log).error("%s: thread still running, abandoned", name)
        return why

    def _escalate(self, worker: _Worker, test_stop: threading.Event) -> bool:
        """Stop flag, SIGTERM, grace, SIGKILL, last wait; True when the worker returned."""
        test_stop.set()
        self._kill(signal.SIGTERM)
        if self._wait(worker, self.grace):
            self._kill(signal.SIGKILL)  # anything the test left behind
            return True
        self._kill(signal.SIGKILL)
        # in a hurry too: a thread whose guest or command was just SIGKILLed returns within
        # milliseconds; without this short wait it raced the kill and was called abandoned
        return self._wait(worker, self.abandon_after, hurried=min(HURRIED_RETURN,
                                                                  self.abandon_after))

    def _wait(self, worker: _Worker, seconds: float, hurried: float = 0.0) -> bool:
        """Wait up to ``seconds`` for the worker; once ``hurry`` is set, ``hurried`` at most."""
        start = time.monotonic()
        end = start + seconds
        while not worker.done.is_set():
            now = time.monotonic()
            left = end - now
            if self.hurry is not None and self.hurry.is_set():
                left = min(left, start + hurried - now)
            if left <= 0:
                return worker.done.is_set()
            worker.done.wait(min(left, POLL))
        return True

    def _kill(self, sig: int) -> None:
        try:
            n = self.kill(sig)
            if n:
                log.info("sent %s to %d guest(s)", signal.Signals(sig).name, n)
        except Exception as exc:  # the watchdog must not die with the guests
            log.error("killing guests with %s failed: %s", signal.Signals(sig).name, exc)
