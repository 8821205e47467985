"""kvmtest.paths: one data dir and one lookup for relative image paths, in a fixed order."""

from __future__ import annotations

from pathlib import Path

from kvmtest import paths

ROOT = Path(__file__).resolve().parents[1]


def test_in_a_checkout_the_data_dir_is_the_checkout(monkeypatch):
    monkeypatch.delenv(paths.ENV_DATA_DIR, raising=False)
    assert paths.checkout_root() == ROOT
    assert paths.data_dir() == ROOT
    assert paths.tiny_guest_dir() == ROOT / "images" / "tiny"


def test_env_var_wins_and_xdg_is_used_outside_a_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(tmp_path / "d"))
    assert paths.data_dir() == tmp_path / "d"
    monkeypatch.delenv(paths.ENV_DATA_DIR)
    monkeypatch.setattr(paths, "checkout_root", lambda: None)  # as when installed in site-packages
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.data_dir() == tmp_path / "xdg" / "kvmtest"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.data_dir() == tmp_path / "home" / ".local" / "share" / "kvmtest"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert paths.cache_dir() == tmp_path / "cache" / "kvmtest"


def test_resolve_path_order(monkeypatch, tmp_path):
    """images_base_dir, then the data dir, then the checkout, then the cwd; absolute as given."""
    base, data, cwd = tmp_path / "base", tmp_path / "data", tmp_path / "cwd"
    for d in (base, data, cwd):
        (d / "images").mkdir(parents=True)
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(data))
    monkeypatch.chdir(cwd)
    (cwd / "images" / "k").write_text("cwd")
    assert paths.resolve_path("images/k") == cwd / "images" / "k"
    (data / "images" / "k").write_text("data")
    assert paths.resolve_path("images/k") == data / "images" / "k"
    (base / "images" / "k").write_text("base")
    assert paths.resolve_path("images/k", {"images_base_dir": str(base)}) == base / "images" / "k"
    assert paths.resolve_path("cfg/tiny-guest.cfg") == ROOT / "cfg" / "tiny-guest.cfg"  # the checkout
    # missing everywhere: the first root, so an error message names where it was looked for first
    assert paths.resolve_path("images/none") == data / "images" / "none"
    assert paths.resolve_path("/abs/x") == Path("/abs/x")
