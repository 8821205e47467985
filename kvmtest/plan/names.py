"""From config values to file names: injective, and never a way out of the job's directories.

Queues, env files, guests, images and NICs are named in configs and become
parts of paths (work dirs, sockets, overlays, log dirs, env files). Two rules:

* ``safe_name`` maps a name to one path component; when cleaning changed the
  text (``x y`` -> ``x_y``) or cut it, a short hash of the original is added,
  so two different names never share a directory or an env file.
* Guest, image and NIC names are used as given (in file names and in qemu ids),
  so they must be plain names: ``check_plain`` refuses ``../../evil`` at plan
  time (and the VM layer checks again for plans that did not come from here).
"""

from __future__ import annotations

import math
import re
from typing import Optional

_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
PLAIN_RULE = "1-64 of letters, digits, '_', '.', '-', not starting with '.' or '-'"


def short_hash(text: str, n: int = 8) -> str:
    import hashlib  # (when a name needs it: not on a listing's import path)

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name-safe, injective rendering of ``text`` (one path component)."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "_"
    if cleaned == text and len(text) <= limit:
        return text
    return f"{cleaned[:limit - 9]}-{short_hash(text)}"


def test_name_part(shortname: str, limit: int = 80) -> str:
    """A test's short name as its id and log dir show it: whole when it is clean and fits in
    ``limit``; else, like ``safe_name``, with ``-`` and 8 hex of its hash, but keeping the
    *tail* (from a dot), where tp-qemu names carry the subtest and its variants::

        qcow2.virtio_blk.smp2.virtio_net.Guest.JeOS.27.x86_64.io-github-autotest-qemu.check_block_size.4096_512.extra_cdrom_ks
        -> io-github-autotest-qemu.check_block_size.4096_512.extra_cdrom_ks-09852969
    """
    cleaned = _UNSAFE.sub("_", shortname).strip("._") or "_"
    if cleaned == shortname and len(shortname) <= limit:
        return shortname
    tail = cleaned[-(limit - 9):]
    dot = tail.find(".")
    if len(cleaned) > limit - 9 and 0 <= dot < len(tail) - 1:
        tail = tail[dot + 1:]
    return f"{tail.strip('._-') or '_'}-{short_hash(shortname)}"


test_name_part.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def env_file_name(env: str) -> str:
    """The file (under ``<results>/env/``) a queue's ``env`` is written to."""
    return f"{safe_name(env)}.json"


def is_plain(name: str) -> bool:
    return bool(_PLAIN.fullmatch(name))


def check_plain(name: str, what: str) -> Optional[str]:
    """Why ``name`` (a guest, image or NIC name) cannot be used, or None when it can."""
    if is_plain(name):
        return None
    return (f"{what} {name!r} is not a plain name ({PLAIN_RULE}): files named after it"
            " could land outside the job's directories")


def check_env_name(env: str) -> Optional[str]:
    """Why ``env`` cannot name an env file, or None. Env files live in the results dir."""
    if not env.strip():
        return "env is empty"
    if "/" in env or "\\" in env or "\0" in env or env in (".", ".."):
        return (f"env {env!r} is a path: env names a file inside the job's results"
                " directory (env/<name>.json), write a name such as env-1")
    return None


def check_timeout(raw: str) -> Optional[str]:
    """Why the ``timeout`` param ``raw`` is unusable (the watchdog needs a finite > 0), or None."""
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        return f"timeout {raw!r} is not a number"
    if not math.isfinite(value) or value <= 0:
        return f"timeout {raw!r} must be a finite number of seconds > 0"
    return None
