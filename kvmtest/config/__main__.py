# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""``python -m kvmtest.config [--json] [--contents] [--defaults] [--expand A,B] FILE [STRING ...]``

Lists the dicts a config expands to (like avocado-vt's cartesian_config tool)
or writes canonical JSON lines.  Config errors print one line and exit 2.
"""

from __future__ import annotations

import gc
import os
import sys
from types import SimpleNamespace

from .api import Parser
from .encode import widen_pipe, write_lines
from .errors import ParserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Iterable, List, Optional, TextIO, Union

    # the command line: a SimpleNamespace from _plain_args, else argparse's
    Args = Union[SimpleNamespace, "argparse.Namespace"]

_FLAGS = {"--json": "json", "-c": "contents", "--contents": "contents", "-f": "fullname",
          "--fullname": "fullname", "-d": "defaults", "--defaults": "defaults"}


def _plain_args(argv: List[str]) -> Optional[SimpleNamespace]:
    """The common command lines without argparse (whose import, help formatter
    and gettext lookups cost ~6 ms of a ~0.6 s run); None for anything else
    (help, errors, abbreviations, ``--``), which argparse then handles."""
    ns = SimpleNamespace(file=None, strings=[], json=False, contents=False, fullname=False,
                         defaults=False, expand="")
    it = iter(argv)
    for arg in it:
        if arg in _FLAGS:
            setattr(ns, _FLAGS[arg], True)
        elif arg in ("-e", "--expand"):
            value = next(it, None)
            if value is None or value.startswith("-"):
                return None
            ns.expand = value
        elif arg.startswith("--expand="):
            ns.expand = arg[len("--expand="):]
        elif arg.startswith("-") and arg != "-":
            return None
        elif ns.file is None:
            ns.file = arg
        else:
            ns.strings.append(arg)
    return ns if ns.file is not None else None


def _args(argv: Optional[List[str]]) -> Args:
    argv = sys.argv[1:] if argv is None else list(argv)
    fast = _plain_args(argv)
    return fast if fast is not None else _full_args(argv)


def _full_args(argv: List[str]) -> Args:
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m kvmtest.config",
        description="Expand a Cartesian config file (avocado-vt compatible).",
        epilog='example: python -m kvmtest.config tests.cfg "only my_set" "no qcow2"')
    ap.add_argument("file", help="config file")
    ap.add_argument("strings", nargs="*", help="extra config text parsed after FILE")
    ap.add_argument("--json", action="store_true",
                    help="one canonical JSON object per line (map-file keys removed)")
    ap.add_argument("-c", "--contents", action="store_true", help="show dict contents")
    ap.add_argument("-f", "--fullname", action="store_true", help="show full names")
    ap.add_argument("-d", "--defaults", action="store_true",
                    help="use only the default variant of variants blocks that have one")
    ap.add_argument("-e", "--expand", default="",
                    help="comma-separated variants names expanded fully with --defaults")
    ap.add_argument("--version", action="version", version=_version())
    return ap.parse_args(argv)


def _version() -> str:
    from .. import __version__
    from . import BUILD

    return "kvmtest %s, kvmtest.config %s" % (__version__, BUILD)


def _print_listing(dicts: Iterable[dict], out: TextIO, args: Args) -> None:
    for count, d in enumerate(dicts, 1):
        out.write("dict %4d:  %s\n" % (count, d["name"] if args.fullname else d["shortname"]))
        if args.contents:
            for key in sorted(d):
                out.write("    %s = %s\n" % (key, d[key]))


_RETAINED: list = []


def main(argv: Optional[List[str]] = None) -> int:
    args = _args(argv)
    # The parsed tree is a few hundred thousand long-lived objects and the
    # expansion makes little cyclic garbage: the cyclic GC would only rescan
    # the tree again and again (~15% of the run).  A one-shot process: off.
    gc.disable()
    expand = [x.strip() for x in args.expand.split(",") if x.strip()]
    out = sys.stdout
    try:
        p = Parser(defaults=args.defaults, expand_defaults=expand)
        p.parse_file(args.file)
        for s in args.strings:
            p.parse_string(s)
        if args.json:
            widen_pipe(out)
            write_lines(p.json_lines(), out)
        else:
            _print_listing(p.get_dicts(), out, args)
        out.flush()
        _RETAINED.append(p)  # freed by os._exit below, not object by object
    except ParserError as exc:
        if args.json:
            import json  # (errors only: a run loads no json)

            print(json.dumps({"error": type(exc).__name__, "msg": exc.msg,
                              "filename": exc.filename, "linenum": exc.linenum}))
        else:
            text = exc.msg + (": %s" % exc.line if exc.line else "")
            print("%s: %s" % (exc.where(), text), file=sys.stderr)
        return 2
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # the reader (| head) went away: stop quietly, no traceback
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        name = getattr(exc, "filename", None) or args.file
        if args.json:
            import json

            print(json.dumps({"error": type(exc).__name__, "msg": exc.strerror or str(exc),
                              "filename": name, "linenum": None}))
        else:
            print("%s: %s" % (name, exc.strerror or exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    status = main()
    # A one-shot process whose heap is a big parsed tree: skip freeing it
    # object by object at exit (~30 ms on the tp-qemu corpus).
    try:
        sys.stdout.flush()
    except OSError:  # the reader went away: nothing more to say
        status = status or 0
    sys.stderr.flush()
    os._exit(status)
