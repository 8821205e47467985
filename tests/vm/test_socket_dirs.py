"""Unix socket paths with a long $TMPDIR or host name: guests still boot, no /tmp dir leaks."""

from __future__ import annotations

import json
import subprocess

import pytest

from kvmtest.plan.model import QueuePlan
from kvmtest.vm.base import make_vm
from kvmtest.vm.sockdir import SHORT_BASE, socket_dir
from tests.run.helpers import ptest, runner_cmd, runner_env, write_plan
from tests.vm.guestkit import JOB_PREFIX, cleanup_job, context, have_guest_tools, tiny_params


def test_a_guest_object_creates_no_socket_dir(tmp_path):
    deep = tmp_path / ("d" * 90)
    params = tiny_params()
    t = context(tmp_path, params, "j")
    t.workdir = deep
    vm = make_vm("vm1", params, t)
    vm.make_argv()
    sdir = socket_dir(deep)
    assert sdir.parent == SHORT_BASE and len(vm.console_socket) < 108
    assert not sdir.exists()


def test_short_dir_does_not_depend_on_tmpdir(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / ("t" * 120)))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert len(str(socket_dir(tmp_path / ("d" * 90)) / "vm1.console")) < 60


@pytest.mark.guest
@pytest.mark.skipif(have_guest_tools() is not None, reason=str(have_guest_tools()))
def test_long_tmpdir_and_host_name_boot_and_leave_nothing(tmp_path, tiny_guest):
    """$TMPDIR of ~100 chars and a 60-char host name; the guest is kept (kill_vm = no)."""
    tmpdir = tmp_path / ("t" * (100 - len(str(tmp_path))))
    tmpdir.mkdir()
    host = "h" * 60
    params = tiny_params(type="boot", kill_vm="no")
    tests = [ptest("boot1", "q1", host=host, **params), ptest("boot2", "q1", host=host, **params)]
    plan = write_plan(tmp_path / "plan.json", [QueuePlan(host, "q1", "env-q1", tests=tests)])
    job = f"{JOB_PREFIX}-longtmp"
    try:
        res = subprocess.run(runner_cmd("--plan", str(plan), "--results", str(tmp_path / "r"),
                                        "--job-id", job),
                             env=runner_env({"TMPDIR": str(tmpdir)}), capture_output=True, text=True,
                             timeout=600)
        out = res.stdout + res.stderr
        assert res.returncode == 0, out
        statuses = [t["status"] for t in json.loads((tmp_path / "r" / "results.json").read_text())["tests"]]
        assert statuses == ["PASS", "PASS"], out
        workdir = tmpdir / f"kvmtest-{job}"
        qdir = workdir / f"{host}-q1"
        assert not workdir.exists()
        assert socket_dir(qdir) != qdir and not socket_dir(qdir).exists()  # no leaked /tmp dir
    finally:
        cleanup_job(job)
