"""The Cartesian config language (avocado-vt 113.0 compatible).

    from kvmtest.config import Parser
    p = Parser()
    p.parse_file("tests.cfg")
    for d in p.get_dicts():
        ...
"""

from .api import Assignment, Candidate, Parser, Statement
from .errors import LexerError, MissingIncludeError, ParserError

__all__ = ["Parser", "ParserError", "LexerError", "MissingIncludeError", "Assignment",
           "Candidate", "Statement"]
