"""Test ids and log dir names of long (tp-qemu style) short names: unique and recognisable."""

from __future__ import annotations

import json
import re

import pytest

from kvmtest.run import run_job
from kvmtest.run.pipeline import RunOptions
from kvmtest.run.schedule import all_test_ids, legacy_test_ids, make_test_id
from tests.run.helpers import cmd, queue

NAME_LIMIT = 80

HEAD = "qcow2.virtio_blk.smp2.virtio_net.Guest.JeOS.27.x86_64.io-github-autotest-qemu."
SUBTESTS = ("check_block_size.4096_512.extra_cdrom_ks", "check_block_size.512_512.extra_cdrom_ks",
            "boot_with_different_vectors.vectors_0", "boot")


def long_queue():
    return queue("q1", *[cmd(f"full.{HEAD}{s}", "true") for s in SUBTESTS])


def fix_shortnames(q):
    for t in q.tests:
        t.shortname = t.name[len("full."):]
    return q


def test_long_names_keep_their_tail_and_differ():
    q = fix_shortnames(long_queue())
    ids = all_test_ids([q])
    leaves = [i.rsplit("/", 1)[1].split("-", 1)[1] for i in ids]
    assert len(set(leaves)) == len(leaves)  # unique even without the <n>- prefix
    for leaf, sub in zip(leaves, SUBTESTS):
        assert len(leaf) <= NAME_LIMIT
        assert re.fullmatch(rf".*{re.escape(sub)}-[0-9a-f]{{8}}", leaf), leaf
    assert leaves[0].startswith("io-github-autotest-qemu.check_block_size")  # cut at a dot


def test_short_names_are_unchanged():
    q = queue("q1", cmd("a.boot", "true"))
    assert all_test_ids([q]) == ["localhost/q1/1-boot"]
    assert set(legacy_test_ids(q, 1, q.tests[0])) == {make_test_id(q, 1, q.tests[0])}


def test_log_dirs_use_the_same_names(tmp_path):
    q = fix_shortnames(long_queue())
    s = run_job([q], tmp_path / "r", progress=lambda e: None,
                options=RunOptions(handle_signals=False, print_summary=False))
    assert s.exit_code == 0
    dirs = sorted(p.name for p in (tmp_path / "r" / "tests" / "localhost-q1").iterdir())
    assert dirs == sorted(i.rsplit("/", 1)[1] for i in all_test_ids([q]))
    assert any(d.endswith("extra_cdrom_ks-" + d[-8:]) for d in dirs)


@pytest.mark.parametrize("generation", [0, 1])
def test_resume_of_a_results_dir_with_old_ids(tmp_path, generation):
    """A job stopped under an old naming: its finished tests are not run again."""
    marker = tmp_path / "ran"
    q = fix_shortnames(queue("q1", *[cmd(f"full.{HEAD}{s}", f"sh -c 'echo {i} >> {marker}'")
                                     for i, s in enumerate(SUBTESTS)]))
    r = tmp_path / "r"
    s = run_job([q], r, progress=lambda e: None,
                options=RunOptions(handle_signals=False, print_summary=False))
    assert s.exit_code == 0 and marker.read_text().split() == ["0", "1", "2", "3"]
    # rewrite results.json as the old runner wrote it: old ids, and the last test not yet run
    data = json.loads((r / "results.json").read_text())
    old = {make_test_id(q, i, t): legacy_test_ids(q, i, t)[generation]
           for i, t in enumerate(q.tests, 1)}
    assert any(k != v for k, v in old.items())
    for t in data["tests"]:
        t["id"] = old[t["id"]]
    data["tests"] = data["tests"][:-1]
    (r / "results.json").write_text(json.dumps(data))
    marker.write_text("")
    again = run_job(None, r, resume=True, progress=lambda e: None,
                    options=RunOptions(handle_signals=False, print_summary=False))
    assert again.exit_code == 0
    assert marker.read_text().split() == ["3"]  # only the test without a result ran
    ids = [t["id"] for t in json.loads((r / "results.json").read_text())["tests"]]
    assert sorted(ids) == sorted(all_test_ids([q]))
