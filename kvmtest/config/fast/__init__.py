"""The optimised expansion: the same dicts and JSON lines as ``..reference``, faster.

``walk.StackWalker`` (an explicit stack, a replay memo, the doom check),
``steps`` (node contents compiled to merged steps), and the builders that
share work between leaves: ``dicts.DictEmitter`` (get_dicts()),
``build.FastBuilder`` (``suffix`` trees),
``emit.JsonEmitter`` (--json lines), ``view`` (lines with a params view, for
the dry run).  Every change here is checked against the reference by
tests/config/test_emit.py (see docs/hacking.md).
"""
