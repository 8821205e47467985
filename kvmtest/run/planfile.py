"""plan.json: the queues a job was started with, saved so ``--resume`` needs no config.

Reads three shapes: what ``save_plan`` writes (``schema_version``, ``job``,
``queues``), the lead's ``Plan.to_json()`` (``local_host``, ``queues``) and a
bare list of queue objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from kvmtest.fsutil import atomic_write
from kvmtest.plan.model import PlannedTest, QueuePlan
from kvmtest.results.records import JobInfo

PLAN_VERSION = 1


def queue_to_json(q: QueuePlan) -> Dict[str, Any]:
    return {"hostname": q.hostname, "queue": q.queue, "env": q.env, "ranges": list(q.ranges),
            "tests": [t.to_json() for t in q.tests]}


def queue_from_json(d: Dict[str, Any]) -> QueuePlan:
    return QueuePlan(hostname=d["hostname"], queue=d["queue"], env=d.get("env", ""),
                     ranges=list(d.get("ranges", [])),
                     tests=[PlannedTest.from_json(t) for t in d.get("tests", [])])


def save_plan(path: Path, job: JobInfo, queues: List[QueuePlan]) -> None:
    doc = {"schema_version": PLAN_VERSION, "job": job.to_json(),
           "queues": [queue_to_json(q) for q in queues]}
    atomic_write(Path(path), json.dumps(doc, indent=1) + "\n")


def parse_plan(doc: Union[Dict[str, Any], List[Any]]) -> Tuple[Optional[JobInfo], List[QueuePlan]]:
    if isinstance(doc, list):
        return None, [queue_from_json(q) for q in doc]
    version = int(doc.get("schema_version", PLAN_VERSION))
    if version > PLAN_VERSION:
        raise ValueError(f"plan.json schema_version {version} is newer than {PLAN_VERSION}")
    job = JobInfo.from_json(doc["job"]) if "job" in doc else None
    return job, [queue_from_json(q) for q in doc.get("queues", [])]


def load_plan(path: Union[str, Path]) -> Tuple[Optional[JobInfo], List[QueuePlan]]:
    with open(path, encoding="utf-8") as f:
        return parse_plan(json.load(f))
