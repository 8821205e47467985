"""What one running test is given: its params, directories, addresses, stop flag.

The runner (``kvmtest.run``) builds a ``TestContext`` per test and passes it as
the ``test`` argument of a test type's ``run(test, params, env)``. The VM layer
reads the same object to know where sockets, overlays and logs go.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from kvmtest.plan.model import Address


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

    def address(self, vm: str, nic: str) -> Optional[Address]:
        """The planned address of ``vm``'s ``nic``, or None when unplanned."""
        for a in self.addresses:
            if a.vm == vm and a.nic == nic:
                return a
        return None

    def stopped(self) -> bool:
        """True once the runner asked this test to stop (timeout or signal)."""
        return self.stop.is_set()
