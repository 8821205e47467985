"""The few statistics a comparison needs, with the standard library only (no scipy).

* ``fisher_greater``: one-sided Fisher exact test on two pass/fail counts (is the
  second side's failure rate higher?), from the hypergeometric tail with ``math.comb``.
* ``mean_ci``: mean and the half-width of its 95 % confidence interval (Student's t
  from a small table); ``cis_overlap`` is MMTests' significance rule (a change is
  real when the two intervals do not overlap, ``bin/lib/MMTests/Stat.pm`` ``cidiff``).
* ``mad``: median absolute deviation, the spread measure of the one-run-per-side rule.
* ``outside_prediction``: is a side's mean outside the 95 % prediction interval of earlier
  values (the history's), for a metric with one sample on a side.
"""

from __future__ import annotations

import math
import statistics
from typing import Sequence, Tuple

#: Two-sided 95 % Student t quantiles (t_{0.975, df}); df not listed uses the next lower
#: listed df (a larger t: a wider interval, never a narrower one).
_T975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980,
}
_Z975 = 1.960


def t975(df: int) -> float:
    """t_{0.975} for ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, not {df}")
    if df > 120:
        return _Z975
    return _T975[max(k for k in _T975 if k <= df)]


def mean_ci(values: Sequence[float]) -> Tuple[float, float]:
    """(mean, half-width of the 95 % CI). One value: half-width ``inf`` (nothing is known
    about its spread, so no interval excludes anything)."""
    if not values:
        raise ValueError("mean_ci of no values")
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.inf
    # floats, not statistics.stdev's exact fractions (30x slower; precision to spare here)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, t975(n - 1) * sd / math.sqrt(n)


def cis_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when the 95 % intervals of the means of ``a`` and ``b`` overlap (no real change).

    Two sides with no spread at all and different means do not overlap: five runs of
    1.0 against five of 2.0 is a change.
    """
    ma, ha = mean_ci(a)
    mb, hb = mean_ci(b)
    return abs(mb - ma) <= ha + hb


def outside_prediction(earlier: Sequence[float], values: Sequence[float]) -> bool:
    """True when the mean of ``values`` lies outside the 95 % prediction interval of the
    mean of ``len(values)`` new samples drawn like ``earlier`` (at least 3 values):
    ``mean(earlier) +- t * sd * sqrt(1/m + 1/n)``. Earlier values with no spread at all
    predict exactly their value (as ``cis_overlap`` treats two such sides)."""
    n, m = len(earlier), len(values)
    if n < 3 or m < 1:
        raise ValueError(f"needs >= 3 earlier values and >= 1 value, not {n} and {m}")
    mean = math.fsum(earlier) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in earlier) / (n - 1))
    half = t975(n - 1) * sd * math.sqrt(1 / m + 1 / n)
    return abs(math.fsum(values) / m - mean) > half


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation from the median (0.0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    med = statistics.median(values)
    return statistics.median(abs(v - med) for v in values)


def fisher_greater(base_fail: int, base_runs: int, dev_fail: int, dev_runs: int) -> float:
    """One-sided Fisher exact p-value that dev fails more often than base.

    With all ``base_runs + dev_runs`` outcomes fixed, it is the chance that ``dev_runs``
    of them drawn at random hold ``dev_fail`` failures or more (the hypergeometric upper
    tail). Measured values of next-capabilities.md §3.4: dev 5/5 vs base 1/20 -> 0.00011,
    dev 1/1 vs 1/20 -> 0.095, dev 2/5 vs 6/20 -> 0.53.
    """
    for n, k in ((base_runs, base_fail), (dev_runs, dev_fail)):
        if n < 0 or not 0 <= k <= n:
            raise ValueError(f"bad counts: {k} failures of {n} runs")
    total = base_runs + dev_runs
    fails = base_fail + dev_fail
    if total == 0 or dev_runs == 0:
        return 1.0
    denom = math.comb(total, dev_runs)
    tail = sum(math.comb(fails, x) * math.comb(total - fails, dev_runs - x)
               for x in range(dev_fail, min(fails, dev_runs) + 1))
    return tail / denom
