"""Where kvmtest keeps its images and caches: one answer for every caller.

An installed kvmtest (``pip install .``) must never write into site-packages,
and a checkout keeps its tiny guest next to its configs (``cfg/tiny-guest.cfg``
says ``kernel = images/tiny/vmlinuz``). The data dir is, first match wins:

1. ``$KVMTEST_DATA_DIR``;
2. the checkout, when kvmtest is imported from one (``setup.cfg`` next to the
   package: ``./run.py``, ``make``, ``pip install -e .``);
3. ``$XDG_DATA_HOME/kvmtest``, by default ``~/.local/share/kvmtest``.

Images live in ``<data dir>/images`` (the tiny guest in ``images/tiny``);
relative image, kernel and initrd paths in configs are tried against the data
dir (``resolve_path``, usable from every layer: planning checks too). Per-machine caches (the KVM
probe verdict) go to ``$XDG_CACHE_HOME/kvmtest`` (``~/.cache/kvmtest``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Mapping, Optional

ENV_DATA_DIR = "KVMTEST_DATA_DIR"
ENV_HISTORY = "KVMTEST_HISTORY"
HISTORY_DB = "history.db"


def checkout_root() -> Optional[Path]:
    """The source checkout this kvmtest is imported from, or None when installed."""
    root = Path(__file__).resolve().parents[1]
    if (root / "setup.cfg").is_file() and (root / "kvmtest" / "__init__.py").is_file():
        return root
    return None


def data_dir() -> Path:
    """Where images (and anything else kvmtest builds once and reuses) live."""
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        return Path(os.path.expanduser(env)).resolve()
    root = checkout_root()
    if root is not None:
        return root
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "kvmtest"


def images_dir() -> Path:
    return data_dir() / "images"


def tiny_guest_dir() -> Path:
    """Where ``python -m kvmtest.vm.tinyguest build`` (``make guest``) writes the tiny guest."""
    return images_dir() / "tiny"


def history_path() -> Path:
    """The history index of finished jobs (SQLite; docs/history.md), first match wins:
    ``$KVMTEST_HISTORY``; ``$KVMTEST_DATA_DIR/history.db``; else the user's
    ``$XDG_DATA_HOME/kvmtest/history.db`` (``~/.local/share/kvmtest``), also from a checkout:
    one user's history covers every checkout and install they run."""
    env = os.environ.get(ENV_HISTORY, "").strip()
    if env:
        return Path(os.path.expanduser(env)).absolute()
    data = os.environ.get(ENV_DATA_DIR, "").strip()
    if data:
        return Path(os.path.expanduser(data)).resolve() / HISTORY_DB
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "kvmtest" / HISTORY_DB


def cache_dir() -> Path:
    """Per-machine caches that are cheap to lose (e.g. the KVM probe verdict)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kvmtest"


def resolve_path(path: str, params: Optional[Mapping[str, str]] = None) -> Path:
    """Find a file named in a config, relative paths tried against a few roots.

    Configs say ``kernel = images/tiny/vmlinuz``: that must work whether kvmtest
    runs from the checkout, from another directory, or from an installed copy,
    so try ``images_base_dir``, the data dir (``kvmtest.paths.data_dir``), the
    checkout kvmtest runs from (if any), then the current directory.
    """
    p = Path(os.path.expanduser(path))
    if p.is_absolute():
        return p
    roots: List[Path] = []
    if params and params.get("images_base_dir"):
        roots.append(Path(os.path.expanduser(params["images_base_dir"])))
    roots.append(data_dir())
    checkout = checkout_root()
    if checkout is not None and checkout not in roots:
        roots.append(checkout)
    roots.append(Path.cwd())
    for root in roots:
        cand = root / p
        if cand.exists():
            return cand.resolve()
    return (roots[0] / p).resolve()
