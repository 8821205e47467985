"""Command line: ``./run.py -c kvm_hosts.cfg --set nightly [--dry-run | --explain P]``.

A thin face: it parses arguments, calls the library (``kvmtest.plan``,
``kvmtest.run``) and prints. Exit codes (kvmtest/exitcodes.py, docs/exit-codes.md):
0 all passed (or a clean dry run), 1 some test did not pass, 2 bad input (config,
plan, command line: nothing started), 3 the run failed (runner or machine),
128 + signal number when interrupted (130 SIGINT, 143 SIGTERM, 141 stdout closed).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple

from kvmtest import exitcodes
from kvmtest.exitcodes import BAD_INPUT as EXIT_BAD_INPUT
from kvmtest.exitcodes import INFRA as EXIT_INFRA
from kvmtest.exitcodes import OK as EXIT_OK
from kvmtest.fsutil import detach_stdout

if TYPE_CHECKING:  # the stages below are imported when a command needs them
    from pathlib import Path

    from kvmtest.config import Parser
    from kvmtest.plan import AutoAssignment, DurationSource, PlanError, Planner
    from kvmtest.plan.model import Address, PlannedTest
    from kvmtest.run import RunOptions
    from kvmtest.run.faults import InfraError
    from kvmtest.run.job import JobSummary
    from kvmtest.run.preflight import Preflight

    Planned = Tuple[Parser, Planner]

# Subcommands: "run.py NAME ..." (or "kvmtest NAME ...") hands the rest of the command line to
# main(argv) of the module named here. The flag form "run.py -c FILE --set NAME" stays the default.
SUBCOMMANDS = {
    "cleanup": "kvmtest.run.cleanup",
    "compare": "kvmtest.compare.__main__",
    "history": "kvmtest.history.__main__",
    "report": "kvmtest.report.__main__",
    "results": "kvmtest.results.__main__",
    "worker": "kvmtest.cluster.worker",
}
HIDDEN_KEYS = ("_name_map_file", "_short_name_map_file")


def build_arg_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="run.py",
        description="Expand Cartesian config files into a plan of hosts, queues and tests, and run it.",
    )
    ap.add_argument("-c", "--config", action="append", default=[], metavar="FILE",
                    help="config file (repeatable; parsed in order, e.g. kvm_hosts.cfg);"
                         " not needed with --resume, which reads the saved plan")
    ap.add_argument("--set", dest="test_set", metavar="NAME",
                    help="test set to select (same as a final 'only NAME')")
    ap.add_argument("--only", action="append", default=[], metavar="FILTER",
                    help="extra 'only' filter (repeatable)")
    ap.add_argument("--no", action="append", default=[], metavar="FILTER",
                    help="extra 'no' filter (repeatable)")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                    help="set a param on every test (repeatable)")
    ap.add_argument("--host", metavar="NAME",
                    help="act as this host (default: this machine's hostname)")
    ap.add_argument("--dry-run", action="store_true", help="list the planned tests, run nothing")
    ap.add_argument("--all-hosts", action="store_true", help="with --dry-run: every host's tests")
    ap.add_argument("--format", choices=("table", "json"), default="table",
                    help="dry-run output: a table, or one JSON object per test")
    ap.add_argument("--explain", metavar="PATTERN",
                    help="say for every test whose name matches PATTERN (regex) whether it is"
                         " selected and where it runs, or which statement removed it")
    ap.add_argument("--results", metavar="DIR", help="results directory (default results/<time>-<set>)")
    ap.add_argument("--resume", metavar="DIR", help="finish the job in DIR: run its tests that have no final status")
    ap.add_argument("--kcidb", metavar="FILE", help="also export the results as KCIDB v5 JSON")
    ap.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                    help="label the job (repeatable): kernel=6.8-rc1, role=baseline; recorded in"
                         " results.json (job.tags), the history selects runs by them")
    ap.add_argument("--history", metavar="FILE",
                    help="index the finished job in this history file (default $KVMTEST_HISTORY,"
                         " else ~/.local/share/kvmtest/history.db; docs/history.md); an"
                         " 'assign = auto' set takes its duration estimates from it")
    ap.add_argument("--no-history", action="store_true",
                    help="do not index the job in the history (nor read estimates from it)")
    ap.add_argument("--ignore-deps", action="store_true",
                    help="plan and run every test without its 'dep' entries (avocado-vt >= 88"
                         " ignores them too); see docs/hosts-and-queues.md")
    ap.add_argument("--durations", action="append", default=[], metavar="FILE|DIR",
                    help="for an 'assign = auto' set: estimate test durations from these results"
                         " (a results.json, a results directory or a directory of them;"
                         " repeatable); see docs/hosts-and-queues.md")
    ap.add_argument("--cluster", metavar="ADDR",
                    help="run every host's tests from here through a Dask scheduler:"
                         " tcp://HOST:8786 (running scheduler) or local:[HOST][:PORT] (start one"
                         " in this process); each host runs 'kvmtest worker' (docs/cluster.md)")
    ap.add_argument("--wait-hosts", type=float, default=60.0, metavar="SECONDS",
                    help="with --cluster: how long to wait for every planned host's worker")
    ap.add_argument("--tls-ca-file", metavar="FILE", help="with --cluster: Dask TLS CA file")
    ap.add_argument("--tls-cert", metavar="FILE", help="with --cluster: Dask TLS certificate")
    ap.add_argument("--tls-key", metavar="FILE", help="with --cluster: Dask TLS private key")
    ap.add_argument("--version", action="version", version=_version())
    return ap


def _version() -> str:
    from kvmtest import __version__

    return f"kvmtest {__version__}"


def _params(pairs: Iterable[str]) -> List[Tuple[str, str]]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-p {pair!r}: expected KEY=VALUE")
        out.append((key.strip(), value))
    return out


def format_addresses(addresses: Iterable[Address]) -> str:
    parts = []
    for a in addresses:
        text = f"{a.vm}/{a.nic} {a.mac}"
        if a.ip:
            text += f" {a.ip}"
        parts.append(text)
    return ", ".join(parts)


class HistoryDurations:
    """The history store as a DurationSource, opened only when an auto set asks (a
    listing never creates the file). An unusable file is a warning: the plan is then
    made from guesses."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path

    def durations(self, shortnames: Iterable[str], last: int = 5) -> Dict[str, List[float]]:
        from pathlib import Path

        from kvmtest.history import HistoryError, HistoryStore
        from kvmtest.paths import history_path

        path = Path(self.path) if self.path else history_path()
        if not path.exists():
            return {}
        try:
            with HistoryStore(path) as store:
                return store.durations(shortnames, last=last)
        except HistoryError as exc:
            _warn([f"history {path}: {exc}; every duration estimate is a guess"])
            return {}


def assign_auto(args: argparse.Namespace, parser: Parser, planner: Planner) -> Optional[AutoAssignment]:
    """Place an ``assign = auto`` selection (kvmtest.plan.auto); None for a hand-placed one."""
    from kvmtest.plan import plan_auto

    source: Optional[DurationSource] = None
    label = "history"
    if args.durations:
        from kvmtest.results.durations import ResultsDurations

        source, label = ResultsDurations(args.durations), "--durations"
    elif not args.no_history:
        source = HistoryDurations(args.history)
    auto = plan_auto(parser, planner.local_host, source, args.ignore_deps, source=label)
    if args.durations and (auto is None or not auto.bundles):
        _warn(["--durations: this selection has no 'assign = auto' test; nothing to estimate"])
    return auto


def dry_run(args: argparse.Namespace, parser: Parser, planner: Planner, out: Optional[TextIO] = None,
            auto: Optional[AutoAssignment] = None) -> int:
    """List the plan without building whole dicts: the config's fast JSON lines plus a
    params view per test, so a 100,000-test plan costs little more than its expansion."""
    import gc

    # The parsed tree and the planner's indexes are large and acyclic-in-practice; the cyclic
    # collector would rescan them again and again (measured: a third of a large dry run).
    # Off while listing, back on after (a caller in the same process keeps its GC).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _dry_run(args, parser, planner, out or sys.stdout, auto)
    finally:
        if enabled:
            gc.enable()


def _dry_run(args: argparse.Namespace, parser: Parser, planner: Planner, out: TextIO,
             auto: Optional[AutoAssignment]) -> int:
    local = planner.local_host
    every = args.all_hosts
    from kvmtest.config.encode import widen_pipe, write_lines
    from kvmtest.plan.listing import ListingRows, listed, with_plan_fields, write_table

    checks = _LocalChecks()  # what the run checks before it starts (this host's tests)
    json = args.format == "json"  # (a table needs the params only: no line encoded)
    # (json: the lines as their fragments, joined once with the plan fields in front)
    listing = listed(parser.json_lines_with_params(json, parts=json), planner, every, checks.add)
    rows = ListingRows(planner.shortname)  # (a row is two ints: 150,000 rows stay small)
    widen_pipe(out)  # (a listing into a pipe: the reader drains while we plan on)
    if json:
        # (planner.placement: the test just yielded's, the generator being read in turn;
        # written ~64 KiB at a time, below the mmap threshold)
        write_lines((with_plan_fields(line, test, planner.placement) for line, test in listing),
                    out)
    else:
        shown_addresses: dict = {}
        for _, test in listing:
            # (the planner shares one address list between the tests that get the same
            # addresses: format each once; a test without any has a list of its own)
            addresses, text = test.addresses, ""
            if addresses:
                got = shown_addresses.get(id(addresses))
                if got is None or got[0] is not addresses:
                    got = shown_addresses[id(addresses)] = (
                        addresses, format_addresses(addresses))
                text = got[1]
            rows.add(planner.count - 1, len(test.shortname),
                     (test.hostname, test.queue, test.env, text))
    problems = _finish_listing(parser, planner)
    if args.host and args.host not in hosts_with_tests(planner):
        print(f"error: {no_test_on(planner, args.host)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format != "json":
        if rows:
            headers = ("test", "host", "queue", "env", "addresses")
            write_table(out, rows, headers, rows.widths(headers))
        where = "all hosts" if every else f"host {local}"
        out.write(f"{len(rows)} test(s) on {where}\n")
    if auto is not None and auto.bundles:  # (json: stdout stays one object per line)
        shown = None if every else [q for q in auto.pool if q.startswith(f"{local}/")]
        summary = "".join(line + "\n" for line in auto.summary(shown))
        (sys.stderr if args.format == "json" else out).write(summary)
    errors = str(problems).splitlines() if problems is not None else []
    errors += _preflight_verdict(checks.preflight, local)
    if errors:  # after the listing: the same checks as the run, the same exit code
        from kvmtest.plan import PlanError

        raise PlanError("\n".join(errors))
    return EXIT_OK


class _LocalChecks:
    """The run's preflight over this host's tests, made at the first one (a listing of
    other hosts' tests never imports the runner)."""

    def __init__(self) -> None:
        self.preflight: Optional[Preflight] = None

    def add(self, test: PlannedTest) -> None:
        if self.preflight is None:
            from kvmtest.run.preflight import Preflight

            self.preflight = Preflight()
        self.preflight.add(test)


def _preflight_verdict(preflight, host: str) -> List[str]:
    """The run's preflight: its errors (exit 2) when planning for this machine; warnings
    when acting as another host, whose files and daemons this machine cannot vouch for.
    No preflight (no test on this host): nothing to say."""
    import socket

    if preflight is None:
        return []
    report = preflight.report()
    here = socket.gethostname()
    if host == here:
        _warn(report.warnings)
        return report.errors
    _warn([f"{line} [checked on {here}; acting as {host}]" for line in report.errors]
          + report.warnings)
    return []


def _finish_listing(parser: Parser, planner: Planner) -> Optional[PlanError]:
    """The run's whole-plan checks for a listing: warnings printed, a PlanError returned
    (to raise once the listing is out) instead of raised."""
    from kvmtest.plan import PlanError, finish

    try:
        _warn(finish(parser, planner))
    except PlanError as exc:
        return exc
    return None


def hosts_with_tests(planner: Planner) -> List[str]:
    """Hosts that got at least one test (after the whole selection was planned)."""
    return sorted({host for host, _ in planner.queues})


def no_test_on(planner: Planner, host: str) -> str:
    hosts = hosts_with_tests(planner)
    listed = f"hosts with tests: {', '.join(hosts)}" if hosts else "no host has a test"
    return (f"no test of this selection runs on host {host} ({listed}; act as one of them"
            " with --host NAME, see them all with --dry-run --all-hosts)")


def explain(args: argparse.Namespace, parser: Parser, planner: Planner, out: Optional[TextIO] = None,
            auto: Optional[AutoAssignment] = None) -> int:
    out = out or sys.stdout
    from kvmtest.plan import iter_tests

    placed = {t.name: t for t in iter_tests(parser, planner)}
    problems = _finish_listing(parser, planner)
    pattern = re.compile(args.explain)
    count = 0
    for cand in parser.explain(args.explain):
        count += 1
        test = placed.get(cand.name)
        if test is not None:
            ranges = " ".join(sorted({a.range for a in test.addresses if a.range}))
            where = f"{test.hostname}/{test.queue} (env {test.env}{', ranges ' + ranges if ranges else ''})"
            out.write(f"SELECTED {cand.name}\n    runs on {where}\n")
            for verdict in planner.deps.verdicts(cand.name, planner.ignore_deps):
                out.write(f"    {verdict}\n")
            for line in auto.explain(test.shortname) if auto is not None and auto.bundles else []:
                out.write(f"    {line}\n")
        elif auto is not None and cand.name in auto.unchosen:
            out.write(f"ELSEWHERE {cand.name}\n    automatic assignment runs {cand.shortname}"
                      f" on {auto.queue_of(cand.shortname)} instead (see its SELECTED entry)\n")
        elif cand.removed_by is not None:
            stmt = cand.removed_by
            where = f"{stmt.filename}:{stmt.linenum}" if stmt.filename != "<string>" else "the command line"
            out.write(f"REMOVED  {cand.name}\n    by {where}: {stmt.line.strip()}\n")
        else:
            out.write(f"REMOVED  {cand.name}\n    (no single statement: removed by the selection as a whole)\n")
    if not count:
        out.write(f"no test name matches {pattern.pattern!r}, with or without filters\n")
    if problems is not None:
        raise problems
    return EXIT_OK


def _warn(warnings: Sequence[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


def config_error_line(exc: Exception) -> str:
    filename = getattr(exc, "filename", None) or "<string>"
    linenum = getattr(exc, "linenum", None)
    msg = getattr(exc, "msg", None) or str(exc)
    line = (getattr(exc, "line", None) or "").strip()
    where = f"{filename}:{linenum}" if linenum is not None else filename
    return f"{where}: {msg}" + (f": {line}" if line and line not in msg else "")


# Options that shape a new plan: --resume runs the plan saved in its directory instead.
_PLANNING = (("config", "-c/--config"), ("test_set", "--set"), ("only", "--only"), ("no", "--no"),
             ("param", "-p/--param"), ("host", "--host"), ("dry_run", "--dry-run"),
             ("all_hosts", "--all-hosts"), ("explain", "--explain"), ("results", "--results"),
             ("ignore_deps", "--ignore-deps"), ("durations", "--durations"), ("tag", "--tag"))


def misused_options(args: argparse.Namespace) -> Optional[str]:
    """Options that would be silently ignored in this combination: say so instead."""
    if args.resume:
        given = [flag for attr, flag in _PLANNING if getattr(args, attr)]
        if args.format != "table":
            given.append("--format")
        if given:
            return (f"--resume {args.resume} finishes the job saved there (its plan.json): "
                    f"{', '.join(given)} cannot change it; start a new job instead")
        return None
    if args.format != "table" and not args.dry_run:
        return "--format json formats the --dry-run listing: add --dry-run"
    if args.dry_run or args.explain:
        # (--history is read there: an assign = auto set's estimates)
        given = [flag for flag, value in (("--results", args.results), ("--kcidb", args.kcidb))
                 if value]
        if given:
            mode = "--dry-run" if args.dry_run else "--explain"
            verb = "name" if len(given) > 1 else "names"
            return f"{' and '.join(given)} {verb} what a run writes; {mode} writes nothing"
    if args.history and args.no_history:
        return "--history FILE and --no-history contradict each other: give one"
    if args.all_hosts and not args.dry_run:
        if args.explain:
            return "--all-hosts applies to --dry-run (--explain already covers every host)"
        return ("--all-hosts: a run covers one host's share; run it on each host"
                " (or here, acting as that host, with --host NAME), or all of them from here"
                " with --cluster (docs/cluster.md)")
    if args.cluster and (args.dry_run or args.explain):
        return "--cluster runs the job on the hosts: it has no effect with --dry-run/--explain"
    if args.cluster and args.host:
        return "--cluster runs every host's tests: --host (act as one host) does not apply"
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The exit code (kvmtest/exitcodes.py): 2 only for bad input, 3 when the run itself failed."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:
        # stdout's reader went away (`--format json | head -1`): stop quietly, with the
        # status a tool killed by SIGPIPE has
        detach_stdout()
        return exitcodes.interrupted(signal.SIGPIPE)
    except KeyboardInterrupt:  # Ctrl-C while planning (a run handles its signals itself)
        return exitcodes.interrupted(signal.SIGINT)


def _infra_error() -> type[InfraError]:
    """kvmtest.run's InfraError, imported only when an exception is being matched (an
    except clause's class is looked up then): a listing never imports the runner."""
    from kvmtest.run.faults import InfraError

    return InfraError


def _main(argv: List[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        return importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:])
    ap = build_arg_parser()
    args = ap.parse_args(argv)
    if not args.config and not args.resume:
        ap.error("-c/--config is required (unless --resume DIR)")
    mistake = misused_options(args)
    if mistake:
        print(f"error: {mistake}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from kvmtest.config import MissingIncludeError, ParserError
    from kvmtest.plan import PlanError, make_parser, new_planner
    from kvmtest.results.records import parse_tags

    try:
        params = _params(args.param)
        args.tags = parse_tags(args.tag)
        if args.resume:
            return _run(args, None)
        parser = make_parser(args.config, args.test_set, params=params, only=args.only, no=args.no)
        planner = new_planner(parser, args.host, ignore_deps=args.ignore_deps)
        auto = assign_auto(args, parser, planner)
        if auto is not None:
            parser = auto.parser  # the chosen dicts, replayed through the ordinary planner
        if args.explain:
            return explain(args, parser, planner, auto=auto)
        if args.dry_run:
            return dry_run(args, parser, planner, auto=auto)
        return _run(args, (parser, planner))
    except (ParserError, MissingIncludeError) as exc:
        print(f"error: {config_error_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except _infra_error() as exc:  # the machine, before the job could start (disk full...)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INFRA
    except BrokenPipeError:
        raise
    # PlanError, a refused job start (kvmtest.run.JobSetupError), a bad value, a config
    # file that cannot be read: bad input. An OSError of a job that started is INFRA (_run).
    except (PlanError, ValueError, OSError, re.error) as exc:
        for line in str(exc).splitlines() or [""]:  # dependency checks give a line per problem
            print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _echo_notices() -> None:
    """Show on the terminal the one-line notices a person must see (which accelerator, and why)."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kvmtest: %(message)s"))
    # ... what was reaped, an index of the history that failed, a results/latest not made
    for name in ("kvmtest.vm.accel", "kvmtest.vm.orphans", "kvmtest.history",
                 "kvmtest.results.latest"):
        notices = logging.getLogger(name)
        notices.addHandler(handler)
        notices.setLevel(logging.INFO)


def _run(args: argparse.Namespace, planned: Optional[Planned]) -> int:
    from pathlib import Path

    from kvmtest.plan import collect
    from kvmtest.run import default_results_dir, new_job, resume_job, run_job

    kcidb = Path(args.kcidb) if args.kcidb else None
    if args.cluster:
        return _run_cluster(args, planned, kcidb)
    opts = _run_options(args)
    if args.resume:
        _echo_notices()
        return _job(lambda: resume_job(Path(args.resume), kcidb=kcidb, options=opts))
    assert planned is not None  # None only with --resume
    parser, planner = planned
    host = planner.local_host
    plan = collect(parser, planner, keep=lambda t: t.hostname == host)
    _warn(plan.warnings)
    queues = plan.for_host(host)
    if not queues:
        print(f"error: {no_test_on(planner, host)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _echo_notices()
    job = new_job(args.test_set or "", cmdline=sys.argv)
    results = Path(args.results) if args.results else default_results_dir(args.test_set or "")
    return _job(lambda: run_job(queues, results, job, kcidb=kcidb, tags=args.tags, options=opts))


def _run_options(args: argparse.Namespace) -> RunOptions:
    """RunOptions from the command line: where (and whether) the job is indexed in the history."""
    from pathlib import Path

    from kvmtest.run import RunOptions

    return RunOptions(history=not args.no_history,
                      history_path=Path(args.history) if args.history else None)


def _job(start: Callable[[], JobSummary]) -> int:
    """Run a job, print its summary table, return its exit code.

    A refused start (``JobSetupError``: bad results dir, KCIDB path, plan) propagates as
    bad input; any other OSError means the machine or the runner failed: INFRA.
    """
    from kvmtest.run import JobSetupError

    try:
        summary = start()
    except (JobSetupError, BrokenPipeError):
        raise
    except OSError as exc:
        print(f"error: the run failed: {exc}", file=sys.stderr)
        return EXIT_INFRA
    summary.print()
    return summary.exit_code


def _run_cluster(args: argparse.Namespace, planned: Optional[Planned], kcidb: Optional[Path]) -> int:
    """``--cluster``: every host's queues through the coordinator, one results directory."""
    from pathlib import Path

    from kvmtest.cluster import have_distributed

    if not have_distributed():
        from kvmtest.cluster.worker import missing_distributed_message

        print(missing_distributed_message("--cluster"), file=sys.stderr)
        return EXIT_BAD_INPUT
    from kvmtest.cluster import ClusterOptions, ClusterSetupError, resume_cluster, run_cluster
    from kvmtest.plan import collect
    from kvmtest.run import default_results_dir, new_job

    opts = ClusterOptions(args.cluster, wait_hosts=args.wait_hosts, tls_ca_file=args.tls_ca_file,
                          tls_cert=args.tls_cert, tls_key=args.tls_key)
    try:
        if args.resume:
            _echo_notices()
            return _job(lambda: resume_cluster(Path(args.resume), opts, kcidb=kcidb,
                                               run_options=_run_options(args)))
        assert planned is not None  # None only with --resume
        parser, planner = planned
        plan = collect(parser, planner)
        _warn(plan.warnings)
        queues = list(plan.queue_plans.values())
        if not queues:
            print("error: this selection has no test on any host", file=sys.stderr)
            return EXIT_BAD_INPUT
        _echo_notices()
        job = new_job(args.test_set or "", cmdline=sys.argv)
        results = Path(args.results) if args.results else default_results_dir(args.test_set or "")
        return _job(lambda: run_cluster(queues, results, opts, job, kcidb=kcidb, tags=args.tags,
                                        run_options=_run_options(args)))
    except ClusterSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
