"""Per-queue env files: which guests are running, so the next test can reuse them.

One JSON file per queue (the ``env`` param names it, the runner passes the path).
It is versioned and written atomically (temp file + rename): a crash mid-write
leaves the previous file, never half a file. Unlike avocado-vt's pickled env,
nothing executable is ever read back.

Records are checked on load: a guest whose process is gone, or whose pid now
belongs to another program (compared by create time and command line), is
dropped. A corrupt file is logged (file name and reason) and replaced.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from kvmtest.fsutil import atomic_write

log = logging.getLogger("kvmtest.vm.env")

ENV_VERSION = 1


@dataclass
class GuestRecord:
    """What is needed to find a running guest again from another test or process."""

    name: str
    vm_type: str
    pid: int
    create_time: float
    cmdline: List[str]
    params_digest: str
    console: str = ""  # serial console unix socket
    monitor: str = ""  # QMP unix socket
    console_log: str = ""
    netns: str = ""
    job_id: str = ""
    queue: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)  # backend-specific (planned NICs...)

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> GuestRecord:
        return cls(
            name=str(d["name"]),
            vm_type=str(d.get("vm_type", "qemu")),
            pid=int(d["pid"]),
            create_time=float(d["create_time"]),
            cmdline=[str(a) for a in d.get("cmdline", [])],
            params_digest=str(d.get("params_digest", "")),
            console=str(d.get("console", "")),
            monitor=str(d.get("monitor", "")),
            console_log=str(d.get("console_log", "")),
            netns=str(d.get("netns", "")),
            job_id=str(d.get("job_id", "")),
            queue=str(d.get("queue", "")),
            extra=dict(d.get("extra", {})),
        )

    def process_matches(self) -> bool:
        """True when ``pid`` is provably still the very guest recorded (see ``verified_guest``)."""
        if self.pid <= 0:
            # Backends without a local process (libvirt) check liveness themselves.
            return True
        from kvmtest.vm.reaper import verified_guest

        return verified_guest(self.pid, self.create_time, self.cmdline, self.job_id, self.queue,
                              self.name) is not None

    def owned_by(self, job_id: str, queue: str) -> bool:
        """Written by this job's queue: only then may a test reuse or stop the guest."""
        return self.job_id == job_id and self.queue == queue


class Env:
    """The guests of one queue plus a free-form ``data`` dict for test types."""

    def __init__(self, path: Optional[Union[str, Path]] = None) -> None:
        self.path = Path(path) if path is not None else None
        self.guests: Dict[str, GuestRecord] = {}
        self.data: Dict[str, Any] = {}
        # Live backend objects of this process, keyed by vm name; never saved.
        self.live: Dict[str, Any] = {}

    @classmethod
    def load(cls, path: Union[str, Path]) -> Env:
        """Read ``path`` (missing file = empty env), dropping stale guest records."""
        env = cls(path)
        p = Path(path)
        if not p.exists():
            return env
        try:
            raw = json.loads(p.read_text())
            if not isinstance(raw, dict):
                raise ValueError("top level is not an object")
            version = raw.get("version")
            if version != ENV_VERSION:
                raise ValueError(f"unsupported version {version!r} (expected {ENV_VERSION})")
            guests = raw.get("guests", {})
            if not isinstance(guests, dict):
                raise ValueError("'guests' is not an object")
            records = {name: GuestRecord.from_json(g) for name, g in guests.items()}
            data = raw.get("data", {})
            if not isinstance(data, dict):
                raise ValueError("'data' is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("env file %s is corrupt (%s); starting with an empty env and replacing it", p, exc)
            env.save()
            return env
        env.data = data
        for name, rec in records.items():
            if rec.process_matches():
                env.guests[name] = rec
            else:
                log.info("env %s: dropping stale guest %s (pid %d gone or reused)", p, name, rec.pid)
        return env

    def save(self) -> None:
        """Write atomically; a no-op for an env without a path (ad-hoc use, unit tests)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "version": ENV_VERSION,
            "guests": {n: g.to_json() for n, g in sorted(self.guests.items())},
            "data": self.data,
        }
        atomic_write(self.path, json.dumps(doc, indent=1, sort_keys=True))

    def get_guest(self, name: str) -> Optional[GuestRecord]:
        return self.guests.get(name)

    def register_guest(self, record: GuestRecord) -> None:
        self.guests[record.name] = record

    def remove_guest(self, name: str) -> None:
        self.guests.pop(name, None)
        self.live.pop(name, None)

    def get_vm(self, name: str) -> Any:
        """The live backend object for ``name`` started or reattached by this process."""
        return self.live.get(name)
