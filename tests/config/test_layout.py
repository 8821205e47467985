"""The config package's two expansions stay apart: ``reference`` (the oracle the
differential tests compare with) imports nothing from ``fast``, so a change to
the optimised path cannot change what it is checked against."""

from __future__ import annotations

from tests.test_imports import import_graph, modules


def test_reference_imports_nothing_from_fast():
    graph = import_graph(modules())
    ref = {m: deps for m, deps in graph.items() if m.startswith("kvmtest.config.reference")}
    assert "kvmtest.config.reference.walk" in ref and "kvmtest.config.reference.build" in ref
    bad = {m: sorted(d for d in deps if d.startswith("kvmtest.config.fast"))
           for m, deps in ref.items()}
    assert not any(bad.values()), bad


def test_fast_and_reference_are_the_only_expansions():
    """Every walker/builder module lives in one of the two subpackages."""
    names = set(modules())
    for old in ("walk", "expand", "emit", "dicts", "build", "steps", "view"):
        assert f"kvmtest.config.{old}" not in names, old
