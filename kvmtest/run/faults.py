"""Infrastructure faults: the runner or the machine failed, not a test (disk full, a crashed queue).

A fault stops the job the way a signal does: no new test starts, running ones
are stopped, every test without a final status is left for ``--resume``, the
summary is still printed and the exit code is ``exitcodes.INFRA``. Only the
first fault is reported (a full disk fails every later write the same way),
once, without a traceback on the terminal.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
from typing import Callable, Optional

#: ``fail_class`` of a test that was running when the job hit a fault (not final: --resume reruns it).
INFRA_CLASS = "InfraError"


#: errno values that say "this machine's storage", whichever file the test was writing.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def is_machine_fault(exc: Optional[BaseException]) -> bool:
    """True for an exception that blames the host (disk full, quota, read-only), not the test."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


class InfraError(Exception):
    """The job could not start or go on because of the machine, not the input (exit 3)."""


class Fault:
    """The job's first infrastructure fault; ``report`` is safe from any thread, and re-entrant."""

    def __init__(self, on_first: Optional[Callable[[str], None]] = None) -> None:
        self.message: Optional[str] = None
        self._lock = threading.Lock()
        self._on_first = on_first

    def __bool__(self) -> bool:
        return self.message is not None

    def report(self, message: str) -> bool:
        """Record ``message`` unless a fault is recorded already; True for the first one."""
        with self._lock:
            if self.message is not None:
                return False
            self.message = message
        if self._on_first is not None:  # outside the lock: it may log, and logging may fail again
            self._on_first(message)
        return True


class QuietFileHandler(logging.FileHandler):
    """A log file that cannot be written (disk full) reports a fault instead of a traceback.

    logging's default ``handleError`` prints a traceback to stderr for every record
    that fails: on a full disk that is every record of every test.
    """

    def __init__(self, path: str, fault: Optional[Fault] = None) -> None:
        super().__init__(path, encoding="utf-8")
        self.fault = fault

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if self.fault is not None:
            self.fault.report(f"cannot write {self.baseFilename}: {exc}")

    def close(self) -> None:
        try:
            super().close()  # flushes: fails again while the disk is full
        except OSError as exc:
            if self.fault is not None:
                self.fault.report(f"cannot write {self.baseFilename}: {exc}")
