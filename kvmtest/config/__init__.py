"""The Cartesian config language (avocado-vt 113.0 compatible).

    from kvmtest.config import Parser
    p = Parser()
    p.parse_file("tests.cfg")
    for d in p.get_dicts():
        ...
"""

from . import arenas as _arenas

#: True when pymalloc's arenas come from the huge-page region (compiled build on
#: Linux, unless KVMTEST_HUGE_ARENAS=0): installed first, so the import's objects
#: live there too (kvmtest/config/arenas.py).
HUGE_ARENAS = _arenas.install()

from . import tree as _tree  # noqa: E402
from .api import Parser  # noqa: E402
from .errors import LexerError, MissingIncludeError, ParserError  # noqa: E402

#: True in the optional mypyc-compiled build (setup.py, ``KVMTEST_MYPYC=1``):
#: the parser, walkers and builders are then C extensions (docs/hacking.md).
COMPILED = not (_tree.__file__ or "").endswith((".py", ".pyc"))  # (else .so: an extension)
BUILD = "compiled (mypyc)" if COMPILED else "pure Python"


def __getattr__(name: str) -> type:
    if name in ("Assignment", "Candidate", "Statement"):  # imported on first use
        from . import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMPILED", "BUILD", "Parser", "ParserError", "LexerError", "MissingIncludeError", "Assignment",
           "Candidate", "Statement"]
