"""HistoryStore on real results directories and a real SQLite file."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from kvmtest.history import HistoryError, HistoryStore, parse_selection
from kvmtest.history.db import SCHEMA_VERSION
from kvmtest.results.store import load_results
from tests.history.kit import write_job

T0 = 1_800_000_000.0


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "h.db") as s:
        yield s


def dump(path):
    """Every row of every table but the import time: what two indexes must agree on."""
    conn = sqlite3.connect(path)
    out = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        cols = [c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "imported"]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(map(repr, cols))} FROM {table}"))
    conn.close()
    return out


def test_import_is_idempotent_and_a_changed_file_replaces_the_job(tmp_path, store):
    d = write_job(tmp_path / "r", "job1", T0, [("a", "PASS"), ("b", "FAIL")])
    assert store.import_dir_changed(d) == ("job1", True)
    before = dump(store.path)
    assert store.import_dir_changed(d) == ("job1", False)
    assert store.import_dir(d / "results.json") == "job1"  # the file names its directory too
    assert dump(store.path) == before
    shutil.rmtree(d)  # a --resume ran b again, and it passed this time
    write_job(tmp_path / "r", "job1", T0, [("a", "PASS"), ("b", "PASS")],
              superseded=[("a", "PASS"), ("b", "FAIL")])
    assert store.import_dir_changed(d) == ("job1", True)
    assert [j.counts["PASS"] for j in store.jobs()] == [2]
    n = store.conn.execute("SELECT latest, count(*) FROM result GROUP BY latest").fetchall()
    assert sorted(n) == [(0, 2), (1, 2)]  # no row of the old import is left


def test_journal_results_count_in_the_hash_and_the_rows(tmp_path, store):
    d = write_job(tmp_path / "r", "job1", T0, [("a", "PASS")])
    store.import_dir(d)
    late = load_results(d).tests[0].to_json()
    late.update(id="h1/q/2-b", name="set.b", shortname="b", status="FAIL")
    (d / "results.jsonl").write_text(json.dumps(late) + "\n")  # a runner killed before its snapshot
    assert store.import_dir_changed(d) == ("job1", True)
    assert [r.shortname for r in store.results("job1").tests] == ["a", "b"]


def test_select_rebuilds_the_results_file_exactly_even_after_the_dir_moved(tmp_path, store):
    d = write_job(tmp_path / "r", "job1", T0, [("boot", "PASS"), ("bench1", "FAIL", "TestFail"),
                                              ("c", "ERROR", "EnvError")],
                  tags={"kernel": "6.8-rc1"}, superseded=[("boot", "INTERRUPTED", "JobInterrupted")])
    original = load_results(d)
    store.import_dir(d)
    shutil.move(str(d), str(tmp_path / "elsewhere"))
    [got] = store.select("job1")
    assert got == original
    assert got.tests[1].metrics[0].name == "bw" and got.tests[0].accel == "tcg"
    assert got.job.hosts == {"h1": {"kernel": "6.1.0-test", "qemu": "QEMU 7.2", "cpu_model": "EPYC"}}
    assert store.select("kernel=6.8-rc1") == [original]


def test_tag_selections_and_id_prefixes(tmp_path, store):
    r = tmp_path / "r"
    for i, tags in enumerate([{"kernel": "6.7", "role": "baseline"},
                              {"kernel": "6.8", "role": "dev"},
                              {"kernel": "6.8", "role": "baseline"},
                              {"kernel": "6.8", "role": "dev"}, {}]):
        store.import_dir(write_job(r, f"abcd{i}x{i}", T0 + 1000 * i, [("a", "PASS")], tags=tags))
    assert store.job_ids("kernel=6.8") == ["abcd1x1", "abcd2x2", "abcd3x3"]
    assert store.job_ids("kernel=6.8,role=dev") == ["abcd1x1", "abcd3x3"]
    assert store.job_ids("role=dev, kernel=6.8") == ["abcd1x1", "abcd3x3"]
    assert store.job_ids("kernel=6.9") == []
    assert store.job_ids("abcd4") == ["abcd4x4"] and store.job_ids("abcd4x4") == ["abcd4x4"]
    assert store.job_ids("abc") == []  # a prefix needs 4 characters
    with pytest.raises(HistoryError, match="ambiguous"):
        store.job_ids("abcd")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        store.job_ids("kernel=6.8,=x")
    with pytest.raises(ValueError):
        store.job_ids("no such/job")
    assert [j.job_id for j in store.jobs(tags={"role": "baseline"})] == ["abcd0x0", "abcd2x2"]
    assert [j.job_id for j in store.jobs(last=2)] == ["abcd3x3", "abcd4x4"]
    assert store.jobs()[1].tags == {"kernel": "6.8", "role": "dev"}
    assert parse_selection("a=1,b=2") == {"a": "1", "b": "2"}


def test_durations_are_recent_final_runs_oldest_first(tmp_path, store):
    r = tmp_path / "r"
    for i in range(7):
        store.import_dir(write_job(r, f"j{i}", T0 + 1000 * i,
                                   [("a", "PASS", None, 10.0 + i),
                                    ("s", "SKIP", None, 5.0),
                                    ("t", "INTERRUPTED" if i % 2 else "FAIL", "TestTimeout",
                                     99.0 if i % 2 else 60.0 + i)],
                                   types={"a": "sleep", "t": "boot"}))
    got = store.durations(["a", "s", "t", "never"], last=3)
    assert got == {"a": [14.0, 15.0, 16.0], "t": [62.0, 64.0, 66.0]}  # SKIP/INTERRUPTED: none
    assert store.durations(["a"], last=0) == {}
    assert store.types(["a", "t", "s"]) == {"a": "sleep", "t": "boot"}  # s: no type known
    # a superseded final attempt counts too
    store.import_dir(write_job(r, "j9", T0 + 9000, [("a", "PASS", None, 3.0)],
                               superseded=[("a", "FAIL", None, 2.0)]))
    assert store.durations(["a"], last=2) == {"a": [2.0, 3.0]}
    # a comparison counts PASS runs only
    assert store.durations(["a", "t"], last=2, statuses=("PASS",)) == {"a": [16.0, 3.0]}
    assert store.durations(["a"], last=2, statuses=()) == {}


def test_durations_of_chosen_jobs_only(tmp_path, store):
    """jobs/before keep runs of those jobs or of older jobs; exclude drops jobs (a
    comparison's dev side) whatever else says."""
    r = tmp_path / "r"
    for i in range(5):
        store.import_dir(write_job(r, f"j{i}", T0 + 1000 * i, [("a", "PASS", None, 10.0 + i)]))
    assert store.durations(["a"], last=9, before=T0 + 2000) == {"a": [10.0, 11.0]}
    assert store.durations(["a"], last=9, jobs={"j3"}, before=T0 + 1000) == {"a": [10.0, 13.0]}
    assert store.durations(["a"], last=9, jobs=set()) == {}
    assert store.durations(["a"], last=9, exclude={"j4", "j0"}) == {"a": [11.0, 12.0, 13.0]}
    assert store.durations(["a"], last=9, jobs={"j1", "j2"}, exclude={"j2"}) == {"a": [11.0]}


def test_test_history_per_job_latest_attempt(tmp_path, store):
    r = tmp_path / "r"
    store.import_dir(write_job(r, "j1", T0, [("a", "PASS")], tags={"kernel": "1"}))
    store.import_dir(write_job(r, "j2", T0 + 100, [("a", "FAIL")], tags={"kernel": "2"},
                               superseded=[("a", "INTERRUPTED")]))
    store.import_dir(write_job(r, "j3", T0 + 200, [("b", "PASS")]))
    runs = store.test_history("a")
    assert [(x.job_id, x.status, x.tags, x.attempt) for x in runs] == [
        ("j1", "PASS", {"kernel": "1"}, 1), ("j2", "FAIL", {"kernel": "2"}, 2)]
    assert [x.job_id for x in store.test_history("a", last=1)] == ["j2"]
    assert [x.job_id for x in store.test_history("a", tags={"kernel": "1"})] == ["j1"]
    assert store.test_history("nope") == []
    store.import_dir(write_job(r, "j4", T0 + 300, [("x", "PASS"), ("bench1", "PASS")],
                               superseded=[("x", "PASS"), ("bench1", "FAIL")]))
    [run] = store.test_history("bench1")
    assert run.attempt == 2 and [(m.name, m.value) for m in run.metrics] == [("bw", 101.0),
                                                                              ("lat", 2.5)]
    assert run.to_json()["metrics"][1] == {"name": "lat", "value": 2.5, "unit": "ms",
                                           "better": "lower"}


FLAKY_RUNS = {  # per job (oldest first): tags, then the statuses of tests p, f, m, x, i, t
    "k1a": ({"kernel": "1"}, "PASS FAIL PASS PASS PASS PASS"),
    "k1b": ({"kernel": "1"}, "PASS FAIL FAIL PASS ERROR:EnvError INTERRUPTED:TestTimeout"),
    "k1c": ({"kernel": "1"}, "PASS FAIL PASS PASS PASS PASS"),
    "k1d": ({"kernel": "1"}, "PASS FAIL ERROR PASS SKIP PASS"),
    "k2a": ({"kernel": "2"}, "PASS PASS PASS FAIL PASS PASS"),  # x: broke with kernel 2 only
    "k2b": ({"kernel": "2"}, "PASS PASS PASS FAIL PASS PASS"),
}


def flaky_history(tmp_path, store):
    for n, (job_id, (tags, statuses)) in enumerate(FLAKY_RUNS.items()):
        specs = []
        for short, st in zip("pfmxit", statuses.split()):
            status, _, cls = st.partition(":")
            specs.append((short, status, cls or None))
        store.import_dir(write_job(tmp_path / "r", job_id, T0 + 1000 * n, specs, tags=tags))


def test_flaky_is_a_mix_within_one_tag_set_and_ignores_infra_and_skips(tmp_path, store):
    flaky_history(tmp_path, store)
    got = {(f.shortname, f.tags["kernel"]): ("".join(f.statuses), f.flips, f.jobs)
           for f in store.flaky()}
    assert got == {("m", "1"): ("PFPF", 3, ["k1a", "k1b", "k1c", "k1d"]),
                   ("t", "1"): ("PFPP", 2, ["k1a", "k1b", "k1c", "k1d"])}
    # i: only its infra ERROR and a SKIP differ (left out); x: FAIL on kernel 2 only, PASS on 1
    assert {f.shortname for f in store.flaky(min_flips=3)} == {"m"}
    assert [("".join(f.statuses)) for f in store.flaky(last=2)] == ["PF"]  # m's last two
    assert store.flaky(tags={"kernel": "2"}) == []
    assert store.flaky(test_set="other") == []


def test_rebuild_from_the_directories_equals_the_live_index(tmp_path, store):
    flaky_history(tmp_path, store)
    live = dump(store.path)
    with HistoryStore(tmp_path / "rebuilt.db") as other:
        other.import_dir(write_job(tmp_path / "stale", "gone", T0, [("a", "PASS")]))
        assert sorted(other.rebuild([tmp_path / "r"])) == sorted(FLAKY_RUNS)
        assert dump(other.path) == live  # the stale job is gone, the rest is identical


def test_a_newer_or_foreign_file_is_refused(tmp_path):
    p = tmp_path / "h.db"
    HistoryStore(p).close()
    conn = sqlite3.connect(p)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer than this kvmtest"):
        HistoryStore(p)
    junk = tmp_path / "junk.db"
    junk.write_text("this is not a database, it is a text file that is long enough" * 20)
    with pytest.raises(HistoryError, match="not a usable SQLite file"):
        HistoryStore(junk)


def test_the_file_is_in_wal_mode(tmp_path, store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_path_follows_env_then_data_dir_then_xdg(tmp_path, monkeypatch):
    from kvmtest.paths import history_path

    monkeypatch.setenv("KVMTEST_HISTORY", str(tmp_path / "x.db"))
    assert history_path() == tmp_path / "x.db"
    monkeypatch.delenv("KVMTEST_HISTORY")
    monkeypatch.setenv("KVMTEST_DATA_DIR", str(tmp_path / "data"))
    assert history_path() == (tmp_path / "data").resolve() / "history.db"
    monkeypatch.delenv("KVMTEST_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert history_path() == tmp_path / "xdg" / "kvmtest" / "history.db"


def test_an_older_layout_is_dropped_and_made_anew(tmp_path):
    p = tmp_path / "h.db"
    with HistoryStore(p) as s:
        s.import_dir(write_job(tmp_path / "r", "j1", T0, [("a", "PASS")]))
    conn = sqlite3.connect(p)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute("DROP INDEX result_by_test")
    conn.execute("CREATE INDEX result_by_test ON result(shortname, start)")  # v1's
    conn.commit()
    conn.close()
    with HistoryStore(p) as s:
        assert s.jobs() == []  # rebuilt empty: `history rebuild DIR...` fills it again
        cols = [r[2] for r in s.conn.execute("PRAGMA index_info(result_by_test)")]
        assert cols == ["shortname", "start", "status", "duration"]
        assert s.rebuild([tmp_path / "r"]) == ["j1"]
