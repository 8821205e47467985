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
from kvmtest.jsonfile import Checker, load_json
from kvmtest.plan.model import PlannedTest, QueuePlan
from kvmtest.results.records import JobInfo

PLAN_VERSION = 1


def queue_to_json(q: QueuePlan) -> Dict[str, Any]:
    return {"hostname": q.hostname, "queue": q.queue, "env": q.env, "ranges": list(q.ranges),
            "tests": [t.to_json() for t in q.tests]}


def queue_from_json(d: Dict[str, Any], check: Optional[Checker] = None,
                    where: str = "queue") -> QueuePlan:
    """A QueuePlan from its JSON object; ``check`` turns a bad shape into a BadFileError."""
    c = check or Checker("plan.json")
    c.expect(d, dict, where)
    tests = []
    for i, t in enumerate(c.get(d, "tests", list, where, []), 0):
        tests.append(_test_from_json(c, t, f"{where}.tests[{i}]"))
    return QueuePlan(hostname=c.get(d, "hostname", str, where), queue=c.get(d, "queue", str, where),
                     env=c.get(d, "env", str, where, ""),
                     ranges=list(c.get(d, "ranges", list, where, [])), tests=tests)


def _test_from_json(c: Checker, t: Any, where: str) -> PlannedTest:
    c.expect(t, dict, where)
    name = c.get(t, "name", str, where)
    where = f"{where} ({name})"
    for key in ("shortname", "hostname", "queue", "env"):
        c.get(t, key, str, where)
    params = c.get(t, "params", dict, where)
    for k, v in params.items():  # strings; the parser's own keys: 'dep' a list, '_*_map_file' objects
        c.expect(v, (str, list, dict), f"{where}.params[{k!r}]")
    for i, a in enumerate(c.get(t, "addresses", list, where, [])):
        c.expect(a, dict, f"{where}.addresses[{i}]")
        for key in ("vm", "nic", "mac"):
            c.get(a, key, str, f"{where}.addresses[{i}]")
    for i, dep in enumerate(c.get(t, "dep", list, where, [])):
        c.expect(dep, str, f"{where}.dep[{i}]")
    return PlannedTest.from_json(t)


def save_plan(path: Path, job: JobInfo, queues: List[QueuePlan]) -> None:
    doc = {"schema_version": PLAN_VERSION, "job": job.to_json(),
           "queues": [queue_to_json(q) for q in queues]}
    atomic_write(Path(path), json.dumps(doc, indent=1) + "\n")


def parse_plan(doc: Any, source: Union[str, Path] = "plan.json",
               ) -> Tuple[Optional[JobInfo], List[QueuePlan]]:
    """The job (None in the older shapes) and the queues of a decoded plan.json.

    Raises BadFileError naming ``source`` for anything but a plan with at least one queue:
    an empty or foreign file must never read as "nothing left to run".
    """
    c = Checker(source)
    job = None
    if isinstance(doc, list):
        raw = doc
    else:
        c.expect(doc, dict, "the top level")
        version = c.get(doc, "schema_version", int, "the top level", PLAN_VERSION)
        if version > PLAN_VERSION:
            raise c.fail(f"schema_version {version} is newer than this kvmtest understands "
                         f"({PLAN_VERSION}); upgrade kvmtest")
        if "job" in doc:
            job_doc = c.get(doc, "job", dict, "the top level")
            c.get(job_doc, "job_id", str, "job")
            job = JobInfo.from_json(job_doc)
        if "queues" not in doc:
            raise c.fail("no 'queues' list: not a kvmtest plan")
        raw = c.get(doc, "queues", list, "the top level")
    queues = [queue_from_json(q, c, f"queues[{i}]") for i, q in enumerate(raw)]
    if not any(q.tests for q in queues):
        raise c.fail("the plan lists no test")
    return job, queues


def load_plan(path: Union[str, Path]) -> Tuple[Optional[JobInfo], List[QueuePlan]]:
    """Read plan.json; BadFileError (a ValueError) names the file and what is wrong."""
    return parse_plan(load_json(path), path)
