"""The dry run's big-plan paths: the streamed table, the name store and the dependency index."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import List

import pytest

from kvmtest.plan.build import Planner
from kvmtest.plan.deps import DepIndex
from kvmtest.plan.listing import ListingRows, format_table, write_table
from kvmtest.plan.namestore import BATCH, NameLog

HEADERS = ("test", "host", "queue", "env", "addresses")


def test_streamed_table_is_the_table():
    rows = [(f"t{i}", "h", "q", "e", "a" * (i % 7)) for i in range(4321)]
    out = io.StringIO()
    write_table(out, rows, HEADERS)
    assert out.getvalue() == format_table(rows, HEADERS)


def test_dep_index_gives_names_back_and_resolves_deps_by_word_suffix():
    index = DepIndex()
    index.add("(g=a).x.boot", "a.boot", [], "h/1")
    index.add("(g=a).x.reboot", "a.reboot", [" boot "], "h/1")
    index.add("(g=b).x.reboot", "(g=b).x.reboot", ["a.boot"], "h/2")
    assert index.has_deps
    assert index.verdicts("(g=a).x.reboot") == [
        "depends on 'boot': waits for (g=a).x.boot (#1)"]
    assert index._row(2) == ("(g=b).x.reboot", "(g=b).x.reboot", ("a.boot",), ("h/2", 1))
    report = index.check()
    assert report.links[("h/1", 2)] == (("h/1", 1),)
    assert any("another queue" in e for e in report.errors)
    # a suffix of a word is no word: "boot" does not name x.reboot
    assert index._index()["boot"] == {"h/1": [(1, "(g=a).x.boot")]}


def test_dep_index_keeps_each_dep_list_once():
    index = DepIndex()
    for i in range(3):
        index.add(f"t{i}", f"t{i}", ["".join(["a.", "boot"])], "h/1")  # equal, not identical
    index.add("t3", "t3", [], "h/1")
    assert index._dep_lists == [(), ("a.boot",)]
    assert [index._row(i)[2] for i in range(4)] == [("a.boot",)] * 3 + [()]


def _names(count: int) -> List[str]:
    """Names shaped like a Cartesian expansion's: long shared prefixes, a few odd ones."""
    rng = random.Random(7)
    names = ["", ".", "a..b", "a", "a.b", "a"]
    words = ["qcow2", "raw", "virtio_blk", "(subtest=boot)", "smp2", "", "x" * 40]
    while len(names) < count:
        base = names[-1].split(".")
        base = base[:rng.randint(0, len(base))]
        names.append(".".join(base + rng.choices(words, k=rng.randint(0, 4))) or "q35")
    return names


def test_name_log_gives_every_pair_back_in_any_order():
    names = _names(3000)
    log = NameLog()
    for i, n in enumerate(names):
        log.add(n, names[-1 - i])
    assert len(log) == len(names) > 10 * BATCH
    want = list(zip(names, reversed(names)))
    assert [log.pair(i) for i in range(len(names))] == want
    assert list(log) == want
    order = list(range(len(names)))
    random.Random(1).shuffle(order)
    assert [log.pair(i) for i in order] == [want[i] for i in order]
    with pytest.raises(IndexError):
        log.pair(len(names))


def test_name_log_finds_names_by_last_word_decompressing_only_batches_that_have_it():
    log = NameLog()
    for i in range(5 * BATCH):
        last = "install" if i in (3, 3 * BATCH + 1) else f"t{i % 9}"
        log.add(f"a.b.{last}", f"b.{last}" if i != 2 * BATCH + 5 else "b.install")
    found = [(t, n, s) for t, n, s in log.ending_in({"install"})
             if n.endswith(".install") or s.endswith(".install")]
    assert found == [(3, "a.b.install", "b.install"), (2 * BATCH + 5, f"a.b.t{(2 * BATCH + 5) % 9}", "b.install"),
                     (3 * BATCH + 1, "a.b.install", "b.install")]
    read = {t // BATCH for t, _, _ in log.ending_in({"install"})}
    assert read == {0, 2, 3}  # (batches 1 and 4 have none: not decompressed)
    assert not list(log.ending_in({"nothing"}))


def test_name_log_compresses_what_repeats_and_keeps_odd_text_as_is():
    log = NameLog()
    prefix = ".".join(f"(subtest=w{i})" for i in range(30))  # ~450 characters
    for i in range(4 * BATCH):
        log.add(f"{prefix}.t{i}", f"w29.t{i}")
    assert log.stored_bytes() < 20 * len(log)  # bytes a test, where the text is ~470
    # a newline inside a name would split the joined batch: that batch is kept as text
    odd = NameLog()
    pairs = [(f"a\nb{i}", f"\udc80{i}") for i in range(BATCH + 3)]
    for pair in pairs:
        odd.add(*pair)
    assert [odd.pair(i) for i in range(len(pairs))] == pairs == list(odd)


def test_listing_rows_write_the_table_the_tuples_would():
    names = [f"qcow2.virtio_blk.smp2.{i % 13}.boot{'x' * (i % 29)}" for i in range(4321)]
    planner = Planner("here")
    rows = ListingRows(planner.shortname)
    tuples = []
    for i, name in enumerate(names):
        queue = str(i % 3)
        test = planner.add({"name": "full." + name, "shortname": name, "queue": queue,
                            "env": f"env{queue}"})
        where = (test.hostname, test.queue, test.env, "vm1/nic1 02:00:00:00:00:0" + queue)
        rows.add(planner.count - 1, len(test.shortname), where)
        tuples.append((name,) + where)
    assert list(rows) == tuples
    out = io.StringIO()
    write_table(out, rows, HEADERS, rows.widths(HEADERS))
    assert out.getvalue() == format_table(tuples, HEADERS)


def test_duplicates_are_listed_in_plan_order_naming_the_first_queue():
    p = Planner("here")
    for name, queue in [("b", "1"), ("a", "1"), ("a", "1"), ("b", "2"), ("c", "2"), ("a", "3"),
                        ("c", "2")]:
        p.add({"name": name, "queue": queue, "env": f"e{queue}"})
    warnings = p.finish()
    assert warnings == ["2 test(s) selected for two queues (selections should be mutually"
                        " exclusive): b (here/1 and here/2); a (here/1 and here/3)"]


def test_duplicates_are_found_across_the_name_logs_batches():
    """The short names' hashes are taken a batch at a time (NameLog): a duplicate between a
    sealed batch and the open one, or two sealed ones, is still found."""
    p = Planner("here")
    for i in range(3 * BATCH + 7):
        queue = "2" if i in (BATCH + 3, 3 * BATCH + 5) else "1"
        name = "dup" if i in (5, BATCH + 3) else "late" if i in (2 * BATCH, 3 * BATCH + 5) else f"t{i}"
        p.add({"name": name, "queue": queue, "env": f"e{queue}"})
    assert list(p.deps.short_hashes()) == [hash(p.shortname(i)) for i in range(p.count)]
    assert p.finish() == ["2 test(s) selected for two queues (selections should be mutually"
                          " exclusive): dup (here/1 and here/2); late (here/1 and here/2)"]


def test_plan_fields_are_worked_out_once_and_applied_to_each_line():
    """with_plan_fields caches what to add and swap per placement: every line still gets
    its own text, swapped where its own values differ from the resolved ones."""
    import json as _json

    from kvmtest.plan.listing import with_plan_fields
    from kvmtest.plan.model import Address, PlannedTest

    shared = [Address("vm1", "nic1", "02:00:00:00:00:01", "10.0.0.1", "r0")]
    for i in range(3):
        for addresses in (shared, []):
            params = {"hostname": "localhost", "name": f"t{i}", "env": "e1"}  # (no queue)
            line = _json.dumps(params, sort_keys=True, separators=(",", ":")) + "\n"
            test = PlannedTest(f"t{i}", f"t{i}", params, "box", "default", "e1", addresses)
            got = _json.loads(with_plan_fields(line, test))
            assert got == {"addresses": [a.to_json() for a in addresses], "hostname": "box",
                           "queue": "default", "env": "e1", "name": f"t{i}"}
            assert with_plan_fields(line, test).endswith("}\n")


def test_dry_run_gives_the_cyclic_gc_back(capsys):
    """The dry run turns the cyclic GC off while it lists; an in-process caller (a test, a
    control file) gets it back on afterwards (it stayed off, and later tests that need it
    on failed depending on which tests ran before them in the same process)."""
    import gc

    from kvmtest.cli import main

    hosts = str(Path(__file__).resolve().parents[2] / "samples" / "kvm_hosts.cfg")
    assert gc.isenabled()
    assert main(["-c", hosts, "--set", "nightly", "--dry-run", "--all-hosts"]) == 0
    assert gc.isenabled()
    assert "test(s) on all hosts" in capsys.readouterr().out


def test_dep_lists_equal_to_the_last_one_are_kept_once_and_right():
    """DepIndex.add reuses the last dep list's entry when the next is equal (the usual
    case), and still strips and tells apart the others (also a list changed in place)."""
    index = DepIndex()
    deps = ["a.boot", " b "]
    index.add("a.boot", "a.boot", [], "h/1")
    index.add("x.t1", "t1", deps, "h/1")
    index.add("x.t2", "t2", ["a.boot", " b "], "h/1")
    deps.append("c")  # (the caller's list changed after it was added)
    index.add("x.t3", "t3", deps, "h/1")
    index.add("x.t4", "t4", [" ", ""], "h/1")
    lists = [index._dep_lists[index._dep[i]] for i in range(5)]
    assert lists == [(), ("a.boot", "b"), ("a.boot", "b"), ("a.boot", "b", "c"), ()]
    assert index._dep[1] == index._dep[2] and len(index._dep_lists) == 3


class _Writes(io.StringIO):
    """A stdout that notes the size of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: List[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


LONG_LINES = """\
hostname = elsewhere
filler = {filler}
variants:
    - a:
    - b:
variants:
{tests}
"""


def test_dry_run_writes_chunks_below_the_mmap_threshold(tmp_path, monkeypatch):
    """Both listings go out in chunks of ~64 KiB (config.encode.CHUNK): 512 JSON lines or
    1000 table rows at once were megabytes a write, each a fresh mapping of the heap
    (measured: 2 s of a 17 s large.cfg dry run)."""
    from kvmtest.cli import main
    from kvmtest.config.encode import CHUNK

    cfg = tmp_path / "long.cfg"
    tests = "".join(f"    - t{i}_{'z' * 400}:\n        x{i} = y\n" for i in range(1100))
    cfg.write_text(LONG_LINES.format(filler="f" * 2000, tests=tests))
    for fmt in ("json", "table"):
        out = _Writes()
        monkeypatch.setattr("sys.stdout", out)
        assert main(["-c", str(cfg), "--dry-run", "--all-hosts", "--format", fmt]) == 0
        lines = out.getvalue().splitlines()
        assert len(lines) == 2200 + (3 if fmt == "table" else 0)
        longest = max(map(len, lines)) + 1
        assert sum(out.sizes) > 10 * CHUNK  # (so that it is chunked at all)
        assert max(out.sizes) < CHUNK + longest, fmt


def test_a_listing_of_other_hosts_tests_does_not_import_the_runner(tmp_path):
    """The run's preflight covers this host's tests only: a dry run with none here never
    imports kvmtest.run (~50 ms of a listing), nor does the exit-code mapping of errors
    that did not happen. With a test here the preflight still runs (tests/run/test_preflight).
    Nor statistics (with fractions, decimal, random: assign = auto's estimates) or hashlib
    (names that need a hash): ~15 ms more of a listing that uses neither."""
    import subprocess
    import sys

    cfg = tmp_path / "there.cfg"
    cfg.write_text("hostname = elsewhere\nvariants:\n    - a:\n    - b:\n")
    code = ("import sys; from kvmtest.cli import main; rc = main(sys.argv[1:]);"
            " print(rc, sorted(m for m in sys.modules"
            " if m.startswith('kvmtest.run') or m in ('statistics', 'hashlib')))")
    root = Path(__file__).resolve().parents[2]
    got = subprocess.run([sys.executable, "-c", code, "-c", str(cfg), "--dry-run", "--all-hosts"],
                         capture_output=True, text=True, cwd=root, check=True)
    assert got.stdout.splitlines()[-1] == "0 []"
    assert "2 test(s) on all hosts" in got.stdout


PLACEMENTS = """\
base_mac_r0 = 02:10:00:00:00:00
base_ip_r0 = 10.30.0.0
range_size_r0 = 256
base_mac_r1 = 02:10:00:00:01:00
base_ip_r1 = 10.30.1.0
range_size_r1 = 256
variants:
    - own_host:
        hostname = localhost
    - named_host:
        hostname = box
    - no_host:
variants:
    - q2:
        queue = 2
        env = e2
        mac_ranges = r0
        named_host:
            mac_ranges = r1
        vms = vm1
        nics = nic1
        nic_mode = tap
    - no_queue:
    - q3_own_env:
        queue = 3
variants:
    - a:
    - b:
"""


def test_plan_fields_by_placement_are_the_fields_by_values(tmp_path):
    """with_plan_fields keyed by the planner's placement object (the dry run's way: no
    params read per test) writes the line the params' own values give, byte for byte,
    where the config sets hostname, queue and env, sets them otherwise or not at all;
    and the same line from the line's fragments (``json_lines_with_params(parts=True)``)."""
    import json as _json

    from kvmtest.plan import make_parser, new_planner
    from kvmtest.plan.listing import with_plan_fields

    cfg = tmp_path / "placements.cfg"
    cfg.write_text(PLACEMENTS)
    parser = make_parser([str(cfg)])
    planner = new_planner(parser, "here")
    parts_of = make_parser([str(cfg)]).json_lines_with_params(parts=True)
    seen = set()
    for (line, params), (parts, _) in zip(parser.json_lines_with_params(), parts_of, strict=True):
        own = tuple(params.get(k) for k in ("hostname", "queue", "env"))
        test = planner.add(params)
        got = with_plan_fields(line, test, planner.placement)
        assert got == with_plan_fields(line, test)
        # the line as its fragments (the JSON dry run's way: swapped, joined once)
        assert with_plan_fields(parts, test, planner.placement) == got
        d = _json.loads(got)
        assert (d["hostname"], d["queue"], d["env"]) == (test.hostname, test.queue, test.env)
        assert d["addresses"] == [a.to_json() for a in test.addresses]
        assert {k: v for k, v in d.items() if k not in ("addresses", "hostname", "queue", "env")
                } == {k: v for k, v in _json.loads(line).items()
                      if k not in ("hostname", "queue", "env")}
        seen.add((own, test.hostname, bool(test.addresses)))
    assert len(seen) == 9 and planner.count == 18


def test_listing_rows_lines_strip_as_the_format_does():
    """ListingRows.lines formats each (host, queue, env, addresses) once: the lines are still
    the table's, also where the addresses are empty (the env column's padding goes) or the
    whole tail is blank (then the short name's own trailing blanks go too)."""
    wheres = [("h", "1", "e1", ""), ("h", "2", "e2", "vm1/nic1 02:00:00:00:00:01"),
              ("", "", "", ""), ("host", "q", "", "")]
    names = [f"t{i}" + " " * (i % 3) + "x" * (i % 17) for i in range(2500)]
    rows = ListingRows(names.__getitem__)
    tuples = []
    for i, name in enumerate(names):
        where = wheres[i % len(wheres)]
        rows.add(i, len(name), where)
        tuples.append((name,) + where)
    out = io.StringIO()
    write_table(out, rows, HEADERS, rows.widths(HEADERS))
    assert out.getvalue() == format_table(tuples, HEADERS)
