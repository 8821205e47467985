"""``boot``: the guests in ``vms`` boot, accept a login and show their planned MAC/IP."""

from __future__ import annotations

from typing import Dict

from kvmtest.testtypes.errors import TestFail
from kvmtest.testtypes.helpers import check_addresses, get_vm, login
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_list


def run(test: TestContext, params: Dict[str, str], env: Env) -> None:
    for name in get_list(params, "vms", params.get("main_vm", "vm1")):
        vm = get_vm(params, env, name)
        session = login(vm, params)
        status, out = session.cmd("uname -r", 30)
        if status != 0:
            raise TestFail(f"{name}: 'uname -r' exited {status} after login: {out.strip()[-200:]}")
        check_addresses(vm, session)
        test.log.info("%s booted: kernel %s", name, out.strip())
