"""Metrics read from a command's output: the ``metrics`` param of ``host_cmd`` and ``shell``.

A benchmark prints numbers; the config says which ones to keep::

    metrics = bw:MB/s:higher lat:us:lower
    metric_regex_bw = bw=([0-9.]+)
    metric_regex_lat = latency ([0-9.]+) us

Each ``metrics`` entry is ``NAME[:UNIT[:BETTER]]`` (BETTER ``higher``, the default, or
``lower``: which way is an improvement). ``metric_regex_NAME`` is searched in the output
(multi-line mode); its first group (the whole match when it has none) is the value, and
every match is one sample (a benchmark printing one line per iteration gives one sample
per iteration). The numbers land in results.json (``TestResult.metrics``) once the command
passed its ``expected_status``/``expected_output`` checks; a declared metric that the
output does not hold fails the test. ``kvmtest compare`` compares them (docs/compare.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Pattern

from kvmtest.results.records import BETTER
from kvmtest.testtypes.errors import TestError, TestFail
from kvmtest.vm.context import TestContext

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class MetricSpec:
    """One entry of the ``metrics`` param and its regex."""

    name: str
    unit: str
    better: str
    regex: Pattern[str]


def metric_specs(params: Dict[str, str]) -> List[MetricSpec]:
    """The metrics a test declares; TestError naming the bad entry or param (checked before
    the command runs, so a config mistake costs no benchmark time)."""
    out = []
    for entry in params.get("metrics", "").split():
        name, _, rest = entry.partition(":")
        unit, _, better = rest.partition(":")
        better = better or "higher"
        if not _NAME.fullmatch(name) or ":" in better:
            raise TestError(f"metrics entry {entry!r}: expected NAME[:UNIT[:higher|lower]]"
                            " with NAME of letters, digits, '_', '.', '-'")
        if better not in BETTER:
            raise TestError(f"metrics entry {entry!r}: better is {better!r}, not "
                            f"{' or '.join(BETTER)}")
        key = f"metric_regex_{name}"
        pattern = params.get(key, "")
        if not pattern:
            raise TestError(f"metric {name!r} has no {key} param (the regex that finds it)")
        try:
            regex = re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise TestError(f"{key} = {pattern!r} is not a valid regex: {exc}") from None
        if regex.groups > 1:
            raise TestError(f"{key} = {pattern!r} has {regex.groups} groups; give it one (the"
                            " number), e.g. with (?:...) for the others")
        out.append(MetricSpec(name, unit, better, regex))
    return out


def record_metrics(test: TestContext, specs: List[MetricSpec], output: str) -> None:
    """Record every match of every spec in ``output`` on ``test``."""
    for spec in specs:
        values = []
        for m in spec.regex.finditer(output):
            text = m.group(1) if spec.regex.groups else m.group(0)
            try:
                values.append(float(text))
            except (TypeError, ValueError):
                raise TestError(f"metric {spec.name}: metric_regex_{spec.name} matched"
                                f" {text!r}, which is not a number") from None
        if not values:
            tail = output.strip().splitlines()[-3:]
            raise TestFail(f"metric {spec.name}: no match of {spec.regex.pattern!r} in the"
                           f" output; its tail: {tail}")
        for v in values:
            test.record_metric(spec.name, v, spec.unit, spec.better)
