# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Differential fuzzing against avocado-vt (maintainers only; not part of the suite).

    python3 tests/config/fuzz_reference.py [COUNT] [SEED]

Writes random configs, expands them with avocado-vt (``/opt/avref/bin/python``
or $AVREF_PYTHON) and with kvmtest.config, and reports every difference.
Configs avocado-vt rejects (any exception) only need to be rejected here too.
"""

import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from kvmtest.config import Parser, ParserError  # noqa: E402
from tests.config.gen import random_config  # noqa: E402

LIMIT = 300
REF = r'''
import itertools, json, sys
from virttest.cartesian_config import Parser
out = []
for path in sys.argv[1:]:
    try:
        p = Parser()
        p.parse_file(path)
        out.append(list(itertools.islice(p.get_dicts(), %d)))
    except Exception as e:
        out.append(type(e).__name__)
print(json.dumps(out))
''' % LIMIT


def ours(path):
    import itertools

    try:
        p = Parser()
        p.parse_file(path)
        return list(itertools.islice(p.get_dicts(), LIMIT))
    except ParserError as e:
        return type(e).__name__


def ours_json(path):
    """The --json path (its own walker and encoder), or the error name."""
    import itertools

    try:
        p = Parser()
        p.parse_file(path)
        return list(itertools.islice(p.json_lines(), LIMIT))
    except ParserError as e:
        return type(e).__name__


def canonical(d):
    d = dict(d)
    d.pop("_name_map_file", None)
    d.pop("_short_name_map_file", None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    py = os.environ.get("AVREF_PYTHON", "/opt/avref/bin/python")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(count):
            path = os.path.join(tmp, "c%d.cfg" % i)
            with open(path, "w") as f:
                f.write(random_config(rng, pipe=False))
            paths.append(path)
        ref = json.loads(subprocess.run([py, "-c", REF] + paths, capture_output=True,
                                        text=True, check=True).stdout)
        accepted = 0
        for path, want in zip(paths, ref):
            got = ours(path)
            if isinstance(want, str):
                if not isinstance(got, str):
                    print("DIFF %s: avocado-vt %s, we accept" % (path, want))
                    print(open(path).read())
                    bad += 1
                continue
            accepted += 1
            got_json = ours_json(path)
            if not isinstance(got, str) and got_json != [canonical(d) for d in want]:
                bad += 1
                print("JSON DIFF %s" % path)
                print(open(path).read())
            if got != want:
                bad += 1
                print("DIFF %s" % path)
                print(open(path).read())
                if isinstance(got, str):
                    print("  we raise", got)
                else:
                    print("  ours", [d["name"] for d in got][:10])
                    print("  ref ", [d["name"] for d in want][:10])
                    for a, b in zip(got, want):
                        if a != b:
                            print("  first differing dict:\n   ", a, "\n   ", b)
                            break
        print("%d configs, %d accepted by avocado-vt, %d differences" % (count, accepted, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
