# ruff: noqa: UP031  (printf-style output mirrors avocado-vt's formats)
"""Canonical JSON lines, fast.

Byte-identical to ``json.dumps(d, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``: each ``"key":"value"`` fragment is encoded once and
reused (the same pairs repeat across thousands of dicts).
"""

from __future__ import annotations

from _json import encode_basestring  # (json.dumps of a str, ensure_ascii=False)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Dict, Iterable

_MAP_KEYS = ("_name_map_file", "_short_name_map_file")
_PER_KEY = 512  # keys with more distinct values (name, shortname...) are not cached
# Characters per write.  Below glibc's mmap threshold (128 KiB): a bigger chunk
# (and its encoded copy) is a fresh mapping per write, faulted in page by page
# and unmapped again (1 MiB chunks: 28k extra page faults, +10% on medium.cfg).
CHUNK = 1 << 16


class LineEncoder:
    def __init__(self) -> None:
        import json  # (here, not at import: get_dicts() alone never loads json)

        self.frags: Dict[str, Dict[str, str]] = {}
        self.dumps = json.dumps

    def encode(self, d: dict) -> str:
        frags = self.frags
        parts = []
        for key in sorted(d):
            value = d[key]
            per_key = frags.get(key)
            if per_key is None:
                per_key = frags[key] = {}
            if type(value) is str:
                frag = per_key.get(value)
                if frag is None:
                    frag = "%s:%s" % (encode_basestring(key), encode_basestring(value))
                    if len(per_key) < _PER_KEY:
                        per_key[value] = frag
            else:
                frag = "%s:%s" % (encode_basestring(key), self.dumps(
                    value, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
            parts.append(frag)
        return "{%s}\n" % ",".join(parts)


def write_json_lines(dicts: Iterable[dict], out: IO[str], chunk: int = CHUNK) -> int:
    """Write one canonical line per dict (map-file keys removed); returns the count."""
    enc = LineEncoder().encode

    def lines() -> Iterable[str]:
        for d in dicts:
            for k in _MAP_KEYS:
                d.pop(k, None)
            yield enc(d)

    return write_lines(lines(), out, chunk)


def widen_pipe(out: IO[str]) -> None:
    """Give a pipe on ``out`` room for many written chunks (1 MiB): the reader then
    drains them while the writer encodes the next ones, instead of the two taking
    turns over the default 64 KiB (measured on large.cfg's 1 GB JSON dry run into a
    pipe: ~15,000 waits for the reader, 1.5-3.6 s sys and 22-27 s wall without this;
    a few waits, 0.8 s sys, 16 s wall with it)."""
    import fcntl
    import io
    import os
    import stat

    try:
        fd = out.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a real pipe, or not allowed: the default size works too


def write_lines(lines: Iterable[str], out: IO[str], chunk: int = CHUNK) -> int:
    """Write lines in big chunks (one write per ~``chunk`` characters); returns the count."""
    buf = []
    size = 0
    count = 0
    for line in lines:
        buf.append(line)
        size += len(line)
        count += 1
        if size >= chunk:
            out.write("".join(buf))
            buf = []
            size = 0
    if buf:
        out.write("".join(buf))
    return count
