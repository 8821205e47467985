"""Hypothesis example counts: full under ``make test``, a fifth under ``make check``.

``make check`` sets ``HYPOTHESIS_PROFILE=check`` (tests/conftest.py loads it): the property
tests still run and still find what they are written for in most runs, at a fifth of the
CPU, so that the pre-commit check stays under a minute (docs/hacking.md). ``make test``
(CI) leaves the variable unset and runs every count in full. A test's ``@settings`` names its
count through :func:`examples`, since an explicit ``max_examples`` overrides the profile's.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "")
CHECK = PROFILE == "check"

# tests without their own count: hypothesis's 100 under make test, 20 under make check
settings.register_profile("check", max_examples=20)


def examples(full: int) -> int:
    """``full`` examples, or under the check profile a fifth of them (at least 10)."""
    return max(10, full // 5) if CHECK else full


def load_profile() -> None:
    """Load the profile HYPOTHESIS_PROFILE names (none: hypothesis's defaults)."""
    if PROFILE:
        settings.load_profile(PROFILE)
