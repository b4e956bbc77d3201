"""The default record cache over real HTTP: on disk behind a memory tier, shared by processes.

Each test has a cache directory of its own (``$ZAMMAD_ORM_CACHE_DIR``, set by ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm.cache import DiskRecordCache, MemoryRecordCache, TieredCache
from zammad_orm.testing import Emulator, report


@pytest.fixture(scope="module")
def thousand() -> Iterator[Any]:
    with Emulator(demo=1000, seed=5) as server:
        yield server


def test_a_client_caches_on_disk_in_the_cache_directory_by_default(
    thousand: Any, private_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = zo.Client(thousand.url, http_token=thousand.token)
    cache = client.cache
    assert isinstance(cache, TieredCache)
    assert isinstance(cache.persistent, DiskRecordCache)
    assert cache.persistent.directory == private_cache_dir
    client.tickets[1].title  # noqa: B018
    assert any(private_cache_dir.rglob("cache.db"))
    client.close()
    monkeypatch.setenv("ZAMMAD_ORM_CACHE", "memory")
    in_memory = zo.Client(thousand.url, http_token=thousand.token)
    assert isinstance(in_memory.cache, MemoryRecordCache)
    explicit = zo.Client(thousand.url, http_token=thousand.token, cache=f"disk:{private_cache_dir}")
    assert isinstance(explicit.cache, TieredCache)  # an argument wins over the environment
    explicit.close()


def test_a_thousand_tickets_read_twice_come_from_the_persistent_tier(
    thousand: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zo.Ticket, "DEFAULT_CACHE_SIZE", 100)
    client = zo.Client(thousand.url, http_token=thousand.token)
    ids = [t.id for t in client.tickets.all().order_by("id")]
    assert len(ids) >= 1000
    first = client.stats()
    assert client.cache_size(zo.Ticket) == 100
    client.reset_stats()
    with client.capture() as log:
        titles = [client.tickets[pk].title for pk in ids]  # no object stays alive between reads
    assert len(log) == 0
    assert all(isinstance(t, str) for t in titles)
    stats = client.stats()
    # 100 in memory cannot hold 1000 read in order: every read misses memory and hits the disk tier.
    assert stats.memory["Ticket"] == zo.accounting.CacheCounts(misses=len(ids))
    assert stats.persistent["Ticket"] == zo.accounting.CacheCounts(hits=len(ids))
    assert stats.record["Ticket"] == zo.accounting.CacheCounts(hits=len(ids))
    assert first.requests > 0
    client.close()
    # Another client (another process would be the same) on the same directory: the disk tier answers.
    again = zo.Client(thousand.url, http_token=thousand.token)
    with again.capture() as log:
        assert [again.tickets[pk].id for pk in ids] == ids
    assert len(log) == 0
    again.close()


def test_per_client_sizes_and_limits(thousand: Any) -> None:
    client = zo.Client(
        thousand.url,
        http_token=thousand.token,
        cache_sizes={"Ticket": 10},
        persistent_sizes={"Ticket": 50},
        size_limit=2**20,
    )
    cache = client.cache
    assert isinstance(cache, TieredCache)
    disk = cache.persistent
    assert isinstance(disk, DiskRecordCache)
    list(client.tickets.filter(id__lte=80))
    cache.flush()  # the rows of a search reach the disk from the cache's writer thread
    assert client.cache_size(zo.Ticket) == 10
    assert disk.size("Ticket") == 50
    assert disk.limit("Ticket") == 2**20
    assert sum(disk.get("Ticket", pk) is not None for pk in range(1, 81)) == 50
    client.close()
    with pytest.raises(zo.ConfigurationError):
        zo.Client(thousand.url, http_token=thousand.token, size_limit=0)


def _run_report(server: Any, cache_dir: Path, stats: Path) -> dict[str, Any]:
    env = {**os.environ, "ZAMMAD_URL": server.url, "ZAMMAD_HTTP_TOKEN": server.token}
    env["ZAMMAD_ORM_CACHE_DIR"] = str(cache_dir)  # the default setting, in this test's directory
    env.pop("ZAMMAD_ORM_CACHE", None)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm.testing.report", "--stats", str(stats)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Helpdesk report for" in done.stdout
    result: dict[str, Any] = json.loads(stats.read_text())
    return result


def test_the_demo_report_run_twice_reads_related_objects_from_the_cache(
    private_cache_dir: Path, tmp_path: Path
) -> None:
    with Emulator(demo=300, seed=11) as server:
        first = _run_report(server, private_cache_dir, tmp_path / "first.json")
        second = _run_report(server, private_cache_dir, tmp_path / "second.json")
        # A third run after the tickets' max_age (0: every ticket reply is old; the users, organizations and
        # other replies are still fresh): one conditional request per search page.
        late = zo.Client(server.url, http_token=server.token, max_age={"Ticket": 0})
        with late.capture() as log:
            assert "Helpdesk report for" in report.build(late)
        late.close()
    # The second process finds the users, organizations and roles the first one cached on disk...
    assert sum(c["hits"] for c in second["persistent"].values()) > 0
    assert sum(c["hits"] for c in first["persistent"].values()) == 0  # (the first found an empty cache)
    assert sum(c["misses"] for c in second["record"].values()) == 0
    # ...and within max_age the replies of its searches, counts and listings, the server's version and its
    # reference tables (kept a day) too: no request at all.
    # (Every request of the first run was a reply the cache did not hold; a page asked for ahead may still
    # have been on the wire when the counters were written.)
    assert 0 < first["requests"] <= sum(c["misses"] for c in first["replies"].values())
    assert (second["requests"], second["by_endpoint"]) == (0, {})
    assert sum(c["misses"] + c["revalidations"] for c in second["replies"].values()) == 0
    # After max_age: no request for a related object, and one request per search page, each a 304.
    assert 0 < len(log) <= first["by_endpoint"]["tickets/search"]
    assert {(r.endpoint, r.status) for r in log} == {("tickets/search", 304)}
    assert len({tuple(sorted((r.params or {}).items())) for r in log}) == len(log)  # each page once


def test_per_model_class_attributes_size_the_persistent_tier(
    thousand: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zo.Ticket, "PERSISTENT_CACHE_SIZE", 30)
    monkeypatch.setattr(zo.Ticket, "PERSISTENT_CACHE_BYTES", 2**21)
    client = zo.Client(thousand.url, http_token=thousand.token, size_limit=2**22)
    list(client.tickets.filter(id__lte=60))
    list(client.users.filter(id__lte=5))
    cache = client.cache
    assert isinstance(cache, TieredCache)
    disk = cache.persistent
    assert isinstance(disk, DiskRecordCache)
    assert (disk.size("Ticket"), disk.limit("Ticket")) == (30, 2**21)
    assert (disk.size("User"), disk.limit("User")) == (-1, 2**22)  # the client's size_limit
    cache.flush()  # the rows of a search reach the disk from the cache's writer thread
    assert sum(disk.get("Ticket", pk) is not None for pk in range(1, 61)) == 30
    client.close()
