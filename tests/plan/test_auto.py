"""``assign = auto`` sets through kvmtest.load: eligibility, pins, dep bundles, errors, estimates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kvmtest
from kvmtest.plan import PlanError
from kvmtest.plan.estimate import GLOBAL, MEASURED, SAME_TYPE, TIMEOUT, TestInfo, estimate
from kvmtest.results.durations import ResultsDurations
from tests.hypo import examples

HOSTS = """\
base_mac_r0 = 02:00:00:00:00:00
range_size_r0 = 4
base_mac_r1 = 02:00:00:00:01:00
range_size_r1 = 4
base_mac_r2 = 02:00:00:00:02:00
range_size_r2 = 1
variants:
    - @q1:
        queue = 1
        env = e1
    - @q2:
        queue = 2
        env = e2
variants:
    - @h1:
        hostname = h1
        only q1 q2
        q1:
            mac_ranges = r0
        q2:
            mac_ranges = r1
    - @h2:
        hostname = h2
        only q1
        mac_ranges = r2
"""

TESTS = [
    ("win_a", "type = sleep\n        sleep_length = 1\n        os = windows"),
    ("win_b", "type = sleep\n        os = windows"),
    ("lin_a", "type = sleep\n        os = linux"),
    ("lin_b", "type = sleep\n        os = linux"),
    ("lin_c", "type = host_cmd\n        os = linux"),
    ("lin_d", "type = host_cmd\n        os = linux"),
    ("setup", "type = sleep"),
    ("after: setup", "type = sleep"),
    ("two_nics", "type = sleep\n        vms = vm1\n        nics = n1 n2"),
]


def config(tmp_path: Path, tests=TESTS, set_body: str = "", name: str = "hosts.cfg") -> str:
    body = "variants:\n" + "".join(f"    - {head}{'' if ':' in head else ':'}\n        {params}\n"
                                   for head, params in tests)
    body += HOSTS
    body += "variants:\n    - @auto:\n        assign = auto\n"
    body += "".join(f"        {line}\n" for line in set_body.splitlines())
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def placement(plan) -> Dict[str, str]:
    return {t.shortname: f"{t.hostname}/{t.queue}" for t in plan.tests}


def order(plan) -> Dict[str, List[str]]:
    return {q.key: [t.shortname for t in q.tests] for q in plan.queue_plans.values()}


SET = "h2:\n    no win_a win_b\n"


def test_every_test_once_only_where_the_set_allows_it(tmp_path):
    path = config(tmp_path, set_body="h2:\n    only lin_a lin_b lin_c lin_d setup after two_nics")
    plan = kvmtest.load([path], test_set="auto", local_host="here")
    where = placement(plan)
    assert sorted(where) == sorted(["win_a", "win_b", "lin_a", "lin_b", "lin_c", "lin_d",
                                    "setup", "after", "two_nics"])
    assert len(plan.tests) == len(where)  # each exactly once
    assert where["win_a"].startswith("h1/") and where["win_b"].startswith("h1/")
    # two NICs do not fit h2's one-address range: h2/1 is not eligible for two_nics
    assert where["two_nics"].startswith("h1/")
    assert "not eligible on h2/1: needs 2 addresses, ranges r2 hold 1" in plan.auto.explain(
        "two_nics")
    # dep bundle: one queue, in plan order
    assert where["setup"] == where["after"]
    names = order(plan)[where["setup"]]
    assert names.index("setup") < names.index("after")
    # each queue's tests keep the config's order
    config_order = ["win_a", "win_b", "lin_a", "lin_b", "lin_c", "lin_d", "setup", "after",
                    "two_nics"]
    for tests in order(plan).values():
        assert tests == sorted(tests, key=config_order.index)
    # addresses come from the chosen queue's ranges, as in a hand-written plan
    t = next(t for t in plan.tests if t.shortname == "two_nics")
    assert [a.range for a in t.addresses] == ([["r0", "r0"], ["r1", "r1"]]
                                             [where["two_nics"] == "h1/2"])
    assert len(plan.queue_plans) == 3  # the pool is used


def test_a_pin_to_a_host_or_a_queue_is_honoured(tmp_path):
    body = "h1:\n    no lin_a\nh2:\n    no win_a two_nics\nq2:\n    no lin_b\nh1.q1:\n    no lin_c\n"
    body += "h2:\n    no lin_c\n"
    path = config(tmp_path, set_body=body)
    for _ in range(2):
        plan = kvmtest.load([path], test_set="auto", local_host="here")
        where = placement(plan)
        assert where["lin_a"] == "h2/1"  # only h2 allowed
        assert where["win_a"].startswith("h1/")
        assert where["lin_b"] in ("h1/1", "h2/1")
        assert where["lin_c"] == "h1/2"
        assert "chose h2/1: the only eligible queue" in plan.auto.explain("lin_a")


def test_same_config_in_another_order_gives_the_same_plan(tmp_path):
    first = kvmtest.load([config(tmp_path, set_body=SET, name="a.cfg")], test_set="auto",
                         local_host="here")
    shuffled = [TESTS[i] for i in (8, 3, 0, 5, 6, 7, 1, 4, 2)]
    second = kvmtest.load([config(tmp_path, shuffled, SET, name="b.cfg")], test_set="auto",
                          local_host="here")
    assert placement(first) == placement(second)


def test_a_test_that_fits_nowhere_is_a_plan_error_naming_it(tmp_path):
    tests = [*TESTS, ("five_nics", "type = sleep\n        vms = vm1\n        nics = a b c d e")]
    with pytest.raises(PlanError, match=r"test five_nics fits no queue of the pool: h1/1: needs 5"
                                        r" addresses, ranges r0 hold 4; .*h2/1: needs 5"):
        kvmtest.load([config(tmp_path, tests)], test_set="auto", local_host="here")


def test_a_dep_bundle_no_queue_may_run_is_a_plan_error(tmp_path):
    path = config(tmp_path, set_body="h1:\n    no setup\nh2:\n    no after")
    with pytest.raises(PlanError, match=r"tests linked by dep must share a queue.*after: h1/1"
                                        r" h1/2; setup: h2/1"):
        kvmtest.load([path], test_set="auto", local_host="here")
    plan = kvmtest.load([path], test_set="auto", local_host="here", ignore_deps=True)
    assert placement(plan)["setup"] == "h2/1"


def test_tests_without_assign_auto_stay_where_the_config_put_them(tmp_path):
    body = "win_a:\n    assign = manual\n    only h2\n"
    plan = kvmtest.load([config(tmp_path, set_body=body)], test_set="auto", local_host="here")
    assert placement(plan)["win_a"] == "h2/1"
    assert plan.auto.fixed_load == {"h2/1": 600.0}
    assert plan.auto.explain("win_a")[0].startswith("placed by hand")


def test_a_bad_assign_value_is_refused(tmp_path):
    with pytest.raises(PlanError, match=r"the command line: assign = 'automatic': expected auto"
                                        r" or manual"):
        kvmtest.load([config(tmp_path)], test_set="auto", local_host="here",
                     params=[("assign", "automatic")])


def test_ranges_are_checked_after_assignment_as_for_a_hand_written_plan(tmp_path):
    path = config(tmp_path)
    text = Path(path).read_text().replace("base_mac_r2 = 02:00:00:00:02:00",
                                          "base_mac_r2 = 02:00:00:00:00:02")
    Path(path).write_text(text)
    with pytest.raises(PlanError, match="MAC ranges overlap"):
        kvmtest.load([path], test_set="auto", local_host="here")


def test_a_hand_written_set_is_not_touched(tmp_path):
    path = config(tmp_path)
    text = Path(path).read_text().replace("        assign = auto\n", "        only h2\n")
    Path(path).write_text(text.replace("    - two_nics:", "    - two_nics:\n        no h2\n"))
    plan = kvmtest.load([path], test_set="auto", local_host="here")
    assert plan.auto is None
    # 'assign = manual' (the default, said out loud): the same hand-written plan
    Path(path).write_text(Path(path).read_text().replace("        only h2\n",
                                                         "        only h2\n        assign = manual\n"))
    manual = kvmtest.load([path], test_set="auto", local_host="here")
    assert manual.auto is None
    assert placement(manual) == placement(plan) and order(manual) == order(plan)


def results_json(path: Path, runs: Dict[str, List[float]], status: str = "PASS",
                 start: float = 1000.0) -> Path:
    tests = []
    for short, times in runs.items():
        for i, t in enumerate(times):
            tests.append({"id": f"h/1/{i}-{short}", "name": f"x.{short}", "shortname": short,
                          "status": status, "hostname": "h", "queue": "1",
                          "start": start + i * 100, "end": start + i * 100 + t})
    path.mkdir(parents=True, exist_ok=True)
    doc = {"schema_version": 2, "job": {"job_id": path.name, "start": start}, "tests": tests}
    (path / "results.json").write_text(json.dumps(doc))
    return path


def test_estimates_fall_back_from_measured_to_type_to_global_median_to_timeout(tmp_path):
    src = ResultsDurations([results_json(tmp_path / "r1", {"a": [10, 30, 20], "b": [4]})])
    infos = [TestInfo("a", "sleep"), TestInfo("b", "host_cmd"), TestInfo("c", "sleep"),
             TestInfo("d", "boot", "90")]
    est = estimate(infos, src)
    assert (est["a"].seconds, est["a"].kind, est["a"].runs) == (20, MEASURED, 3)
    assert (est["b"].seconds, est["b"].kind) == (4, MEASURED)
    assert (est["c"].seconds, est["c"].kind) == (20, SAME_TYPE)
    assert (est["d"].seconds, est["d"].kind) == (12, GLOBAL)
    nothing = estimate(infos, None)
    assert (nothing["d"].seconds, nothing["d"].kind) == (90, TIMEOUT)
    assert nothing["a"].seconds == 600  # the runner's default timeout
    assert estimate(infos, src, last=1)["a"].seconds == 20  # the latest run only


def test_results_durations_read_dirs_of_results_and_skip_what_says_nothing(tmp_path):
    results_json(tmp_path / "all" / "old", {"a": [100]}, start=1)
    results_json(tmp_path / "all" / "new", {"a": [2, 4]}, start=5000)
    results_json(tmp_path / "all" / "skipped", {"a": [0.0]}, status="SKIP", start=9000)
    src = ResultsDurations([tmp_path / "all"])
    assert src.durations(["a", "zz"]) == {"a": [100, 2, 4]}
    assert src.durations(["a"], last=2) == {"a": [2, 4]}
    with pytest.raises(FileNotFoundError, match="no results.json"):
        ResultsDurations([tmp_path])


POOL = ("h1/1", "h1/2", "h2/1")


@st.composite
def auto_sets(draw):
    """Tests t0..tn with random durations, queues they are kept off, and deps on earlier tests."""
    n = draw(st.integers(1, 7))
    tests = []
    for i in range(n):
        banned = draw(st.lists(st.sampled_from(POOL), max_size=2, unique=True))
        dep = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        tests.append((f"t{i}", banned, dep, draw(st.integers(1, 50))))
    return tests


def _write_set(tmp: Path, tests, name: str) -> str:
    heads = []
    for short, _, dep, _ in tests:
        heads.append((f"{short}: t{dep}" if dep is not None else short,
                      "type = sleep\n        timeout = 100"))
    body = ""
    for short, banned, _, _ in tests:
        for q in banned:
            host, queue = q.split("/")
            body += f"{host}.q{queue}:\n    no {short}\n"
    return config(tmp, heads, body, name=name)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(auto_sets(), st.randoms(use_true_random=False))
def test_property_placed_once_where_allowed_deps_together_any_order(tmp_path, tests, rnd):
    runs = {short: [float(d)] for short, _, _, d in tests}
    src = ResultsDurations([results_json(tmp_path / "runs", runs)])
    allowed = {short: set(POOL) - set(banned) for short, banned, _, _ in tests}
    try:
        plan = kvmtest.load([_write_set(tmp_path, tests, "a.cfg")], test_set="auto",
                            local_host="here", durations=src)
    except PlanError as exc:
        # only when some dep-linked group has no queue in common (every test has one: 2 banned of 3)
        assert "must share a queue" in str(exc)
        group = {short: {short} for short in allowed}
        for short, _, dep, _ in tests:
            if dep is not None:
                merged = group[short] | group[f"t{dep}"]
                for m in merged:
                    group[m] = merged
        assert any(not set.intersection(*(allowed[m] for m in g)) for g in group.values())
        return
    where = placement(plan)
    assert len(plan.tests) == len(tests) == len(where)
    for short, _, dep, _ in tests:
        assert where[short] in allowed[short]
        if dep is not None:
            assert where[short] == where[f"t{dep}"]
            names = order(plan)[where[short]]
            assert names.index(f"t{dep}") < names.index(short)
    assert plan.auto.result.makespan >= plan.auto.result.lower_bound - 1e-9
    shuffled, left = [], list(tests)  # the variants in another order, each dep still first
    while left:
        ready = [t for t in left if t[2] is None or f"t{t[2]}" in {s[0] for s in shuffled}]
        shuffled.append(ready[rnd.randrange(len(ready))])
        left.remove(shuffled[-1])
    again = kvmtest.load([_write_set(tmp_path, shuffled, "b.cfg")], test_set="auto",
                         local_host="here", durations=src)
    assert placement(again) == where
