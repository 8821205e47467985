"""python -m kvmtest.run --plan plan.json --results DIR [--resume] [--kcidb F] [--tag K=V]

The runner without the config stages: plan.json holds the QueuePlans (as
``Plan.to_json()`` or ``run.planfile.save_plan`` write them). Used by the
integration tests to run a job as a real process that can be signalled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from kvmtest.exitcodes import BAD_INPUT, INFRA
from kvmtest.plan.errors import PlanError
from kvmtest.results.records import parse_tags
from kvmtest.results.writers import SNAPSHOT_INTERVAL
from kvmtest.run.faults import InfraError
from kvmtest.run.job import resume_job, run_job
from kvmtest.run.jobdir import JobSetupError, default_results_dir, new_job
from kvmtest.run.pipeline import DEFAULT_TIMEOUT, RunOptions
from kvmtest.run.planfile import load_plan


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kvmtest.run", description=__doc__.split("\n")[0])
    ap.add_argument("--plan", type=Path, help="QueuePlans as JSON (not needed with --resume)")
    ap.add_argument("--results", type=Path, help="results directory (default results/<ts>-<set>)")
    ap.add_argument("--resume", action="store_true",
                    help="run the tests of --results that have no final status")
    ap.add_argument("--kcidb", type=Path, help="also write KCIDB v5 JSON here")
    ap.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                    help="label the job (repeatable), recorded in job.tags; --resume keeps them")
    ap.add_argument("--history", type=Path, metavar="FILE",
                    help="index the job in this history file (default $KVMTEST_HISTORY or"
                         " ~/.local/share/kvmtest/history.db)")
    ap.add_argument("--no-history", action="store_true", help="do not index the job")
    ap.add_argument("--set", default="", help="test set name recorded in the job info")
    ap.add_argument("--job-id", help="job id (default: random)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="per-test timeout when a test has no 'timeout' param")
    ap.add_argument("--grace", type=float, default=10.0,
                    help="seconds between SIGTERM and SIGKILL of a stopped test's guests")
    ap.add_argument("--abandon-after", type=float, default=5.0,
                    help="seconds after SIGKILL before a test thread is abandoned")
    ap.add_argument("--snapshot-interval", type=float, default=SNAPSHOT_INTERVAL,
                    help="seconds between rewrites of results.json/results.xml (every result is"
                         " journaled in results.jsonl at once); 0: after every test")
    args = ap.parse_args(argv)
    opts = RunOptions(default_timeout=args.timeout, grace=args.grace,
                      abandon_after=args.abandon_after, snapshot_interval=args.snapshot_interval,
                      history=not args.no_history, history_path=args.history)
    try:
        tags = parse_tags(args.tag)
        if args.resume:
            if args.results is None:
                ap.error("--resume needs --results DIR")
            if tags:
                ap.error("--resume keeps the job's tags: --tag cannot change them")
            summary = resume_job(args.results, kcidb=args.kcidb, options=opts)
        else:
            if args.plan is None:
                ap.error("--plan is required (unless --resume)")
            try:
                planned_job, queues = load_plan(args.plan)
            except OSError as exc:
                raise ValueError(f"--plan {args.plan}: {exc.strerror or exc}") from None
            job = new_job(args.set or (planned_job.set if planned_job else ""),
                          cmdline=sys.argv, job_id=args.job_id)
            results = args.results or default_results_dir(job.set)
            summary = run_job(queues, results, job, kcidb=args.kcidb, options=opts, tags=tags)
    except InfraError as exc:
        print(f"kvmtest.run: error: {exc}", file=sys.stderr)
        return INFRA
    except (PlanError, JobSetupError, ValueError) as exc:
        print(f"kvmtest.run: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except OSError as exc:
        print(f"kvmtest.run: error: the run failed: {exc}", file=sys.stderr)
        return INFRA
    summary.print()
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
