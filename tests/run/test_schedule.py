"""The pure scheduler: invariants over generated plans, and the plan-time dep errors."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvmtest.plan.model import PlannedTest, QueuePlan
from kvmtest.run.schedule import (
    PlanError,
    all_test_ids,
    dep_matches,
    make_test_id,
    resolve_deps,
    schedule,
)
from tests.hypo import examples


def t(name: str, queue: str = "q1", host: str = "h", dep=(), short=None) -> PlannedTest:
    return PlannedTest(name=name, shortname=short or name.rsplit(".", 1)[-1], params={},
                       hostname=host, queue=queue, env=f"env-{queue}", dep=list(dep))


def q(queue: str, *tests: PlannedTest, host: str = "h") -> QueuePlan:
    return QueuePlan(hostname=host, queue=queue, env=f"env-{queue}", tests=list(tests))


@st.composite
def plans(draw):
    """Queues of uniquely named tests; some depend on earlier tests of their own queue."""
    n_queues = draw(st.integers(1, 4))
    queues = []
    for qi in range(n_queues):
        qname = f"q{qi}"
        tests = []
        for ti in range(draw(st.integers(0, 6))):
            name = f"v{qi}.t{ti}"
            deps = []
            if tests and draw(st.booleans()):
                deps = [draw(st.sampled_from(tests)).name]
            tests.append(t(name, qname, dep=deps, short=f"{qname}_t{ti}"))
        queues.append(q(qname, *tests))
    return queues


@settings(max_examples=examples(60), deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_every_pending_test_once_in_plan_order(queues, rnd):
    ids = all_test_ids(queues)
    done = {i for i in ids if rnd.random() < 0.3}
    out = schedule(queues, done)
    got = [s.id for qs in out for s in qs.tests]
    assert sorted(got) == sorted(set(ids) - done)
    assert len(got) == len(set(got))
    for qs in out:
        idx = [s.index for s in qs.tests]
        assert idx == sorted(idx)
        assert all(s.test.queue == qs.plan.queue for s in qs.tests)
        assert qs.tests, "queues with nothing to do are dropped"


@settings(max_examples=examples(60), deadline=None)
@given(plans())
def test_deps_point_to_earlier_tests_of_the_same_queue(queues):
    by_id = {make_test_id(qp, i, tt): (qp.key, i) for qp in queues
             for i, tt in enumerate(qp.tests, 1)}
    for qs in schedule(queues):
        for s in qs.tests:
            for d in s.deps:
                key, index = by_id[d]
                assert key == qs.key and index < s.index


@settings(max_examples=examples(40), deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_queue_order_in_input_does_not_matter(queues, rnd):
    shuffled = list(queues)
    rnd.shuffle(shuffled)
    a = [(qs.key, [(s.id, s.deps) for s in qs.tests]) for qs in schedule(queues)]
    b = [(qs.key, [(s.id, s.deps) for s in qs.tests]) for qs in schedule(shuffled)]
    assert a == b


def test_dep_matches_full_name_shortname_and_dotted_suffix():
    boot = t("qcow2.virtio_blk.boot", short="boot")
    assert dep_matches("qcow2.virtio_blk.boot", boot)
    assert dep_matches("boot", boot)
    assert dep_matches("virtio_blk.boot", boot)
    assert not dep_matches("oot", boot)
    assert not dep_matches("", boot)


def test_same_queue_earlier_match_wins_over_other_queues():
    queues = [
        q("q1", t("qcow2.boot"), t("qcow2.migrate", dep=["boot"])),
        q("q2", t("raw.boot", "q2")),
    ]
    deps = resolve_deps(queues)
    assert deps["h/q1/2-migrate"] == ("h/q1/1-boot",)


def test_dep_on_another_queue_is_a_plan_error_naming_both_tests_and_queues():
    queues = [q("q1", t("a.boot")), q("q2", t("b.migrate", "q2", dep=["a.boot"]))]
    with pytest.raises(PlanError, match=r"test b.migrate \(h/q2\) depends on 'a.boot', which is"
                                         r" test a.boot on another queue \(h/q1\)"):
        schedule(queues)


def test_dep_planned_later_is_a_plan_error():
    with pytest.raises(PlanError, match="planned after"):
        schedule([q("q1", t("a.migrate", dep=["boot"]), t("a.boot"))])


def test_dep_matching_nothing_runs_without_it_with_a_warning():
    """avocado-vt runs a test whose dep names no test that ran (tp-qemu's install deps)."""
    warnings: list = []
    out = schedule([q("q1", t("a.migrate", dep=["nosuch"]), t("a.other", dep=["nosuch", "x"]))],
                   warnings=warnings)
    assert [s.deps for s in out[0].tests] == [(), ()]
    assert len(warnings) == 1
    assert "test a.migrate (h/q1) depends on 'nosuch', which matches no planned test" in warnings[0]
    assert "3 dep entries (2 distinct)" in warnings[0]


def test_self_dependency_is_not_satisfied_by_itself():
    warnings: list = []
    out = schedule([q("q1", t("a.boot", dep=["boot"]))], warnings=warnings)
    assert out[0].tests[0].deps == () and "matches no planned test" in warnings[0]


def test_duplicate_queue_and_misfiled_test_are_plan_errors():
    with pytest.raises(PlanError, match="planned twice"):
        schedule([q("q1", t("a")), q("q1", t("b"))])
    with pytest.raises(PlanError, match="listed in queue"):
        schedule([q("q1", t("a", queue="q2"))])


def test_ids_are_unique_even_with_repeated_shortnames():
    queues = [q("q1", t("x.boot"), t("y.boot")), q("q2", t("x.boot", "q2"))]
    ids = all_test_ids(queues)
    assert len(ids) == len(set(ids)) == 3


def test_done_tests_are_left_out_but_still_satisfy_deps():
    queues = [q("q1", t("a.boot"), t("a.migrate", dep=["boot"]))]
    out = schedule(queues, {"h/q1/1-boot"})
    assert [s.id for s in out[0].tests] == ["h/q1/2-migrate"]
    assert out[0].tests[0].deps == ("h/q1/1-boot",)


def test_long_random_dependency_chains_resolve():
    rnd = random.Random(1)
    tests = [t(f"v.t{i}", dep=[f"v.t{rnd.randrange(i)}"] if i else []) for i in range(300)]
    out = schedule([q("q1", *tests)])
    assert len(out[0].tests) == 300
