"""``kvmtest.texttable.simple_table`` prints what tabulate prints, for the tables kvmtest makes."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from kvmtest.results.summary import format_summary
from kvmtest.texttable import simple_table
from tests.compare.helpers import job, res
from tests.hypo import examples

# printable text with blanks (tabulate strips them) and letters beyond ASCII; no line breaks
CELL = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " éü—", max_size=12)
HEADERS = st.lists(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8), min_size=1,
                   max_size=5)


def tabulate(*args, **kwargs) -> str:
    from tabulate import tabulate as oracle  # (here: each worker that collects this saves 40 ms)

    return oracle(*args, **kwargs)


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data(), headers=HEADERS)
def test_text_tables_are_tabulates(data, headers):
    """compare and history: every column text (``disable_numparse``); None is an empty cell."""
    cell = st.one_of(st.none(), CELL, st.integers(-10**6, 10**6))
    rows = data.draw(st.lists(st.lists(cell, min_size=len(headers), max_size=len(headers)),
                              max_size=6))
    assert simple_table(rows, headers) == tabulate(rows, headers=headers, disable_numparse=True)


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data(), counts=st.integers(1, 5))
def test_summary_shaped_tables_are_tabulates(data, counts):
    """The job summary: a queue name, counts right-aligned as numbers, a time."""
    headers = ["queue", *(f"S{i}" * (i + 1) for i in range(counts)), "time"]
    row = st.tuples(CELL.map(lambda s: s + "/q"), st.lists(st.integers(0, 10**5), min_size=counts,
                                                           max_size=counts),
                    st.one_of(st.just(""), st.floats(0, 1e5).map(lambda t: f"{t:.1f}s")))
    rows = [[q, *n, t] for q, n, t in data.draw(st.lists(row, min_size=1, max_size=6))]
    right = range(1, counts + 1)
    assert simple_table(rows, headers, right=right) == tabulate(rows, headers=headers, tablefmt="simple")


def test_multi_line_cells_are_tabulates_own():
    rows = [["a", "two\nlines"], ["b", None]]
    assert simple_table(rows, ["x", "y"]) == tabulate(rows, headers=["x", "y"], disable_numparse=True)


def test_the_job_summary_is_tabulates():
    data = job("j", res("a"), res("b", "FAIL"), res("c", queue="q2", seconds=12.5))
    text = format_summary(data)
    assert text.splitlines()[0].split() == ["queue", "PASS", "FAIL", "ERROR", "SKIP", "INTERRUPTED",
                                            "time"]
    assert text.splitlines()[2] == "h1/q1         1       1        0       0              0  2.0s"
    assert text.splitlines()[-1] == "TOTAL         2       1        0       0              0"
