"""Records the Parser returns: where a statement is, what assigns a key, why a
variant is or is not selected.  Imported on first use (see api.__getattr__)."""

from __future__ import annotations

from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


@dataclass(frozen=True)
class Statement:
    """Where a statement is: file, line number and its text."""

    filename: str
    linenum: int
    line: str


@dataclass(frozen=True)
class Assignment:
    """One statement that assigns a key: where it is, its operator and value.

    ``value`` is the text as parsed (quotes stripped, ``${...}`` not
    substituted).  A ``variants NAME:`` entry ``- x:`` counts as ``NAME = x``.
    """

    key: str
    op: str
    value: str
    filename: str
    linenum: int
    line: str


@dataclass(frozen=True)
class Candidate:
    """A leaf that would exist without only/no filters, and what removed it."""

    name: str
    shortname: str
    selected: bool
    removed_by: Optional[Statement]


__all__ = ["Assignment", "Candidate", "Statement"]
