"""``kvmtest worker --scheduler tcp://COORD:8786 [--name HOST]``: this machine as a host of jobs.

A Dask worker named after the host (the name the plan uses), with the resource that pins a
job's queues here and kvmtest's host plugin. It keeps serving: when the scheduler goes away
(the coordinator of a ``--cluster local:`` job ended or crashed) its guests are killed and it
waits for the next one. SIGTERM/SIGINT stop the running tests (INTERRUPTED, reported to the
coordinator), kill the guests, then exit 128+signal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from typing import List, Optional

from kvmtest.exitcodes import BAD_INPUT, OK, interrupted

log = logging.getLogger("kvmtest.cluster")

DEFAULT_NTHREADS = 16  # queue tasks mostly wait on guests; one more thread per log fetch


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kvmtest worker",
                                 description="Serve this machine as a kvmtest host of a cluster job.")
    ap.add_argument("--scheduler", required=True, metavar="ADDR",
                    help="the coordinator's Dask scheduler, e.g. tcp://coord:8786 (tls://... with TLS)")
    ap.add_argument("--name", default=None,
                    help="host name as the plan spells it (default: this machine's hostname)")
    ap.add_argument("--host", dest="listen", default=None, metavar="ADDR",
                    help="address to listen on (default: the one that routes to the scheduler)")
    ap.add_argument("--nthreads", type=int, default=DEFAULT_NTHREADS,
                    help=f"task threads: at least this host's queues + 1 (default {DEFAULT_NTHREADS})")
    ap.add_argument("--workdir", default=None, metavar="DIR",
                    help="staging area for results and logs (default $TMPDIR/kvmtest-worker-NAME)")
    ap.add_argument("--once", action="store_true",
                    help="exit when the scheduler goes away instead of waiting for the next one")
    add_tls_args(ap)
    return ap


def add_tls_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--tls-ca-file", metavar="FILE", help="CA certificate (Dask TLS)")
    ap.add_argument("--tls-cert", metavar="FILE", help="this side's certificate (Dask TLS)")
    ap.add_argument("--tls-key", metavar="FILE", help="this side's private key (Dask TLS)")


def security_from(args):
    """A distributed ``Security`` from the --tls-* flags, or None (plain TCP)."""
    files = (args.tls_ca_file, args.tls_cert, args.tls_key)
    if not any(files):
        return None
    if not all(files):
        raise ValueError("TLS needs all of --tls-ca-file, --tls-cert and --tls-key")
    from distributed.security import Security

    return Security(tls_ca_file=args.tls_ca_file, tls_client_cert=args.tls_cert,
                    tls_client_key=args.tls_key, tls_scheduler_cert=args.tls_cert,
                    tls_scheduler_key=args.tls_key, tls_worker_cert=args.tls_cert,
                    tls_worker_key=args.tls_key, require_encryption=True)


def missing_distributed_message(what: str) -> str:
    return (f"error: {what} needs Dask distributed, which is not installed.\n"
            "  install it with: pip install 'kvmtest[cluster]'\n"
            "  (in a checkout: .venv/bin/python -m pip install -e '.[cluster]', or make venv)")


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print(missing_distributed_message("kvmtest worker"), file=sys.stderr)
        return BAD_INPUT
    name = args.name or socket.gethostname()
    try:
        security = security_from(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"kvmtest worker {name}: %(message)s"))
    kv = logging.getLogger("kvmtest")
    kv.addHandler(handler)
    kv.setLevel(logging.DEBUG)  # per-test debug.log files get everything
    handler.setLevel(logging.INFO)
    logging.getLogger("kvmtest.cluster").propagate = False
    logging.getLogger("kvmtest.cluster").addHandler(handler)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    return asyncio.run(_serve(args, name, security))


async def _serve(args, name: str, security) -> int:
    from distributed import Worker

    from kvmtest.cluster.hostside import KvmHostPlugin, resource_name

    plugin = KvmHostPlugin(args.workdir)
    loop = asyncio.get_running_loop()
    got: List[int] = []
    stopping = asyncio.Event()

    def on_signal(signum: int) -> None:
        if got:
            return
        got.append(signum)
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    while not stopping.is_set():
        try:
            worker = Worker(args.scheduler, name=name, nthreads=args.nthreads,
                            resources={resource_name(name): 100}, host=args.listen,
                            dashboard=False, plugins=(plugin,), security=security,
                            death_timeout=None, validate=False)
            starting = asyncio.ensure_future(worker.start())
            waiter = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({starting, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
                await worker.close(reason="stopped before connecting")
                break
            waiter.cancel()
            starting.result()
        except Exception as exc:
            text = str(exc)
            cause = f"{text} {exc.__cause__ or ''} {exc.__context__ or ''}"
            if "name taken" in cause:
                print(f"error: a worker named {name} is already connected to {args.scheduler}:"
                      f" every host needs its own name (this one runs on {socket.gethostname()});"
                      " stop the other worker or pass --name", file=sys.stderr)
                return BAD_INPUT
            print(f"kvmtest worker {name}: cannot join {args.scheduler}: {text}", file=sys.stderr)
            if args.once:
                return BAD_INPUT
            await _sleep_or(stopping, 2.0)
            continue
        print(f"kvmtest worker {name}: serving {args.scheduler} as {worker.address}", flush=True)
        finished = asyncio.ensure_future(worker.finished())
        waiter = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({finished, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if stopping.is_set():
            await _stop_running(plugin, name, got[0])
            await worker.close(reason=f"{signal.Signals(got[0]).name} received")
            break
        waiter.cancel()
        if args.once:
            print(f"kvmtest worker {name}: scheduler gone; exiting (--once)", flush=True)
            return OK
        print(f"kvmtest worker {name}: scheduler gone; waiting for the next one", flush=True)
        await _sleep_or(stopping, 1.0)
    return interrupted(got[0]) if got else OK


async def _sleep_or(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        pass


async def _stop_running(plugin, name: str, signum: int, wait: float = 30.0) -> None:
    """Stop the tests (the pipelines write INTERRUPTED and send it), then wait for them."""
    reason = f"worker {name} stopped ({signal.Signals(signum).name})"
    with plugin.lock:
        jobs = list(plugin.jobs.values())
    for hj in jobs:
        hj.set_reason(reason)
        hj.stop.set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while any(hj.running for hj in jobs) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # let the last events leave in the worker's batched stream
