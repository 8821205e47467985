import pytest

from kvmtest.plan.build import Planner
from kvmtest.plan.errors import PlanError

RANGES = {
    "base_mac_r0": "02:00:00:00:00:00", "base_ip_r0": "10.20.0.0", "range_size_r0": "16",
    "base_mac_r1": "02:00:00:00:01:00", "base_ip_r1": "10.20.1.0", "range_size_r1": "16",
    "base_mac_r9": "02:00:00:00:00:08", "range_size_r9": "4",
}


def t(name, **params):
    d = dict(RANGES)
    d.update(name=name, shortname=name, dep=[], vms="vm1 vm2", nics="nic1", nic_mode="tap")
    d.update(params)
    return d


def test_addresses_are_deterministic_per_queue_and_disjoint_across_queues():
    p = Planner("here")
    a = p.add(t("a", hostname="h1", queue="1", env="e1", mac_ranges="r0"))
    b = p.add(t("b", hostname="h1", queue="1", env="e1", mac_ranges="r0"))
    c = p.add(t("c", hostname="h1", queue="2", env="e2", mac_ranges="r1", nics_vm2="nic1 nic2"))
    assert p.finish() == []
    assert [(x.vm, x.nic, x.mac, x.ip) for x in a.addresses] == [
        ("vm1", "nic1", "02:00:00:00:00:00", "10.20.0.0"),
        ("vm2", "nic1", "02:00:00:00:00:01", "10.20.0.1"),
    ]
    assert b.addresses == a.addresses  # same queue, one test after another: reuse is fine
    assert [x.mac for x in c.addresses] == ["02:00:00:00:01:00", "02:00:00:00:01:01", "02:00:00:00:01:02"]
    assert {x.range for x in c.addresses} == {"r1"}


def test_localhost_and_missing_hostname_mean_this_host_and_default_queue():
    p = Planner("box")
    assert p.add(t("a", hostname="localhost", nic_mode="user")).hostname == "box"
    test = p.add(t("b", nic_mode="user"))
    assert (test.hostname, test.queue, test.addresses) == ("box", "default", [])


def test_same_range_in_two_queues_names_both():
    p = Planner("here")
    p.add(t("a", hostname="h1", queue="1", env="e1", mac_ranges="r0"))
    with pytest.raises(PlanError) as info:
        p.add(t("b", hostname="h2", queue="1", env="e1", mac_ranges="r0"))
    msg = str(info.value)
    assert "same range" in msg and "h1/1" in msg and "h2/1" in msg and "r0" in msg
    assert "\n" not in msg


def test_overlapping_mac_spans_are_an_error():
    p = Planner("here")
    p.add(t("a", hostname="h1", queue="1", env="e1", mac_ranges="r0"))
    with pytest.raises(PlanError, match=r"MAC ranges overlap: r0 .* of h1/1 and r9 .* of h1/2"):
        p.add(t("b", hostname="h1", queue="2", env="e2", mac_ranges="r9"))


def test_range_too_small_names_test_queue_and_ranges():
    p = Planner("here")
    with pytest.raises(PlanError, match=r"range too small for test a on h1/1: ranges r9 hold 4 addresses, the test needs 5"):
        p.add(t("a", hostname="h1", queue="1", mac_ranges="r9", vms="v1 v2 v3 v4 v5"))


def test_tap_without_range_is_an_error_user_mode_is_not():
    p = Planner("here")
    assert p.add(t("u", nic_mode="user")).addresses == []
    with pytest.raises(PlanError, match="vm1/nic1, vm2/nic1 on TAP networking but the queue has no mac_ranges"):
        p.add(t("x"))


def test_bad_range_definition_is_reported_before_any_test_uses_it():
    bad = t("a", nic_mode="user")
    bad["base_mac_r5"] = "nonsense"
    bad["range_size_r5"] = "4"
    with pytest.raises(PlanError, match="bad range: base_mac_r5 = 'nonsense': not a MAC address"):
        Planner("here").add(bad)


def test_warnings_non_local_mac_and_duplicate_selection():
    p = Planner("here")
    d1 = t("dup", hostname="h1", queue="1", env="e1", mac_ranges="z")
    d1.update(base_mac_z="00:00:00:00:00:00", range_size_z="8")
    p.add(d1)
    p.add(t("dup", hostname="h1", queue="2", env="e2", mac_ranges="r1"))
    warnings = p.finish()
    assert any("base MAC 00:00:00:00:00:00 is not locally administered" in w for w in warnings)
    assert any("dup (h1/1 and h1/2)" in w for w in warnings)


def test_two_queues_sharing_an_env_file_is_an_error():
    p = Planner("here")
    p.add(t("a", queue="1", env="env", nic_mode="user"))
    with pytest.raises(PlanError, match=r"queues 1 \(env 'env'\) and 2 \(env 'env'\) on host here share env file env/env.json"):
        p.add(t("b", queue="2", env="env", nic_mode="user"))


def test_dependency_on_another_queue_is_a_plan_error():
    p = Planner("here")
    p.add(t("install", queue="1", env="e1", nic_mode="user"))
    p.add(t("boot", queue="2", env="e2", nic_mode="user", dep=["install"]))
    with pytest.raises(PlanError, match=r"test boot \(here/2\) depends on 'install', which is test"
                                         r" install on another queue \(here/1\)"):
        p.finish()
