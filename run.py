#!/usr/bin/env python3
"""Run kvmtest from a plain checkout: ./run.py -c kvm_hosts.cfg --set nightly

Works with any python3: without kvmtest's dependencies it re-runs itself with the
checkout's .venv/bin/python (made by `make venv`), see kvmtest/bootstrap.py.
"""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)
from kvmtest.bootstrap import need_deps  # noqa: E402  (standard library only)

need_deps(ROOT, [os.path.abspath(__file__), *sys.argv[1:]])
from kvmtest.cli import main  # noqa: E402

sys.exit(main())
