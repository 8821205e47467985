"""The package's import graph has no cycle, function-level imports included.

A cycle hides in a function-level import (``def f(): from x import y``) as easily as
at the top of a module, so the graph is built from every ``import`` statement in the
AST, wherever it sits. ``TYPE_CHECKING``-only imports count too: they are still an
arrow a reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

import kvmtest

PKG_ROOT = Path(kvmtest.__file__).resolve().parent


def modules(root: Path = PKG_ROOT) -> Dict[str, Path]:
    """Dotted module name -> file, for every .py under the package, and every C
    extension by its .pyi stub (config/_arena)."""
    out: Dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")) + sorted(root.rglob("*.pyi")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.setdefault(".".join(parts), path)
    return out


def _resolve(name: str, known: Dict[str, Path]) -> str:
    """The longest prefix of ``name`` that is one of our modules ('' if none)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def import_graph(known: Dict[str, Path]) -> Dict[str, Set[str]]:
    """module -> the kvmtest modules it imports anywhere in its source."""
    graph: Dict[str, Set[str]] = {}
    for mod, path in known.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                deps.update(_resolve(a.name, known) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:  # `from pkg import submodule` is an arrow to the submodule
                    full = f"{target}.{alias.name}"
                    deps.add(full if full in known else _resolve(target, known))
        deps.discard("")
        deps.discard(mod)
        graph[mod] = deps
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_in_kvmtest():
    graph = import_graph(modules())
    assert len(graph) > 50  # the walk found the package
    assert cycles(graph) == []


def test_cycle_finder_sees_function_level_and_relative_imports(tmp_path):
    """The checker itself can fail: a cycle through a function-level relative import is found."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n    return g\n")
    (pkg / "c.py").write_text("import os\n\ndef g():\n    import pkg.a\n")
    (pkg / "d.py").write_text("from pkg import a\n")
    graph = import_graph(modules(pkg))
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    (pkg / "c.py").write_text("def g():\n    pass\n")
    assert cycles(import_graph(modules(pkg))) == []


def _classes() -> Dict[str, List[str]]:
    """Class name -> the modules that define a class of that name."""
    found: Dict[str, List[str]] = {}
    for mod, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(mod)
    return found


def test_no_two_classes_share_a_name():
    """One name, one meaning: two PlanError classes made ``except PlanError`` a guess."""
    assert {name: mods for name, mods in _classes().items() if len(mods) > 1} == {}


def test_class_names_are_capwords():
    import re

    assert [n for n in _classes() if not re.fullmatch(r"_?[A-Z][A-Za-z0-9]*", n)] == []


def test_mypy_checks_every_module():
    """`make lint`'s mypy covers the whole package: no module is left out of the type check."""
    tomllib = pytest.importorskip("tomllib")
    root = PKG_ROOT.parent
    files = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    covered = [(root / f).resolve() for f in files]
    left_out = [name for name, path in modules().items()
                if not any(path == c or c in path.parents for c in covered)]
    assert not left_out, f"modules mypy does not check (pyproject.toml [tool.mypy] files): {left_out}"
    overrides = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mypy"].get("overrides", [])
    silenced = [o["module"] for o in overrides if o.get("ignore_errors")]
    assert not silenced, f"mypy errors silenced for {silenced}"
