"""Test type for runner tests: ignores the stop flag and never returns (a truly hung test)."""

import threading


def run(test, params, env):
    test.log.info("hanging on purpose")
    threading.Event().wait()  # nobody will ever set it
