"""RedisRecordCache against a real redis-server (REDIS_URL, default redis://127.0.0.1:6379/15).

Every test works in namespaces of its own and deletes only those keys; the database is never flushed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

import zammad_orm as zo
from tests.unit.test_cache import (
    CONTRACT,
    DEFAULTS,
    OPS,
    SIZES,
    ModelLRU,
    check_non_json_record,
    keys,
    must,
    rec,
    run_against_model,
)
from zammad_orm.accounting import Accounting, CacheCounts
from zammad_orm.cache import MemoryRecordCache, RedisRecordCache, TieredCache, make_cache
from zammad_orm.errors import CacheError, CacheWarning

from .conftest import make_client, sent

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def _server_answers() -> str | None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        return f"no redis-server answers at {REDIS_URL} ({exc}); start one or set REDIS_URL"
    finally:
        client.close()  # an unclosed socket is a ResourceWarning whenever the collector finds it
    return None


_WHY_NOT = _server_answers()
if _WHY_NOT is not None and os.environ.get("ZAMMAD_ORM_REQUIRE_REDIS"):
    # CI starts a redis-server and sets this: there, a missing server is a failure, not a skip.
    raise RuntimeError(_WHY_NOT)
pytestmark = [pytest.mark.redis, pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or "")]


def _drop_namespace(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    stale = list(client.scan_iter(match=f"zammad_orm:{{{namespace}:*"))
    if stale:
        client.delete(*stale)
    client.close()


@pytest.fixture
def redis_cache() -> Iterator[Callable[..., RedisRecordCache]]:
    made: list[RedisRecordCache] = []

    def make(namespace: str | None = None, **kwargs: Any) -> RedisRecordCache:
        cache = RedisRecordCache(REDIS_URL, namespace=namespace or f"test-{uuid.uuid4().hex}", **kwargs)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        _drop_namespace(cache.namespace)
        cache.close()


@pytest.mark.parametrize("check", [*CONTRACT, check_non_json_record])
def test_redis_contract(check: Callable[..., None], redis_cache: Callable[..., RedisRecordCache]) -> None:
    check(redis_cache)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=SIZES, default=DEFAULTS, ops=OPS)
@example(
    sizes={},
    default=2,
    ops=[("set", "User", 1, 0), ("set", "User", 2, 0), ("get", "User", 1), ("set", "User", 3, 0)],
)
def test_redis_agrees_with_model_lru(sizes: dict[str, int], default: int, ops: list[tuple[Any, ...]]) -> None:
    cache = RedisRecordCache(
        REDIS_URL, namespace=f"prop-{uuid.uuid4().hex}", sizes=sizes, default_size=default
    )
    try:
        run_against_model(cache, ModelLRU(sizes, default), ops)
    finally:
        _drop_namespace(cache.namespace)
        cache.close()


def test_values_are_json_in_one_slot(redis_cache: Callable[..., RedisRecordCache]) -> None:
    cache = redis_cache(sizes={"Ticket": 5})
    cache.set("Ticket", 42, rec(42))
    raw = cache.redis.hget(f"zammad_orm:{{{cache.namespace}:Ticket}}:records", "42")
    assert isinstance(raw, bytes)
    entry = json.loads(raw)
    assert entry["record"] == rec(42)
    assert entry["updated_at"] == rec(42)["updated_at"]
    assert isinstance(entry["fetched_at"], float)
    found = sorted(k.decode() for k in cache.redis.scan_iter(match=f"zammad_orm:{{{cache.namespace}:*"))
    base = f"zammad_orm:{{{cache.namespace}:Ticket}}"
    assert found == [f"{base}:clock", f"{base}:lru", f"{base}:records"]


def test_corrupt_entry_is_cache_error(redis_cache: Callable[..., RedisRecordCache]) -> None:
    cache = redis_cache()
    records = f"zammad_orm:{{{cache.namespace}:Ticket}}:records"
    cache.redis.hset(records, "1", b"\x80\x04\x95 pickled-looking bytes")
    cache.redis.hset(records, "2", json.dumps({"record": [1], "fetched_at": 1.0, "updated_at": None}))
    with pytest.raises(CacheError, match="not JSON"):
        cache.get("Ticket", 1)
    with pytest.raises(CacheError, match="expected shape"):
        cache.get("Ticket", 2)
    cache.set("Ticket", 1, rec(1))  # writing the id again repairs it
    assert must(cache, "Ticket", 1).record == rec(1)


def test_shared_across_instances_and_processes(redis_cache: Callable[..., RedisRecordCache]) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    a = redis_cache(namespace, sizes={"Ticket": 3})
    b = redis_cache(namespace, sizes={"Ticket": 3})
    for pk in (1, 2, 3):
        a.set("Ticket", pk, rec(pk))
    assert must(b, "Ticket", 1).record == rec(1)  # b's read makes 1 the most recent for everyone
    script = (
        "import sys\n"
        "from zammad_orm.cache import RedisRecordCache\n"
        "c = RedisRecordCache(sys.argv[1], namespace=sys.argv[2], sizes={'Ticket': 3})\n"
        "c.set('Ticket', 4, {'id': 4, 'from': 'child'})\n"
        "print(c.get('Ticket', 3).record['id'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, REDIS_URL, namespace],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "3"
    # the child evicted the least recently used entry (2), then touched 3
    assert keys(a, "Ticket", range(1, 5)) == [1, 3, 4]
    assert must(a, "Ticket", 4).record == {"id": 4, "from": "child"}


def test_namespaces_isolate(redis_cache: Callable[..., RedisRecordCache]) -> None:
    a, b = redis_cache(), redis_cache()
    a.set("Ticket", 1, rec(1, title="a"))
    b.set("Ticket", 1, rec(1, title="b"))
    b.clear()
    assert b.get("Ticket", 1) is None
    assert must(a, "Ticket", 1).record["title"] == "a"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_unreachable_server_is_cache_error_without_password() -> None:
    cache = RedisRecordCache(f"redis://:hunter2@127.0.0.1:{_closed_port()}/15", namespace="nobody")
    with pytest.raises(CacheError, match="redis cache") as info:
        cache.set("Ticket", 1, rec(1))
    assert "hunter2" not in str(info.value)
    with pytest.raises(CacheError):
        cache.get("Ticket", 1)
    cache.close()


def test_a_client_whose_redis_is_gone_warns_once_and_goes_on_in_memory() -> None:
    cache = make_cache(f"redis://:hunter2@127.0.0.1:{_closed_port()}/15", namespace="nobody")
    assert isinstance(cache, TieredCache)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache.set("Ticket", 1, rec(1))
        cache.set("Ticket", 2, rec(2))
        found = [cache.get("Ticket", 1), cache.get("Ticket", 3)]
    assert [w.category for w in caught] == [CacheWarning]
    assert "hunter2" not in str(caught[0].message)
    assert "memory only" in str(caught[0].message)
    assert cache.persistent is None
    assert found[0] is not None
    assert found[1] is None
    cache.close()


def test_redis_tier_behind_memory(redis_cache: Callable[..., RedisRecordCache]) -> None:
    accounting = Accounting()
    redis_tier = redis_cache()
    cache = TieredCache(MemoryRecordCache(sizes={"Ticket": 2}), redis_tier, on_lookup=accounting.lookup)
    cache.set_many("Ticket", [(pk, rec(pk), None) for pk in range(1, 6)])
    assert cache.memory.get("Ticket", 1) is None
    entry = cache.get("Ticket", 1)  # from Redis, promoted into memory as it is
    assert entry is not None
    assert cache.memory.get("Ticket", 1) is entry
    assert accounting.snapshot().persistent["Ticket"] == CacheCounts(hits=1)
    cache.flush()  # batches reach Redis from the cache's writer thread
    # Another process: an empty memory tier over the same namespace.
    other = TieredCache(MemoryRecordCache(), redis_cache(namespace=redis_tier.namespace))
    assert [pk for pk in range(1, 7) if other.get("Ticket", pk)] == [1, 2, 3, 4, 5]
    other.delete("Ticket", 5)
    assert redis_tier.get("Ticket", 5) is None
    cache.configure_persistent("Ticket", 2)  # the Redis tier's own size: LRU of 2
    assert [pk for pk in range(1, 6) if redis_tier.get("Ticket", pk)] == [3, 4]


def test_clients_sharing_redis_load_repeatedly_without_requests(emulator: Any) -> None:
    first = make_client(emulator, cache=REDIS_URL)
    assert isinstance(first.cache, TieredCache)
    assert isinstance(first.cache.persistent, RedisRecordCache)
    namespace = first.cache.persistent.namespace
    try:
        ticket = first.tickets.get(1)
        assert (ticket.group.name, ticket.state.name, ticket.customer.login) == (
            "Users",
            "new",
            "nicole.braun@zammad.org",
        )
        first.close()  # also closes the Redis cache the client built from its URL
        second = make_client(emulator, cache=REDIS_URL)  # another process or host, same server and user
        assert isinstance(second.cache, TieredCache)
        assert isinstance(second.cache.persistent, RedisRecordCache)
        assert second.cache.persistent.namespace == namespace
        group = second.resolve(zo.Group, 1)
        state = second.resolve(zo.TicketState, ticket.state_id)
        customer = second.resolve(zo.User, 2)
        assert (group.name, state.name, customer.login) == ("Users", "new", "nicole.braun@zammad.org")
        assert sent(second).count == 0  # every load came from Redis
        assert second.stats().persistent["User"].hits == 1  # from Redis, not from this process's memory
        second.configure_cache(zo.User, 0)  # the memory tier's size: users are read from Redis alone
        assert second.cache.memory.get("User", 2) is None
        assert second.cache.get("User", 2) is not None
        second.cache.configure_persistent("User", 0)  # Redis's size too: users are not cached at all
        assert second.cache.get("User", 2) is None
        assert second.cache_size(zo.User) == 0
        assert second.cache.get("Ticket", 1) is not None  # the other models stay cached
        second.close()
    finally:
        _drop_namespace(namespace)
