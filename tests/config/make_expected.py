"""Regenerate expected.json from avocado-vt (maintainers only; not run by CI).

    /opt/avref/bin/python tests/config/make_expected.py

Needs avocado-vt 113.0 importable (``virttest.cartesian_config``).
"""

import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cases import CASES  # noqa: E402
from virttest import cartesian_config  # noqa: E402


def run(case):
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in case.get("ref_files", case["files"]).items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        p = cartesian_config.Parser(defaults=case.get("defaults", False),
                                    expand_defaults=case.get("expand", []))
        p.parse_file(os.path.join(tmp, case.get("main", "main.cfg")))
        for s in case.get("strings", []):
            p.parse_string(s)
        return [d for d in p.get_dicts()]


def main():
    out = {}
    for name, case in CASES.items():
        out[name] = run(case)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)  # keep key order: it is checked
        f.write("\n")


if __name__ == "__main__":
    main()
