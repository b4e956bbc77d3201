"""zammad_orm's record caches: get and put of a ticket record; a persistent cache that outlives a client.

Get/put: a real ticket record (``GET /api/v1/tickets/42`` of a demo emulator, about 1 KB of JSON) is
stored under 1,000 ids with ``cache.set("Ticket", pk, record)`` and read back with
``cache.get("Ticket", pk)``; a round times all 1,000 calls, the figure is the median per call over 5
rounds. Backends: ``MemoryRecordCache``, ``DiskRecordCache`` (diskcache/SQLite in a temporary
directory, JSON only), ``RedisRecordCache`` (Lua scripts; only when a redis-server answers at
``$REDIS_URL`` or ``redis://127.0.0.1:6379/15``). Peer: zammadoo's in-memory ``LruCache`` (zammad-py
caches nothing; neither peer has a persistent cache).

Persistent load: 1,000 tickets of ``Emulator(demo=1_000)`` (real loopback HTTP) read by id
(``client.tickets[pk].title``) by a new ``zammad_orm.Client(url, http_token=..., cache="disk:<dir>")``
with ``client.configure_cache(Ticket, -1)`` (unbounded), as a new process would: cold (empty directory:
one GET per ticket), cold again but filled first by ``client.tickets.in_bulk(ids)`` (``id:(...)``
searches of 200 ids), and warm (a newer client on the directory the ``in_bulk`` client filled:
everything comes from disk). The last row keeps ``Ticket.DEFAULT_CACHE_SIZE`` (100, least recently
used): reading 1,000 ids in order through an LRU of 100 misses every time. Requests are counted by the
server. Medians of 3 runs.

The demo report twice: ``python -m zammad_orm.testing.report`` (the report of ``zammad-orm demo``) run in
two new Python processes one after the other against ``Emulator(demo=300)``, with the default cache
settings (a disk cache in a new ``$ZAMMAD_ORM_CACHE_DIR``, a memory tier in front): the first fills the
cache, the second reads the related objects from it. Time of each process from start to exit
(interpreter start included) and the requests it sent (its ``client.stats()``). Medians of 3 pairs. The
package is compiled first, as a wheel install has it (``PYTHONDONTWRITEBYTECODE`` would make each run
compile it). The second run finds the replies of the report's searches, counts and listings, the server's
version and its reference tables in the cache (``zammad_orm/reply_cache.py``), all younger than their
``max_age``: it sends no request.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from _measure import counted_emulator, duration, figure
from bench_loop import _compile_package
from zammad_orm.cache import DiskRecordCache, MemoryRecordCache, RecordCache, RedisRecordCache

OPS = 1_000
ROUNDS = 5
LOAD_TICKETS = 1_000
LOAD_ROUNDS = 3
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

Row = tuple[str, str, str]
#: What a persistent cache must beat: one GET of a ticket (about 1.5 ms on loopback, see bench_client).
REMOTE = "well under one GET (~1.5 ms)"


def _per_call(action: Callable[[int], Any]) -> str:
    """Median over ROUNDS of (time of OPS calls / OPS)."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for pk in range(1, OPS + 1):
            action(pk)
        samples.append((time.perf_counter() - start) / OPS)
    return f"{duration(statistics.median(samples))} per call (median of {ROUNDS} rounds of {OPS})"


def _get_put(name: str, cache: RecordCache, record: dict[str, Any], target: str) -> list[Row]:
    put = _per_call(lambda pk: cache.set("Ticket", pk, {**record, "id": pk}))

    def get(pk: int) -> None:
        entry = cache.get("Ticket", pk)
        if entry is None or entry.record["id"] != pk:
            raise RuntimeError(f"{name} lost ticket {pk}")

    got = _per_call(get)
    cache.clear("Ticket")
    return [
        (f"{name}: put a ticket record", put, target),
        (f"{name}: get a ticket record", got, target),
    ]


def _zammadoo_rows(record: dict[str, Any]) -> list[Row]:
    from zammadoo.cache import LruCache

    lru: Any = LruCache(max_size=-1)
    url = "http://127.0.0.1/api/v1/tickets"
    put = _per_call(lambda pk: lru.__setitem__(f"{url}/{pk}", {**record, "id": pk}))

    def get(pk: int) -> None:
        if lru[f"{url}/{pk}"]["id"] != pk:
            raise RuntimeError(f"zammadoo LruCache lost ticket {pk}")

    got = _per_call(get)
    return [
        ("peer zammadoo LruCache (memory only): put a ticket record", put, "peer"),
        ("peer zammadoo LruCache (memory only): get a ticket record", got, "peer"),
    ]


def _redis() -> tuple[str, RedisRecordCache] | None:
    """The Redis cache and a name for its server (version, host and port), or None without a server."""
    import redis

    try:
        server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        version = server.info("server")["redis_version"]
    except (redis.exceptions.RedisError, OSError):
        return None
    where = server.connection_pool.connection_kwargs
    name = f"RedisRecordCache (redis-server {version} at {where.get('host')}:{where.get('port')})"
    return name, RedisRecordCache(REDIS_URL, namespace=f"bench-{uuid.uuid4().hex}")


def get_put_rows(record: dict[str, Any]) -> list[Row]:
    rows = _get_put("MemoryRecordCache", MemoryRecordCache(), record, "≤ peer (zammadoo LruCache)")
    with tempfile.TemporaryDirectory() as directory:
        rows += _get_put("DiskRecordCache", DiskRecordCache(directory, namespace="bench"), record, REMOTE)
    redis_cache = _redis()
    if redis_cache is None:
        missing = f"not measured: no redis-server at {REDIS_URL}"
        rows += [
            ("RedisRecordCache: put a ticket record", missing, REMOTE),
            ("RedisRecordCache: get a ticket record", missing, REMOTE),
        ]
    else:
        rows += _get_put(*redis_cache, record, REMOTE)
    return rows + _zammadoo_rows(record)


@contextmanager
def _directories() -> Iterator[Callable[[], str]]:
    """Hand out new empty cache directories, removed at the end."""
    with tempfile.TemporaryDirectory() as root:
        made = iter(range(1_000_000))
        yield lambda: os.path.join(root, str(next(made)))


def persistent_rows(emulator: Any, counter: Any) -> list[Row]:
    import zammad_orm as zo

    ids = list(range(1, LOAD_TICKETS + 1))

    def client(directory: str, size: int = -1) -> zo.Client:
        c = zo.Client(emulator.url, http_token=emulator.token, cache=f"disk:{directory}")
        c.configure_cache(zo.Ticket, size)
        return c

    def read_all(c: zo.Client) -> int:
        return sum(1 for pk in ids if c.tickets[pk].title)

    def fill_by_search(c: zo.Client) -> int:
        return len(c.tickets.in_bulk(ids))

    default = zo.Ticket.DEFAULT_CACHE_SIZE
    cold, bulk, warm, bounded = [], [], [], []
    with _directories() as new_directory:
        for _ in range(LOAD_ROUNDS):
            directory = new_directory()
            cold.append(counter.timed(lambda d=directory: read_all(client(d))))
            directory = new_directory()
            bulk.append(counter.timed(lambda d=directory: fill_by_search(client(d))))
            warm.append(counter.timed(lambda d=directory: read_all(client(d))))
            directory = new_directory()
            fill_by_search(client(directory, default))
            bounded.append(counter.timed(lambda d=directory: read_all(client(d, default))))
    for name, samples in (("cold", cold), ("in_bulk", bulk), ("warm", warm), ("bounded", bounded)):
        if any(s[2] != LOAD_TICKETS for s in samples):
            raise RuntimeError(f"{name} load did not read {LOAD_TICKETS} tickets")

    def fig(samples: list[tuple[float, int, Any]]) -> str:
        return figure([s[0] for s in samples], [s[1] for s in samples])

    what = f"{LOAD_TICKETS} tickets by id in a new client, disk cache"
    return [
        (f"{what}, cold (empty directory)", fig(cold), "1 request per ticket"),
        (f"{what}, cold, filled by in_bulk(ids)", fig(bulk), "1 request per 200 tickets"),
        (f"{what}, warm (directory of an earlier client)", fig(warm), "0 requests"),
        (
            f"{what}, warm, default Ticket cache size ({default}, LRU)",
            fig(bounded),
            "0 requests (the LRU of 100 is the memory tier; the disk tier holds all)",
        ),
    ]


REPORT_TICKETS = 300
REPORT_PAIRS = 3


def _report_process(emulator: Any, directory: str, stats: str) -> tuple[float, int]:
    """Run the demo report in a new Python process; its seconds and the requests it sent."""
    env = {**os.environ, "ZAMMAD_URL": emulator.url, "ZAMMAD_HTTP_TOKEN": emulator.token}
    env["ZAMMAD_ORM_CACHE_DIR"] = directory
    env.pop("ZAMMAD_ORM_CACHE", None)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "zammad_orm.testing.report", "--stats", stats],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    with open(stats, encoding="utf-8") as file:
        return elapsed, int(json.load(file)["requests"])


def report_rows() -> list[Row]:
    from zammad_orm.testing import Emulator

    _compile_package()  # as a wheel install has it: no run compiles the package (PYTHONDONTWRITEBYTECODE)

    first: list[tuple[float, int]] = []
    second: list[tuple[float, int]] = []
    with Emulator(demo=REPORT_TICKETS, seed=11) as emulator, _directories() as new_directory:
        for _ in range(REPORT_PAIRS):
            directory = new_directory()
            stats = os.path.join(tempfile.gettempdir(), f"bench-report-{uuid.uuid4().hex}.json")
            try:
                first.append(_report_process(emulator, directory, stats))
                second.append(_report_process(emulator, directory, stats))
            finally:
                os.unlink(stats)
    ratio = statistics.median(b[0] / a[0] for a, b in zip(first, second, strict=True))
    what = f"demo report ({REPORT_TICKETS} tickets) in a new process, default cache"
    return [
        (f"{what}, first run", figure([s[0] for s in first], [s[1] for s in first]), "—"),
        (
            f"{what}, second run (same cache directory)",
            figure([s[0] for s in second], [s[1] for s in second]) + f"; {ratio:.2f}× the first",
            "≤ 0.5× the first run",
        ),
    ]


def run() -> list[Row]:
    with counted_emulator(LOAD_TICKETS) as (emulator, counter):
        record = emulator.client().get("tickets/42")
        rows = get_put_rows(record) + persistent_rows(emulator, counter)
    return rows + report_rows()


if __name__ == "__main__":
    for measure, fig, target in run():
        print(f"{measure}: {fig} (target {target})")
