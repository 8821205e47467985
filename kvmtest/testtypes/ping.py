"""``ping``: every guest in ``vms`` pings every other one at its planned IP.

Meant for two guests on one bridge (``nic_mode = tap``, same ``netdst``): it
proves the plan's MAC/IP ranges work end to end over TAP networking inside the
queue's network namespace. ``ping_count`` (default 3) packets each way; any
loss is a FAIL.
"""

from __future__ import annotations

import re
from typing import Dict

from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.testtypes.helpers import check_addresses, get_vm, login
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_int, get_list

LOSS_RE = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


def run(test: TestContext, params: Dict[str, str], env: Env) -> None:
    names = get_list(params, "vms")
    if len(names) < 2:
        raise TestError(f"ping needs at least two guests in vms (got {names})")
    vms = [get_vm(params, env, n) for n in names]
    sessions = {}
    for vm in vms:
        sessions[vm.name] = login(vm, params)
        check_addresses(vm, sessions[vm.name])
    count = get_int(params, "ping_count", 3)
    for src in vms:
        for dst in vms:
            if dst is src:
                continue
            targets = [n.ip_address for n in dst.nics if n.ip_address]
            if not targets:
                raise TestError(f"{dst.name} has no planned IP to ping (give its queue an IP range)")
            for ip in targets:
                status, out = sessions[src.name].cmd(f"ping -c {count} -W 3 {ip}", 30 + 4 * count)
                m = LOSS_RE.search(out)
                if status != 0 or not m or m.group(1) != m.group(2):
                    raise TestFail(f"{src.name} -> {dst.name} ({ip}): ping failed: {out.strip()[-300:]!r}")
                test.log.info("%s -> %s (%s): %s/%s replies", src.name, dst.name, ip, m.group(2), m.group(1))
