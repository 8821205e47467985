"""Multi-host jobs on Dask distributed: one command runs a test set on every host of the plan.

Layering: ``cli -> cluster -> run``. The coordinator (``coordinator.run_cluster``) submits one
task per (host, queue); each host runs ``kvmtest worker`` (``worker.main``), whose tasks
(``hostside``) are the runner's own queue pipelines. Library API::

    from kvmtest.cluster import ClusterOptions, run_cluster, resume_cluster
    summary = run_cluster(plan_queues, Path("results/x"), ClusterOptions("local:"))
    sys.exit(summary.exit_code)

Dask is an optional extra (``pip install 'kvmtest[cluster]'``): importing this package is
cheap; the names below load distributed on first use.
"""

from __future__ import annotations

__all__ = ["ClusterOptions", "ClusterSetupError", "ClusterSummary", "HOST_LOST_CLASS",
           "have_distributed", "resume_cluster", "run_cluster"]


def have_distributed() -> bool:
    """Is the ``cluster`` extra (Dask distributed) importable?"""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def __getattr__(name: str):  # PEP 562: distributed is imported only when a name is used
    if name in ("ClusterOptions", "ClusterSetupError"):
        from kvmtest.cluster import connect

        return getattr(connect, name)
    if name in ("ClusterSummary", "HOST_LOST_CLASS", "resume_cluster", "run_cluster"):
        from kvmtest.cluster import coordinator

        return getattr(coordinator, name)
    raise AttributeError(name)
