"""Config values inside qemu option strings: commas are escaped (paths) or refused (single values)."""

from __future__ import annotations

import shutil

import pytest

from kvmtest.testtypes import execute
from kvmtest.testtypes.errors import TestError
from kvmtest.vm.base import VMError, make_vm
from kvmtest.vm.env import Env
from tests.vm.guestkit import cleanup_job, context, have_guest_tools, job_id, tiny_params


@pytest.mark.parametrize("key,value", [
    ("machine_type", "pc,accel=kvm"),
    ("nic_model", "virtio-net-pci,romfile=/etc/passwd"),
    ("mac", "02:00:00:00:00:01,romfile=/etc/passwd"),
    ("image_format", "qcow2,file.locking=off"),
])
def test_single_values_with_commas_are_refused(tmp_path, key, value):
    params = tiny_params(**{key: value})
    vm = make_vm("vm1", params, context(tmp_path, params, "j"))
    with pytest.raises(VMError, match=f"param {key} = .* holds a ','"):
        vm.make_argv()


def test_paths_in_option_strings_are_escaped(tmp_path):
    work = tmp_path / "a,b=c"
    params = tiny_params()
    t = context(tmp_path, params, "j")
    t.workdir = work
    vm = make_vm("vm1", params, t)
    joined = " ".join(vm.make_argv())
    assert f"path={vm.console_socket.replace(',', ',,')},server=on" in joined
    assert f"filename={str(work).replace(',', ',,')}/vm1-data-overlay.qcow2,node-name" in joined


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_guest_boots_from_a_work_dir_with_a_comma(tmp_path, tiny_guest):
    """Real qemu: sockets and overlay under 'a,b' (unescaped, qemu read 'b/...' as an option)."""
    job = job_id("comma")
    params = tiny_params(type="boot")
    t = context(tmp_path, params, job)
    t.workdir = tmp_path.parent / f"{tmp_path.name[:6]},b"  # short: the sockets go there too
    try:
        execute(t, Env(tmp_path / "env.json"))
    finally:
        cleanup_job(job)
        shutil.rmtree(t.workdir, ignore_errors=True)


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_injected_machine_option_is_an_error_not_an_option(tmp_path, tiny_guest):
    job = job_id("comma")
    params = tiny_params(type="boot", machine_type="pc,accel=kvm")
    try:
        with pytest.raises(TestError, match="machine_type = 'pc,accel=kvm' holds a ','"):
            execute(context(tmp_path, params, job), Env(tmp_path / "env.json"))
    finally:
        cleanup_job(job)
