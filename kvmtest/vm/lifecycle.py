"""Pre- and postprocessing of guests around one test (what avocado-vt's env_process does).

Preprocess starts each guest in ``vms``, or reuses the one recorded in the
queue's env when its params digest matches (``kill_vm = no`` on the previous
test). Postprocess stops guests unless told to keep them, records the kept
ones, kills any qemu of this queue that is not recorded, and saves the env.
"""

from __future__ import annotations

import logging
from typing import List

from kvmtest.vm.base import VM, backend, make_vm
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.errors import VMError
from kvmtest.vm.params import get_bool, get_list, object_params
from kvmtest.vm.reaper import find_guest_processes, kill_tree

log = logging.getLogger("kvmtest.vm.lifecycle")


def vm_names(params: dict) -> List[str]:
    return get_list(params, "vms", params.get("main_vm", "vm1"))


def preprocess(test: TestContext, env: Env) -> List[VM]:
    """Start or reuse every guest the test's params ask for; returns them in order."""
    out = []
    for name in vm_names(test.params):
        vm = _get_or_start(name, test, env)
        test.note_accel(str(getattr(vm, "accel", "") or ""))  # also a guest kept from before
        out.append(vm)
    env.save()
    return out


def _get_or_start(name: str, test: TestContext, env: Env) -> VM:
    params = test.params
    fresh = make_vm(name, params, test)
    digest = fresh.params_digest
    live = env.live.get(name)
    rec = env.get_guest(name)
    if live is not None and rec is not None and rec.params_digest == digest and live.is_alive():
        live.test = test
        live.params = object_params(params, name)
        log.info("reusing guest %s (pid %s) from the previous test", name, rec.pid)
        return live
    ours = rec is not None and rec.owned_by(test.job_id, test.queue)
    if rec is not None and not ours:  # another job's (or queue's) record: never reattach to it
        log.warning("env %s records guest %s of job %s queue %s, not of this job's queue %s:"
                    " ignoring it", env.path, name, rec.job_id or "?", rec.queue or "?", test.queue)
        env.remove_guest(name)
        rec = None
    if rec is not None and rec.params_digest == digest and rec.process_matches():
        vm = backend(rec.vm_type).from_env(rec, params, test)
        if vm.is_alive():
            env.live[name] = vm
            log.info("reattached to guest %s (pid %s) recorded in %s", name, rec.pid, env.path)
            return vm
    if rec is not None or live is not None:
        _drop(name, test, env, why="params changed" if rec and rec.params_digest != digest else "not reusable")
    fresh.create()
    env.live[name] = fresh
    env.register_guest(fresh.to_env())
    env.save()
    return fresh


def _drop(name: str, test: TestContext, env: Env, why: str) -> None:
    live = env.live.get(name)
    rec = env.get_guest(name)
    log.info("stopping old guest %s (%s)", name, why)
    try:
        if (live is None and rec is not None and rec.owned_by(test.job_id, test.queue)
                and rec.process_matches()):
            live = backend(rec.vm_type).from_env(rec, test.params, test)
        if live is not None:
            live.destroy(gracefully=False)
    except VMError as exc:
        log.warning("could not stop old guest %s cleanly: %s", name, exc)
    env.remove_guest(name)


def postprocess(test: TestContext, env: Env, passed: bool) -> None:
    """Stop (or keep) the test's guests, kill unrecorded leftovers, save the env."""
    params = test.params
    names = vm_names(params)
    try:
        for name in list(dict.fromkeys(names + list(env.live))):
            vm = env.live.get(name)
            if vm is None:
                continue
            vp = object_params(params, name)
            keep = not get_bool(vp, "kill_vm", True)
            if not passed and get_bool(vp, "kill_vm_on_error", True):
                keep = False
            if name not in names:
                keep = True  # not this test's guest: leave it to the test that owns it
            if keep and vm.is_alive():
                vm.close_sessions()
                env.register_guest(vm.to_env())
                continue
            try:
                vm.destroy(gracefully=get_bool(vp, "kill_vm_gracefully", True))
            except VMError as exc:
                log.warning("stopping guest %s: %s", name, exc)
            env.remove_guest(name)
    finally:
        _kill_unrecorded(test, env)
        env.save()


def _kill_unrecorded(test: TestContext, env: Env) -> None:
    kept = {g.pid for g in env.guests.values()}
    for proc in find_guest_processes(test.job_id, test.queue):
        if proc.pid not in kept:
            log.warning("killing leftover qemu pid %d of queue %s", proc.pid, test.queue)
            kill_tree(proc)
