# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Property tests: whatever the text, the parser fails only with ParserError."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvmtest.config import Parser, ParserError
from kvmtest.config.reference.build import needs_exact
from tests.hypo import examples

from .gen import random_config

# bound the work per example: random variants can multiply
MAX_DICTS = 400


def _expand(text: str) -> None:
    p = Parser()
    try:
        p.parse_string(text)
    except ParserError as err:
        assert err.linenum is not None and err.msg
        return
    # the parser's flag agrees with a walk over the whole tree
    assert p._tree.reserved_refs == needs_exact(p._tree.node)
    try:
        for _ in itertools.islice(p.get_dicts(), MAX_DICTS):
            pass
    except ParserError:
        pass  # e.g. `x_max` with a value that is no number (avocado-vt: ValueError)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_random_configs_raise_only_parser_errors(rnd):
    _expand(random_config(rnd))


ALPHABET = st.sampled_from(list("ab.,:!=+<?~-@[]()\"'#$|{} \n\t") + ["variants", "only ", "no ",
                                                                    "del ", "include ",
                                                                    "suffix ", "join ", "    "])


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_arbitrary_text_raises_only_parser_errors(text):
    _expand(text)


@settings(max_examples=examples(50), deadline=None)
@given(st.randoms(use_true_random=False))
def test_missing_include_is_a_parser_error(rnd):
    text = random_config(rnd) + "include /nonexistent/%d.cfg\n" % rnd.randint(0, 9)
    p = Parser()
    try:
        p.parse_string(text)
    except ParserError:
        return
    raise AssertionError("include of a missing file was accepted")
