"""Progress lines while a job runs: whole lines from parallel queues, heartbeats, short reasons."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from kvmtest.run import run_job
from kvmtest.run.pipeline import ProgressEvent, RunOptions, format_event, short_reason
from tests.run.helpers import cmd, queue, sleep

ROOT = Path(__file__).resolve().parents[2]

LINE = re.compile(
    r"^\[[^]/\s]+/q\d\] (START|PASS |FAIL |ERROR|RUNNING) \S+.* \| elapsed \d+:\d\d:\d\d, \d+ left$")

QUEUES = 6
TESTS = 40


def _config(tmp: Path) -> Path:
    """QUEUES queues of TESTS instant sleep tests each, all on this host."""
    text = ["variants:"]
    text += [f"    - t{i}:\n        type = sleep\n        sleep_length = 0" for i in range(TESTS)]
    text.append("variants:")
    for q in range(QUEUES):
        text.append(f"    - @q{q}:\n        queue = q{q}\n        env = env{q}")
    text.append("hostname = localhost")
    cfg = tmp / "par.cfg"
    cfg.write_text("\n".join(text) + "\n")
    return cfg


def test_parallel_queues_never_share_a_line(tmp_path):
    cfg = _config(tmp_path)
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "-c", str(cfg),
                           "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    progress = [ln for ln in proc.stdout.splitlines() if ln.startswith("[") or " left" in ln]
    bad = [ln for ln in progress if not LINE.match(ln)]
    assert not bad, bad[:5]
    assert len(progress) == 2 * QUEUES * TESTS


def test_long_test_prints_heartbeats(tmp_path):
    events = []
    q = queue("q1", sleep("slow", 1.6), cmd("quick", "true"))
    summary = run_job([q], tmp_path / "r", progress=events.append,
                      options=RunOptions(heartbeat=0.4, handle_signals=False, print_summary=False))
    assert summary.exit_code == 0
    beats = [e for e in events if e.kind == "running"]
    assert len(beats) >= 2, [format_event(e) for e in events]
    assert {e.test_id for e in beats} == {"localhost/q1/1-slow"}
    assert beats[0].duration >= 0.4 and beats[-1].duration > beats[0].duration
    line = format_event(beats[0])
    assert line.startswith("[localhost/q1] RUNNING 1-slow (0:00:00 so far)"), line
    kinds = [e.kind for e in events]
    assert kinds.index("running") > kinds.index("start") and kinds.count("end") == 2


def test_no_heartbeat_for_quick_tests(tmp_path):
    events = []
    run_job([queue("q1", cmd("quick", "true"))], tmp_path / "r", progress=events.append,
            options=RunOptions(heartbeat=5.0, handle_signals=False, print_summary=False))
    assert [e.kind for e in events] == ["start", "end"]


def test_reason_is_its_first_line_cut_at_a_word():
    reason = ("guest vm1 did not print the login prompt within 240 s; last console output was "
              + "a very long kernel message " * 10 + "\nTraceback (most recent call last):\n...")
    short = short_reason(reason, 100)
    assert "\n" not in short and len(short) <= 100
    assert short.endswith(" ...") and reason.startswith(short[:-4])
    assert reason[len(short) - 4] == " "  # cut at a word boundary
    ev = ProgressEvent("end", "h/q", "h/q/1-boot", "boot", 5.0, 0, "FAIL", 1.0, reason)
    line = format_event(ev)
    assert "Traceback" not in line and " ... | elapsed" in line
    assert short_reason("short reason\nsecond line") == "short reason"
    assert short_reason("\n\n  indented first\nx") == "indented first"
