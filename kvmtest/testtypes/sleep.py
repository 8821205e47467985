"""``sleep``: wait ``sleep_length`` seconds (no guest); the runner's stop flag ends it early."""

from __future__ import annotations

from typing import Dict

from kvmtest.testtypes.errors import TestError
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_float

START_VM = False


def run(test: TestContext, params: Dict[str, str], env: Env) -> None:
    length = get_float(params, "sleep_length", 0.0)
    if length < 0:
        raise TestError(f"sleep_length = {length} is negative")
    if test.stop.wait(length) if length > 0 else test.stop.is_set():
        raise TestError("stopped")
