"""Make the suite's cleanup survive Ctrl-C and SIGTERM.

pytest turns Ctrl-C (SIGINT) into KeyboardInterrupt and still runs fixture
teardown; SIGTERM (a CI timeout, ``kill``) and SIGHUP would kill it without
any, and a second Ctrl-C while pytest reports the first one kills it before
teardown. ``route_stop_signals`` sends the first stop signal of any kind
through the KeyboardInterrupt path and ignores (with a note on stderr) the ones
after it, so the cleanup always runs; SIGKILL still ends pytest at once.
``deferred_stop_signals`` lets a cleanup (stopping the daemons the suite
started, destroying its domains) finish when the first signal arrives during
it; the signal is re-delivered right after.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, List

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


_stopping: List[int] = []


def _stop(signum: int, _frame: object) -> None:
    name = signal.Signals(signum).name
    if _stopping:
        sys.stderr.write(f"\npytest: {name} ignored: cleaning up guests and daemons first "
                         "(SIGKILL abandons them)\n")
        return
    _stopping.append(signum)
    raise KeyboardInterrupt(f"pytest got {name}")


def route_stop_signals() -> None:
    """The first SIGINT/SIGTERM/SIGHUP ends the session as Ctrl-C does; later ones wait for teardown."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler, None):
            signal.signal(sig, _stop)


@contextmanager
def deferred_stop_signals() -> Iterator[None]:
    """Run the body to its end; a stop signal that arrives meanwhile is delivered after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: List[int] = []
    old = {sig: signal.signal(sig, lambda n, _f: pending.append(n)) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if pending:
            os.kill(os.getpid(), pending[0])
