"""kvmtest.plan.assign: invariants of the automatic placement (property tests) and its quality."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvmtest.plan.assign import Bundle, assign, loads_of, lower_bound, round_robin
from tests.hypo import examples

QUEUES = ("h1/1", "h1/2", "h2/1", "h3/1", "h3/2")


@st.composite
def bundles(draw, queues=QUEUES):
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        eligible = draw(st.lists(st.sampled_from(queues), min_size=1, max_size=len(queues),
                                 unique=True))
        d = draw(st.floats(0, 5000, allow_nan=False, allow_infinity=False))
        size = draw(st.integers(1, 3))
        out.append(Bundle(f"b{i:02d}", d, tuple(sorted(eligible)),
                          tuple(f"b{i:02d}.t{j}" for j in range(size))))
    return out


@settings(max_examples=examples(200), deadline=None)
@given(bundles(), st.randoms(use_true_random=False))
def test_each_bundle_placed_once_on_an_eligible_queue_and_order_does_not_matter(bs, rnd):
    plan = assign(bs, QUEUES)
    assert set(plan.placement) == {b.name for b in bs}
    for b in bs:
        assert plan.placement[b.name] in b.eligible
        if len(b.eligible) == 1:  # a pin is honoured
            assert plan.choices[b.name].how == "pinned"
            assert plan.placement[b.name] == b.eligible[0]
    shuffled = list(bs)
    rnd.shuffle(shuffled)
    again = assign(shuffled, list(reversed(QUEUES)))
    assert again.placement == plan.placement
    assert again.loads == plan.loads
    # the loads are the placement's, and nothing beats the lower bound
    assert loads_of(plan.placement, {b.name: b.duration for b in bs}, QUEUES) == pytest.approx(
        plan.loads)
    assert plan.makespan >= plan.lower_bound - 1e-6
    assert sum(plan.counts(bs).values()) == sum(len(b.members) for b in bs)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.floats(0, 1000, allow_nan=False), max_size=60), st.integers(1, 6))
def test_without_eligibility_limits_within_the_list_scheduling_bound(durations, m):
    queues = [f"q{i}" for i in range(m)]
    bs = [Bundle(f"t{i:02d}", d, tuple(queues)) for i, d in enumerate(durations)]
    plan = assign(bs, queues)
    longest = max(durations, default=0.0)
    assert plan.makespan <= sum(durations) / m + longest + 1e-6
    assert plan.lower_bound == pytest.approx(max(longest, sum(durations) / m))


def test_lpt_finds_the_optimum_where_round_robin_does_not():
    # plan order long, short, long, short...: a round-robin split puts every long test on 'a'
    bs = []
    for i in range(4):
        bs += [Bundle(f"long{i}", 3.0, ("a", "b")), Bundle(f"short{i}", 1.0, ("a", "b"))]
    plan = assign(bs, ("a", "b"))
    assert plan.makespan == 8.0 == plan.lower_bound
    rr = loads_of(round_robin(bs, ("a", "b")), {b.name: b.duration for b in bs}, ("a", "b"))
    assert rr == {"a": 12.0, "b": 4.0}


def test_the_improvement_pass_fixes_what_lpt_leaves():
    # LPT's classic bad case: 2 queues, 3,3,2,2,2 -> LPT gives 7 (3+2+2 / 3+2), optimum 6
    bs = [Bundle(n, d, ("a", "b")) for n, d in (("p", 3), ("q", 3), ("r", 2), ("s", 2), ("t", 2))]
    plan = assign(bs, ("a", "b"))
    assert plan.makespan == 6.0
    assert plan.moves >= 1
    assert any(c.moves for c in plan.choices.values())
    no_search = assign(bs, ("a", "b"), max_moves=0)
    assert no_search.makespan == 7.0


def test_eligibility_lower_bound_counts_what_only_some_queues_may_run():
    # 3 queues, but 10 s may only run on 'a': no plan ends before 10 s
    bs = [Bundle("x", 5.0, ("a",)), Bundle("y", 5.0, ("a",)), Bundle("z", 1.0, ("a", "b", "c"))]
    assert lower_bound(bs, ("a", "b", "c")) == 10.0
    plan = assign(bs, ("a", "b", "c"))
    assert plan.makespan == 10.0 and plan.placement["z"] != "a"


def test_fixed_load_is_counted():
    bs = [Bundle("x", 4.0, ("a", "b"))]
    plan = assign(bs, ("a", "b"), fixed={"a": 10.0})
    assert plan.placement["x"] == "b"
    assert plan.loads == {"a": 10.0, "b": 4.0}


def test_no_eligible_queue_in_the_pool_is_an_error():
    with pytest.raises(ValueError, match="no eligible queue"):
        assign([Bundle("x", 1.0, ("elsewhere",))], ("a",))


def test_two_thousand_tests_plan_fast_and_near_the_bound():
    rnd = random.Random(3)
    queues = [f"h{h}/{q}" for h in range(4) for q in range(3)]
    bs = []
    for i in range(2000):
        eligible = tuple(queues) if rnd.random() < 0.7 else tuple(rnd.sample(queues, 3))
        bs.append(Bundle(f"t{i:04d}", rnd.lognormvariate(4, 1.2), eligible))
    plan = assign(bs, queues)
    assert plan.ratio <= 1.05
