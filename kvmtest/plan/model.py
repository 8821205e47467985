"""Plain records the planning stage hands to the runner.

They hold only strings, ints and lists so they cross process and host
boundaries as JSON unchanged (see ``to_json``/``from_json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class Address:
    """One guest NIC's planned identity, drawn from its queue's range."""

    vm: str
    nic: str
    mac: str
    ip: Optional[str] = None
    range: str = ""

    def to_json(self) -> Dict[str, str]:
        d = {"vm": self.vm, "nic": self.nic, "mac": self.mac}
        if self.ip is not None:
            d["ip"] = self.ip
        if self.range:
            d["range"] = self.range
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> Address:
        return cls(d["vm"], d["nic"], d["mac"], d.get("ip"), d.get("range", ""))


@dataclass
class PlannedTest:
    """A test dict from the config language plus where and with what it runs."""

    name: str
    shortname: str
    params: Dict[str, str]
    hostname: str
    queue: str
    env: str
    addresses: List[Address] = field(default_factory=list)
    dep: List[str] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        d = asdict(self)
        d["addresses"] = [a.to_json() for a in self.addresses]
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> PlannedTest:
        return cls(
            name=d["name"],
            shortname=d["shortname"],
            params=dict(d["params"]),
            hostname=d["hostname"],
            queue=d["queue"],
            env=d["env"],
            addresses=[Address.from_json(a) for a in d.get("addresses", [])],
            dep=list(d.get("dep", [])),
        )


@dataclass
class QueuePlan:
    """One queue of the plan: a (host, queue) pair, its env file, ranges and tests in order.

    The runner gives each one a pipeline (``kvmtest.run.pipeline``): a thread that runs
    its tests one after another.
    """

    hostname: str
    queue: str
    env: str
    ranges: List[str] = field(default_factory=list)
    tests: List[PlannedTest] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.hostname}/{self.queue}"
