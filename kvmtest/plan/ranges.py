"""MAC/IP address ranges (``base_mac_rN``, ``base_ip_rN``, ``range_size_rN``).

A queue owns the ranges listed in its ``mac_ranges`` param; the NICs of each of
its tests are numbered 0..n-1 and take the n first addresses of those ranges.
Arithmetic is done on integers (fast, a 100,000-test plan numbers a lot of
NICs); netaddr parses, validates and formats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple

MAC_BITS = 48
_RANGE_KEY = re.compile(r"^(base_mac|base_ip|range_size)_(\w+)$")


class RangeError(ValueError):
    """A malformed range definition or an impossible allocation.

    ``key`` names the param at fault when there is one, so the planner can
    point at the statement that set it.
    """

    def __init__(self, msg: str, key: Optional[str] = None) -> None:
        super().__init__(msg)
        self.key = key


@dataclass(frozen=True)
class AddressRange:
    """``size`` consecutive MACs from ``base_mac`` and, optionally, IPs from ``base_ip``."""

    name: str
    base_mac: int
    size: int
    base_ip: Optional[int] = None
    ip_version: int = 4

    @property
    def mac_span(self) -> Tuple[int, int]:
        return self.base_mac, self.base_mac + self.size - 1

    @property
    def ip_span(self) -> Optional[Tuple[int, int]]:
        if self.base_ip is None:
            return None
        return self.base_ip, self.base_ip + self.size - 1

    def mac(self, index: int) -> str:
        return format_mac(self.base_mac + index)

    def ip(self, index: int) -> Optional[str]:
        if self.base_ip is None:
            return None
        return format_ip(self.base_ip + index, self.ip_version)

    def describe(self) -> str:
        lo, hi = self.mac_span
        text = f"{self.name} (MAC {format_mac(lo)}-{format_mac(hi)}"
        if self.base_ip is not None:
            ilo, ihi = self.ip_span  # type: ignore[misc]
            text += f", IP {format_ip(ilo, self.ip_version)}-{format_ip(ihi, self.ip_version)}"
        return text + ")"

    @property
    def locally_administered_unicast(self) -> bool:
        first_octet = self.base_mac >> 40
        return bool(first_octet & 0x02) and not first_octet & 0x01


@lru_cache(maxsize=65536)
def format_mac(value: int) -> str:
    import netaddr  # (in the functions: every command that reads a results file imports plan/,
    #                   ~20 ms of netaddr that only address ranges need)

    return str(netaddr.EUI(value, dialect=netaddr.mac_unix_expanded))


@lru_cache(maxsize=65536)
def format_ip(value: int, version: int = 4) -> str:
    import netaddr

    return str(netaddr.IPAddress(value, version))


def _parse_mac(text: str, key: str) -> int:
    import netaddr

    try:
        return int(netaddr.EUI(text))
    except (netaddr.AddrFormatError, TypeError, ValueError) as exc:
        raise RangeError(f"{key} = {text!r}: not a MAC address", key) from exc


def _parse_ip(text: str, key: str) -> Tuple[int, int]:
    import netaddr

    try:
        addr = netaddr.IPAddress(text)
    except (netaddr.AddrFormatError, TypeError, ValueError) as exc:
        raise RangeError(f"{key} = {text!r}: not an IP address", key) from exc
    return int(addr), addr.version


def range_names(params: Mapping[str, str]) -> List[str]:
    """Names of the ranges defined in ``params`` (any of the three keys), sorted."""
    names = set()
    for key in params:
        if key.startswith(("base_mac_", "base_ip_", "range_size_")):
            m = _RANGE_KEY.match(key)
            if m:
                names.add(m.group(2))
    return sorted(names)


def parse_range(params: Mapping[str, str], name: str) -> AddressRange:
    """Build and validate range ``name`` from its ``base_mac_``/``base_ip_``/``range_size_`` keys."""
    mac_key, ip_key, size_key = f"base_mac_{name}", f"base_ip_{name}", f"range_size_{name}"
    if mac_key not in params:
        raise RangeError(f"range {name}: {mac_key} is missing", size_key)
    if size_key not in params:
        raise RangeError(f"range {name}: {size_key} is missing", mac_key)
    base_mac = _parse_mac(params[mac_key], mac_key)
    try:
        size = int(params[size_key], 0)
    except ValueError as exc:
        raise RangeError(f"{size_key} = {params[size_key]!r}: not a whole number", size_key) from exc
    if size <= 0:
        raise RangeError(f"{size_key} = {params[size_key]!r}: must be at least 1", size_key)
    if base_mac + size > 1 << MAC_BITS:
        raise RangeError(f"range {name}: {size} MACs from {params[mac_key]} run past ff:ff:ff:ff:ff:ff", mac_key)
    if (base_mac >> 40) & 0x01:
        raise RangeError(f"{mac_key} = {params[mac_key]!r}: a multicast MAC cannot address a NIC", mac_key)
    base_ip, version = None, 4
    if params.get(ip_key):
        base_ip, version = _parse_ip(params[ip_key], ip_key)
        limit = 1 << (32 if version == 4 else 128)
        if base_ip + size > limit:
            raise RangeError(f"range {name}: {size} addresses from {params[ip_key]} overflow IPv{version}", ip_key)
    return AddressRange(name, base_mac, size, base_ip, version)


def ranges_from_params(params: Mapping[str, str]) -> Dict[str, AddressRange]:
    return {name: parse_range(params, name) for name in range_names(params)}


def spans_overlap(a: Tuple[int, int], b: Tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def ranges_collide(a: AddressRange, b: AddressRange) -> Optional[str]:
    """Why ``a`` and ``b`` cannot belong to two queues, or None when they can."""
    if a.name == b.name:
        return "same range"
    if spans_overlap(a.mac_span, b.mac_span):
        return "MAC ranges overlap"
    a_ip, b_ip = a.ip_span, b.ip_span
    if a_ip and b_ip and a.ip_version == b.ip_version and spans_overlap(a_ip, b_ip):
        return "IP ranges overlap"
    return None


def allocate(ranges: List[AddressRange], count: int) -> List[Tuple[str, Optional[str], str]]:
    """The first ``count`` (mac, ip, range name) of ``ranges`` taken in order."""
    out: List[Tuple[str, Optional[str], str]] = []
    for rng in ranges:
        for index in range(min(rng.size, count - len(out))):
            out.append((rng.mac(index), rng.ip(index), rng.name))
        if len(out) == count:
            return out
    capacity = sum(r.size for r in ranges)
    names = " ".join(r.name for r in ranges)
    raise RangeError(f"ranges {names} hold {capacity} addresses, the test needs {count}")
