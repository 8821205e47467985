"""Errors a guest operation raises; their own module so every vm/ module can import them
without importing the backend interface (``base.py``) or the console."""


class VMError(Exception):
    """A guest could not be started, reached, or died; the message says which and why."""


class VMDeadError(VMError):
    """The guest's process went away under us (qemu crashed or was killed)."""


class VMHangError(VMError):
    """The guest stopped answering on its console within the timeout."""


class VMPanicError(VMError):
    """The guest kernel panicked (or oopsed, or hit a BUG) on the console; the message quotes it."""


class VMStateError(VMError):
    """An operation needs the guest in another lifecycle state (e.g. a shell before boot)."""
