"""Building plans for runner tests: real test types (sleep, host_cmd), no config files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from kvmtest.plan.model import PlannedTest, QueuePlan

REPO = Path(__file__).resolve().parents[2]


def ptest(name: str, queue: str = "q1", host: str = "localhost", dep: Sequence[str] = (),
          **params: str) -> PlannedTest:
    return PlannedTest(name=name, shortname=name.rsplit(".", 1)[-1], params=dict(params),
                       hostname=host, queue=queue, env=f"env-{queue}", dep=list(dep))


def sleep(name: str, seconds: float, queue: str = "q1", **params: str) -> PlannedTest:
    return ptest(name, queue, type="sleep", sleep_length=str(seconds), **params)


def cmd(name: str, command: str, queue: str = "q1", **params: str) -> PlannedTest:
    return ptest(name, queue, type="host_cmd", host_cmd=command, **params)


def queue(name: str, *tests: PlannedTest, host: str = "localhost") -> QueuePlan:
    return QueuePlan(hostname=host, queue=name, env=f"env-{name}", tests=list(tests))


def write_plan(path: Path, queues: List[QueuePlan]) -> Path:
    doc = {"queues": [{"hostname": q.hostname, "queue": q.queue, "env": q.env,
                       "ranges": q.ranges, "tests": [t.to_json() for t in q.tests]}
                      for q in queues]}
    path.write_text(json.dumps(doc))
    return path


def runner_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "kvmtest.run", *args]


def runner_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def run_runner(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(runner_cmd(*args), env=runner_env(), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
