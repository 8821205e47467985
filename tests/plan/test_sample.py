"""The hosts/queues model of samples/kvm_hosts.cfg (the seed example, verbatim)."""

import json
from pathlib import Path

import pytest

import kvmtest
from kvmtest.cli import main

ROOT = Path(__file__).resolve().parents[2]
HOSTS = str(ROOT / "samples" / "kvm_hosts.cfg")
TESTS = ("boot", "reboot", "shutdown")

# (host, queue) -> (env, range, mac, ip, guests)
NIGHTLY = {
    ("hostname1", "1"): ("env", "r0", "00:00:00:00:00:00", "10.20.0.0", ["Windows.Win2000", "Windows.WinXP", "Windows.Win2003"]),
    ("hostname1", "2"): ("env2", "r1", "00:00:00:00:01:00", "10.20.1.0", ["Windows.WinVista", "Windows.Win2008"]),
    ("hostname2", "1"): ("env", "r2", "00:00:00:00:02:00", "10.20.2.0", ["RHEL.5.4", "RHEL.6.0"]),
}


def test_nightly_assigns_every_test_its_host_queue_range_and_address():
    plan = kvmtest.load([HOSTS], test_set="nightly", local_host="hostname1")
    assert set(plan.queue_plans) == set(NIGHTLY)
    for key, (env, rng, mac, ip, guests) in NIGHTLY.items():
        queue = plan.queue_plans[key]
        assert queue.env == env and queue.ranges == [rng]
        expected = sorted(f"qcow2.ide.{g}.{t}" for g in guests for t in TESTS)
        assert sorted(t.shortname for t in queue.tests) == expected
        for test in queue.tests:
            assert (test.hostname, test.queue, test.env) == (key[0], key[1], env)
            assert test.params["mac_ranges"] == rng
            assert [(a.vm, a.nic, a.mac, a.ip, a.range) for a in test.addresses] == [
                ("vm1", "nic1", mac, ip, rng)
            ]
            assert test.name.startswith(f"nightly.{key[0]}.queue{key[1]}.qcow2.ide.")
    assert [q.key for q in plan.queues] == ["hostname1/1", "hostname1/2"]
    assert len(plan.tests) == 21
    assert sum("not locally administered" in w for w in plan.warnings) == 3


def test_only_nightly_from_a_control_file_string_is_the_same_as_the_set():
    a = kvmtest.load([HOSTS], test_set="nightly", local_host="x")
    b = kvmtest.load([HOSTS], extra=["only nightly"], local_host="x")
    assert [t.name for t in a.tests] == [t.name for t in b.tests]


def test_weekly_splits_image_formats_between_queues():
    plan = kvmtest.load([HOSTS], test_set="weekly", local_host="x")
    q1 = plan.queue_plans[("hostname1", "1")].tests
    q2 = plan.queue_plans[("hostname1", "2")].tests
    assert q1 and all(t.params["image_format"] == "qcow2" for t in q1)
    assert q2 and all(t.params["image_format"] == "raw" for t in q2)
    rhel = plan.queue_plans[("hostname2", "1")].tests
    assert rhel and all(t.params["os_type"] == "linux" and t.params["type"] != "shutdown" for t in rhel)


def test_dry_run_json_for_hostname2_lists_only_its_tests(capsys):
    assert main(["-c", HOSTS, "--set", "nightly", "--host", "hostname2", "--dry-run", "--format", "json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 6
    assert {d["hostname"] for d in lines} == {"hostname2"}
    assert all(d["addresses"] == [{"vm": "vm1", "nic": "nic1", "mac": "00:00:00:00:02:00",
                                   "ip": "10.20.2.0", "range": "r2"}] for d in lines)
    assert all("_name_map_file" not in d for d in lines)


def test_dry_run_table_all_hosts(capsys):
    assert main(["-c", HOSTS, "--set", "nightly", "--host", "hostname1", "--dry-run", "--all-hosts"]) == 0
    out = capsys.readouterr().out
    assert "21 test(s) on all hosts" in out
    assert "qcow2.ide.Windows.WinVista.boot" in out and "hostname2" in out


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("nightly.hostname1.queue2.*WinXP.boot", "only WinVista Win2008"),
        ("nightly.hostname1.queue1.qcow2.ide.RHEL.5.4.boot", "only Windows"),
        ("nightly.hostname2.queue1.qcow2.virtio_blk.RHEL.6.0.reboot", "only ide"),
        ("weekly.hostname2.queue1.raw.ide.RHEL.6.0.shutdown", "no shutdown"),
    ],
)
def test_explain_names_the_removing_statement(capsys, pattern, expected):
    assert main(["-c", HOSTS, "--explain", pattern, "--host", "hostname1"]) == 0
    out = capsys.readouterr().out
    assert "REMOVED" in out and expected in out
    lines = out.splitlines()
    by = [ln for ln in lines if ln.strip().startswith("by ")]
    assert by and all("kvm_hosts.cfg:" in ln for ln in by)


def test_explain_selected_test_says_where_it_runs(capsys):
    assert main(["-c", HOSTS, "--set", "nightly", "--explain", r"hostname1\.queue2.*WinVista\.boot"]) == 0
    out = capsys.readouterr().out
    assert "SELECTED" in out and "runs on hostname1/2 (env env2, ranges r1)" in out
