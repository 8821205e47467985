"""Test types and the life of one test.

A test type is a module with ``run(test, params, env)``; built-in ones live in
this package (``boot``, ``shell``, ``reboot``, ``ping``, ``host_cmd``,
``sleep``), others are ``<dir>/<type>.py`` in the dirs of the ``test_dirs``
param. ``execute`` is what the runner calls per test: preprocess (start or
reuse the guests in ``vms``), ``run``, postprocess (stop guests unless
``kill_vm = no``, save the env) in a ``finally``.

Outcome by exception: return = PASS, ``TestFail`` = FAIL, ``TestSkip`` = SKIP,
anything else = ERROR. A guest that stops answering is a FAIL, a guest whose
qemu died is an ERROR; both messages say which guest and why.

A module may set ``START_VM = False`` (``sleep``, ``host_cmd``) so no guest is
booted unless the config says ``start_vm = yes``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Optional

from kvmtest.testtypes.errors import TestError, TestFail, TestSkip
from kvmtest.vm.context import TestContext
from kvmtest.vm.env import Env
from kvmtest.vm.params import get_bool, get_list, resolve_path

log = logging.getLogger("kvmtest.testtypes")

BUILTIN = ("boot", "shell", "reboot", "ping", "host_cmd", "sleep")

__all__ = ["BUILTIN", "TestError", "TestFail", "TestSkip", "execute", "load"]

_EXT_CACHE: Dict[str, ModuleType] = {}


def load(type_name: str, test_dirs: Optional[List[str]] = None) -> ModuleType:
    """The module implementing test type ``type_name``.

    Built-ins win over ``<dir>/<type>.py`` files so a stray file cannot shadow
    them silently. Raises TestError naming every place looked at.
    """
    if not type_name or not type_name.replace("_", "").isalnum():
        raise TestError(f"invalid test type name {type_name!r}")
    if type_name in BUILTIN:
        return importlib.import_module(f"kvmtest.testtypes.{type_name}")
    tried = []
    for d in test_dirs or []:
        path = resolve_path(d) / f"{type_name}.py"
        tried.append(str(path))
        if path.is_file():
            return _load_file(type_name, path)
    raise TestError(
        f"unknown test type {type_name!r}: not built-in ({', '.join(BUILTIN)})"
        + (f" and not found in {', '.join(tried)}" if tried else " and no test_dirs given")
    )


def _load_file(type_name: str, path: Path) -> ModuleType:
    key = str(path.resolve())
    mtime = path.stat().st_mtime_ns
    cache_key = f"{key}:{mtime}"
    if cache_key in _EXT_CACHE:
        return _EXT_CACHE[cache_key]
    mod_name = f"kvmtest_ext_{type_name}_{hashlib.sha1(key.encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise TestError(f"cannot load test type {type_name!r} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise TestError(f"{path} has no run(test, params, env) function")
    _EXT_CACHE[cache_key] = module
    return module


def execute(test: TestContext, env: Env) -> None:
    """The whole life of one test; the outcome is the exception raised (or none)."""
    params = test.params
    Path(test.logdir).mkdir(parents=True, exist_ok=True)
    Path(test.workdir).mkdir(parents=True, exist_ok=True)
    module = load(params.get("type", ""), get_list(params, "test_dirs"))
    start_vm = get_bool(params, "start_vm", getattr(module, "START_VM", True))
    passed = False
    try:
        try:
            if start_vm:
                from kvmtest.vm import lifecycle

                lifecycle.preprocess(test, env)
            module.run(test, params, env)
            passed = True
        except (TestFail, TestSkip, TestError):
            raise
        except Exception as exc:
            _translate_vm_error(exc)
            raise
    finally:
        _postprocess(test, env, passed, start_vm)


def _translate_vm_error(exc: Exception) -> None:
    from kvmtest.vm.errors import VMDeadError, VMError, VMHangError, VMPanicError

    if isinstance(exc, (VMHangError, VMPanicError)):
        raise TestFail(str(exc)) from exc
    if isinstance(exc, VMDeadError):
        raise TestError(str(exc)) from exc
    if isinstance(exc, VMError):
        raise TestError(str(exc)) from exc


def _postprocess(test: TestContext, env: Env, passed: bool, start_vm: bool) -> None:
    if start_vm:
        from kvmtest.vm import lifecycle

        lifecycle.postprocess(test, env, passed)
    else:
        env.save()
