"""KCIDB v5 export: one checkout and one build per job host, one test per result.

The kernel under test is not something the runner knows, so the checkout
and build describe the job (ids derived from the job id) and the host kernel
(``os.uname``); submitters that know the tree can rewrite those two objects.
A test's ``path`` is its Cartesian name made KCIDB-safe (dot-separated
``[A-Za-z0-9_-]`` components). INTERRUPTED maps to ERROR for a timeout and to
MISS when the job was stopped; the exact kvmtest status stays in ``misc``.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List

from kvmtest.fsutil import atomic_write
from kvmtest.results.records import INTERRUPTED, STOPPED_CLASS, TestResult
from kvmtest.results.store import ResultsFile

ORIGIN = "kvmtest"
KCIDB_VERSION = {"major": 5, "minor": 0}
_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def kcidb_path(name: str) -> str:
    """'virtio_blk.smp2.boot' stays; other characters become '_'; empty parts vanish."""
    parts = [_BAD.sub("_", p).strip("_") or "_" for p in name.split(".") if p.strip()]
    return ".".join(parts)


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat()


def _status(r: TestResult) -> str:
    if r.status == INTERRUPTED:
        return "MISS" if r.fail_class == STOPPED_CLASS else "ERROR"
    return r.status  # PASS, FAIL, ERROR, SKIP are KCIDB statuses too


def _id(*parts: str) -> str:
    return f"{ORIGIN}:" + ":".join(parts)


def to_kcidb(data: ResultsFile, results_dir: Path) -> Dict[str, Any]:
    job = data.job
    checkout_id = _id(job.job_id)
    uname = os.uname()
    arch = re.sub(r"[^a-z0-9_]", "_", uname.machine.lower())
    hosts = sorted({r.hostname for r in data.tests}) or [job.hostname or "localhost"]
    builds: List[Dict[str, Any]] = []
    build_ids: Dict[str, str] = {}
    for h in hosts:
        bid = _id(job.job_id, h)
        build_ids[h] = bid
        builds.append({
            "id": bid, "origin": ORIGIN, "checkout_id": checkout_id,
            "comment": f"host {h} kernel {uname.release}",
            "architecture": arch, "start_time": _iso(job.start),
            "misc": {"kernel_release": uname.release, "hostname": h},
        })
    tests = []
    for r in data.tests:
        t: Dict[str, Any] = {
            "id": _id(job.job_id, r.id),
            "build_id": build_ids[r.hostname],
            "origin": ORIGIN,
            "path": kcidb_path(r.name),
            "comment": r.name,
            "status": _status(r),
            "start_time": _iso(r.start),
            "duration": round(r.time, 6),
            "environment": {"comment": f"{r.hostname}/{r.queue}",
                            "misc": {"hostname": r.hostname, "queue": r.queue}},
            "misc": {"kvmtest_status": r.status, "shortname": r.shortname,
                     "attempt": r.attempt},
        }
        if r.fail_reason:
            t["log_excerpt"] = r.fail_reason.replace("\0", "")[:16384]
            t["misc"]["fail_reason"] = r.fail_reason
        if r.fail_class:
            t["misc"]["fail_class"] = r.fail_class
        if r.logdir:
            t["log_url"] = (Path(results_dir).resolve() / r.logdir / "debug.log").as_uri()
        tests.append(t)
    checkout = {"id": checkout_id, "origin": ORIGIN, "start_time": _iso(job.start),
                "comment": f"kvmtest job {job.job_id} set {job.set}".strip(),
                "misc": {"set": job.set}}
    return {"version": dict(KCIDB_VERSION), "checkouts": [checkout], "builds": builds,
            "tests": tests}


def write_kcidb(data: ResultsFile, results_dir: Path, path: Path) -> None:
    atomic_write(Path(path), json.dumps(to_kcidb(data, results_dir), indent=2) + "\n")
