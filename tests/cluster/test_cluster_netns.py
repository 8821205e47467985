"""The coordinator and ``kvmtest worker`` as real processes, each host in its own namespace.

hostA and hostB are network namespaces on this machine joined to the coordinator by veth
pairs (tests/cluster/netkit.py); the coordinator hosts the scheduler (``--cluster local:``).
No assertion is about speed; waits poll files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Tuple

import psutil
import pytest

from kvmtest.cluster.lab import REPO, Hosts, coordinator_argv, env, netns_unavailable
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(netns_unavailable() is not None, reason=str(netns_unavailable())),
    # find_spec, not an import: importing distributed costs ~0.8 s of CPU in every process that
    # collects the suite, make check's included (where these tests never run)
    pytest.mark.skipif(find_spec("distributed") is None, reason="Dask distributed not installed"),
]

HEAD = f"""
include {REPO}/cfg/tiny-guest.cfg
accel = tcg
kill_vm = no
timeout = 300
base_mac_r0 = 02:97:00:00:00:00
base_ip_r0 = 10.97.0.10
range_size_r0 = 16
variants:
    - @q1:
        queue = 1
        env = env1
    - @q2:
        queue = 2
        env = env2
variants:
    - @hostA:
        hostname = hostA
        mac_ranges = r0
    - @hostB:
        hostname = hostB
"""


def config(tmp: Path, tests: str, sets: str) -> Path:
    """HEAD's hosts and queues, then the tests (a variants block), then the sets."""
    p = tmp / "cluster.cfg"
    p.write_text(HEAD + tests + sets)
    return p


@pytest.fixture
def hosts(tmp_path):
    hs = Hosts(tmp_path, ["hostA", "hostB"])
    yield hs
    left = hs.close()
    assert left == [], f"left behind: {left}"


def results_of(d: Path) -> dict:
    """results.json with its journal (results.jsonl) merged, as any reader sees the job."""
    from kvmtest.results.store import load_results

    try:
        return load_results(d).to_json()
    except (FileNotFoundError, ValueError):
        return {"tests": []}


def by_short(d: Path) -> dict:
    return {t["shortname"]: t for t in results_of(d)["tests"]}


def lines(p: Path) -> int:
    return len(p.read_text().splitlines()) if p.exists() else 0


def coordinator(*args: str, out: Path) -> subprocess.Popen:
    f = open(out, "w")
    return subprocess.Popen(coordinator_argv(*args), env=env(), stdout=f,
                            stderr=subprocess.STDOUT, cwd=REPO)


def marked(prefix: str) -> list:
    """Processes whose KVMTEST_JOB starts with ``prefix`` (guests, host_cmd children)."""
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.environ().get("KVMTEST_JOB", "").startswith(prefix):
                found.append(p)
        except (psutil.Error, OSError):
            pass
    return found


def finish(proc: subprocess.Popen, timeout: float = 600) -> int:
    try:
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def hold_command(tmp: Path) -> Tuple[Path, Path, str]:
    """(counter, release, command): the command counts its start in ``counter`` and holds
    until ``release`` exists."""
    counter, release = tmp / "counter", tmp / "release"
    return counter, release, f"sh -c 'echo run >> {counter}; while [ ! -e {release} ]; do sleep 0.1; done'"


def start_holding(tmp: Path, hosts: Hosts, cfg: Path, cluster: str, counter: Path
                  ) -> Tuple[subprocess.Popen, Path, Path, str]:
    """Both hosts' workers and a coordinator running the set 'holding' of ``cfg`` through
    ``cluster``, returned once a test holds on each host: (coordinator, results dir, its
    output file, job id)."""
    hosts.start("hostA")
    hosts.start("hostB")
    res = tmp / "res"
    out = tmp / "coord.out"
    proc = coordinator("-c", str(cfg), "--set", "holding", "--cluster", cluster,
                       "--results", str(res), "--wait-hosts", "120", out=out)
    try:
        wait_for(lambda: lines(counter) == 2, "both hosts to be holding", timeout=180)
        return proc, res, out, results_of(res)["job_id"]
    except BaseException:
        proc.kill()
        proc.wait()
        raise


@pytest.mark.guest
def test_one_job_on_two_hosts_one_results_dir(tmp_path, hosts):
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("qemu-system-x86_64 not installed")
    from kvmtest.vm.tinyguest import ensure_built

    ensure_built()
    cfg = config(tmp_path, """
variants:
    - boot:
        type = boot
    - guest_uname:
        type = shell
        guest_cmd = uname -s
        expected_output = Linux
    - nap_b1:
        type = sleep
        sleep_length = 2
    - host_b:
        type = host_cmd
        host_cmd = uname -r
    - nap_b2:
        type = sleep
        sleep_length = 3
""", """
variants:
    - @mixed:
        hostA:
            only q1
            only boot guest_uname
        hostB:
            q1:
                only nap_b1 host_b
            q2:
                only nap_b2
""")
    hosts.start("hostA")
    hosts.start("hostB")
    res = tmp_path / "res"
    out = tmp_path / "coord.out"
    proc = coordinator("-c", str(cfg), "--set", "mixed", "--cluster", hosts.local,
                       "--results", str(res), "--wait-hosts", "120", "--kcidb",
                       str(tmp_path / "kcidb.json"), "--tag", "kernel=6.8-rc1", out=out)
    rc = finish(proc)
    text = out.read_text()
    assert rc == 0, text
    data = results_of(res)
    where = {t["shortname"]: (t["hostname"], t["queue"], t["status"]) for t in data["tests"]}
    assert where == {"boot": ("hostA", "1", "PASS"), "guest_uname": ("hostA", "1", "PASS"),
                     "nap_b1": ("hostB", "1", "PASS"), "host_b": ("hostB", "1", "PASS"),
                     "nap_b2": ("hostB", "2", "PASS")}
    for t in data["tests"]:
        assert (res / t["logdir"] / "debug.log").is_file(), t["logdir"]
        assert t["logdir"].startswith(f"tests/{t['hostname']}-{t['queue']}/")
    boot_logs = {p.name for p in (res / by_short(res)["boot"]["logdir"]).iterdir()}
    assert any("console" in n or "serial" in n for n in boot_logs), boot_logs
    assert (res / by_short(res)["host_b"]["logdir"] / "host_cmd.log").read_text().strip()
    # hosts work at the same time: hostB's queues ran while hostA booted its guest
    a = [t for t in data["tests"] if t["hostname"] == "hostA"]
    b = [t for t in data["tests"] if t["hostname"] == "hostB"]
    span = lambda ts: (min(t["start"] for t in ts), max(t["end"] for t in ts))  # noqa: E731
    (a0, a1), (b0, b1) = span(a), span(b)
    assert min(a1, b1) - max(a0, b0) > 1.0, (span(a), span(b))
    assert "[hostA/1] START 1-boot" in text and "[hostB/2] PASS  1-nap_b2" in text
    import xml.etree.ElementTree as ET

    assert len(list(ET.parse(res / "results.xml").getroot().iter("testcase"))) == 5
    kcidb = json.loads((tmp_path / "kcidb.json").read_text())
    assert len(kcidb["tests"]) == 5
    info = json.loads((res / "hosts.json").read_text())[0]["hosts"]
    assert set(info) == {"hostA", "hostB"} and info["hostA"]["kvmtest"]
    # results.json: every host's facts (from its own worker) and the accel its guests used
    assert set(data["job"]["hosts"]) == {"hostA", "hostB"}
    assert all(f["kernel"] and f["cpu_model"] for f in data["job"]["hosts"].values())
    assert data["job"]["tags"] == {"kernel": "6.8-rc1"}
    assert by_short(res)["boot"]["accel"] == "tcg" and by_short(res)["host_b"]["accel"] is None
    from kvmtest.history import HistoryStore  # the coordinator indexed the job (conftest's file)

    with HistoryStore() as history:
        [got] = history.select(data["job"]["job_id"])
        assert {r.hostname for r in got.tests} == {"hostA", "hostB"}
        assert set(got.job.hosts) == {"hostA", "hostB"}


AUTO_TESTS = """
variants:
    - pinned_a:
        type = sleep
        sleep_length = 0
    - nap1:
        type = sleep
        sleep_length = 1
    - nap2:
        type = sleep
        sleep_length = 1
    - nap3:
        type = sleep
        sleep_length = 1
    - nap4:
        type = sleep
        sleep_length = 1
    - nap5:
        type = sleep
        sleep_length = 1
"""
AUTO_SETS = """
variants:
    - @pool:
        assign = auto
        hostA:
            only q1
        hostB:
            no pinned_a
"""


def test_an_auto_set_runs_where_its_dry_run_placed_it(tmp_path, hosts):
    """``assign = auto`` through the cluster: the coordinator places the set over both hosts'
    queues as ``--dry-run --all-hosts`` shows it (made first: the job then indexes its own
    durations), each test runs once on its host, and a test the set keeps off hostB stays
    on hostA."""
    cfg = config(tmp_path, AUTO_TESTS, AUTO_SETS)
    dry = subprocess.run(coordinator_argv("-c", str(cfg), "--set", "pool", "--dry-run",
                                          "--all-hosts", "--format", "json"),
                         env=env(), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    planned = {t["shortname"]: (t["hostname"], t["queue"])
               for t in map(json.loads, dry.stdout.splitlines())}
    assert len(planned) == 6 and planned["pinned_a"][0] == "hostA"
    assert {h for h, _ in planned.values()} == {"hostA", "hostB"}  # 3 queues share 5 s
    hosts.start("hostA")
    hosts.start("hostB")
    res = tmp_path / "res"
    out = tmp_path / "coord.out"
    proc = coordinator("-c", str(cfg), "--set", "pool", "--cluster", hosts.local,
                       "--results", str(res), "--wait-hosts", "120", out=out)
    rc = finish(proc)
    assert rc == 0, out.read_text()
    tests = results_of(res)["tests"]
    assert sorted(t["shortname"] for t in tests) == sorted(planned)  # each once
    ran = {t["shortname"]: (t["hostname"], t["queue"]) for t in tests}
    assert ran == planned
    assert all(t["status"] == "PASS" for t in tests), tests


KILL_TESTS = """
variants:
    - bump:
        type = host_cmd
        # counts its runs; the first run hangs (the host dies under it), a second passes
        host_cmd = sh -c 'echo run >> {counter}; [ $(wc -l < {counter}) -ge 2 ] || sleep 120'
    - after_a:
        type = sleep
        sleep_length = 0
    - nap_b1:
        type = sleep
        sleep_length = {b1}
    - nap_b2:
        type = sleep
        sleep_length = 1
"""
KILL_SETS = """
variants:
    - @faulty:
        only q1
        hostA:
            only bump after_a
        hostB:
            only nap_b1 nap_b2
"""


def start_faulty(tmp_path: Path, hosts: Hosts, b1: float):
    """Both hosts' workers and a coordinator running KILL_SETS; returns once bump runs."""
    counter = tmp_path / "counter"
    cfg = config(tmp_path, KILL_TESTS.format(counter=counter, b1=b1), KILL_SETS)
    hosts.start("hostA")
    hosts.start("hostB")
    res = tmp_path / "res"
    out = tmp_path / "coord.out"
    proc = coordinator("-c", str(cfg), "--set", "faulty", "--cluster", hosts.local,
                       "--results", str(res), "--wait-hosts", "120", out=out)
    try:
        wait_for(lambda: lines(counter) == 1, "bump to start on hostA", timeout=180)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return counter, res, out, proc


def test_host_killed_mid_test_interrupts_it_nothing_reruns_and_resume_finishes(tmp_path, hosts):
    counter, res, out, proc = start_faulty(tmp_path, hosts, 20)
    try:
        job_id = results_of(res)["job_id"]
        hosts.kill("hostA")  # the worker dies mid-test (its test's command outlives it)
        hosts.start("hostA")  # ...and comes back while the job still runs on hostB
        wait_for(lambda: "host hostA joined" in out.read_text().split("host hostA left")[-1],
                 "hostA to rejoin during the job", timeout=120)
        rc = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text()
    assert rc == 3, text  # INFRA: a host was lost
    got = by_short(res)
    assert got["bump"]["status"] == "INTERRUPTED"
    assert got["bump"]["fail_class"] == "HostLost"
    assert "hostA" in got["bump"]["fail_reason"]
    assert "after_a" not in got  # the rest of hostA's queue stays pending
    assert got["nap_b1"]["status"] == got["nap_b2"]["status"] == "PASS"
    assert results_of(res)["pending"] == 2
    assert lines(counter) == 1  # not re-run, though hostA came back while the job ran
    assert "[cluster] host hostA left" in text
    # the restarted worker reaped what the killed one left running
    wait_for(lambda: marked(job_id) == [], "the killed worker's leftovers to be reaped")

    out2 = tmp_path / "resume.out"
    proc = coordinator("--resume", str(res), "--cluster", hosts.local, "--wait-hosts", "120",
                       out=out2)
    rc = finish(proc)
    assert rc == 0, out2.read_text()
    got = by_short(res)
    assert got["bump"]["status"] == "PASS" and got["bump"]["attempt"] == 2
    assert got["after_a"]["status"] == "PASS"
    assert got["nap_b1"]["attempt"] == 1  # finished tests were not run again
    assert lines(counter) == 2  # the one explicit re-run, by --resume
    assert results_of(res)["pending"] == 0
    assert (res / got["bump"]["logdir"] / "host_cmd.log").exists()


@pytest.mark.parametrize("fault", ["partition", "worker-sigterm"])
def test_host_partitioned_or_its_worker_stopped_mid_test(tmp_path, hosts, fault):
    if fault == "partition" and not shutil.which("iptables"):
        pytest.skip("iptables not installed")
    counter, res, out, proc = start_faulty(tmp_path, hosts, 3)
    try:
        job_id = results_of(res)["job_id"]
        if fault == "partition":
            hosts.partition("hostA")  # no FIN, no RST: found when the TCP timeout (30 s) fires
        else:
            hosts.kill("hostA", signal.SIGTERM)
        rc = finish(proc, 300)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text()
    assert rc == 3, text  # INFRA: a host was lost
    got = by_short(res)
    assert got["nap_b1"]["status"] == got["nap_b2"]["status"] == "PASS"  # the other host went on
    assert got["bump"]["status"] == "INTERRUPTED" and "hostA" in got["bump"]["fail_reason"]
    assert "after_a" not in got
    if fault == "partition":
        assert got["bump"]["fail_class"] == "HostLost"
        # cut off, the worker gives up on its scheduler: it stops the test and kills its command
        wait_for(lambda: marked(job_id) == [], "the partitioned host to stop its test",
                 timeout=120)
        hosts.partition("hostA", cut=False)
    else:
        assert got["bump"]["fail_class"] == "JobInterrupted"
        assert "worker hostA stopped (SIGTERM)" in got["bump"]["fail_reason"]
        assert hosts.hosts["hostA"].proc.returncode == 128 + signal.SIGTERM
        assert marked(job_id) == []
    assert lines(counter) == 1  # never run again


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_coordinator_stopped_stops_every_host_and_resume_completes(tmp_path, hosts, sig):
    counter, release, hold = hold_command(tmp_path)
    cfg = config(tmp_path, f"""
variants:
    - hold_a:
        type = host_cmd
        host_cmd = {hold}
    - last_a:
        type = sleep
        sleep_length = 0
    - first_b:
        type = sleep
        sleep_length = 0
    - hold_b:
        type = host_cmd
        host_cmd = {hold}
""", """
variants:
    - @holding:
        only q1
        hostA:
            only hold_a last_a
        hostB:
            only first_b hold_b
""")
    (tmp_path / "latest").symlink_to("an-older-job")  # opts tmp_path in: results/latest's rule
    proc, res, out, job_id = start_holding(tmp_path, hosts, cfg, hosts.local, counter)
    try:
        assert marked(job_id)
        assert os.readlink(tmp_path / "latest") == res.name  # the running job is latest
        proc.send_signal(sig)
        rc = finish(proc, 120)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.read_text()
    # every host stopped: nothing of the job runs anywhere
    wait_for(lambda: marked(job_id) == [], "every host's test processes to be gone", timeout=60)
    got = by_short(res)
    assert got["first_b"]["status"] == "PASS"
    if sig == signal.SIGTERM:
        assert rc == 128 + signal.SIGTERM, text
        assert got["hold_a"]["status"] == got["hold_b"]["status"] == "INTERRUPTED"
        assert got["hold_a"]["fail_class"] == "JobInterrupted"
        assert "SIGTERM" in got["hold_a"]["fail_reason"]
        assert results_of(res)["job"]["interrupted"] == "SIGTERM"
    else:
        assert rc == -signal.SIGKILL
    release.touch()
    (tmp_path / "latest").unlink()
    (tmp_path / "latest").symlink_to("an-older-job")
    out2 = tmp_path / "resume.out"
    proc = coordinator("--resume", str(res), "--cluster", hosts.local, "--wait-hosts", "120",
                       out=out2)
    rc = finish(proc)
    assert rc == 0, out2.read_text()
    assert os.readlink(tmp_path / "latest") == res.name  # a resumed job is latest again
    got = by_short(res)
    assert {k: v["status"] for k, v in got.items()} == dict.fromkeys(
        ["hold_a", "last_a", "first_b", "hold_b"], "PASS")
    assert got["first_b"]["attempt"] == 1
    assert lines(counter) == 4  # each hold: once stopped, once by --resume; never more


def test_setup_errors_are_reported_before_any_test_starts(tmp_path, hosts):
    counter = tmp_path / "counter"
    cfg = config(tmp_path, KILL_TESTS.format(counter=counter, b1=0), KILL_SETS)
    base = ["-c", str(cfg), "--set", "faulty", "--cluster", hosts.local]

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(coordinator_argv(*base, *extra), env=env(), cwd=REPO,
                              capture_output=True, text=True, timeout=300)

    # 1. a planned host without a worker
    hosts.start("hostA")
    r = run("--results", str(tmp_path / "r1"), "--wait-hosts", "20")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no worker for host(s) hostB" in r.stderr
    assert f"kvmtest worker --scheduler {hosts.scheduler} --name hostB" in r.stderr
    assert not (tmp_path / "r1").exists()

    # 2. a worker whose name is not a host of the plan
    hosts.start("hostB", as_name="hostC")
    r = run("--results", str(tmp_path / "r2"), "--wait-hosts", "60")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "not in the plan" in r.stderr and "hostC" in r.stderr
    hosts.kill("hostB", signal.SIGTERM)

    # 3. a second worker with a name already connected: that worker says so and exits 2.
    # (The scheduler drops step 2's hostC a moment after its process ended, when the
    # connection closes: a coordinator that still saw it says "not in the plan" and
    # exits 2, as it should; then start it again.)
    r3 = ["--results", str(tmp_path / "r3"), "--wait-hosts", "300"]
    waiting = coordinator(*base, *r3, out=tmp_path / "r3.out")
    try:
        def only_b_missing() -> bool:
            nonlocal waiting
            text = (tmp_path / "r3.out").read_text()
            if waiting.poll() is not None and "not in the plan" in text:
                waiting = coordinator(*base, *r3, out=tmp_path / "r3.out")
                return False
            return "for host(s) hostB to join" in text or "host hostA joined" in text

        wait_for(only_b_missing, "hostA to join and the coordinator to wait for hostB",
                 timeout=120)
        dup = hosts.start("hostB", as_name="hostA")
        try:
            dup.wait(120)
        except subprocess.TimeoutExpired:
            pass
        assert dup.returncode == 2, hosts.hosts["hostB"].log.read_text()[-3000:]
        assert "a worker named hostA is already connected" in hosts.hosts["hostB"].log.read_text()
        waiting.send_signal(signal.SIGTERM)
        assert finish(waiting, 60) == 128 + signal.SIGTERM
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert not (tmp_path / "r3" / "results.json").exists()

    # 4. a host running other kvmtest code
    other = tmp_path / "other"
    shutil.copytree(REPO / "kvmtest", other / "kvmtest",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "kvmtest" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9-'))
    shutil.copy(REPO / "run.py", other / "run.py")
    hosts.start("hostB", checkout=other)
    r = run("--results", str(tmp_path / "r4"), "--wait-hosts", "120")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "version mismatch" in r.stderr and "hostB: kvmtest 9.9-" in r.stderr
    assert not (tmp_path / "r4").exists()
    hosts.kill("hostB", signal.SIGTERM)

    # 5. a host whose worker has fewer threads than its queues + 1 (log copies need one)
    hosts.start("hostB", "--nthreads", "1")
    r = run("--results", str(tmp_path / "r5"), "--wait-hosts", "120")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "hostB has 1 queue(s) but its worker only 1 thread(s)" in r.stderr
    assert not (tmp_path / "r5").exists()
    hosts.kill("hostB", signal.SIGTERM)

    # 6. tests a host would ERROR (its own preflight: test types, qemu, kernel, images)
    hosts.start("hostB")
    r = run("--results", str(tmp_path / "r6"), "--wait-hosts", "120", "-p", "type=no_such_type")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "hostA: unknown test type 'no_such_type'" in r.stderr
    assert "hostB: unknown test type 'no_such_type'" in r.stderr
    assert not (tmp_path / "r6").exists()
    assert lines(counter) == 0  # no test ever started


def test_external_scheduler_a_killed_coordinators_tests_are_stopped_by_resume(tmp_path, hosts):
    """--cluster tcp://: the scheduler is its own process, so the queue tasks of a coordinator
    that is SIGKILLed run on; --resume stops them first, then runs the rest once."""
    import sys

    counter, release, hold = hold_command(tmp_path)
    cfg = config(tmp_path, f"""
variants:
    - hold_a:
        type = host_cmd
        host_cmd = {hold}
    - hold_b:
        type = host_cmd
        host_cmd = {hold}
""", """
variants:
    - @holding:
        only q1
        hostA:
            only hold_a
        hostB:
            only hold_b
""")
    sched_log = open(tmp_path / "scheduler.log", "w")
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", hosts.sched_ip,
         "--port", str(hosts.port), "--no-dashboard"], env=env(), stdout=sched_log,
        stderr=subprocess.STDOUT)
    try:
        proc, res, _out, job_id = start_holding(tmp_path, hosts, cfg, hosts.scheduler, counter)
        try:
            proc.kill()
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
        time.sleep(2)
        assert len(marked(job_id)) >= 2  # the tasks outlive their coordinator
        out2 = tmp_path / "resume.out"
        proc = coordinator("--resume", str(res), "--cluster", hosts.scheduler,
                           "--wait-hosts", "120", out=out2)
        try:  # the old attempts are stopped before the new ones start
            wait_for(lambda: lines(counter) == 4, "the resumed attempts to start", timeout=180)
            release.touch()
            rc = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert rc == 0, out2.read_text()
        assert "-1 left" not in out2.read_text()  # the old attempts are not this run's tests
        got = by_short(res)
        assert got["hold_a"]["status"] == got["hold_b"]["status"] == "PASS"
        assert {r["fail_reason"] for r in results_of(res)["superseded"]} == \
            {"stopped: job restarted by a new coordinator"}
        assert lines(counter) == 4
        assert marked(job_id) == []
    finally:
        scheduler.terminate()
        scheduler.wait(30)
