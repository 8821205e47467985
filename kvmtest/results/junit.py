"""results.xml: JUnit XML as Jenkins and GitLab read it, one <testsuite> per queue.

Status mapping: FAIL -> <failure>, ERROR and INTERRUPTED -> <error> (the type
attribute keeps the kvmtest status), SKIP -> <skipped>. The JUnit format has
no "interrupted", and CI systems must not count a timeout as a pass or a skip.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List

from kvmtest.fsutil import atomic_write
from kvmtest.results.records import ERROR, FAIL, INTERRUPTED, SKIP, TestResult
from kvmtest.results.store import ResultsFile


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (test output can contain anything)."""
    return "".join(
        c for c in text
        if c in "\t\n\r" or ord(c) >= 0x20 and not (0xD800 <= ord(c) <= 0xDFFF) and c not in "\ufffe\uffff"
    )


def to_junit(data: ResultsFile) -> ET.Element:
    suites: Dict[str, List[TestResult]] = OrderedDict()
    for r in data.tests:
        suites.setdefault(f"{r.hostname}/{r.queue}", []).append(r)
    root = ET.Element("testsuites", name=f"kvmtest {data.job.set}".strip())
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for key, results in sorted(suites.items()):
        n_fail = sum(r.status == FAIL for r in results)
        n_err = sum(r.status in (ERROR, INTERRUPTED) for r in results)
        n_skip = sum(r.status == SKIP for r in results)
        t = sum(r.time for r in results)
        start = min(r.start for r in results)
        suite = ET.SubElement(
            root, "testsuite", name=key, tests=str(len(results)), failures=str(n_fail),
            errors=str(n_err), skipped=str(n_skip), time=f"{t:.3f}", timestamp=_iso(start),
            hostname=results[0].hostname,
        )
        for r in results:
            case = ET.SubElement(
                suite, "testcase", classname=key.replace("/", "."),
                name=_clean(r.name), time=f"{r.time:.3f}",
            )
            msg = _clean(r.fail_reason or "")
            if r.status == FAIL:
                ET.SubElement(case, "failure", message=msg, type=r.fail_class or "TestFail").text = msg
            elif r.status in (ERROR, INTERRUPTED):
                ET.SubElement(case, "error", message=msg,
                              type=f"{r.status}:{r.fail_class or 'Error'}").text = msg
            elif r.status == SKIP:
                ET.SubElement(case, "skipped", message=msg)
            if r.logdir:
                ET.SubElement(case, "system-out").text = f"logdir: {r.logdir}"
        totals["tests"] += len(results)
        totals["failures"] += n_fail
        totals["errors"] += n_err
        totals["skipped"] += n_skip
        total_time += t
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    return root


def write_junit(data: ResultsFile, path: Path) -> None:
    tree = to_junit(data)
    ET.indent(tree)
    text = ET.tostring(tree, encoding="unicode", xml_declaration=False)
    atomic_write(Path(path), '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")
