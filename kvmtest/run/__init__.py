"""The runner: one pipeline per queue of this host, watchdogs, signals, resume.

Library API (what ``kvmtest.cli`` calls)::

    from kvmtest.run import run_job, resume_job, new_job, default_results_dir
    job = new_job("nightly")
    summary = run_job(plan.queues, default_results_dir("nightly"), job, kcidb=None)
    sys.exit(summary.exit_code)

``python -m kvmtest.run --plan plan.json --results DIR [--resume]`` runs the
same thing from a JSON plan.
"""

from kvmtest.plan.errors import PlanError
from kvmtest.results.store import load_results
from kvmtest.run.job import JobSummary, resume_job, run_job
from kvmtest.run.jobdir import JobSetupError, default_results_dir, new_job
from kvmtest.run.pipeline import Backend, ProgressEvent, RunOptions, format_event

__all__ = [
    "Backend",
    "JobSetupError",
    "JobSummary",
    "PlanError",
    "ProgressEvent",
    "RunOptions",
    "default_results_dir",
    "format_event",
    "load_results",
    "new_job",
    "resume_job",
    "run_job",
]
