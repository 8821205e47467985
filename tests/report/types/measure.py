"""Test type for report tests: records the metrics its params name (``measure = bw:MB/s:higher:12.5``)."""

from kvmtest.results.records import Metric

START_VM = False


def run(test, params, env):
    for item in params.get("measure", "").split():
        name, unit, better, value = item.split(":")
        test.metrics.append(Metric(name, float(value), unit, better))
