"""Metrics: `metrics` + `metric_regex_NAME` on host_cmd, test.record_metric from a test module;
both land in results.json from real (host-only) jobs."""

from __future__ import annotations

import json
import math

import pytest

from kvmtest.results import load_results
from kvmtest.results.records import Metric
from kvmtest.run import RunOptions, new_job, run_job
from kvmtest.testtypes.errors import TestError
from kvmtest.testtypes.metrics import metric_specs
from tests.run.helpers import cmd, ptest, queue

BENCH_OUTPUT = "printf 'warmup\\nbw=512.5 MB/s\\nbw=500 MB/s\\nlatency 20 us\\n'"


def job(results, *tests):
    run_job([queue("q1", *tests)], results, new_job("bench", ["test"]), progress=lambda ev: None,
            options=RunOptions(handle_signals=False, print_summary=False))
    return {r.shortname: r for r in load_results(results)}


def test_host_cmd_metrics_land_in_results_json(tmp_path):
    got = job(tmp_path / "r",
              cmd("b.io", BENCH_OUTPUT, metrics="bw:MB/s:higher lat:us:lower",
                  metric_regex_bw=r"^bw=([0-9.]+)", metric_regex_lat=r"latency (\d+) us"))
    r = got["io"]
    assert r.status == "PASS", r.fail_reason
    assert r.metrics == [Metric("bw", 512.5, "MB/s", "higher"), Metric("bw", 500.0, "MB/s", "higher"),
                         Metric("lat", 20.0, "us", "lower")]
    raw = json.loads((tmp_path / "r" / "results.json").read_text())
    assert raw["tests"][0]["metrics"][2] == {"name": "lat", "value": 20.0, "unit": "us",
                                             "better": "lower"}


def test_a_declared_metric_missing_from_the_output_fails_the_test(tmp_path):
    got = job(tmp_path / "r", cmd("b.io", "echo nothing to see", metrics="bw:MB/s",
                                  metric_regex_bw=r"bw=([0-9.]+)"),
              cmd("b.failing", "false", metrics="bw", metric_regex_bw="bw=(.*)"))
    assert got["io"].status == "FAIL" and got["io"].metrics == []
    assert "metric bw: no match of 'bw=([0-9.]+)'" in got["io"].fail_reason
    assert "nothing to see" in got["io"].fail_reason
    # a command that failed is judged by its status; its output is not searched
    assert got["failing"].status == "FAIL" and "exited 1" in got["failing"].fail_reason


def test_metric_config_mistakes_are_errors_before_the_command_runs(tmp_path):
    marker = tmp_path / "ran"
    got = job(tmp_path / "r", cmd("b.io", f"touch {marker}", metrics="bw:MB/s:faster",
                                  metric_regex_bw="x"))
    assert got["io"].status == "ERROR" and "better is 'faster'" in got["io"].fail_reason
    assert not marker.exists()


@pytest.mark.parametrize("params, message", [
    ({"metrics": "bw"}, "metric 'bw' has no metric_regex_bw param"),
    ({"metrics": "b/w", "metric_regex_b/w": "x"}, "metrics entry 'b/w': expected NAME"),
    ({"metrics": "bw:MB/s:higher:x", "metric_regex_bw": "x"}, "expected NAME[:UNIT"),
    ({"metrics": "bw", "metric_regex_bw": "("}, "is not a valid regex"),
    ({"metrics": "bw", "metric_regex_bw": "(a)(b)"}, "has 2 groups"),
])
def test_metric_specs_refuse_bad_entries(params, message):
    with pytest.raises(TestError, match=message.replace("[", r"\[").replace("(", r"\(")):
        metric_specs(params)


def test_metric_specs_defaults():
    [spec] = metric_specs({"metrics": "ops", "metric_regex_ops": r"\d+"})
    assert (spec.name, spec.unit, spec.better, spec.regex.groups) == ("ops", "", "higher", 0)
    assert metric_specs({}) == []


def test_non_numeric_match_is_an_error(tmp_path):
    got = job(tmp_path / "r", cmd("b.io", "echo bw=fast", metrics="bw",
                                  metric_regex_bw=r"bw=(\w+)"))
    assert got["io"].status == "ERROR" and "matched 'fast', which is not a number" in \
        got["io"].fail_reason


BENCH_MODULE = '''
START_VM = False  # no guest: a benchmark of the host
def run(test, params, env):
    test.record_metric("ops", 1234.5, "ops/s", "higher")
    test.record_metric("p99", params["p99"], "ms", better="lower")
    if params.get("then_fail"):
        from kvmtest.testtypes.errors import TestFail
        raise TestFail("too slow")
'''


def test_a_test_module_records_metrics(tmp_path):
    types = tmp_path / "types"
    types.mkdir()
    (types / "bench.py").write_text(BENCH_MODULE)
    got = job(tmp_path / "r",
              ptest("b.ok", type="bench", test_dirs=str(types), p99="7.25"),
              ptest("b.slow", type="bench", test_dirs=str(types), p99="70", then_fail="yes"))
    assert got["ok"].status == "PASS"
    assert got["ok"].metrics == [Metric("ops", 1234.5, "ops/s", "higher"),
                                 Metric("p99", 7.25, "ms", "lower")]
    # what a failing test recorded before it failed is kept (compare shows it with the FAIL)
    assert got["slow"].status == "FAIL" and [m.value for m in got["slow"].metrics] == [1234.5, 70]


@pytest.mark.parametrize("args, message", [
    (("", 1.0), "non-empty"), (("x", "fast"), "not a number"), (("x", math.nan), "not finite"),
    (("x", 1.0, "s", "up"), "better must be"),
])
def test_record_metric_refuses_bad_values(tmp_path, args, message):
    from tests.vm.guestkit import context, job_id

    test = context(tmp_path, {}, job_id("metric"))
    with pytest.raises(ValueError, match=message):
        test.record_metric(*args)
    assert test.metrics == []


@pytest.mark.guest
def test_shell_records_metrics_from_the_guest(tmp_path, tiny_guest):
    """The same params on a `shell` test read the guest command's output (a real TCG guest)."""
    from kvmtest.testtypes import execute
    from kvmtest.vm.env import Env
    from tests.vm.guestkit import cleanup_job, context, have_guest_tools, job_id, tiny_params

    if have_guest_tools() is not None:
        pytest.skip(str(have_guest_tools()))
    jid = job_id("metric")
    try:
        params = tiny_params(type="shell", guest_cmd="echo lat 12.5 us; echo lat 13 us",
                             metrics="lat:us:lower", metric_regex_lat=r"^lat ([0-9.]+) us")
        test = context(tmp_path, params, jid)
        execute(test, Env.load(tmp_path / "env"))
        assert test.metrics == [Metric("lat", 12.5, "us", "lower"), Metric("lat", 13.0, "us", "lower")]
    finally:
        cleanup_job(jid)
