"""Record caches: the shared contract (memory, disk), disk specifics (files, modes, pickle refusal),
and a hypothesis property comparing every backend with a model LRU.

The ``check_*`` functions take a cache factory so ``tests/integration/test_cache_redis.py`` runs the
same contract against a real Redis server.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import diskcache
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zammad_orm.cache import (
    CachedRecord,
    DiskRecordCache,
    MemoryRecordCache,
    NullRecordCache,
    RecordCache,
    RedisRecordCache,
    TieredCache,
    cache_namespace,
    default_cache_dir,
    make_cache,
)
from zammad_orm.cache.factory import cache_kind
from zammad_orm.errors import CacheError, ConfigurationError, FieldError

Factory = Callable[..., Any]  # (sizes=..., default_size=...) -> a fresh, empty cache


def rec(pk: int, **extra: Any) -> dict[str, Any]:
    return {"id": pk, "title": f"t{pk}", "updated_at": f"2026-01-01T00:00:{pk % 60:02d}.000Z", **extra}


def must(cache: Any, model: str, pk: int) -> CachedRecord:
    found = cache.get(model, pk)
    assert isinstance(found, CachedRecord), (model, pk)
    return found


def keys(cache: Any, model: str, pks: range | list[int]) -> list[int]:
    return [pk for pk in pks if cache.get(model, pk) is not None]


# --- the contract every backend keeps -------------------------------------------------------------------


def check_roundtrip(make: Factory) -> None:
    cache = make()
    before = time.time()
    cache.set("Ticket", 1, rec(1, nested={"tags": ["a", "ü"], "n": None, "f": 1.5}))
    cache.set("Ticket", 2, rec(2), updated_at="explicit")
    cache.set("Ticket", 3, {"id": 3})
    after = time.time()
    got = cache.get("Ticket", 1)
    assert isinstance(got, CachedRecord)
    assert got.record == rec(1, nested={"tags": ["a", "ü"], "n": None, "f": 1.5})
    assert got.updated_at == "2026-01-01T00:00:01.000Z"
    assert before - 1 <= got.fetched_at <= after + 1
    assert got.age >= -1
    assert must(cache, "Ticket", 2).updated_at == "explicit"
    assert must(cache, "Ticket", 3).updated_at is None
    assert cache.get("Ticket", 4) is None
    assert cache.get("User", 1) is None  # models are separate


def check_etag(make: Factory) -> None:
    cache = make()
    cache.set("Ticket", 1, rec(1), etag='W/"abc"')
    assert must(cache, "Ticket", 1).etag == 'W/"abc"'
    cache.set("Ticket", 2, rec(2))
    assert must(cache, "Ticket", 2).etag is None
    cache.set("Ticket", 1, rec(1, title="new"))  # a write without an ETag drops the old one
    assert must(cache, "Ticket", 1).etag is None
    cache.set("Ticket", 3, rec(3), etag='W/"x"')
    cache.set_many("Ticket", [(3, rec(3), None)])  # batch writes (pages, searches) carry no ETag
    assert must(cache, "Ticket", 3).etag is None


def check_overwrite_delete_clear(make: Factory) -> None:
    cache = make()
    cache.set("Ticket", 1, rec(1))
    cache.set("Ticket", 1, rec(1, title="new"))
    assert must(cache, "Ticket", 1).record["title"] == "new"
    for pk in range(2, 5):
        cache.set("Ticket", pk, rec(pk))
        cache.set("User", pk, rec(pk))
    cache.delete("Ticket", 2)
    cache.delete("Ticket", 99)  # missing: no error
    assert keys(cache, "Ticket", range(1, 5)) == [1, 3, 4]
    cache.clear("Ticket")
    assert keys(cache, "Ticket", range(1, 5)) == []
    assert keys(cache, "User", range(1, 5)) == [2, 3, 4]
    cache.clear()
    assert keys(cache, "User", range(1, 5)) == []


def check_lru_order(make: Factory) -> None:
    cache = make(sizes={"Ticket": 3})
    for pk in (1, 2, 3):
        cache.set("Ticket", pk, rec(pk))
    assert cache.get("Ticket", 1) is not None  # 1 is now the most recent; 2 the least
    cache.set("Ticket", 4, rec(4))
    assert keys(cache, "Ticket", range(1, 6)) == [1, 3, 4]
    cache.set("Ticket", 3, rec(3, title="again"))  # a write is a use too
    cache.set("Ticket", 5, rec(5))
    cache.set("Ticket", 6, rec(6))
    assert keys(cache, "Ticket", range(1, 7)) == [3, 5, 6]


def check_set_many(make: Factory) -> None:
    cache = make(sizes={"Ticket": 3, "Off": 0})
    if not hasattr(cache, "set_many"):
        return  # optional: the loader falls back to set() one record at a time
    cache.set("Ticket", 9, rec(9))
    cache.set_many(
        "Ticket", [(pk, rec(pk), None) for pk in (1, 2, 3, 4)] + [(2, rec(2, title="again"), None)]
    )
    assert keys(cache, "Ticket", range(1, 10)) == [2, 3, 4]  # the last 3 writes, as five set() calls
    assert must(cache, "Ticket", 2).record["title"] == "again"
    assert must(cache, "Ticket", 3).updated_at == rec(3)["updated_at"]
    cache.set_many("Off", [(1, rec(1), None)])
    assert cache.get("Off", 1) is None
    with pytest.raises(FieldError, match="integer ids"):
        cache.set_many("Ticket", [("1", rec(1), None)])


def check_sizes(make: Factory) -> None:
    cache = make(sizes={"Off": 0, "Big": -1})
    cache.set("Off", 1, rec(1))
    assert cache.get("Off", 1) is None
    for pk in range(300):
        cache.set("Big", pk, rec(pk))
    assert len(keys(cache, "Big", range(300))) == 300
    # shrinking evicts the oldest at once; 0 drops everything; growing keeps what is there
    cache.configure("Big", 10)
    assert keys(cache, "Big", range(300)) == list(range(290, 300))
    cache.configure("Big", 50)
    assert keys(cache, "Big", range(300)) == list(range(290, 300))
    cache.configure("Big", 0)
    cache.configure("Big", -1)
    assert keys(cache, "Big", range(300)) == []
    default_off = make(default_size=0)
    default_off.set("Anything", 1, rec(1))
    default_off.configure("Anything", 5)
    assert default_off.get("Anything", 1) is None


def check_bad_input(make: Factory) -> None:
    cache = make()
    with pytest.raises(ConfigurationError, match="model name"):
        cache.set("../etc", 1, rec(1))
    with pytest.raises(ConfigurationError, match="model name"):
        cache.configure("", 1)
    with pytest.raises(ConfigurationError, match="size"):
        cache.configure("Ticket", -2)
    with pytest.raises(ConfigurationError, match="size"):
        cache.configure("Ticket", True)
    with pytest.raises(FieldError, match="integer ids"):
        cache.set("Ticket", "1", rec(1))
    with pytest.raises(FieldError, match="dict"):
        cache.set("Ticket", 1, [1, 2])
    with pytest.raises(ConfigurationError):
        make(sizes={"Ticket": -5})


def check_non_json_record(make: Factory) -> None:
    cache = make()
    with pytest.raises(CacheError, match="not plain JSON"):
        cache.set("Ticket", 1, {"when": object()})
    with pytest.raises(CacheError, match="not plain JSON"):
        cache.set("Ticket", 1, {"x": float("nan")})
    assert cache.get("Ticket", 1) is None  # nothing half-written


def check_threads(make: Factory) -> None:
    cache = make(sizes={"Ticket": 20})
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for pk in range(offset, offset + 50):
                cache.set("Ticket", pk, rec(pk))
                cache.get("Ticket", pk - 3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 1000,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    live = [
        pk for i in range(6) for pk in range(i * 1000, i * 1000 + 50) if cache.get("Ticket", pk) is not None
    ]
    assert len(live) == 20


CONTRACT = [
    check_roundtrip,
    check_etag,
    check_overwrite_delete_clear,
    check_lru_order,
    check_set_many,
    check_sizes,
    check_bad_input,
    check_threads,
]


# --- the model LRU the property compares with ------------------------------------------------------------


class ModelLRU:
    """The documented semantics, written as plainly as possible."""

    def __init__(self, sizes: Mapping[str, int], default_size: int) -> None:
        self.sizes = dict(sizes)
        self.default = default_size
        self.data: dict[str, OrderedDict[int, dict[str, Any]]] = {}

    def size(self, model: str) -> int:
        return self.sizes.get(model, self.default)

    def get(self, model: str, pk: int) -> dict[str, Any] | None:
        entries = self.data.get(model, OrderedDict())
        if self.size(model) == 0 or pk not in entries:
            return None
        if self.size(model) > 0:
            entries.move_to_end(pk)
        return entries[pk]

    def set(self, model: str, pk: int, record: dict[str, Any]) -> None:
        if self.size(model) == 0:
            return
        entries = self.data.setdefault(model, OrderedDict())
        entries.pop(pk, None)
        entries[pk] = record
        self.shrink(model)

    def shrink(self, model: str) -> None:
        entries = self.data.setdefault(model, OrderedDict())
        while self.size(model) > 0 and len(entries) > self.size(model):
            entries.popitem(last=False)

    def configure(self, model: str, size: int) -> None:
        self.sizes[model] = size
        if size == 0:
            self.data.pop(model, None)
        self.shrink(model)


MODELS = st.sampled_from(["Ticket", "Ticket", "Ticket", "User"])
PKS = st.integers(min_value=1, max_value=4)
OP = {
    "set": st.tuples(st.just("set"), MODELS, PKS, st.integers(0, 3)),
    "get": st.tuples(st.just("get"), MODELS, PKS),
    # several (pk, version) stored by one set_many call (a page of records), like set for each in order
    "set_many": st.tuples(
        st.just("set_many"), MODELS, st.lists(st.tuples(PKS, st.integers(0, 3)), max_size=6)
    ),
    "delete": st.tuples(st.just("delete"), MODELS, PKS),
    "configure": st.tuples(st.just("configure"), MODELS, st.sampled_from([-1, 0, 1, 2, 3])),
    "clear": st.tuples(st.just("clear"), st.sampled_from(["User", "Ticket", None])),
}
OPS = st.lists(
    st.sampled_from(["set"] * 5 + ["get"] * 5 + ["set_many"] * 2 + ["delete", "configure", "clear"]).flatmap(
        OP.__getitem__
    )
)
SIZES = st.dictionaries(MODELS, st.sampled_from([-1, 0, 1, 2, 3]), max_size=2)
DEFAULTS = st.sampled_from([-1, 2, 3])


def check_state(cache: Any, model: ModelLRU) -> None:
    """Compare every key. Reading the model's keys oldest first leaves both recency orders as they were."""
    for m in ("Ticket", "User"):
        entries = model.data.get(m, OrderedDict()) if model.size(m) != 0 else OrderedDict()
        for pk in list(entries):
            got = cache.get(m, pk)
            assert got is not None, (m, pk)
            assert got.record == model.get(m, pk)
        for pk in range(1, 5):
            if pk not in entries:
                assert cache.get(m, pk) is None, (m, pk)


def run_against_model(cache: Any, model: ModelLRU, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        kind = op[0]
        if kind == "set":
            _, m, pk, version = op
            record = {"id": pk, "v": version}
            cache.set(m, pk, record)
            model.set(m, pk, record)
        elif kind == "set_many":
            _, m, items = op
            records = [(pk, {"id": pk, "v": version}, None) for pk, version in items]
            cache.set_many(m, records)
            for pk, record, _ in records:
                model.set(m, pk, record)
        elif kind == "get":
            _, m, pk = op
            got = cache.get(m, pk)
            assert (None if got is None else got.record) == model.get(m, pk), op
        elif kind == "delete":
            cache.delete(op[1], op[2])
            model.data.get(op[1], OrderedDict()).pop(op[2], None)
        elif kind == "configure":
            cache.configure(op[1], op[2])
            model.configure(op[1], op[2])
        else:
            cache.clear(op[1])
            if op[1] is None:
                model.data.clear()
            else:
                model.data.pop(op[1], None)
        check_state(cache, model)


# --- memory ----------------------------------------------------------------------------------------------


def memory(**kwargs: Any) -> MemoryRecordCache:
    return MemoryRecordCache(**kwargs)


@pytest.mark.parametrize("check", CONTRACT)
def test_memory_contract(check: Callable[[Factory], None]) -> None:
    check(memory)


@settings(max_examples=300, deadline=None)
@given(sizes=SIZES, default=DEFAULTS, ops=OPS)
@example(
    sizes={},
    default=2,
    ops=[("set", "User", 1, 0), ("set", "User", 2, 0), ("get", "User", 1), ("set", "User", 3, 0)],
)
@example(
    sizes={"Ticket": 2},
    default=2,
    ops=[
        ("set", "Ticket", 4, 0),
        ("set_many", "Ticket", [(1, 0), (2, 0), (1, 1), (3, 2)]),
        ("get", "Ticket", 1),
    ],
)
def test_memory_agrees_with_model_lru(
    sizes: dict[str, int], default: int, ops: list[tuple[Any, ...]]
) -> None:
    run_against_model(MemoryRecordCache(sizes=sizes, default_size=default), ModelLRU(sizes, default), ops)


# --- disk ------------------------------------------------------------------------------------------------


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Factory]:
    opened: list[DiskRecordCache] = []
    counter = iter(range(1000))

    def make(**kwargs: Any) -> DiskRecordCache:
        cache = DiskRecordCache(tmp_path / "cache", namespace=f"ns{next(counter)}", **kwargs)
        opened.append(cache)
        return cache

    yield make
    for cache in opened:
        cache.close()


@pytest.mark.parametrize("check", [*CONTRACT, check_non_json_record])
def test_disk_contract(check: Callable[[Factory], None], disk: Factory) -> None:
    check(disk)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=SIZES, default=DEFAULTS, ops=OPS)
@example(
    sizes={},
    default=2,
    ops=[("set", "User", 1, 0), ("set", "User", 2, 0), ("get", "User", 1), ("set", "User", 3, 0)],
)
def test_disk_agrees_with_model_lru(sizes: dict[str, int], default: int, ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = DiskRecordCache(tmp, namespace="prop", sizes=sizes, default_size=default)
        try:
            run_against_model(cache, ModelLRU(sizes, default), ops)
        finally:
            cache.close()


def test_disk_directories_are_private(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "cache"
    cache = DiskRecordCache(root, namespace="abc")
    cache.set("Ticket", 1, rec(1))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "abc").stat().st_mode) == 0o700
    assert any((root / "abc" / "Ticket").iterdir())  # real files were written
    cache.close()
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    DiskRecordCache(loose, namespace="abc").close()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_disk_unusable_directory_is_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="private cache directory"):
        DiskRecordCache(blocker / "cache", namespace="abc")


def test_disk_persists_across_instances(tmp_path: Path) -> None:
    first = DiskRecordCache(tmp_path, namespace="server-a", sizes={"Ticket": 2})
    for pk in (1, 2, 3):
        first.set("Ticket", pk, rec(pk))
    first.set("User", 7, rec(7))
    first.close()
    second = DiskRecordCache(tmp_path, namespace="server-a", sizes={"Ticket": 2})
    assert keys(second, "Ticket", range(1, 4)) == [2, 3]
    assert must(second, "User", 7).record == rec(7)
    second.clear()  # also models this instance has not opened yet
    second.close()
    third = DiskRecordCache(tmp_path, namespace="server-a")
    assert third.get("User", 7) is None
    third.close()


def test_disk_lru_order_survives_reopening(tmp_path: Path) -> None:
    a = DiskRecordCache(tmp_path, namespace="n", sizes={"Ticket": 3})
    for pk in (1, 2, 3):
        a.set("Ticket", pk, rec(pk))
    a.get("Ticket", 1)
    a.close()
    b = DiskRecordCache(tmp_path, namespace="n", sizes={"Ticket": 3})
    b.set("Ticket", 4, rec(4))
    assert keys(b, "Ticket", range(1, 5)) == [1, 3, 4]
    b.close()


def test_disk_namespaces_isolate(tmp_path: Path) -> None:
    ns_a = cache_namespace("https://a.example.com", "token:1")
    ns_b = cache_namespace("https://b.example.com", "token:1")
    a = DiskRecordCache(tmp_path, namespace=ns_a)
    b = DiskRecordCache(tmp_path, namespace=ns_b)
    a.set("Ticket", 1, rec(1, title="from a"))
    assert b.get("Ticket", 1) is None
    b.set("Ticket", 1, rec(1, title="from b"))
    b.clear()
    assert must(a, "Ticket", 1).record["title"] == "from a"
    a.close()
    b.close()


class Exploit:
    """Unpickling this would create a file: proof that nothing was unpickled if the file is absent."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.target,))


def test_disk_refuses_planted_pickles(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path / "c", namespace="n", sizes={"Ticket": 2})
    cache.set("Ticket", 1, rec(1))
    proof = tmp_path / "pwned"
    plain = diskcache.Cache(str(cache.path("Ticket")))  # the default Disk pickles non-basic values
    plain.set(2, {"record": rec(2), "fetched_at": 1.0, "updated_at": None})
    plain.set(3, Exploit(proof))
    plain.set(4, "not json at all")
    plain.close()
    for pk in (2, 3):
        with pytest.raises(CacheError, match="refusing to load a pickled value"):
            cache.get("Ticket", pk)
    with pytest.raises(CacheError, match="not JSON"):
        cache.get("Ticket", 4)
    assert not proof.exists()
    # Writing the id again replaces the bad entry; eviction gets rid of planted entries by key.
    cache.set("Ticket", 2, rec(2))
    assert must(cache, "Ticket", 2).record == rec(2)
    cache.set("Ticket", 5, rec(5))
    assert not proof.exists()
    assert keys(cache, "Ticket", [1, 2, 5]) == [2, 5]
    cache.close()


def test_disk_refuses_pickled_keys(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path, namespace="n", sizes={"Ticket": 1})
    plain = diskcache.Cache(str(cache.path("Ticket")))
    plain.set(("tuple", "key"), "x")  # a tuple key is pickled by the default Disk
    plain.close()
    with pytest.raises(CacheError, match="pickled key"):
        cache.set("Ticket", 1, rec(1))  # eviction meets the pickled key first
    cache.clear("Ticket")
    cache.set("Ticket", 1, rec(1))
    assert must(cache, "Ticket", 1).record == rec(1)
    cache.close()


def test_disk_large_records_stay_in_the_database(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path, namespace="n", sizes={"Article": 1})
    big = rec(1, body="x" * 100_000)
    cache.set("Article", 1, big)
    assert must(cache, "Article", 1).record == big
    # No file of its own (diskcache would write one beyond 32 KiB, with the process's umask).
    assert list(cache.path("Article").rglob("*.val")) == []
    cache.set("Article", 2, rec(2))
    assert cache.get("Article", 1) is None
    cache.close()


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZAMMAD_ORM_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    cache = make_cache("disk", namespace="n")
    assert isinstance(cache, TieredCache)
    assert isinstance(cache.persistent, DiskRecordCache)
    assert cache.persistent.root == tmp_path / "here" / "n"
    cache.close()
    monkeypatch.delenv("ZAMMAD_ORM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert default_cache_dir() == tmp_path / "xdg" / "zammad_orm"


# --- null, make_cache, namespace -----------------------------------------------------------------------


def test_null_cache_keeps_nothing() -> None:
    cache = NullRecordCache()
    cache.configure("Ticket", 10)
    cache.set("Ticket", 1, rec(1))
    assert cache.get("Ticket", 1) is None
    assert cache.size("Ticket") == 0
    cache.delete("Ticket", 1)
    cache.clear()
    with pytest.raises(ConfigurationError):
        cache.configure("Ticket", -3)


def test_cache_kind_names_the_backend_of_a_setting(tmp_path: Path) -> None:
    assert [cache_kind(s) for s in (None, True, "memory", False)] == ["disk", "disk", "memory", "none"]
    assert [cache_kind(s) for s in ("disk", "disk:/x", tmp_path, "/x", "~/x")] == ["disk"] * 5
    assert [cache_kind(s) for s in ("redis://h", "rediss://h", "unix:///s")] == ["redis", "redis", "redis"]
    assert cache_kind("memcached://h") is None
    assert cache_kind(MemoryRecordCache()) is None  # a ready cache names no backend


def test_make_cache(tmp_path: Path) -> None:
    default = make_cache(None, namespace="n")  # the default: disk, behind a memory tier
    assert isinstance(default, TieredCache)
    assert isinstance(default.persistent, DiskRecordCache)
    default.close()
    assert isinstance(make_cache("memory", namespace="n"), MemoryRecordCache)
    assert isinstance(make_cache(False, namespace="n"), NullRecordCache)
    mine = MemoryRecordCache()
    assert make_cache(mine, namespace="n") is mine
    disk = make_cache(f"disk:{tmp_path}", namespace="n", sizes={"Ticket": 1}, persistent_sizes={"Ticket": 5})
    assert isinstance(disk, TieredCache)
    assert isinstance(disk.persistent, DiskRecordCache)
    assert disk.persistent.root == tmp_path / "n"
    assert disk.size("Ticket") == 1  # the memory tier's
    assert disk.persistent.size("Ticket") == 5
    disk.close()
    for path in (tmp_path / "p", str(tmp_path / "q")):
        by_path = make_cache(path, namespace="n")
        assert isinstance(by_path, TieredCache)
        assert isinstance(by_path.persistent, DiskRecordCache)
        by_path.close()
    redis = make_cache("redis://:hunter2@127.0.0.1:6379/15", namespace="n")
    assert isinstance(redis, TieredCache)
    assert isinstance(redis.persistent, RedisRecordCache)
    assert "hunter2" not in repr(redis)
    redis.close()
    assert isinstance(make_cache(None, namespace="n"), RecordCache)
    for bad in ("mem", "http://x", 42, object()):
        with pytest.raises(ConfigurationError, match="unknown cache setting"):
            make_cache(bad, namespace="n")


def test_cache_namespace() -> None:
    a = cache_namespace("https://z.example.com", "token:abc")
    assert a == cache_namespace("https://z.example.com/", "token:abc")
    assert len(a) == 32
    assert int(a, 16) >= 0
    assert a != cache_namespace("https://y.example.com", "token:abc")
    assert a != cache_namespace("https://z.example.com", "basic:agent")
    assert "abc" not in a


def test_disk_never_pickles_keys(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path, namespace="n")
    with pytest.raises(CacheError, match="64-bit"):
        cache.set("Ticket", 2**70, rec(1))
    with pytest.raises(CacheError, match="64-bit"):
        cache.get("Ticket", 2**70)
    assert list(cache.path("Ticket").rglob("*.val")) == []
    cache.close()


def test_entries_written_before_etags_still_decode() -> None:
    from zammad_orm.cache.base import _decode, _encode

    old = '{"record":{"id":1},"fetched_at":12.5,"updated_at":null}'  # no "etag" key at all
    assert _decode(old, "old") == CachedRecord({"id": 1}, 12.5, None, None)
    assert _decode(_encode("Ticket", 1, {"id": 1}, None, 'W/"e"'), "new").etag == 'W/"e"'
    with pytest.raises(CacheError, match="expected shape"):
        _decode('{"record":{"id":1},"fetched_at":1,"updated_at":null,"etag":5}', "bad")


def test_disk_get_many_reads_what_get_reads(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path / "c", namespace="n")
    ids = list(range(1, 1201))  # more than one SELECT of 500 ids
    cache.set_many("User", [(pk, rec(pk), None) for pk in ids])
    cache.set_many("User", [(7, rec(7, title="again"), None), (7, rec(7, title="last"), None)])
    found = cache.get_many("User", [*ids, 5000, 7])
    assert sorted(found) == ids
    assert all(found[pk] == cache.get("User", pk) for pk in ids)
    assert found[7].record["title"] == "last"  # the last write of an id in a batch wins
    # A bounded model is read one id at a time: each read moves its entry to the end of the LRU order.
    lru = DiskRecordCache(tmp_path / "l", namespace="n", sizes={"Ticket": 3})
    lru.set_many("Ticket", [(pk, rec(pk), None) for pk in (1, 2, 3)])
    assert sorted(lru.get_many("Ticket", [1, 9])) == [1]
    lru.set("Ticket", 4, rec(4))  # evicts 2, the least recently used now
    assert [pk for pk in (1, 2, 3, 4) if lru.get("Ticket", pk)] == [1, 3, 4]
    with pytest.raises(CacheError, match="64-bit"):
        cache.get_many("User", [2**70])
    cache.close()
    lru.close()


def test_disk_get_many_refuses_planted_pickles(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path / "c", namespace="n")
    cache.set("Ticket", 1, rec(1))
    proof = tmp_path / "pwned"
    plain = diskcache.Cache(str(cache.path("Ticket")))
    plain.set(3, Exploit(proof))
    plain.close()
    with pytest.raises(CacheError, match="refusing to load a pickled value"):
        cache.get_many("Ticket", [1, 3])
    assert not proof.exists()
    cache.close()


def test_a_record_that_contains_itself_is_not_cached(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path / "c", namespace="n")
    record = rec(1)
    record["self"] = record
    with pytest.raises(CacheError, match="not plain JSON"):
        cache.set("Ticket", 1, record)
    assert cache.get("Ticket", 1) is None
    cache.close()


@pytest.mark.parametrize("fast", [True, False])
def test_entries_encode_alike_with_orjson_or_without(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from zammad_orm import _json
    from zammad_orm.cache.base import _decode, _encode

    if not fast:
        monkeypatch.setattr(_json, "fast", None)
    plain = rec(1, tags=["a"], preferences={"channel": {"id": 3}}, note=None, title="Grüße")
    assert _decode(_encode("Ticket", 1, plain, None), "t").record == plain
    floats = rec(2, score=1.5, nested={"x": [0.25]})
    assert _decode(_encode("Ticket", 2, floats, None), "t").record == floats
    keyed = rec(3, counts={1: "one"})  # a key that is not a string: written as JSON writes it, "1"
    assert _decode(_encode("Ticket", 3, keyed, None), "t").record == json.loads(json.dumps(keyed))
    for bad in (rec(4, score=float("nan")), rec(4, deep={"x": [float("inf")]}), rec(4, when=object())):
        with pytest.raises(CacheError, match="not plain JSON"):
            _encode("Ticket", 4, bad, None)


def test_disk_reads_make_no_database(tmp_path: Path) -> None:
    cache = DiskRecordCache(tmp_path, namespace="n")
    assert cache.get("User", 1) is None
    assert cache.get_many("User", [1, 2]) == {}
    with pytest.raises(CacheError, match="64-bit"):
        cache.get_many("User", [2**70])
    assert not cache.path("User").exists()  # nothing made: the first write makes it
    cache.set("User", 1, rec(1))
    assert cache.get("User", 1) is not None
    other = DiskRecordCache(tmp_path, namespace="n")  # another client finds what this one wrote
    assert set(other.get_many("User", [1, 2])) == {1}
    other.close()
    cache.close()
