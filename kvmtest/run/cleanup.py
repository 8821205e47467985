"""``run.py cleanup``: reap what killed runners left on this machine, and say what.

Guests (qemu and their helpers), libvirt domains, network namespaces with
their bridges and taps, work dirs and socket dirs of every job whose runner
process is gone (see ``kvmtest.vm.orphans``). Jobs whose runner still runs are
left alone, so it is safe while other jobs run. Every ``run.py`` run does the
same before it starts.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from kvmtest.exitcodes import OK


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="run.py cleanup", description=__doc__.split("\n")[0])
    ap.parse_args(argv)
    import logging

    from kvmtest.vm.orphans import reap_orphans

    # reap_orphans also logs each line (for runs); here they are printed once, on stdout
    logging.getLogger("kvmtest.vm.orphans").addHandler(logging.NullHandler())
    reaped = reap_orphans()
    for line in reaped:
        print(f"reaped: {line}")
    if not reaped:
        print("nothing to reap: no guest, namespace or work dir of a killed runner found")
    return OK


if __name__ == "__main__":
    sys.exit(main())
