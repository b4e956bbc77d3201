"""The two-tier record cache: memory in front of disk, private files, byte limits, failures, processes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from zammad_orm._memory import reader_waits, whole_result
from zammad_orm.accounting import Accounting, CacheCounts
from zammad_orm.cache import (
    CachedRecord,
    DiskRecordCache,
    MemoryRecordCache,
    TieredCache,
    cache_setting,
    default_cache_dir,
    jsondisk,
    make_cache,
)
from zammad_orm.cache.files import PAGE_SIZE
from zammad_orm.cache.tiered import WAIT_BATCH
from zammad_orm.errors import CacheError, CacheWarning, ConfigurationError


def rec(pk: int, **extra: Any) -> dict[str, Any]:
    return {"id": pk, "title": f"t{pk}", "updated_at": f"2026-01-01T00:00:{pk % 60:02d}.000Z", **extra}


def tiered(path: Path, accounting: Accounting | None = None, **memory: Any) -> TieredCache:
    disk = DiskRecordCache(path, namespace="n")
    return TieredCache(
        MemoryRecordCache(**memory), disk, on_lookup=None if accounting is None else accounting.lookup
    )


# --- reads fall through, writes go to both ------------------------------------------------------------


def test_reads_fall_through_to_disk_and_promote(tmp_path: Path) -> None:
    accounting = Accounting()
    cache = tiered(tmp_path, accounting, sizes={"Ticket": 2})
    cache.set_many("Ticket", [(pk, rec(pk), None) for pk in range(1, 6)])
    assert cache.memory.get("Ticket", 1) is None  # memory keeps the last 2
    assert cache.persistent is not None
    cache.flush()  # set_many reaches the disk from the cache's writer thread
    assert cache.persistent.get("Ticket", 1) is not None  # disk all 5
    first = cache.get("Ticket", 1)
    assert isinstance(first, CachedRecord)
    assert first.record == rec(1)
    assert cache.memory.get("Ticket", 1) is first  # promoted as it is: the same entry, same fetched_at
    assert cache.get("Ticket", 1) is first
    assert cache.get("Ticket", 99) is None
    stats = accounting.snapshot()
    assert stats.memory["Ticket"] == CacheCounts(hits=1, misses=2)
    assert stats.persistent["Ticket"] == CacheCounts(hits=1, misses=1)
    assert stats.totals("persistent") == CacheCounts(hits=1, misses=1)
    cache.delete("Ticket", 1)
    assert cache.get("Ticket", 1) is None
    assert cache.persistent.get("Ticket", 1) is None
    cache.clear()
    assert cache.get("Ticket", 5) is None
    cache.close()


def test_memory_size_zero_reads_disk_alone(tmp_path: Path) -> None:
    cache = tiered(tmp_path)
    assert cache.size("Ticket", 0) == -1  # memory off, disk unbounded: still cached
    cache.set("Ticket", 1, rec(1))
    assert cache.memory.get("Ticket", 1) is None
    assert cache.get("Ticket", 1) is not None
    cache.configure_persistent("Ticket", 0)
    assert cache.size("Ticket") == 0  # both tiers off: not cached at all
    cache.close()


def test_first_use_takes_the_persistent_defaults(tmp_path: Path) -> None:
    disk = DiskRecordCache(tmp_path, namespace="n")
    cache = TieredCache(MemoryRecordCache(), disk, persistent_defaults=lambda name: (3, 2**20))
    assert cache.size("Ticket", 100) == 100
    assert disk.size("Ticket") == 3
    assert disk.limit("Ticket") == 2**20
    cache.set_many("Ticket", [(pk, rec(pk), None) for pk in range(1, 6)])
    cache.flush()
    assert [pk for pk in range(1, 6) if disk.get("Ticket", pk)] == [3, 4, 5]
    cache.close()


def test_batches_reach_the_disk_behind_the_reader_in_order_and_are_read_back(tmp_path: Path) -> None:
    cache = tiered(tmp_path, sizes={"Ticket": 1})  # memory keeps one: reads of the others go to disk
    for version in range(1, 4):
        cache.set_many("Ticket", [(pk, {**rec(pk), "title": f"v{version}"}, None) for pk in range(1, 51)])
    # A read that misses memory waits for the writes queued before it: the last version of each.
    assert {pk: cache.get("Ticket", pk).record["title"] for pk in range(1, 51)} == dict.fromkeys(  # type: ignore[union-attr]
        range(1, 51), "v3"
    )
    cache.set_many("Ticket", [(7, {**rec(7), "title": "v4"}, None)])
    cache.close()  # finishes the queued writes first
    again = tiered(tmp_path, sizes={"Ticket": 1})
    assert again.get("Ticket", 7).record["title"] == "v4"  # type: ignore[union-attr]
    again.close()


def test_writes_queued_at_exit_are_written(tmp_path: Path) -> None:
    script = (
        "import sys; from zammad_orm.cache.disk import DiskRecordCache;"
        "from zammad_orm.cache.memory import MemoryRecordCache;"
        "from zammad_orm.cache.tiered import TieredCache;"
        "c = TieredCache(MemoryRecordCache(), DiskRecordCache(sys.argv[1], namespace='n'));"
        "c.set_many('Ticket', [(pk, {'id': pk}, None) for pk in range(1, 2001)])"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)  # exits at once
    disk = DiskRecordCache(tmp_path, namespace="n")
    assert all(disk.get("Ticket", pk) is not None for pk in range(1, 2001))
    disk.close()


def test_a_whole_result_writes_each_id_once_with_its_last_version_at_its_end(tmp_path: Path) -> None:
    cache = tiered(tmp_path)
    disk = cache.persistent
    assert isinstance(disk, DiskRecordCache)
    with whole_result():
        cache.set_many("Ticket", [(1, rec(1, title="old"), None), (2, rec(2), None)])
        cache.set_many("User", [(5, rec(5), None)])
        cache.set_many("Ticket", [(1, rec(1, title="new"), None)])  # the same id again, in a later batch
        assert disk.get("Ticket", 1) is None  # held back until the result is read
        assert cache.get("Ticket", 1).record["title"] == "new"  # type: ignore[union-attr]
    cache.flush()
    assert disk.get("Ticket", 1).record["title"] == "new"  # type: ignore[union-attr]
    assert (len(disk._cache("Ticket")), len(disk._cache("User"))) == (2, 1)
    cache.close()


def test_a_waiting_reader_writes_until_its_page_came_and_the_rest_at_the_end(tmp_path: Path) -> None:
    cache = tiered(tmp_path)
    disk = cache.persistent
    assert isinstance(disk, DiskRecordCache)
    many = WAIT_BATCH * 2 + 5
    with whole_result():
        cache.set_many("Ticket", [(pk, rec(pk), None) for pk in range(1, many + 1)])
        cache.set_many("User", [(1, rec(1), None)])
        reader_waits(lambda: True)  # the page is there already: nothing is written
        assert disk.get("Ticket", 1) is None
        looks = iter([False, True])
        reader_waits(lambda: next(looks))  # one batch, then the page came
        assert disk.get("Ticket", WAIT_BATCH) is not None
        assert disk.get("Ticket", WAIT_BATCH + 1) is None
        assert cache.get("Ticket", many) is not None  # held, found by reads all the same
    assert len(disk._cache("Ticket")) == many  # the rest at the end of the result, in order
    assert disk.get("User", 1) is not None
    cache.close()


def test_a_writer_thread_leaves_what_a_whole_result_holds_to_its_reader(tmp_path: Path) -> None:
    cache = tiered(tmp_path)
    disk = cache.persistent
    assert isinstance(disk, DiskRecordCache)
    writers: list[str] = []
    write = disk.set_many
    slow = threading.Event()

    def noted(model_name: str, items: Any) -> None:
        if model_name == "Reply":
            slow.wait(5)  # the writer thread is busy when the reader writes
        writers.append(f"{model_name} {threading.current_thread().name}")
        write(model_name, items)

    disk.set_many = noted  # type: ignore[method-assign]
    with whole_result():
        cache.set_many("Ticket", [(1, rec(1), None)])
        other = threading.Thread(target=cache.set_many, args=("Reply", [(9, rec(9), None)]), name="other")
        other.start()  # another thread's write: a writer thread is started for it
        other.join()
        threading.Timer(0.2, slow.set).start()
        cache.set_many("Ticket", [(2, rec(2), None)])
        reader_waits()  # the reader writes what it holds now, whether a writer thread runs or not
        assert disk.get("Ticket", 2) is not None
        cache.flush()
        assert sorted(writers) == ["Reply zammad-cache", "Ticket MainThread"]
        cache.set_many("Ticket", [(3, rec(3, title="held"), None)])
        cache.set("Ticket", 3, rec(3, title="set later"))  # a write made after a held one wins
    cache.flush()
    assert disk.get("Ticket", 3).record["title"] == "set later"  # type: ignore[union-attr]
    cache.close()


def test_new_databases_have_16_kb_pages_and_older_ones_keep_theirs(tmp_path: Path) -> None:
    import diskcache

    diskcache.Cache(str(tmp_path / "old" / "n" / "Ticket")).close()  # made by an older version: 4 KB pages
    for root, size in (("old", 4096), ("new", PAGE_SIZE)):
        disk = DiskRecordCache(tmp_path / root, namespace="n")
        disk.set_many("Ticket", [(pk, rec(pk), None) for pk in range(1, 301)])
        con = disk._cache("Ticket")._con
        assert con.execute("PRAGMA page_size").fetchone()[0] == size
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA auto_vacuum").fetchone()[0] == 1  # diskcache's full vacuum
        writer = disk._write_connection("Ticket")
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 0  # a cache: no fsync
        assert writer.execute("PRAGMA synchronous").fetchone()[0] == 0
        assert all(disk.get("Ticket", pk).record == rec(pk) for pk in range(1, 301))  # type: ignore[union-attr]
        disk.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_process_writes_through_a_connection_of_its_own(tmp_path: Path) -> None:
    disk = DiskRecordCache(tmp_path, namespace="n")
    disk.set_many("Ticket", [(1, rec(1), None)])  # the parent's write connection is open
    pid = os.fork()
    if pid == 0:  # the child: the parent's connection is not used (SQLite forbids it across a fork)
        try:
            disk.set_many("Ticket", [(2, rec(2), None)])
            os._exit(0 if disk.get("Ticket", 2) is not None else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    disk.set_many("Ticket", [(3, rec(3), None)])
    assert [pk for pk in (1, 2, 3) if disk.get("Ticket", pk)] == [1, 2, 3]
    disk.close()


# --- the default setting ---------------------------------------------------------------------------------


def test_the_default_is_disk_unless_the_environment_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZAMMAD_ORM_CACHE", raising=False)
    assert cache_setting(None) == cache_setting(True) == "disk"
    monkeypatch.setenv("ZAMMAD_ORM_CACHE", "memory")
    assert cache_setting(None) == "memory"
    assert cache_setting("disk:/x") == "disk:/x"  # an explicit argument wins
    assert isinstance(make_cache(None, namespace="n"), MemoryRecordCache)
    monkeypatch.setenv("ZAMMAD_ORM_CACHE", "off")
    assert cache_setting(None) is False
    monkeypatch.setenv("ZAMMAD_ORM_CACHE", "redis://127.0.0.1:6379/15")
    assert cache_setting(None) == "redis://127.0.0.1:6379/15"
    monkeypatch.setenv("ZAMMAD_ORM_CACHE", "memcached://x")
    with pytest.raises(ConfigurationError, match="ZAMMAD_ORM_CACHE"):
        cache_setting(None)


def test_a_default_directory_that_cannot_be_made_falls_back_to_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setenv("ZAMMAD_ORM_CACHE_DIR", str(tmp_path / "file" / "cache"))
    with pytest.warns(CacheWarning, match="memory only"):
        cache = make_cache(None, namespace="n")
    assert isinstance(cache, MemoryRecordCache)
    with pytest.raises(CacheError, match="private cache directory"):  # a directory the caller named
        make_cache(f"disk:{tmp_path / 'file' / 'cache'}", namespace="n")


def test_the_suite_never_uses_the_users_cache_directory(private_cache_dir: Path) -> None:
    # tests/conftest.py: every test (and every subprocess it starts) caches in a temporary directory.
    assert default_cache_dir() == private_cache_dir
    assert Path(tempfile.gettempdir()).resolve() in private_cache_dir.resolve().parents


def test_bad_tier_settings_fail_before_anything_is_built(tmp_path: Path) -> None:
    for bad in (0, -5, "1G", True):
        with pytest.raises(ConfigurationError, match="size_limit"):
            make_cache("memory", namespace="n", size_limit=bad)
    with pytest.raises(ConfigurationError, match="cache size of Ticket"):
        make_cache(f"disk:{tmp_path}", namespace="n", persistent_sizes={"Ticket": -2})
    assert not (tmp_path / "n").exists()


# --- private files ---------------------------------------------------------------------------------------


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def test_every_directory_is_0700_and_every_file_0600(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache = make_cache(f"disk:{root}", namespace="n")
    cache.set_many("Ticket", [(pk, rec(pk, body="x" * 50_000), None) for pk in range(1, 4)])
    cache.set("User", 1, rec(1))
    assert cache.get("Ticket", 1) is not None
    found = modes(root)
    names = {Path(p).name for p in found}
    assert {"cache.db", "cache.db-wal", "cache.db-shm"} <= names  # SQLite's journal files are there
    for path, mode in found.items():
        want = 0o700 if (root / path).is_dir() else 0o600
        assert mode == want, (path, oct(mode))
    cache.close()


def test_missing_parents_of_the_cache_directory_are_private_too(tmp_path: Path) -> None:
    cache = make_cache(f"disk:{tmp_path / 'a' / 'b' / 'c'}", namespace="n")
    cache.set("Ticket", 1, rec(1))
    for made in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    cache.close()


def test_looser_files_of_an_older_version_are_tightened(tmp_path: Path) -> None:
    old = DiskRecordCache(tmp_path, namespace="n")
    old.set("Ticket", 1, rec(1))
    old.close()
    for p in [tmp_path / "n" / "Ticket", *(tmp_path / "n" / "Ticket").iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    again = DiskRecordCache(tmp_path, namespace="n")
    assert again.get("Ticket", 1) is not None
    for path, mode in modes(tmp_path / "n").items():
        assert mode == (0o700 if (tmp_path / "n" / path).is_dir() else 0o600), path
    again.close()


# --- byte limits ---------------------------------------------------------------------------------------


def test_the_byte_limit_evicts_the_least_recently_used(tmp_path: Path) -> None:
    limit = 400_000
    disk = DiskRecordCache(tmp_path, namespace="n", size_limits={"Article": limit})
    assert disk.limit("Article") == limit
    assert disk.limit("Ticket") == 2**30
    for pk in range(1, 101):
        disk.set("Article", pk, rec(pk, body="y" * 10_000))
    kept = [pk for pk in range(1, 101) if disk.get("Article", pk) is not None]
    assert 10 < len(kept) < 100
    assert kept == list(range(101 - len(kept), 101))  # the newest stayed
    # The database shrinks at SQLite's next checkpoint: within a page or two of the limit.
    assert disk.path("Article").joinpath("cache.db").stat().st_size <= limit * 1.1
    with pytest.raises(ConfigurationError):
        disk.configure_limit("Article", 0)
    disk.close()


# --- failures ----------------------------------------------------------------------------------------------


def fill(path: Path) -> None:
    cache = DiskRecordCache(path, namespace="n")
    cache.set_many("Ticket", [(pk, rec(pk), None) for pk in range(1, 4)])
    cache.close()


def test_a_corrupt_database_warns_once_and_is_rebuilt(tmp_path: Path) -> None:
    fill(tmp_path)
    db = tmp_path / "n" / "Ticket" / "cache.db"
    for extra in ("cache.db-wal", "cache.db-shm"):
        (db.parent / extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not SQLite, it was overwritten by accident " * 100)
    cache = tiered(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = cache.get("Ticket", 1), cache.get("Ticket", 2)
        cache.set("Ticket", 1, rec(1, title="fresh"))
        third = cache.get("Ticket", 1)
    assert [(w.category, "cannot be read" in str(w.message)) for w in caught] == [(CacheWarning, True)]
    assert first is None
    assert second is None
    assert third is not None
    cache.close()
    again = DiskRecordCache(tmp_path, namespace="n")
    assert again.get("Ticket", 1) is not None  # the rebuilt file holds what was written since
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again.close()


def test_an_unreadable_database_warns_and_is_rebuilt(tmp_path: Path) -> None:
    model = tmp_path / "n" / "Ticket"
    model.mkdir(parents=True)
    (model / "cache.db").mkdir()  # not a file SQLite can open
    cache = tiered(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache.set("Ticket", 1, rec(1))
        assert cache.persistent is not None
        assert cache.persistent.get("Ticket", 1) is not None
    assert [w.category for w in caught] == [CacheWarning]
    cache.close()


def test_an_entry_that_is_not_json_is_dropped_once(tmp_path: Path) -> None:
    fill(tmp_path)
    db = tmp_path / "n" / "Ticket" / "cache.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE Cache SET value = ? WHERE key IN (1, 2)", (b"{not json",))
    cache = tiered(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = [cache.get("Ticket", 1), cache.get("Ticket", 2)]
    assert [(w.category, "not JSON" in str(w.message)) for w in caught] == [(CacheWarning, True)]
    assert found == [None, None]
    assert cache.get("Ticket", 3) is not None
    assert cache.persistent is not None
    assert cache.persistent.get("Ticket", 1) is None  # dropped from the disk tier, to be fetched again
    cache.close()


def test_a_full_disk_degrades_to_memory_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tiered(tmp_path)
    cache.set("Ticket", 1, rec(1))

    class FullDisk:
        """SQLite's connection on a full disk: every write fails as SQLite reports ENOSPC (SQLITE_FULL)."""

        def __init__(self, connection: sqlite3.Connection) -> None:
            self.connection = connection

        def execute(self, statement: str, *args: Any) -> Any:
            if statement.startswith(("INSERT", "UPDATE", "DELETE")):
                raise sqlite3.OperationalError("database or disk is full")
            return self.connection.execute(statement, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.connection, name)

    real = jsondisk.Cache._con
    monkeypatch.setattr(jsondisk.Cache, "_con", property(lambda self: FullDisk(real.fget(self))))
    writer = DiskRecordCache._write_connection  # batch writes: the disk tier's own connection per model
    monkeypatch.setattr(DiskRecordCache, "_write_connection", lambda self, name: FullDisk(writer(self, name)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache.set("Ticket", 2, rec(2))
        cache.set_many("Ticket", [(3, rec(3), None)])
    assert [(w.category, "memory only" in str(w.message)) for w in caught] == [(CacheWarning, True)]
    assert cache.persistent is None
    assert [pk for pk in (1, 2, 3) if cache.get("Ticket", pk)] == [1, 2, 3]  # memory goes on
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache.set("Ticket", 4, rec(4))
        cache.delete("Ticket", 4)
        cache.clear("User")


def test_a_record_that_is_not_json_still_raises(tmp_path: Path) -> None:
    cache = tiered(tmp_path)
    with pytest.raises(CacheError, match="not plain JSON"):
        cache.set("Ticket", 1, rec(1, bad={1, 2}))
    assert cache.persistent is not None  # the caller's mistake: the disk tier stays
    cache.close()


# --- several processes ------------------------------------------------------------------------------------

_WORKER = textwrap.dedent(
    """
    import json, sys
    from zammad_orm.cache import make_cache
    directory, me = sys.argv[1], int(sys.argv[2])
    cache = make_cache("disk:" + directory, namespace="shared", sizes={"Ticket": 20})
    for round in range(40):
        for pk in range(1, 31):
            if (pk + round + me) % 3 == 0:
                cache.set("Ticket", pk, {"id": pk, "writer": me, "round": round, "body": "z" * (pk * 50)})
            else:
                got = cache.get("Ticket", pk)
                assert got is None or got.record["id"] == pk, got
    cache.close()
    """
)


def test_four_processes_share_one_cache_consistently(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "c"), str(me)], env=env, stderr=subprocess.PIPE
        )
        for me in range(4)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    written = {
        (pk, me, rnd): {"id": pk, "writer": me, "round": rnd, "body": "z" * (pk * 50)}
        for me in range(4)
        for rnd in range(40)
        for pk in range(1, 31)
        if (pk + rnd + me) % 3 == 0
    }
    disk = DiskRecordCache(tmp_path / "c", namespace="shared")
    db = disk.path("Ticket") / "cache.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT key, value FROM Cache").fetchall()
    assert rows
    assert len(rows) <= 30
    for key, value in rows:
        record = json.loads(value)["record"]
        assert record["id"] == key
        assert written[(key, record["writer"], record["round"])] == record
        assert disk.get("Ticket", key) is not None
    disk.close()


def test_get_many_reads_memory_then_queued_then_disk_in_one_batch(tmp_path: Path) -> None:
    accounting = Accounting()
    cache = tiered(tmp_path, accounting, sizes={"User": 2})
    cache.set_many("User", [(pk, rec(pk), None) for pk in range(1, 6)])  # memory keeps 4 and 5
    found = cache.get_many("User", [1, 2, 3, 4, 5, 99])
    assert sorted(found) == [1, 2, 3, 4, 5]
    assert all(found[pk].record == rec(pk) for pk in found)
    stats = accounting.snapshot()
    assert stats.memory["User"] == CacheCounts(hits=2, misses=4)
    assert stats.persistent["User"] == CacheCounts(hits=3, misses=1)
    assert [pk for pk in (1, 2, 3, 4, 5) if cache.memory.get("User", pk)] == [2, 3]  # promoted, LRU of 2
    cache.close()
