"""Bad input to ./run.py: exit 2, one line on stderr, never a traceback.

The CLI runs in this process (tests/clirun.py) but for test_missing_config_file, a real
``run.py`` process: the same checks through the interpreter's exit status and stderr.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import run_cli

ROOT = Path(__file__).resolve().parents[2]

TESTS = """\
vms = vm1 vm2
nics = nic1
nic_mode = tap
variants:
    - boot:
        type = boot
    - ping:
        type = ping
"""

HOSTS = """\
include kvm_tests.cfg
base_mac_r0 = 02:00:00:00:00:00
base_ip_r0 = 10.40.0.0
range_size_r0 = {size0}
base_mac_r1 = {mac1}
base_ip_r1 = {ip1}
range_size_r1 = 16
variants:
    - @queue1:
        queue = 1
        env = env1
        mac_ranges = r0
    - @queue2:
        queue = 2
        env = env2
        mac_ranges = r1
variants:
    - @h1:
        hostname = h1
        only queue1
    - @h2:
        hostname = h2
        only queue2
variants:
    - @all:
"""


def run(tmp_path, *args, **fmt):
    values = {"size0": "16", "mac1": "02:00:00:00:01:00", "ip1": "10.40.1.0"}
    values.update(fmt)
    (tmp_path / "kvm_tests.cfg").write_text(TESTS)
    (tmp_path / "kvm_hosts.cfg").write_text(HOSTS.format(**values))
    return run_cli("-c", tmp_path / "kvm_hosts.cfg", *args, cwd=tmp_path)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_a_good_plan_passes(tmp_path):
    proc = run(tmp_path, "--set", "all", "--dry-run", "--all-hosts")
    assert proc.returncode == 0, proc.stderr
    assert "4 test(s) on all hosts" in proc.stdout


@pytest.mark.parametrize(
    "fmt, fragments",
    [
        ({"mac1": "02:00:00:00:00:08"}, ["MAC ranges overlap", "r0", "h1/1", "r1", "h2/2"]),
        ({"ip1": "10.40.0.10"}, ["IP ranges overlap", "r0", "h1/1", "r1", "h2/2"]),
        ({"mac1": "02:00:00:00:00:zz"}, ["kvm_hosts.cfg:5: bad range", "base_mac_r1", "02:00:00:00:00:zz"]),
        ({"size0": "1"}, ["range too small", "h1/1", "r0 hold 1 addresses, the test needs 2"]),
    ],
)
def test_plan_errors(tmp_path, fmt, fragments):
    for mode in (["--dry-run"], ["--dry-run", "--format", "json"], []):
        assert_one_line_error(run(tmp_path, "--set", "all", *mode, **fmt), *fragments)


def test_config_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "extra.cfg").write_text("x = 1\nvariants:\n    - a:\n  bogus indentation here\n")
    (tmp_path / "kvm_tests.cfg").write_text(TESTS)
    proc = run_cli("-c", tmp_path / "extra.cfg", "--dry-run", cwd=tmp_path)
    assert_one_line_error(proc, "extra.cfg:")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["-p", "novalue", "--dry-run"], "expected KEY=VALUE"),
        (["--explain", "(unclosed"], "missing )"),
    ],
)
def test_bad_arguments(tmp_path, args, fragment):
    assert_one_line_error(run(tmp_path, *args), fragment)


def test_missing_config_file(tmp_path):
    """A real process: exit status 2 and the one line, as a shell sees them."""
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "-c", str(tmp_path / "nope.cfg"), "--dry-run"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert_one_line_error(proc, "nope.cfg")


def test_missing_include(tmp_path):
    (tmp_path / "kvm_hosts.cfg").write_text("include not_there.cfg\n")
    proc = run_cli("-c", tmp_path / "kvm_hosts.cfg", "--dry-run", cwd=tmp_path)
    assert_one_line_error(proc, "kvm_hosts.cfg:1")


def test_declared_host_and_queue_without_tests_are_warnings(tmp_path):
    proc = run(tmp_path, "--set", "all", "--dry-run", "--all-hosts", "--only", "h1")
    assert proc.returncode == 0, proc.stderr
    assert "host h2 (" in proc.stderr and "kvm_hosts.cfg:22) has no test in this selection" in proc.stderr
    assert "queue 2 (" in proc.stderr and "kvm_hosts.cfg:14) has no test in this selection" in proc.stderr
