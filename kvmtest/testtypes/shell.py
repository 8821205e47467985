"""``shell``: run ``guest_cmd`` in the main guest.

Passes when the exit status equals ``expected_status`` (default 0) and the
output matches the ``expected_output`` regex when given. Both ``guest_cmd``
and ``expected_output`` may use the plan's addresses: ``${mac}``, ``${ip}``
(first NIC), ``${mac_nic1}``, ``${ip_nic1}``, ``${vm}``. ``metrics`` (with a
``metric_regex_NAME`` per metric) records numbers from the output
(kvmtest/testtypes/metrics.py).
"""

from __future__ import annotations

import re
from typing import Dict

from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.testtypes.helpers import check_addresses, expand, get_vm, login
from kvmtest.testtypes.metrics import metric_specs, record_metrics
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_float, get_int


def run(test: TestContext, params: Dict[str, str], env: Env) -> None:
    raw = params.get("guest_cmd", "")
    if not raw.strip():
        raise TestError("shell test without a guest_cmd param")
    specs = metric_specs(params)
    vm = get_vm(params, env)
    session = login(vm, params)
    check_addresses(vm, session)
    cmd = expand(raw, vm)
    status, output = session.cmd(cmd, get_float(params, "cmd_timeout", 60.0))
    test.log.info("%s: %r exited %d", vm.name, cmd, status)
    expected = get_int(params, "expected_status", 0)
    if status != expected:
        raise TestFail(f"{vm.name}: {cmd!r} exited {status}, expected {expected}; output: {output.strip()[-300:]!r}")
    pattern = params.get("expected_output")
    if pattern:
        rx = expand(pattern, vm, regex=True)
        if not re.search(rx, output, re.MULTILINE):
            raise TestFail(f"{vm.name}: output of {cmd!r} does not match {rx!r}: {output.strip()[-300:]!r}")
    record_metrics(test, specs, output)
