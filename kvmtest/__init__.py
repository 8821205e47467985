"""kvmtest: a config-file-driven parallel VM test runner.

The package is a chain of stages, one subpackage per stage, imports flowing downward:

    cli -> run -> (testtypes -> vm, results) -> plan -> config

``import kvmtest`` stays cheap: the planning API is loaded on first use, so
``python -m kvmtest.config`` does not pay for netaddr and friends.
"""

__version__ = "0.1.0"

__all__ = ["load", "Plan", "__version__"]


def __getattr__(name):  # PEP 562: lazy top-level API for control files
    if name in ("load", "Plan"):
        from kvmtest import plan

        return getattr(plan, name)
    raise AttributeError(name)
