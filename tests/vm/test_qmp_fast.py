"""The QMP client against a scripted QMP server on a unix socket: no qemu.

Every way the monitor can misbehave must end in ``QMPError``: ``QemuVM.destroy``
catches exactly that to fall back to SIGKILL, so anything else would leave qemu running.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from kvmtest.vm.qmp import QMP, QMPError
from tests.vm.fakes import FakeQMP


@pytest.fixture
def sock_path():
    """A short path: a unix socket path has at most 107 bytes, a pytest tmp_path may be longer."""
    short = Path(tempfile.mkdtemp(prefix="kt-qmp-", dir="/tmp"))
    yield short / "qmp.sock"
    shutil.rmtree(short, ignore_errors=True)


def serve(path, replies=None, **kw):
    peer = FakeQMP(path, replies, **kw)
    peer.start()
    return peer


def test_handshake_then_command_returns_its_value(sock_path):
    peer = serve(sock_path, {"query-status": [b'{"return": {"status": "running"}}\n']})
    with QMP(str(sock_path), 2) as qmp:
        assert qmp.cmd("query-status") == {"status": "running"}
    assert peer.commands == ["qmp_capabilities", "query-status"]


def test_events_before_the_reply_are_skipped_and_split_replies_reassembled(sock_path):
    serve(sock_path, {"query-status": [b'{"event": "RESUME", "timestamp": {}}\n',
                                       b'{"return": {"status": "paused"}}\n']}, chunk=3)
    with QMP(str(sock_path), 2) as qmp:
        assert qmp.cmd("query-status") == {"status": "paused"}


def test_error_reply_is_a_qmp_error_with_its_description(sock_path):
    serve(sock_path, {"nope": [b'{"error": {"class": "CommandNotFound", "desc": "no nope"}}\n']})
    with QMP(str(sock_path), 2) as qmp, pytest.raises(QMPError, match="nope: no nope"):
        qmp.cmd("nope")


def test_peer_closing_is_an_error_unless_expected(sock_path):
    serve(sock_path, {"quit": None, "other": None})
    with QMP(str(sock_path), 2) as qmp:
        assert qmp.cmd("quit", expect_close=True) is None
    serve_again = sock_path.with_name("b.sock")
    serve(serve_again, {"other": None})
    with QMP(str(serve_again), 2) as qmp, pytest.raises(QMPError, match="closed"):
        qmp.cmd("other")


def test_no_socket_is_a_qmp_error(sock_path):
    with pytest.raises(QMPError, match="cannot connect"):
        QMP(str(sock_path), 1)


def test_garbage_greeting_is_a_qmp_error(sock_path):
    serve(sock_path, greeting=b"\xff\xfenot json at all\n")
    with pytest.raises(QMPError, match="QMP"):
        QMP(str(sock_path), 1)


def test_greeting_that_is_json_but_not_qmp_is_refused(sock_path):
    serve(sock_path, greeting=b'{"hello": 1}\n')
    with pytest.raises(QMPError, match="unexpected QMP greeting"):
        QMP(str(sock_path), 1)


def test_silent_peer_times_out_as_a_qmp_error(sock_path):
    serve(sock_path, greeting=b"")
    t0 = time.monotonic()
    with pytest.raises(QMPError, match="no answer"):
        QMP(str(sock_path), 0.3)
    assert time.monotonic() - t0 < 2


def test_garbage_reply_is_a_qmp_error(sock_path):
    serve(sock_path, {"query-status": [b"}}}{{{\n"], "weird": [b'{"error": "just a string"}\n']})
    with QMP(str(sock_path), 1) as qmp:
        with pytest.raises(QMPError, match="query-status"):
            qmp.cmd("query-status")
    other = sock_path.with_name("c.sock")
    serve(other, {"weird": [b'{"error": "just a string"}\n']})
    with QMP(str(other), 1) as qmp, pytest.raises(QMPError, match="weird: just a string"):
        qmp.cmd("weird")


def test_destroy_kills_qemu_whose_monitor_never_answers(tmp_path):
    """QemuVM.destroy asks QMP first; a monitor that accepts and stays silent must not save qemu."""
    from kvmtest.vm.qemu import QemuVM
    from tests.vm.guestkit import context

    fake_qemu = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        vm = QemuVM("vm1", {"vms": "vm1", "nics": ""}, context(tmp_path, {}, "qmp-destroy"))
        vm.proc, vm.pid = fake_qemu, fake_qemu.pid
        vm.state = vm.state.__class__.READY
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        Path(vm.monitor_socket).parent.mkdir(parents=True, exist_ok=True)  # create() would make it
        server.bind(vm.monitor_socket)
        server.listen(1)  # accepts (the kernel does), never says a word
        vm.destroy(gracefully=True)
        assert fake_qemu.poll() is not None and vm.state.value == "stopped"
        server.close()
    finally:
        if fake_qemu.poll() is None:
            psutil.Process(fake_qemu.pid).kill()
            fake_qemu.wait()
