"""The dry run's big-plan paths: the streamed table and the compact dependency index."""

from __future__ import annotations

import io

from kvmtest.cli import format_table, write_table
from kvmtest.plan.deps import DepIndex

HEADERS = ("test", "host", "queue", "env", "addresses")


def test_streamed_table_is_the_table():
    rows = [(f"t{i}", "h", "q", "e", "a" * (i % 7)) for i in range(4321)]
    out = io.StringIO()
    write_table(out, rows, HEADERS)
    assert out.getvalue() == format_table(rows, HEADERS)


def test_dep_index_keeps_names_as_words_and_gives_them_back():
    index = DepIndex()
    index.add("(g=a).x.boot", "a.boot", [], "h/1")
    index.add("(g=a).x.reboot", "a.reboot", [" boot "], "h/1")
    index.add("(g=b).x.reboot", "(g=b).x.reboot", ["a.boot"], "h/2")
    assert index.has_deps
    assert index.verdicts("(g=a).x.reboot") == [
        "depends on 'boot': waits for (g=a).x.boot (#1)"]
    assert index._row(2) == ("(g=b).x.reboot", "(g=b).x.reboot", ("a.boot",), ("h/2", 1))
    report = index.check()
    assert report.links[("h/1", 2)] == (("h/1", 1),)
    assert any("another queue" in e for e in report.errors)
    # every word is stored once, whichever test it came from
    words = [w for name in index._names for w in name]
    assert len({id(w) for w in words}) == len(set(words))


def test_dep_index_keeps_each_dep_string_once():
    index = DepIndex()
    for i in range(3):
        index.add(f"t{i}", f"t{i}", ["".join(["a.", "boot"])], "h/1")  # equal, not identical
    assert len({id(deps[0]) for deps in index._deps}) == 1
