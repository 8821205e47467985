"""What one running test is given: its params, directories, addresses, stop flag.

The runner (``kvmtest.run``) builds a ``TestContext`` per test and passes it as
the ``test`` argument of a test type's ``run(test, params, env)``. The VM layer
reads the same object to know where sockets, overlays and logs go. A test hands
back measured numbers with ``test.record_metric(...)``: the runner copies them into
the test's result (``TestResult.metrics``).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from kvmtest.plan.model import Address
from kvmtest.results.records import Metric


@dataclass
class TestContext:
    name: str
    shortname: str
    params: Dict[str, str]
    logdir: Path  # per-test: debug.log, console logs, qemu command lines
    workdir: Path  # per-queue: sockets, overlays (shared by the queue's tests)
    job_id: str = "local"
    hostname: str = "localhost"
    queue: str = "default"
    addresses: List[Address] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("kvmtest.test"))
    # what the runner copies into the test's result: the accelerator its guests were started
    # with (set by lifecycle.preprocess; None: no guest) and the numbers it measured
    accel: Optional[str] = None
    metrics: List[Metric] = field(default_factory=list)

    def address(self, vm: str, nic: str) -> Optional[Address]:
        """The planned address of ``vm``'s ``nic``, or None when unplanned."""
        for a in self.addresses:
            if a.vm == vm and a.nic == nic:
                return a
        return None

    def note_accel(self, accel: str) -> None:
        """Record that one of the test's guests runs under ``accel`` ("kvm,tcg" when they differ)."""
        if accel:
            known = set(self.accel.split(",")) if self.accel else set()
            self.accel = ",".join(sorted(known | {accel}))

    def record_metric(self, name: str, value: float, unit: str = "",
                      better: str = "higher") -> Metric:
        """Record a number this test measured (``better``: ``higher`` or ``lower``, the way
        that is an improvement). Each call is one sample; ``kvmtest compare`` compares the
        samples of a metric across runs. ValueError for an empty name, a value that is not
        a finite number, or another ``better``."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"metric name must be a non-empty string, not {name!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"metric {name!r}: value {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"metric {name!r}: value {value!r} is not finite")
        metric = Metric(name, number, unit, better)
        self.metrics.append(metric)
        self.log.info("metric %s = %g%s (%s is better)", name, number, f" {unit}" if unit else "",
                      better)
        return metric

    def stopped(self) -> bool:
        """True once the runner asked this test to stop (timeout or signal)."""
        return self.stop.is_set()
