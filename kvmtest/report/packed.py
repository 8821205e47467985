"""The all-tests table's data: every test, packed small, for ``<script type="application/json">``.

A 10,000-test job's ids, log links and Cartesian names are mostly shared prefixes
(``host/queue/``, ``tests/host-queue/``, ``qcow2.virtio_blk.smp2...``): written out whole
they were 3 MB of a 5.4 MB report. Each is stored once in a string table ``S`` and a
test keeps only its own tail; report.js's ``unpack`` rebuilds the full strings.

Row layout ``[idp, tail, status, dur, start, reason, hp, leaf, np, short]``:

- id = ``S[idp] + tail`` (the id cut after its last ``/``);
- log href = ``S[hp] + (leaf ?? tail) + "/debug.log"``, none when ``hp`` is -1;
- name = ``S[np] + (short ?? tail after its first "-")`` (``<n>-<shortname>`` ids);
- status is an index into ``statuses``; dur and start (offset from the job's start) are
  seconds, one decimal.
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional, Sequence

from markupsafe import Markup

from kvmtest.results.records import STATUSES, TestResult

LOG_SUFFIX = "/debug.log"


class _Strings:
    def __init__(self) -> None:
        self.index: Dict[str, int] = {}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.index)
        return i

    def table(self) -> List[str]:
        return list(self.index)


def pack_row(r: TestResult, href: str, t0: float, strings: _Strings) -> list:
    head, _, tail = r.id.rpartition("/")
    idp = strings(head + "/" if head else "")
    hp: int = -1  # no log (view.log_href makes every link end in /debug.log)
    leaf: Optional[str] = None
    if href.endswith(LOG_SUFFIX):
        d, _, leaf = href[:-len(LOG_SUFFIX)].rpartition("/")
        hp = strings(d + "/" if d else "")
        if leaf == tail:
            leaf = None
    short: Optional[str] = r.shortname
    before, dash, after_dash = tail.partition("-")
    if dash and r.name.endswith(r.shortname) and r.shortname == after_dash:
        np, short = strings(r.name[:len(r.name) - len(r.shortname)]), None
    else:
        np, short = strings(""), r.name
    return [idp, tail, STATUSES.index(r.status), round(r.time, 1), round(max(0.0, r.start - t0), 1),
            r.reason_line, hp, leaf, np, short]


def pack_tests(tests: Sequence[TestResult], hrefs: Sequence[str], t0: float) -> Markup:
    """The JSON text, HTML-safe: no ``<``, ``>`` or ``&`` (a reason holding ``</script>``
    cannot end the script element), nor the two line separators JavaScript once choked on."""
    strings = _Strings()
    rows = [pack_row(r, href, t0, strings) for r, href in zip(tests, hrefs)]
    text = json.dumps({"statuses": list(STATUSES), "S": strings.table(), "tests": rows},
                      separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def unpack(doc: dict) -> List[dict]:
    """The inverse, as report.js does it (tests check the two against the records)."""
    s = doc["S"]
    out = []
    for idp, tail, st, dur, start, reason, hp, leaf, np, short in doc["tests"]:
        out.append({
            "id": s[idp] + tail,
            "status": doc["statuses"][st],
            "time": dur,
            "start": start,
            "reason": reason,
            "href": "" if hp < 0 else s[hp] + (tail if leaf is None else leaf) + LOG_SUFFIX,
            "name": s[np] + (tail.partition("-")[2] if short is None else short),
        })
    return out
