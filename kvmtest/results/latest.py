"""``results/latest``: a symlink to the job that last started (or resumed) in a results root.

A QA engineer's first look is ``./run.py results results/latest`` or ``kvmtest report
results/latest``; the link saves finding the newest ``<stamp>-<set>`` by hand.

The rule (docs/results.md): a job (new or ``--resume``d, single-host or cluster) points
``<root>/latest`` at its directory when it starts, where ``<root>`` is the directory that
holds the job directory, but only when ``<root>`` is the default results root (``results``
under the current directory) or already has a ``latest`` symlink. So ``--results
/tmp/x`` never litters ``/tmp`` with a link; ``ln -s x DIR/latest`` once opts a directory in.

The link is relative (``latest -> 20261203-150000-demo``), so the tree can be moved or
copied, and replaced atomically (a new link under a temp name, then ``os.replace``): a
reader sees the old job or the new one, never no link. Failing to make it is one warning;
it never fails the job.

Readers that scan a root (``--durations DIR``, ``history import DIR``) count each job once
(``unique_paths``); readers given ``results/latest`` use the job it names (``follow``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

LATEST = "latest"
#: Where ``default_results_dir`` puts jobs (relative to the current directory).
RESULTS_ROOT = Path("results")

log = logging.getLogger("kvmtest.results.latest")


def follow(path: Union[str, Path]) -> Path:
    """``path`` itself, or the directory it links to when it is a symlink (``results/latest``),
    kept relative when the link is: the job's log paths then stay right after ``latest`` moves."""
    p = Path(path)
    if not p.is_symlink():
        return p
    target = Path(os.readlink(p))
    return target if target.is_absolute() else p.parent / target


def job_dir(path: Union[str, Path]) -> Path:
    """The absolute results directory a run writes to: a symlink (``--resume results/latest``)
    is followed, so the run keeps writing to its job when another job moves ``latest``."""
    p = Path(path).absolute()
    return p.resolve() if p.is_symlink() else p


def unique_paths(paths: Iterable[Path]) -> List[Path]:
    """``paths`` without the ones that are another one through a symlink (``results/latest``
    next to the job it names): the first name of each file or directory is kept, in order."""
    seen: Dict[Path, Path] = {}
    for d in paths:
        seen.setdefault(Path(d).resolve(), Path(d))
    return list(seen.values())


def wants_latest(root: Path) -> bool:
    """Whether ``root`` (the directory holding a job) gets a ``latest`` link: it is the
    default results root, or it has one already."""
    try:
        return root.resolve() == RESULTS_ROOT.resolve() or (root / LATEST).is_symlink()
    except OSError:
        return False


def point_latest(results_dir: Path) -> Optional[Path]:
    """Point ``<parent>/latest`` at ``results_dir`` (see the module doc for when). Returns the
    link, or None when the rule says no or it could not be made (then one warning)."""
    results_dir = Path(results_dir).absolute()
    root = results_dir.parent
    if results_dir.name == LATEST or not wants_latest(root):
        return None
    link = root / LATEST
    temp = root / f".{LATEST}.{os.getpid()}.{os.urandom(4).hex()}"
    try:
        os.symlink(results_dir.name, temp)
        try:
            os.replace(temp, link)  # atomic; refused when 'latest' is a real directory
        except OSError:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("could not point %s at %s (%s); the job goes on", link, results_dir.name,
                    exc.strerror or exc)
        return None
    return link
