"""Parser.json_lines_with_params: the fast lines plus a view equal to get_dicts(), key for key."""

import json
from pathlib import Path

import pytest

from kvmtest.config import Parser

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "bench"

CASES = [
    (str(ROOT / "samples" / "kvm_hosts.cfg"), "only nightly"),
    (str(ROOT / "samples" / "kvm_hosts.cfg"), "only weekly"),
    (str(ROOT / "samples" / "demo" / "kvm_hosts.cfg"), "only smoke"),
    (str(SHARED / "avocado-vt-selftest" / "test1.cfg"), None),
]


@pytest.mark.parametrize("lines", [True, False])
@pytest.mark.parametrize("path, extra", CASES)
def test_view_equals_get_dicts(path, extra, lines):
    """lines=False (a table listing: the params alone) gives the same views, lines ""."""
    if not Path(path).exists():
        pytest.skip(f"{path} not found (../shared/bench is beside the repo in CI)")
    fast, slow = Parser(), Parser()
    for p in (fast, slow):
        p.parse_file(path)
        if extra:
            p.parse_string(extra)
    count = 0
    pairs = fast.json_lines_with_params(lines=lines)
    for (line, view), d in zip(pairs, slow.get_dicts(maps=False), strict=True):
        count += 1
        assert json.loads(line) == d if lines else line == ""
        assert set(view) == set(d)
        for key, value in d.items():
            assert view.get(key) == value and view[key] == value and key in view
        assert view.get("no-such-key", "x") == "x" and "no-such-key" not in view
        with pytest.raises(KeyError):
            view["no-such-key"]
    assert count > 0


def test_values_of_equals_get_for_every_key_and_leaf():
    """values_of (the planner's memo key) is get() over a tuple of keys, also when its
    per-base cache answers (same tuple, next leaves) and for name keys and missing ones."""
    path = ROOT / "samples" / "kvm_hosts.cfg"
    fast, slow = Parser(), Parser()
    for p in (fast, slow):
        p.parse_file(str(path))
        p.parse_string("only nightly")
    dicts = list(slow.get_dicts(maps=False))
    every = sorted({k for d in dicts for k in d} - {"name", "shortname", "dep"})
    keys = tuple(every + ["no-such-key"])
    with_names = ("shortname",) + keys[:3]
    count = 0
    for (_, view), d in zip(fast.json_lines_with_params(), dicts, strict=True):
        count += 1
        for ks in (keys, keys, with_names):
            assert view.values_of(ks) == tuple(d.get(k) for k in ks)
    assert count == len(dicts) > 1


@pytest.mark.parametrize("path, extra", CASES)
def test_line_parts_join_to_the_line(path, extra):
    """parts=True (the JSON dry run: plan fields put in front, one join) gives each line
    as its fragments, in a new list each time: ``"{" + ",".join(parts) + "}\\n"`` is the line."""
    if not Path(path).exists():
        pytest.skip(f"{path} not found (../shared/bench is beside the repo in CI)")
    whole, split = Parser(), Parser()
    for p in (whole, split):
        p.parse_file(path)
        if extra:
            p.parse_string(extra)
    seen = []
    pairs = zip(whole.json_lines_with_params(), split.json_lines_with_params(parts=True),
                strict=True)
    for (line, view), (parts, view2) in pairs:
        assert type(parts) is list and all(type(p) is str and p for p in parts)
        assert "{" + ",".join(parts) + "}\n" == line
        assert view2.get("shortname") == view.get("shortname")
        assert all(parts is not s for s in seen)
        parts.append("changed by the caller")  # (the next leaf's list is its own)
        seen.append(parts)
    assert seen
