"""Turn expanded test dicts into planned tests, one at a time, validating as it goes.

``Planner.add`` is called once per dict (streaming, so a 100,000-test dry run
never holds every dict); ``Planner.finish`` runs the checks that need the
whole plan. Errors are ``PlanError`` with a one-line message naming both
parties; warnings are collected as strings.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from kvmtest.plan.deps import DepIndex
from kvmtest.plan.errors import PlanError
from kvmtest.plan.memo import Reads, ValueMemo
from kvmtest.plan.model import DEFAULT_QUEUE, Address, PlannedTest
from kvmtest.plan.names import check_env_name, check_plain, check_timeout, env_file_name
from kvmtest.plan.params import guest_nics, object_value
from kvmtest.plan.ranges import (
    AddressRange,
    RangeError,
    allocate,
    parse_range,
    range_names,
    ranges_collide,
)

LOCAL_ALIASES = ("", "localhost")


@dataclass
class QueueTally:
    """What the planner knows of one (host, queue) pair while it streams."""

    hostname: str
    queue: str
    env: str
    ranges: List[str] = field(default_factory=list)
    count: int = 0

    @property
    def key(self) -> str:
        return f"{self.hostname}/{self.queue}"


# where a test runs (Planner._place): host, queue, its tally, the queue key, addresses,
# and the params' own (hostname, queue, env), None where unset
Placement = Tuple[str, str, QueueTally, str, List[Address], Tuple[Optional[str], ...]]


class Planner:
    """Streaming planner: ``add`` each dict, then ``finish``."""

    def __init__(self, local_host: str, locate: Optional[Callable[[str], Optional[str]]] = None,
                 ignore_deps: bool = False) -> None:
        self.local_host = local_host
        self.ignore_deps = ignore_deps  # --ignore-deps: plan every test without its dep entries
        self.deps = DepIndex()  # every test's dep entries, checked as a whole in finish()
        self.locate = locate  # key -> "file:line" of the statement that set it, when known
        self.queues: Dict[Tuple[str, str], QueueTally] = {}
        self.ranges: Dict[str, AddressRange] = {}
        self.warnings: List[str] = []
        self._range_text: Dict[str, Tuple[str, str, str]] = {}
        self._owner: Dict[str, QueueTally] = {}  # range name -> the queue that uses it
        self._alloc_cache: Dict[Tuple[Tuple[str, ...], Tuple[Tuple[str, str], ...]], List[Address]] = {}
        self._scanned_ranges = False
        self._checked: set = set()  # (vms, main_vm, images..., nics..., timeout) already validated
        self._memo = ValueMemo()  # what _place derived, by the values it read
        # the last test's placement: one object for the tests placed alike (its identity
        # keys what a listing works out once per placement, see listing.with_plan_fields)
        self.placement: Optional[Placement] = None

    @property
    def count(self) -> int:
        """Tests planned so far (``add`` calls)."""
        return len(self.deps)

    def shortname(self, i: int) -> str:
        """The short name of the ``i``-th test planned (0-based), from the name store."""
        return self.deps.shortname(i)

    # -- per test -----------------------------------------------------------------
    def add(self, params: Mapping[str, str]) -> PlannedTest:
        if not self._scanned_ranges:
            self._scanned_ranges = True
            for range_name in range_names(params):  # validate every defined range once
                self._range(params, range_name)
        # where the test runs and its addresses: once per distinct combination of the
        # params read for them (kvmtest.plan.memo), a memo look-up for the other tests
        memo = self._memo
        name: Any
        shortname: Any
        dep: Any
        fields = None if type(params) is dict else getattr(params, "plan_fields", None)
        if fields is not None:  # (the dry run's views: what is read of every test, one call)
            name, shortname, dep, signature = fields(memo.keys)
            placed = memo.get(signature)
        else:
            name = params.get("name")
            shortname = params.get("shortname")
            dep = params.get("dep")
            signature, placed = memo.lookup(params)
        name = name or ""
        shortname = shortname or name
        if placed is None:
            reads = Reads(params)
            placed = self._place(reads, shortname)
            memo.store(params, reads, signature, placed)
        else:
            placed[2].count += 1
        self.placement = placed
        host, queue, tally, queue_key, addresses, _ = placed
        dep = dep or []
        test = PlannedTest(
            name or shortname,
            shortname,
            params,  # type: ignore[arg-type]
            host,
            queue,
            tally.env,
            addresses,
            dep.split() if isinstance(dep, str) else dep,
        )
        self.deps.add(test.name, shortname, test.dep, queue_key)
        if self.ignore_deps:
            test.dep = []
        return test

    def _place(self, params: Mapping[str, str], shortname: str) -> Placement:
        """(host, queue, its tally, the queue key, addresses, the params' own hostname,
        queue and env or None) of a test, checked and counted; a function of the params
        it reads (``shortname`` only names the test in errors), so that ``add`` can
        memoize it."""
        own = (params.get("hostname"), params.get("queue"), params.get("env"))
        host = own[0] or ""
        host = self.local_host if host in LOCAL_ALIASES else host
        queue = own[1] or DEFAULT_QUEUE
        tally = self.queues.get((host, queue))
        if tally is None:
            tally = self._new_queue(host, queue, own[2] or f"env-{queue}")
        tally.count += 1
        range_list = tuple(params.get("mac_ranges", "").split())
        ranges = [self._range(params, name) for name in range_list]
        for rng in ranges:
            if rng.name not in tally.ranges:
                self._claim(tally, rng)
        self._check_values(params, shortname, tally)
        addresses = self._addresses(params, shortname, tally, range_list, ranges)
        return host, queue, tally, tally.key, addresses, own

    def _where(self, key: str) -> str:
        where = self.locate(key) if self.locate else None
        if where and where.startswith("<string>"):
            where = "the command line"  # -p KEY=VALUE
        return f"{where}: " if where else ""

    def _new_queue(self, host: str, queue: str, env: str) -> QueueTally:
        why = check_env_name(env)
        if why:
            raise PlanError(f"{self._where('env')}queue {queue} on host {host}: {why}")
        written = env_file_name(env)
        for other in self.queues.values():
            if other.hostname == host and env_file_name(other.env) == written:
                raise PlanError(
                    f"queues {other.queue} (env {other.env!r}) and {queue} (env {env!r}) on host"
                    f" {host} share env file env/{written}: give each queue its own 'env'"
                )
        tally = QueueTally(host, queue, env)
        self.queues[(host, queue)] = tally
        return tally

    def _check_values(self, params: Mapping[str, str], shortname: str, tally: QueueTally) -> None:
        """Names that become paths or qemu ids, and the watchdog's timeout: refuse bad ones now."""
        vms = params.get("vms", "")
        main_vm = params.get("main_vm", "")
        names = vms.split() or main_vm.split()[:1] or ["vm1"]  # as the guest layer reads it
        images = tuple(object_value(params, "images", vm, default="") or "" for vm in names)
        nics = tuple(object_value(params, "nics", vm, default="") or "" for vm in names)
        timeout = params.get("timeout", "")
        key = (vms, main_vm, images, nics, timeout)
        if key in self._checked:
            return
        label = f"test {shortname}" if shortname else "the test"
        checks = [("main_vm", "guest", n) for n in main_vm.split()]
        checks += [("vms", "guest", n) for n in vms.split()]
        checks += [("images", "image", i) for imgs in images for i in imgs.split()]
        checks += [("nics", "NIC", n) for ns in nics for n in ns.split()]
        for param, what, value in checks:
            why = check_plain(value, f"{what} name")
            if why:
                raise PlanError(f"{self._where(param)}{label} on {tally.key}: {param}: {why}")
        why = check_timeout(timeout)
        if why:
            raise PlanError(f"{self._where('timeout')}{label} on {tally.key}: {why}")
        self._checked.add(key)

    def _range(self, params: Mapping[str, str], name: str) -> AddressRange:
        text = (
            params.get(f"base_mac_{name}", ""),
            params.get(f"base_ip_{name}", ""),
            params.get(f"range_size_{name}", ""),
        )
        known = self._range_text.get(name)
        if known == text:
            return self.ranges[name]
        if known is not None:
            raise PlanError(
                f"range {name} is defined twice: {self._fmt(known)} and {self._fmt(text)}"
            )
        try:
            rng = parse_range(params, name)
        except RangeError as exc:
            where = self.locate(exc.key) if (self.locate and exc.key) else None
            raise PlanError(f"{where + ': ' if where else ''}bad range: {exc}") from None
        self._range_text[name] = text
        self.ranges[name] = rng
        if not rng.locally_administered_unicast:
            self.warnings.append(
                f"range {name}: base MAC {text[0]} is not locally administered"
                " (first octet should have bit 0x02 set, e.g. 02:...)"
            )
        return rng

    @staticmethod
    def _fmt(text: Tuple[str, str, str]) -> str:
        mac, ip, size = text
        return f"(mac {mac or '-'}, ip {ip or '-'}, size {size or '-'})"

    def _claim(self, tally: QueueTally, rng: AddressRange) -> None:
        for other_name, owner in self._owner.items():
            if owner is tally:
                continue
            why = ranges_collide(rng, self.ranges[other_name])
            if why:
                raise PlanError(
                    f"{why}: {self.ranges[other_name].describe()} of {owner.key} and"
                    f" {rng.describe()} of {tally.key}"
                )
        self._owner.setdefault(rng.name, tally)
        tally.ranges.append(rng.name)

    def _addresses(
        self,
        params: Mapping[str, str],
        shortname: str,
        tally: QueueTally,
        range_list: Tuple[str, ...],
        ranges: List[AddressRange],
    ) -> List[Address]:
        nics = guest_nics(params)
        if not nics:
            return []
        if not ranges:
            tap = [f"{vm}/{nic}" for vm, nic, mode in nics if mode == "tap"]
            if tap:
                raise PlanError(
                    f"test {shortname} on {tally.key} puts {', '.join(tap)} on TAP networking"
                    " but the queue has no mac_ranges"
                )
            return []
        key = (range_list, tuple((vm, nic) for vm, nic, _ in nics))
        cached = self._alloc_cache.get(key)
        if cached is None:
            try:
                picked = allocate(ranges, len(nics))
            except RangeError as exc:
                raise PlanError(f"range too small for test {shortname} on {tally.key}: {exc}") from None
            cached = [
                Address(vm, nic, mac, ip, rname)
                for (vm, nic, _), (mac, ip, rname) in zip(nics, picked)
            ]
            self._alloc_cache[key] = cached
        return cached

    # -- whole plan ---------------------------------------------------------------
    def _duplicates(self) -> List[str]:
        """"NAME (QUEUE and QUEUE)" for each test whose short name an earlier test of
        another queue has, in plan order (the first such test's queue is named)."""
        deps = self.deps
        hashes = deps.short_hashes()
        ranked = sorted(hashes)
        if not any(map(operator.eq, ranked, islice(ranked, 1, None))):
            return []  # (the usual case, found at C speed)
        del ranked
        order = sorted(range(len(hashes)), key=hashes.__getitem__)  # stable: plan order kept
        found = []
        first = -1
        for i in order:
            if first < 0 or hashes[i] != hashes[first]:
                first = i
            elif deps.queue_id(i) != deps.queue_id(first):
                short = deps.shortname(i)
                if short == deps.shortname(first):  # (not a hash collision)
                    found.append((i, f"{short} ({deps.queue_key(first)} and {deps.queue_key(i)})"))
        found.sort()
        return [text for _, text in found]

    def finish(self) -> List[str]:
        """Checks over the whole plan; returns the warnings.

        Dependency errors (kvmtest.plan.deps) raise one PlanError, a line per problem.
        """
        dups = self._duplicates()
        if dups:
            shown = "; ".join(dups[:5])
            more = f" (+{len(dups) - 5} more)" if len(dups) > 5 else ""
            self.warnings.append(
                f"{len(dups)} test(s) selected for two queues (selections should be"
                f" mutually exclusive): {shown}{more}"
            )
        report = self.deps.check(ignore=self.ignore_deps)
        self.warnings.extend(w for w in report.warnings if w not in self.warnings)
        if report.errors:
            raise PlanError("\n".join(report.errors))
        return self.warnings
