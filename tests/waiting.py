"""Polling helper shared by the integration tests (real processes take real time)."""

from __future__ import annotations

import time
from typing import Callable


def wait_for(pred: Callable[[], object], what: str, timeout: float = 60.0,
             poll: float = 0.05) -> None:
    """Return once ``pred()`` is true; fail the test naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(poll)
    raise AssertionError(f"gave up waiting for {what}")
