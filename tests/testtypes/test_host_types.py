"""sleep and host_cmd: no guest, real processes."""

from __future__ import annotations

import threading
import time

import pytest

from kvmtest.testtypes import execute, load
from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.vm.env import Env
from tests.vm.guestkit import context, job_id


def run(tmp_path, **params):
    test = context(tmp_path, dict(params), job_id("host"))
    env = Env.load(tmp_path / "env.json")
    execute(test, env)
    return test


def test_sleep_zero_needs_no_guest(tmp_path):
    run(tmp_path, type="sleep", sleep_length="0", vms="vm1")
    assert not (tmp_path / "work" / "vm1.console").exists()
    assert Env.load(tmp_path / "env.json").guests == {}


def test_sleep_stops_early_when_asked(tmp_path):
    test = context(tmp_path, {"type": "sleep", "sleep_length": "30"}, job_id("host"))
    threading.Timer(0.2, test.stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(TestError, match="stopped"):
        execute(test, Env())
    assert time.monotonic() - t0 < 10


def test_host_cmd_pass_and_output(tmp_path):
    test = run(tmp_path, type="host_cmd", host_cmd="echo 'hello  world'", expected_output="^hello  world$")
    assert "hello  world" in (test.logdir / "host_cmd.log").read_text()


def test_host_cmd_is_not_a_shell(tmp_path):
    # A shell would run the second command; argv-only execution passes ';' to echo.
    test = run(tmp_path, type="host_cmd", host_cmd="echo a ; touch pwned")
    assert not (test.logdir / "pwned").exists()
    assert "a ; touch pwned" in (test.logdir / "host_cmd.log").read_text()


def test_host_cmd_status_mismatch_fails(tmp_path):
    with pytest.raises(TestFail, match="exited 1, expected 0"):
        run(tmp_path, type="host_cmd", host_cmd="false")
    run(tmp_path, type="host_cmd", host_cmd="false", expected_status="1")


def test_host_cmd_output_mismatch_fails(tmp_path):
    with pytest.raises(TestFail, match="does not match"):
        run(tmp_path, type="host_cmd", host_cmd="echo abc", expected_output="xyz")


def test_host_cmd_timeout_fails_and_kills(tmp_path):
    with pytest.raises(TestFail, match="timed out"):
        run(tmp_path, type="host_cmd", host_cmd="sleep 30", cmd_timeout="0.3")


def test_host_cmd_missing_binary_is_error(tmp_path):
    with pytest.raises(TestError, match="cannot run"):
        run(tmp_path, type="host_cmd", host_cmd="/nonexistent/tool")


def test_load_builtin_and_external(tmp_path):
    assert load("shell").__name__ == "kvmtest.testtypes.shell"
    (tmp_path / "mytype.py").write_text("def run(test, params, env):\n    params['ran'] = 'yes'\n")
    mod = load("mytype", [str(tmp_path)])
    params = {"type": "mytype", "test_dirs": str(tmp_path), "start_vm": "no"}
    execute(context(tmp_path, params, job_id("ext")), Env())
    assert params["ran"] == "yes" and callable(mod.run)


def test_load_unknown_names_the_places_tried(tmp_path):
    with pytest.raises(TestError, match="nosuch.*not found in"):
        load("nosuch", [str(tmp_path)])
    with pytest.raises(TestError, match="invalid"):
        load("../etc/passwd")
