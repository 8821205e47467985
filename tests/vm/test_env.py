"""Env files: versioned JSON, atomic writes, stale and corrupt entries handled loudly."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import psutil

from kvmtest.vm.env import ENV_VERSION, Env, GuestRecord
from tests.waiting import wait_for


def record_for(pid: int, name: str = "vm1") -> GuestRecord:
    p = psutil.Process(pid)
    return GuestRecord(name=name, vm_type="qemu", pid=pid, create_time=p.create_time(),
                       cmdline=p.cmdline(), params_digest="abc", console="/x/c", monitor="/x/m",
                       job_id="j", queue="q")


MARKED = dict(os.environ, KVMTEST_JOB="j", KVMTEST_QUEUE="q", KVMTEST_VM="vm1")


def test_roundtrip_keeps_live_guest(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=MARKED)
    try:
        # (recorded before its exec, its command line is empty: a record that proves nothing)
        wait_for(lambda: "time.sleep(30)" in " ".join(psutil.Process(proc.pid).cmdline()),
                 "the child to exec")
        env = Env.load(tmp_path / "env")
        env.register_guest(record_for(proc.pid))
        env.data["note"] = 1
        env.save()
        doc = json.loads((tmp_path / "env").read_text())
        assert doc["version"] == ENV_VERSION
        again = Env.load(tmp_path / "env")
        assert again.get_guest("vm1") == env.get_guest("vm1")
        assert again.data == {"note": 1}
    finally:
        proc.kill()
        proc.wait()


def test_dead_process_dropped(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    rec = record_for(proc.pid)
    proc.wait()
    env = Env(tmp_path / "env")
    env.register_guest(rec)
    env.save()
    assert Env.load(tmp_path / "env").guests == {}


def test_reused_pid_dropped(tmp_path):
    # Our own pid is alive, but it is not the recorded program: cmdline and create time differ.
    rec = record_for(os.getpid())
    rec.cmdline = ["qemu-system-x86_64", "-name", "vm1"]
    env = Env(tmp_path / "env")
    env.register_guest(rec)
    env.save()
    assert Env.load(tmp_path / "env").guests == {}
    rec2 = record_for(os.getpid())
    rec2.create_time -= 100
    env.register_guest(rec2)
    env.save()
    assert Env.load(tmp_path / "env").guests == {}


def test_corrupt_file_is_reported_and_replaced(tmp_path, caplog):
    path = tmp_path / "env"
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="kvmtest.vm.env"):
        env = Env.load(path)
    assert env.guests == {}
    assert str(path) in caplog.text and "corrupt" in caplog.text
    assert json.loads(path.read_text())["version"] == ENV_VERSION


def test_wrong_version_is_reported(tmp_path, caplog):
    path = tmp_path / "env"
    path.write_text(json.dumps({"version": 99, "guests": {}}))
    with caplog.at_level(logging.WARNING, logger="kvmtest.vm.env"):
        Env.load(path)
    assert "unsupported version 99" in caplog.text


def test_save_is_atomic_no_temp_left(tmp_path):
    env = Env(tmp_path / "sub" / "env")
    for i in range(3):
        env.data["i"] = i
        env.save()
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["env"]
