"""Command-line mistakes are caught before anything runs: one `error:` line, exit 2, nothing
started (no results directory). Each would otherwise be silently ignored or run the wrong thing.
The CLI runs in this process (tests/clirun.py)."""

import pytest

from kvmtest.exitcodes import BAD_INPUT
from tests.clirun import run_cli
from tests.plan.test_cli_errors import assert_one_line_error, run


def started_nothing(tmp_path):
    return not (tmp_path / "results").exists()


def results_unless_listing(tmp_path, mode):
    """--results for a run (it must stay uncreated); a listing refuses it, so none there."""
    return [] if mode else ["--results", str(tmp_path / "results")]


def test_all_hosts_without_dry_run_is_refused(tmp_path):
    proc = run(tmp_path, "--set", "all", "--all-hosts", "--host", "h1",
               "--results", str(tmp_path / "results"))
    assert_one_line_error(proc, "--all-hosts: a run covers one host's share", "--host NAME",
                          "with --cluster")
    assert started_nothing(tmp_path)


def test_all_hosts_with_explain_is_refused(tmp_path):
    assert_one_line_error(run(tmp_path, "--set", "all", "--all-hosts", "--explain", "boot"),
                          "--all-hosts applies to --dry-run")


@pytest.mark.parametrize("mode", [["--dry-run"], ["--dry-run", "--all-hosts"], []])
def test_unknown_set_lists_the_sets(tmp_path, mode):
    proc = run(tmp_path, "--set", "al", "--host", "h1", *results_unless_listing(tmp_path, mode),
               *mode)
    assert_one_line_error(proc, "no test set 'al'", "kvm_hosts.cfg", "the sets are all")
    assert proc.stdout == ""
    assert started_nothing(tmp_path)


def test_a_variant_that_is_not_a_set_is_refused(tmp_path):
    """`boot` selects tests but is not a set: --set would name the job after it."""
    assert_one_line_error(run(tmp_path, "--set", "boot", "--dry-run"),
                          "no test set 'boot'", "the sets are all", "--only takes any filter")


@pytest.mark.parametrize("mode", [["--dry-run"], ["--dry-run", "--format", "json"], []])
def test_host_not_in_the_plan_lists_the_hosts(tmp_path, mode):
    proc = run(tmp_path, "--set", "all", "--host", "h3", *results_unless_listing(tmp_path, mode),
               *mode)
    assert_one_line_error(proc, "no test of this selection runs on host h3",
                          "hosts with tests: h1, h2")
    assert started_nothing(tmp_path)


@pytest.mark.parametrize("key", ["name", "shortname", "dep"])
def test_computed_keys_cannot_be_set_with_p(tmp_path, key):
    assert_one_line_error(run(tmp_path, "--set", "all", "--dry-run", "-p", f"{key}=x"),
                          f"param '{key}' cannot be set", "the config language computes it")


def test_p_sets_any_other_key_on_every_test(tmp_path):
    """The documented effect: -p is a last `KEY = VALUE` after the files, so it wins."""
    proc = run(tmp_path, "--set", "all", "--dry-run", "--all-hosts", "--format", "json",
               "-p", "mem=4096")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('"mem":"4096"') == 4


def test_format_json_without_dry_run_is_refused(tmp_path):
    proc = run(tmp_path, "--set", "all", "--host", "h1", "--format", "json",
               "--results", str(tmp_path / "results"))
    assert_one_line_error(proc, "--format json formats the --dry-run listing")
    assert started_nothing(tmp_path)


@pytest.mark.parametrize("extra, named", [
    (["-c", "kvm_hosts.cfg"], "-c/--config"),
    (["--set", "all"], "--set"),
    (["-p", "mem=1", "--only", "boot"], "--only, -p/--param"),
    (["--dry-run"], "--dry-run"),
    (["--results", "elsewhere"], "--results"),
])
def test_planning_options_with_resume_are_refused(tmp_path, extra, named):
    proc = run_cli("--resume", tmp_path, *extra, cwd=tmp_path)
    assert proc.returncode == BAD_INPUT
    assert_one_line_error(proc, f"--resume {tmp_path} finishes the job saved there",
                          f"{named} cannot change it")


@pytest.mark.parametrize("mode", [["--dry-run"], ["--explain", "boot"]])
def test_outputs_of_a_run_with_a_listing_are_refused(tmp_path, mode):
    proc = run(tmp_path, "--set", "all", *mode, "--results", str(tmp_path / "results"),
               "--kcidb", str(tmp_path / "k.json"))
    assert_one_line_error(proc, "--results and --kcidb name what a run writes",
                          f"{mode[0]} writes nothing")
