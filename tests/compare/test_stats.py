"""The statistics of a comparison: Fisher's exact test, t-based intervals, MAD."""

from __future__ import annotations

import math
import statistics

import pytest

from kvmtest.compare.stats import (
    cis_overlap,
    fisher_greater,
    mad,
    mean_ci,
    outside_prediction,
    t975,
)


@pytest.mark.parametrize("dev, base, expected", [
    ((5, 5), (1, 20), 0.00011),  # next-capabilities.md §3.4, measured
    ((1, 1), (1, 20), 0.095),  # one failing run is no evidence against a 5 % flake rate
    ((2, 5), (6, 20), 0.53),
])
def test_fisher_matches_the_measured_values(dev, base, expected):
    p = fisher_greater(base[0], base[1], dev[0], dev[1])
    assert p == pytest.approx(expected, rel=0.03)


def test_fisher_exact_fractions():
    # 5/5 vs 1/20: only the table with all 6 failures... 6 of C(25,5) draws hold 5 failures
    assert fisher_greater(1, 20, 5, 5) == 6 / math.comb(25, 5)
    assert fisher_greater(1, 20, 1, 1) == 2 / 21
    assert fisher_greater(0, 1, 1, 1) == 0.5
    assert fisher_greater(3, 3, 0, 3) == 1.0  # dev fails less: no evidence at all
    assert fisher_greater(0, 0, 1, 1) == 1.0  # nothing to compare with


def test_fisher_against_brute_force_enumeration():
    """The tail equals counting, over every way to pick dev's runs, those as bad or worse."""
    import itertools

    for bn, bf, dn, df in [(4, 1, 3, 2), (5, 0, 2, 2), (3, 2, 4, 1), (6, 3, 3, 3)]:
        outcomes = [1] * (bf + df) + [0] * (bn + dn - bf - df)
        picks = list(itertools.combinations(range(bn + dn), dn))
        worse = sum(1 for pick in picks if sum(outcomes[i] for i in pick) >= df)
        assert fisher_greater(bf, bn, df, dn) == pytest.approx(worse / len(picks))


def test_fisher_refuses_impossible_counts():
    with pytest.raises(ValueError):
        fisher_greater(3, 2, 0, 1)
    with pytest.raises(ValueError):
        fisher_greater(0, 1, -1, 1)


def test_t_table_is_conservative_between_rows():
    assert t975(1) == 12.706
    assert t975(30) == 2.042
    assert t975(35) == t975(30)  # df 35 is not listed: the wider df-30 value
    assert t975(1000) == 1.96
    with pytest.raises(ValueError):
        t975(0)


def test_mean_ci_and_overlap():
    values = [10.0, 12.0, 11.0, 13.0]
    mean, half = mean_ci(values)
    assert mean == 11.5
    assert half == pytest.approx(3.182 * statistics.stdev(values) / 2)
    assert mean_ci([5.0]) == (5.0, math.inf)
    assert cis_overlap([10, 11, 12], [11, 12, 13])  # close: not a change
    assert not cis_overlap([10, 10.1, 9.9], [20, 20.2, 19.8])  # far apart: a change
    assert not cis_overlap([1.0] * 5, [2.0] * 5)  # no spread, different means
    assert cis_overlap([1.0], [100.0])  # one value: nothing known about its spread


def test_mad():
    assert mad([1.0, 2.0, 3.0, 4.0, 100.0]) == 1.0  # the outlier does not inflate it
    assert mad([7.0]) == 0.0


def test_outside_prediction_interval():
    # 10, 12, 14: mean 12, sd 2, t(2) = 4.303, one new value: +- 4.303 * 2 * sqrt(4/3) = 9.937
    assert not outside_prediction([10, 12, 14], [21.9])
    assert outside_prediction([10, 12, 14], [22.0])
    assert outside_prediction([10, 12, 14], [2.0]) and not outside_prediction([10, 12, 14], [2.1])
    # the mean of two new values is predicted more tightly: sqrt(1/2 + 1/3) -> 7.856
    assert outside_prediction([10, 12, 14], [19.9, 19.9])
    assert outside_prediction([5, 5, 5], [5.001]) and not outside_prediction([5, 5, 5], [5])
    with pytest.raises(ValueError):
        outside_prediction([1, 2], [3])
