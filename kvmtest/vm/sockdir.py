"""Where a queue's unix sockets go, and removing them with the work dir.

A socket path must fit ``sockaddr_un.sun_path`` (108 bytes). A queue's work dir
under a long ``$TMPDIR`` or with a long host name does not, so its sockets go
to ``/tmp/kvmtest-<hash of the work dir>/`` instead: always under ``/tmp``, never
under ``$TMPDIR`` (whose length is the problem). Nothing is created until a guest
starts, and ``remove_workdir`` removes the short dirs with the work dir, so
none is left behind by guests kept across tests (``kill_vm = no``) or by a
killed runner (see ``orphans``).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Union

SUN_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes; keep a margin
SHORT_BASE = Path("/tmp")
SHORT_PREFIX = "kvmtest-"


def socket_dir(workdir: Union[str, Path]) -> Path:
    """The queue's socket dir: its work dir, or a short /tmp dir when that path is too long.

    Pure: creates nothing (the guest that binds a socket makes the dir).
    """
    workdir = Path(workdir)
    if len(str(workdir)) + 40 <= SUN_PATH_MAX:
        return workdir
    h = hashlib.sha1(str(workdir.absolute()).encode()).hexdigest()[:12]
    return SHORT_BASE / f"{SHORT_PREFIX}{h}"


def remove_socket_dir(workdir: Union[str, Path]) -> bool:
    """Remove the short socket dir of a queue work dir (if it has one); True if one was removed."""
    sdir = socket_dir(workdir)
    if sdir == Path(workdir) or not sdir.is_dir():
        return False
    shutil.rmtree(sdir, ignore_errors=True)
    return True


def remove_workdir(workdir: Union[str, Path]) -> None:
    """Remove a job's work dir and the short socket dirs of its queue dirs."""
    workdir = Path(workdir)
    try:
        children = [c for c in workdir.iterdir() if c.is_dir()]
    except OSError:
        children = []
    for child in children:
        remove_socket_dir(child)
    shutil.rmtree(workdir, ignore_errors=True)
