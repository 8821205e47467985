"""Test type for runner tests: ignores the stop flag and never returns (a truly hung test)."""

import threading

START_VM = False  # no guest: the hang is the test's own (it started a bare qemu before)


def run(test, params, env):
    test.log.info("hanging on purpose")
    threading.Event().wait()  # nobody will ever set it
