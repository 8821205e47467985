"""Exit codes of every kvmtest command, in one place (docs/exit-codes.md shows the table).

They are part of the interface: CI systems branch on them, so each keeps one meaning.
"""

OK = 0  # every planned test passed (or a clean dry run / listing)
TESTS_FAILED = 1  # the run finished and some test did not pass (FAIL, ERROR, ...)
BAD_INPUT = 2  # bad config, plan or command line: nothing was started
INFRA = 3  # the runner or the machine failed (disk full, lost host...): results may be partial
INTERRUPTED_BASE = 128  # interrupted by signal N: 128 + N (130 SIGINT, 143 SIGTERM)


def interrupted(signum: int) -> int:
    """The exit code of a run stopped by signal ``signum``."""
    return INTERRUPTED_BASE + int(signum)
