"""The Cartesian config language (avocado-vt 113.0 compatible).

    from kvmtest.config import Parser
    p = Parser()
    p.parse_file("tests.cfg")
    for d in p.get_dicts():
        ...
"""

from .api import Parser
from .errors import LexerError, MissingIncludeError, ParserError


def __getattr__(name: str) -> type:
    if name in ("Assignment", "Candidate", "Statement"):  # imported on first use
        from . import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Parser", "ParserError", "LexerError", "MissingIncludeError", "Assignment",
           "Candidate", "Statement"]
