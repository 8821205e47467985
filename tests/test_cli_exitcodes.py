"""Exit codes keep their meaning (kvmtest/exitcodes.py): 2 is bad input only, found before the
first test; a failure during a run is 3; a closed stdout is a quiet 141. Real ./run.py processes."""

import signal
import subprocess
import sys
from pathlib import Path

from kvmtest.exitcodes import BAD_INPUT, INFRA, interrupted

ROOT = Path(__file__).resolve().parents[1]


def run_py(*args, **kw):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True,
                          text=True, timeout=120, **kw)


def marker_cfg(tmp_path: Path, command: str) -> Path:
    """One host_cmd test on this host that runs ``command``."""
    cfg = tmp_path / "one.cfg"
    cfg.write_text(f"type = host_cmd\nhost_cmd = {command}\nvariants:\n    - only_test:\n")
    return cfg


def test_missing_kcidb_directory_is_found_before_the_first_test(tmp_path):
    cfg = marker_cfg(tmp_path, f"touch {tmp_path}/ran")
    proc = run_py("-c", str(cfg), "--results", str(tmp_path / "res"),
                  "--kcidb", str(tmp_path / "nodir" / "k.json"))
    assert proc.returncode == BAD_INPUT, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: KCIDB file {tmp_path}/nodir/k.json: directory {tmp_path}/nodir does not exist"]
    assert not (tmp_path / "ran").exists() and not (tmp_path / "res").exists()


def test_kcidb_path_that_is_a_directory(tmp_path):
    cfg = marker_cfg(tmp_path, f"touch {tmp_path}/ran")
    proc = run_py("-c", str(cfg), "--results", str(tmp_path / "res"), "--kcidb", str(tmp_path))
    assert proc.returncode == BAD_INPUT
    assert "is a directory (give a file name)" in proc.stderr
    assert not (tmp_path / "ran").exists()


def test_unwritable_results_is_found_before_the_first_test(tmp_path):
    """(Root writes anywhere permissions allow nothing: a path under a plain file cannot be made.)"""
    cfg = marker_cfg(tmp_path, f"touch {tmp_path}/ran")
    (tmp_path / "plainfile").write_text("")
    proc = run_py("-c", str(cfg), "--results", str(tmp_path / "plainfile" / "res"))
    assert proc.returncode == BAD_INPUT
    assert proc.stderr.splitlines() == [
        f"error: results directory {tmp_path}/plainfile/res: cannot write there: Not a directory"]
    assert not (tmp_path / "ran").exists()


def test_an_oserror_during_the_run_is_infra_not_bad_input(tmp_path):
    """The test replaces the results directory with a file: the runner cannot write results.json."""
    res = tmp_path / "res"
    cfg = marker_cfg(tmp_path, f"sh -c 'rm -rf {res}; echo x > {res}'")
    proc = run_py("-c", str(cfg), "--results", str(res))
    assert proc.returncode == INFRA, proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1, proc.stderr
    assert f"cannot write the results in {res}" in errors[0] and "Not a directory" in errors[0]
    assert "Traceback" not in proc.stderr
    assert "TOTAL" in proc.stdout  # the summary is still printed


def big_cfg(tmp_path: Path) -> Path:
    """8,000 tests: far more dry-run output than a pipe buffer holds."""
    lines = ["type = host_cmd", "host_cmd = true"]
    for block in "abc":
        lines.append("variants:")
        lines.extend(f"    - {block}{i}:" for i in range(20))
    cfg = tmp_path / "big.cfg"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def test_closed_stdout_is_a_quiet_sigpipe_exit(tmp_path):
    cfg = big_cfg(tmp_path)
    for fmt in ("json", "table"):
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "-c", str(cfg), "--dry-run",
                                 "--format", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline()  # like `| head -1`: read one line, then go away
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == interrupted(signal.SIGPIPE) == 141
        assert err == "", err  # no "error: [Errno 32] Broken pipe", no "Exception ignored"
