import pytest

from kvmtest.plan.ranges import RangeError, allocate, parse_range, ranges_collide

R0 = {"base_mac_r0": "02:00:00:00:00:00", "base_ip_r0": "10.20.0.0", "range_size_r0": "256"}


def test_parse_and_number_addresses():
    rng = parse_range(R0, "r0")
    assert rng.mac(0) == "02:00:00:00:00:00"
    assert rng.mac(255) == "02:00:00:00:00:ff"
    assert rng.ip(1) == "10.20.0.1"
    assert rng.locally_administered_unicast


def test_range_without_ip_gives_no_ip():
    rng = parse_range({"base_mac_a": "02:00:00:00:10:00", "range_size_a": "4"}, "a")
    assert rng.ip(0) is None
    assert rng.ip_span is None


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"base_mac_r0": "zz:00:00:00:00:00", "range_size_r0": "4"}, "base_mac_r0 = 'zz:00:00:00:00:00': not a MAC"),
        ({"base_mac_r0": "02:00:00:00:00:00", "range_size_r0": "four"}, "range_size_r0 = 'four'"),
        ({"base_mac_r0": "02:00:00:00:00:00", "range_size_r0": "0"}, "must be at least 1"),
        ({"base_mac_r0": "02:00:00:00:00:00"}, "range_size_r0 is missing"),
        ({"range_size_r0": "4"}, "base_mac_r0 is missing"),
        ({"base_mac_r0": "03:00:00:00:00:00", "range_size_r0": "4"}, "multicast"),
        ({"base_mac_r0": "ff:ff:ff:ff:ff:fe", "range_size_r0": "4"}, "run past"),
        ({"base_mac_r0": "02:00:00:00:00:00", "range_size_r0": "4", "base_ip_r0": "10.0.0.300"}, "not an IP"),
        ({"base_mac_r0": "02:00:00:00:00:00", "range_size_r0": "4", "base_ip_r0": "255.255.255.254"}, "overflow"),
    ],
)
def test_bad_ranges_are_named(params, fragment):
    with pytest.raises(RangeError) as info:
        parse_range(params, "r0")
    assert fragment in str(info.value)


def test_collisions():
    a = parse_range(R0, "r0")
    b = parse_range({"base_mac_r1": "02:00:00:00:00:80", "range_size_r1": "256"}, "r1")
    c = parse_range({"base_mac_r2": "02:00:00:00:01:00", "base_ip_r2": "10.20.0.200", "range_size_r2": "16"}, "r2")
    d = parse_range({"base_mac_r3": "02:00:00:00:02:00", "base_ip_r3": "10.20.2.0", "range_size_r3": "16"}, "r3")
    assert ranges_collide(a, a) == "same range"
    assert ranges_collide(a, b) == "MAC ranges overlap"
    assert ranges_collide(a, c) == "IP ranges overlap"
    assert ranges_collide(a, d) is None


def test_allocate_spills_into_next_range_and_reports_shortage():
    small = parse_range({"base_mac_s": "02:00:00:00:00:00", "range_size_s": "2"}, "s")
    more = parse_range({"base_mac_t": "02:00:00:00:01:00", "range_size_t": "2"}, "t")
    got = allocate([small, more], 3)
    assert [m for m, _, _ in got] == ["02:00:00:00:00:00", "02:00:00:00:00:01", "02:00:00:00:01:00"]
    assert [r for _, _, r in got] == ["s", "s", "t"]
    with pytest.raises(RangeError, match="hold 4 addresses, the test needs 5"):
        allocate([small, more], 5)
