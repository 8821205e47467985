"""``reboot``: reboot the main guest and check it really came back.

``reboot_method = shell`` (default: ``reboot_cmd``, default ``reboot -f``, in
the guest) or ``system_reset`` (QMP, qemu backend). The kernel boot id must
change and the planned MAC/IP must be there again after the reboot.
"""

from __future__ import annotations

from typing import Dict

from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.testtypes.helpers import check_addresses, get_vm, login
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env

BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


def run(test: TestContext, params: Dict[str, str], env: Env) -> None:
    vm = get_vm(params, env)
    session = login(vm, params)
    before = session.cmd_output(BOOT_ID, 30).strip()
    method = params.get("reboot_method", "shell")
    if method == "shell":
        session.sendline(params.get("reboot_cmd", "reboot -f"))
    elif method == "system_reset":
        monitor = getattr(vm, "monitor", None)
        if monitor is None:
            raise TestError(f"reboot_method = system_reset is not supported by vm_type {vm.vm_type}")
        with monitor() as qmp:
            qmp.cmd("system_reset")
    else:
        raise TestError(f"reboot_method {method!r}: expected shell or system_reset")
    # Same console connection: the next prompt we see comes from the rebooted guest.
    vm.rebooting()
    session = login(vm, params)
    after = session.cmd_output(BOOT_ID, 30).strip()
    if not after or after == before:
        raise TestFail(f"{vm.name}: boot id unchanged ({before}) after reboot: the guest did not reboot")
    check_addresses(vm, session)
    test.log.info("%s rebooted: boot id %s -> %s", vm.name, before, after)
