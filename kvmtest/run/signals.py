"""SIGINT/SIGTERM during a job: stop starting tests, stop running ones, then clean up.

The handler only sets flags (it runs between bytecodes of the main thread,
which is just waiting on the pipelines); the pipelines and watchdogs do the
work. A second signal sets ``hurry``: grace periods are cut short so an
impatient user gets the prompt back in seconds, still with results written.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Callable, Dict, Optional

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignals:
    """Context manager installing the handlers (main thread only; a no-op elsewhere)."""

    def __init__(self, stop: threading.Event, hurry: threading.Event,
                 on_stop: Optional[Callable[[str], None]] = None) -> None:
        self.stop = stop
        self.hurry = hurry
        self.on_stop = on_stop
        self.received: Optional[str] = None  # first signal's name
        self._previous: Dict[int, object] = {}

    def _handler(self, signum: int, _frame: Optional[FrameType]) -> None:
        name = signal.Signals(signum).name
        if self.stop.is_set():
            self.hurry.set()
            os.write(2, f"\nkvmtest: {name} again, not waiting for grace periods\n".encode())
            return
        self.received = name
        if self.on_stop is not None:
            self.on_stop(name)
        self.stop.set()
        os.write(2, f"\nkvmtest: {name} received, stopping tests and guests "
                    f"(again to hurry)\n".encode())

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, prev in self._previous.items():
            signal.signal(sig, prev)  # type: ignore[arg-type]
        self._previous.clear()

    @property
    def signum(self) -> Optional[int]:
        return int(signal.Signals[self.received]) if self.received else None
