"""make check runs a fifth of the hypothesis examples, make test all of them (tests/hypo.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("from hypothesis import settings; import tests.conftest as c; from tests.hypo import examples; "
         "c.load_profile(); print(examples(300), examples(30), settings().max_examples)")


@pytest.mark.parametrize("profile, want", [("", "300 30 100"), ("check", "60 10 20")])
def test_example_counts_follow_the_profile(profile, want):
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"}
    if profile:
        env["HYPOTHESIS_PROFILE"] = profile
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert " ".join(out) == want


def test_make_check_selects_the_profile_and_make_test_does_not():
    rules = (ROOT / "Makefile").read_text().split("\n\n")
    check = next(r for r in rules if r.startswith("check:") or "\ncheck:" in r)
    test = next(r for r in rules if r.startswith("test:"))
    pytest_lines = [ln for ln in check.splitlines() if "-m pytest" in ln]
    assert pytest_lines and all("HYPOTHESIS_PROFILE=check" in ln for ln in pytest_lines)
    assert "HYPOTHESIS_PROFILE" not in test
