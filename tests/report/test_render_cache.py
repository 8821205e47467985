"""The templates' bytecode cache: a job's process loads the compiled templates instead of
compiling them again (kvmtest/report/render.py), and a cache it cannot use costs nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RENDER = ("import sys; from pathlib import Path; from kvmtest.report.render import write_report; "
          "write_report(Path(sys.argv[1]), Path(sys.argv[2]))")


def _render(results: Path, out: Path, tmpdir: Path) -> str:
    env = dict(os.environ, TMPDIR=str(tmpdir))
    subprocess.run([sys.executable, "-c", RENDER, str(results), str(out)], cwd=ROOT, env=env,
                   check=True, capture_output=True, text=True)
    return out.read_text()


def test_a_second_process_renders_the_same_page_from_the_cache(report_job, tmp_path):
    results, _ = report_job
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    first = _render(results, tmp_path / "1.html", tmp)
    cache = tmp / f"_jinja2-cache-{os.getuid()}"
    cached = sorted(cache.iterdir())
    assert len(cached) == 3  # report.html.j2 and the css and js it includes
    stamps = [p.stat().st_mtime_ns for p in cached]
    second = _render(results, tmp_path / "2.html", tmp)
    clock = re.compile(r"\d\d:\d\d:\d\d")  # the page says when it was written
    assert clock.sub("", second) == clock.sub("", first)
    assert [p.stat().st_mtime_ns for p in sorted(cache.iterdir())] == stamps  # loaded, not rewritten


def test_an_unusable_cache_dir_still_renders(report_job, tmp_path):
    results, _ = report_job
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp / f"_jinja2-cache-{os.getuid()}").write_text("not a directory")  # jinja refuses it
    assert "<html" in _render(results, tmp_path / "1.html", tmp)
