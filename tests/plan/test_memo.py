"""The planner's memo (kvmtest.plan.memo): a test costs a look-up, never a different plan."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from kvmtest.plan import make_parser, new_planner
from kvmtest.plan.build import Planner
from kvmtest.plan.memo import Reads, ValueMemo

# Guests, NICs and ranges that change between variants, so that per-guest keys
# (nics_vm2, nic_mode_nic2) only matter for some tests: a memo keyed by the
# keys the first test read would plan the others wrongly.
CONFIG = """\
base_mac_r0 = 02:10:00:00:00:00
base_ip_r0 = 10.30.0.0
range_size_r0 = 64
base_mac_r1 = 02:10:00:00:01:00
range_size_r1 = 64
type = sleep
start_vm = no
vms = vm1
nics = nic1
nic_mode = tap
nics_vm2 = nic1 nic2
nic_mode_nic2 = user
variants:
    - one:
    - two:
        vms = vm1 vm2
    - three:
        vms = vm1 vm2 vm3
        nics_vm3 = nic1 nic2 nic3
variants:
    - tapped:
    - bridged:
        nic_mode_nic1 = bridge
variants:
    - a:
        queue = 1
        env = e1
        mac_ranges = r0
    - b:
        queue = 2
        env = e2
        mac_ranges = r1
variants:
    - x:
    - y:
    - z:
"""


def _plan(path, memo: bool, monkeypatch) -> list:
    with monkeypatch.context() as m:
        if not memo:  # the reference: every test planned from its own params
            m.setattr(ValueMemo, "get", lambda self, signature: None)
        parser = make_parser([str(path)])
        planner = new_planner(parser, "here")
        out = [(t.name, t.hostname, t.queue, t.env, [a.to_json() for a in t.addresses])
               for _, params in parser.json_lines_with_params()
               for t in [planner.add(params)]]
        return out, planner


def test_memoized_plan_equals_the_plan_of_every_test_alone(tmp_path, monkeypatch):
    path = tmp_path / "hosts.cfg"
    path.write_text(CONFIG)
    fast, planner = _plan(path, True, monkeypatch)
    slow, _ = _plan(path, False, monkeypatch)
    assert fast == slow
    assert len(fast) == 3 * 2 * 2 * 3
    nics = {len(addresses) for *_, addresses in fast}
    assert nics == {1, 3, 6}  # (one address per NIC of every guest)
    # x, y and z share every value the planner reads: 12 combinations (and a few more
    # misses while the memo learns which keys matter)
    assert 12 <= planner._memo.misses <= len(fast) // 2
    assert sum(t.count for t in planner.queues.values()) == 36


class Counting(Mapping):
    """A test's params that count the reads (get, [], in), with a ``values_of`` that
    does not count, as the dry run's view answers it without a call per key."""

    reads = 0

    def __init__(self, d: dict) -> None:
        self.d = d

    def get(self, key, default=None):
        Counting.reads += 1
        return self.d.get(key, default)

    def __getitem__(self, key):
        Counting.reads += 1
        return self.d[key]

    def __contains__(self, key):
        Counting.reads += 1
        return key in self.d

    def values_of(self, keys):
        return tuple(map(self.d.get, keys))

    def __iter__(self):
        return iter(self.d)

    def __len__(self):
        return len(self.d)


def test_tests_alike_cost_a_look_up_not_every_read():
    """Each read of ~25 per test was a call into the dry run's lazy params view."""
    base = {"base_mac_r0": "02:00:00:00:00:00", "range_size_r0": "256", "mac_ranges": "r0",
            "vms": "vm1 vm2", "nics": "nic1", "nic_mode": "tap", "hostname": "h",
            "queue": "1", "env": "e1", "timeout": "60", "dep": []}
    p = Planner("here")
    Counting.reads = 0
    tests = [p.add(Counting(dict(base, name=f"t.n{i}", shortname=f"n{i}"))) for i in range(1000)]
    per_test = Counting.reads / 1000
    assert per_test < 5, per_test  # name, shortname, dep; the memo key is one map() call
    assert p._memo.misses == 1
    assert {a.mac for t in tests for a in t.addresses} == {"02:00:00:00:00:00", "02:00:00:00:00:01"}
    assert p.queues[("h", "1")].count == 1000


def test_reads_note_keys_and_iteration_turns_the_memo_off():
    memo = ValueMemo()
    params = {"a": "1", "b": "2"}
    reads = Reads(params)
    assert reads.get("a") == "1" and reads["b"] == "2" and "c" not in reads
    assert reads.read == ["a", "b", "c"] and not reads.whole
    memo.store(params, reads, memo.signature(params), "result")
    assert memo.keys == ("a", "b", "c")
    assert memo.get(memo.signature({"a": "1", "b": "2", "d": "x"})) == "result"
    assert memo.get(memo.signature({"a": "1", "b": "3"})) is None
    assert memo.get(memo.signature({"a": "1", "b": "2", "c": ""})) is None  # present: differs
    whole = Reads(params)
    assert sorted(whole) == ["a", "b"] and whole.whole
    memo.store(params, whole, memo.signature(params), "other")  # not kept: reads unknown
    assert memo.get(memo.signature(params)) == "result"


@pytest.mark.parametrize("value", [["a", "list"], {"a": "dict"}])
def test_unhashable_values_plan_without_the_memo(value):
    memo = ValueMemo()
    params = {"a": value}
    reads = Reads(params)
    reads.get("a")
    memo.store(params, reads, memo.signature(params), "result")  # (no TypeError)
    assert memo.get(memo.signature(params)) is None
