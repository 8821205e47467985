"""The one error of planning and scheduling: the plan cannot run as written.

Raised by the planner (overlapping or too small ranges, env files shared by two
queues, bad values) and by the runner's scheduler before anything starts (a
dependency on nothing or on a later test, a queue planned twice). One class, so
callers catch one name; a ``ValueError`` so code that treats bad values alike
catches it too. The message is one line naming both parties.
"""


class PlanError(ValueError):
    """The plan cannot run as written; the message says what and where."""
