#!/usr/bin/env python3
"""Run kvmtest from a plain checkout: ./run.py -c kvm_hosts.cfg --set nightly"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmtest.cli import main  # noqa: E402

sys.exit(main())
