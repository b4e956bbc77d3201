"""Persistent caches of raw JSON records: diskcache (JSON-only disk, never pickle) and Redis backends.

A record cache sits under the identity map: it keeps the raw JSON dicts the server sent, per model
name and id, with the time they were fetched and the record's ``updated_at``. Three backends share one
interface, :class:`RecordCache`:

* :class:`MemoryRecordCache` — an in-process LRU (the default);
* :class:`DiskRecordCache` — SQLite files through ``diskcache``, shared by the processes of one host;
* :class:`RedisRecordCache` — a Redis server, shared by many hosts.

Sizes are per model: ``-1`` unbounded, ``0`` disabled (``get`` answers ``None``, ``set`` does nothing,
and the model's entries are dropped), ``n > 0`` least-recently-used with at most ``n`` entries.
Recency is tracked only while a model is bounded: reads of an unbounded model stay read-only, so when
an unbounded model is later bounded, its entries are evicted in the order they were written.

Nothing is ever pickled. diskcache pickles values by default, and loading a planted pickle runs
arbitrary code (CVE-2025-69872); :class:`DiskRecordCache` stores values as JSON text through its own
``diskcache.Disk`` subclass and raises :class:`~zammad_orm.errors.CacheError` for a pickled entry
instead of loading it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import stat
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import attrs
import diskcache

from zammad_orm.errors import CacheError, ConfigurationError, FieldError

__all__ = [
    "DEFAULT_SIZE",
    "CachedRecord",
    "DiskRecordCache",
    "MemoryRecordCache",
    "NullRecordCache",
    "RecordCache",
    "RedisRecordCache",
    "cache_namespace",
    "default_cache_dir",
    "make_cache",
]

#: The size of a model nobody configured: unbounded.
DEFAULT_SIZE = -1

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@attrs.frozen
class CachedRecord:
    """One cached record.

    Attributes:
        record: The raw JSON object the server sent. Treat it as read-only.
        fetched_at: When it was stored (:func:`time.time`).
        updated_at: The record's ``updated_at`` string, for staleness checks.

    """

    record: dict[str, Any]
    fetched_at: float
    updated_at: str | None

    @property
    def age(self) -> float:
        """Seconds since the record was fetched."""
        return time.time() - self.fetched_at


@runtime_checkable
class RecordCache(Protocol):
    """What the client needs from a record cache."""

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the cached record, or ``None``."""
        ...

    def set(self, model_name: str, pk: int, record: dict[str, Any], *, updated_at: str | None = None) -> None:
        """Store ``record`` (``updated_at`` defaults to the record's own)."""
        ...

    def delete(self, model_name: str, pk: int) -> None:
        """Forget one record."""
        ...

    def clear(self, model_name: str | None = None) -> None:
        """Forget the records of one model, or all of them."""
        ...

    def configure(self, model_name: str, size: int) -> None:
        """Set a model's size: -1 unbounded, 0 disabled, >0 LRU entries."""
        ...


# --- validation and encoding ----------------------------------------------------------------------


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"cache {kind} must be 1-128 letters, digits, '_', '.' or '-' (not starting with a "
            f"punctuation mark), got {name!r}"
        )
    return name


def _check_pk(pk: object) -> int:
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise FieldError(f"cache keys are integer ids, got {pk!r}")
    return pk


def _check_size(model_name: str, size: object) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or size < -1:
        raise ConfigurationError(
            f"cache size of {model_name} must be -1, 0 or a positive integer, got {size!r}"
        )
    return size


def _updated_at(record: Mapping[str, Any], updated_at: str | None) -> str | None:
    if updated_at is not None:
        return updated_at
    value = record.get("updated_at")
    return value if isinstance(value, str) else None


def _encode(model_name: str, pk: int, record: Any, updated_at: str | None) -> str:
    if not isinstance(record, dict):
        raise FieldError(f"a cached {model_name} record must be a dict, got {type(record).__name__}")
    entry = {"record": record, "fetched_at": time.time(), "updated_at": _updated_at(record, updated_at)}
    try:
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"{model_name} {pk} cannot be cached: the record is not plain JSON ({exc})") from exc


def _decode(text: str | bytes, where: str) -> CachedRecord:
    try:
        entry = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"{where}: the cache entry is not JSON ({exc}); clear the cache") from exc
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("record"), dict)
        or not isinstance(entry.get("fetched_at"), (int, float))
        or not isinstance(entry.get("updated_at"), (str, type(None)))
    ):
        raise CacheError(f"{where}: the cache entry does not have the expected shape; clear the cache")
    return CachedRecord(entry["record"], float(entry["fetched_at"]), entry["updated_at"])


class _Sizes:
    """Per-model sizes with a default; the part every backend shares."""

    def __init__(self, sizes: Mapping[str, int] | None, default_size: int) -> None:
        self.default_size = _check_size("the default", default_size)
        self._sizes: dict[str, int] = {}
        self._sizes_lock = threading.Lock()
        for name, size in (sizes or {}).items():
            self._sizes[_check_name("model name", name)] = _check_size(name, size)

    def size(self, model_name: str) -> int:
        """Return the size of ``model_name`` (-1 unbounded, 0 disabled, >0 LRU entries)."""
        with self._sizes_lock:
            return self._sizes.get(model_name, self.default_size)

    def configure(self, model_name: str, size: int) -> None:
        """Set the size of ``model_name``; shrinking evicts at once, 0 drops the model's entries.

        Raises:
            ConfigurationError: The name or size is invalid.

        """
        _check_name("model name", model_name)
        _check_size(model_name, size)
        with self._sizes_lock:
            self._sizes[model_name] = size
        if size == 0:
            self.clear(model_name)
        elif size > 0:
            self._shrink(model_name, size)

    def clear(self, model_name: str | None = None) -> None:
        raise NotImplementedError

    def _shrink(self, model_name: str, size: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (nothing to release here)."""


# --- memory ------------------------------------------------------------------------------------------


class MemoryRecordCache(_Sizes):
    """An in-process LRU cache (thread-safe).

    Args:
        sizes: Sizes of particular models.
        default_size: The size of every other model.

    """

    def __init__(self, *, sizes: Mapping[str, int] | None = None, default_size: int = DEFAULT_SIZE) -> None:
        super().__init__(sizes, default_size)
        self._data: dict[str, OrderedDict[int, CachedRecord]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MemoryRecordCache of {sum(len(d) for d in self._data.values())} records>"

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the cached record, or ``None`` (always ``None`` for a disabled model)."""
        size = self.size(model_name)
        if size == 0:
            return None
        with self._lock:
            entries = self._data.get(model_name)
            found = None if entries is None else entries.get(pk)
            if found is not None and size > 0:
                entries.move_to_end(pk)  # type: ignore[union-attr]
            return found

    def set(self, model_name: str, pk: int, record: dict[str, Any], *, updated_at: str | None = None) -> None:
        """Store ``record``, evicting the least recently used entries beyond the model's size."""
        _check_name("model name", model_name)
        _check_pk(pk)
        if not isinstance(record, dict):
            raise FieldError(f"a cached {model_name} record must be a dict, got {type(record).__name__}")
        size = self.size(model_name)
        if size == 0:
            return
        entry = CachedRecord(record, time.time(), _updated_at(record, updated_at))
        with self._lock:
            entries = self._data.setdefault(model_name, OrderedDict())
            entries.pop(pk, None)
            entries[pk] = entry
            self._evict(entries, size)

    @staticmethod
    def _evict(entries: OrderedDict[int, CachedRecord], size: int) -> None:
        while size > 0 and len(entries) > size:
            entries.popitem(last=False)

    def delete(self, model_name: str, pk: int) -> None:
        """Forget one record."""
        with self._lock:
            self._data.get(model_name, OrderedDict()).pop(pk, None)

    def clear(self, model_name: str | None = None) -> None:
        """Forget the records of ``model_name``, or of every model."""
        with self._lock:
            if model_name is None:
                self._data.clear()
            else:
                self._data.pop(model_name, None)

    def _shrink(self, model_name: str, size: int) -> None:
        with self._lock:
            self._evict(self._data.get(model_name, OrderedDict()), size)


class NullRecordCache(_Sizes):
    """A cache that keeps nothing (``cache=False``); sizes are accepted and ignored."""

    def __init__(self) -> None:
        super().__init__(None, 0)

    def __repr__(self) -> str:
        return "<NullRecordCache>"

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return ``None``: nothing is kept."""
        return None

    def set(self, model_name: str, pk: int, record: dict[str, Any], *, updated_at: str | None = None) -> None:
        """Do nothing."""

    def delete(self, model_name: str, pk: int) -> None:
        """Do nothing."""

    def clear(self, model_name: str | None = None) -> None:
        """Do nothing."""

    def configure(self, model_name: str, size: int) -> None:
        """Check the arguments and otherwise ignore them: this cache stays off."""
        _check_name("model name", model_name)
        _check_size(model_name, size)

    def size(self, model_name: str) -> int:
        """Return 0: every model is disabled."""
        return 0


# --- disk --------------------------------------------------------------------------------------------


class _Refused:
    """What :class:`_JSONDisk` hands back instead of unpickling a value."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _JSONDisk(diskcache.Disk):  # type: ignore[misc]
    """A diskcache ``Disk`` that stores JSON text as UTF-8 bytes and never unpickles.

    Keys must be ints or strings (stored raw). A pickled key or value found on disk (planted, or from a
    plain ``diskcache.Cache``) is not loaded: values come back as a :class:`_Refused` marker, so the
    cache can still evict the entry by key, and keys raise :class:`CacheError`.
    """

    def put(self, key: Any) -> tuple[Any, bool]:
        # Anything else, including an int beyond SQLite's 64 bits, the base class would pickle.
        if not (type(key) is str or (type(key) is int and -(2**63) <= key < 2**63)):
            raise CacheError(f"cache keys are 64-bit ints or strings, got {key!r}")
        return super().put(key)  # type: ignore[no-any-return]

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise CacheError("the cache holds a pickled key; refusing to unpickle it (clear the cache)")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = diskcache.UNKNOWN) -> Any:
        if read or not isinstance(value, str):
            raise CacheError(f"the disk cache stores JSON text only, got {type(value).__name__}")
        return super().store(value.encode("utf-8"), False, key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_PICKLE:
            return _Refused("a pickled value")
        if mode not in (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY, diskcache.core.MODE_TEXT):
            return _Refused(f"an entry of unknown mode {mode}")
        data = super().fetch(mode, filename, value, False)
        return data if isinstance(data, (bytes, str)) else _Refused(f"a raw {type(data).__name__}")


def default_cache_dir() -> Path:
    """Return where :class:`DiskRecordCache` keeps its files when no directory is given.

    ``$ZAMMAD_ORM_CACHE_DIR`` when set, else the platform's user cache directory: ``$XDG_CACHE_HOME`` or
    ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows; then
    ``zammad_orm`` below it.
    """
    explicit = os.environ.get("ZAMMAD_ORM_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zammad_orm"


def _private_directory(path: Path) -> Path:
    """Create ``path`` as a directory only its owner may enter; tighten it when it exists looser."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)
        if sys.platform != "win32" and mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise CacheError(f"cannot create a private cache directory {path}: {exc}") from exc
    return path


class DiskRecordCache(_Sizes):
    """A cache in SQLite files (through ``diskcache``), shared by every process of the host.

    Layout: ``<directory>/<namespace>/<model name>/`` holds one ``diskcache.Cache`` per model, whose
    rows are kept in least-recently-used order (a use deletes and re-inserts the row, so SQLite's rowid
    order is the recency order and eviction takes the first row). ``directory`` and the namespace
    directory are created with mode ``0o700``.

    Args:
        directory: The cache root; default :func:`default_cache_dir`.
        namespace: Separates servers and users (see :func:`cache_namespace`).
        sizes: Sizes of particular models.
        default_size: The size of every other model.
        timeout: Seconds to wait for another process's lock on the SQLite files.

    Raises:
        CacheError: The directory cannot be created or made private.
        ConfigurationError: The namespace or a size is invalid.

    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        namespace: str,
        sizes: Mapping[str, int] | None = None,
        default_size: int = DEFAULT_SIZE,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(sizes, default_size)
        self.directory = _private_directory(Path(directory) if directory is not None else default_cache_dir())
        self.root = _private_directory(self.directory / _check_name("namespace", namespace))
        self.timeout = timeout
        self._caches: dict[str, diskcache.Cache] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<DiskRecordCache {str(self.root)!r}>"

    def path(self, model_name: str) -> Path:
        """Return the directory of ``model_name``'s ``diskcache.Cache``."""
        return self.root / _check_name("model name", model_name)

    def _cache(self, model_name: str) -> diskcache.Cache:
        with self._lock:
            cache = self._caches.get(model_name)
            if cache is None:
                with self._errors(model_name):
                    cache = diskcache.Cache(
                        str(self.path(model_name)),
                        timeout=self.timeout,
                        disk=_JSONDisk,
                        eviction_policy="none",  # our own count-based LRU, below
                        size_limit=2**62,
                        cull_limit=0,
                        statistics=False,
                    )
                self._caches[model_name] = cache
            return cache

    @contextlib.contextmanager
    def _errors(self, model_name: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            raise CacheError(f"disk cache {self.root / model_name}: {exc}") from exc

    def _load(self, model_name: str, pk: int, value: Any) -> CachedRecord:
        where = f"disk cache {self.root / model_name}, {model_name} {pk}"
        if isinstance(value, _Refused):
            raise CacheError(f"{where}: refusing to load {value.reason} (only JSON is read; clear the cache)")
        return _decode(value, where)

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the cached record, or ``None``.

        Raises:
            CacheError: The entry is pickled or not JSON, or the files cannot be read.

        """
        size = self.size(model_name)
        if size == 0:
            return None
        cache = self._cache(model_name)
        with self._errors(model_name):
            if size < 0:
                value = cache.get(pk)
            else:
                with cache.transact():
                    value = cache.get(pk)
                    if value is not None and not isinstance(value, _Refused):
                        cache.delete(pk)  # re-insert at the end of the rowid (= recency) order
                        cache.set(pk, value.decode("utf-8") if isinstance(value, bytes) else value)
        return None if value is None else self._load(model_name, pk, value)

    def set(self, model_name: str, pk: int, record: dict[str, Any], *, updated_at: str | None = None) -> None:
        """Store ``record``, evicting the least recently used entries beyond the model's size.

        Raises:
            CacheError: The record is not plain JSON, or the files cannot be written.

        """
        _check_pk(pk)
        size = self.size(_check_name("model name", model_name))
        if size == 0:
            return
        text = _encode(model_name, pk, record, updated_at)
        cache = self._cache(model_name)
        with self._errors(model_name), cache.transact():
            cache.delete(pk)
            cache.set(pk, text)
            self._evict(cache, size)

    @staticmethod
    def _evict(cache: diskcache.Cache, size: int) -> None:
        for _ in range(len(cache) - size if size > 0 else 0):
            key, _value = cache.peekitem(last=False)
            cache.delete(key)

    def delete(self, model_name: str, pk: int) -> None:
        """Forget one record."""
        cache = self._cache(_check_name("model name", model_name))
        with self._errors(model_name):
            cache.delete(_check_pk(pk))

    def clear(self, model_name: str | None = None) -> None:
        """Forget the records of ``model_name``, or of every model in this namespace."""
        names = [model_name] if model_name is not None else self._model_names()
        for name in names:
            cache = self._cache(name)
            with self._errors(name):
                cache.clear()

    def _model_names(self) -> list[str]:
        found = {p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name)}
        with self._lock:
            return sorted(found | set(self._caches))

    def _shrink(self, model_name: str, size: int) -> None:
        cache = self._cache(model_name)
        with self._errors(model_name), cache.transact():
            self._evict(cache, size)

    def close(self) -> None:
        """Close the SQLite connections."""
        with self._lock:
            caches, self._caches = list(self._caches.values()), {}
        for cache in caches:
            cache.close()


# --- redis -------------------------------------------------------------------------------------------

# KEYS: records hash, recency sorted set, clock; ARGV: pk, touch (1/0).
_GET_LUA = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and ARGV[2] == '1' then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
return v
"""
# KEYS: as above; ARGV: pk (empty to only evict), JSON entry, size.
_SET_LUA = """
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
local size = tonumber(ARGV[3])
if size > 0 then
  local excess = redis.call('ZCARD', KEYS[2]) - size
  if excess > 0 then
    local old = redis.call('ZPOPMIN', KEYS[2], excess)
    for i = 1, #old, 2 do redis.call('HDEL', KEYS[1], old[i]) end
  end
end
return 1
"""


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


class RedisRecordCache(_Sizes):
    """A cache on a Redis server, shared by every process and host that uses the same namespace.

    Per model three keys, in one Redis Cluster hash slot: ``zammad_orm:{<namespace>:<model>}:records``
    (a hash id → JSON entry), ``...:lru`` (a sorted set id → recency, from ``...:clock``, a counter
    shared by all clients). Reads and writes run as Lua scripts, so eviction is atomic across processes.

    Args:
        url: A Redis URL (``redis://host:6379/0``, ``rediss://...``, ``unix://...``).
        namespace: Separates servers and users (see :func:`cache_namespace`).
        sizes: Sizes of particular models.
        default_size: The size of every other model.

    Raises:
        ConfigurationError: The ``redis`` package is missing, or the URL is invalid.

    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        sizes: Mapping[str, int] | None = None,
        default_size: int = DEFAULT_SIZE,
    ) -> None:
        super().__init__(sizes, default_size)
        try:
            import redis
        except ImportError as exc:  # an optional extra
            raise ConfigurationError(
                "the Redis cache needs the redis package: pip install 'zammad-orm[redis]'"
            ) from exc
        self.url = _redact(url)
        self.namespace = _check_name("namespace", namespace)
        self._redis_error: type[Exception] = redis.exceptions.RedisError
        try:
            self.redis = redis.Redis.from_url(url)
        except ValueError as exc:
            raise ConfigurationError(f"invalid Redis URL {self.url!r}: {exc}") from exc
        self._get_script = self.redis.register_script(_GET_LUA)
        self._set_script = self.redis.register_script(_SET_LUA)

    def __repr__(self) -> str:
        return f"<RedisRecordCache {self.url} {self.namespace}>"

    def _keys(self, model_name: str) -> list[str]:
        base = f"zammad_orm:{{{self.namespace}:{_check_name('model name', model_name)}}}"
        return [f"{base}:records", f"{base}:lru", f"{base}:clock"]

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._redis_error as exc:
            raise CacheError(f"redis cache {self.url}: {exc}") from exc

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the cached record, or ``None``.

        Raises:
            CacheError: The server cannot be reached, or the entry is not JSON.

        """
        size = self.size(model_name)
        if size == 0:
            return None
        with self._errors():
            value = self._get_script(keys=self._keys(model_name), args=[_check_pk(pk), 1 if size > 0 else 0])
        if value is None:
            return None
        return _decode(value, f"redis cache {self.url}, {model_name} {pk}")

    def set(self, model_name: str, pk: int, record: dict[str, Any], *, updated_at: str | None = None) -> None:
        """Store ``record``, evicting the least recently used entries beyond the model's size."""
        keys = self._keys(model_name)
        _check_pk(pk)
        size = self.size(model_name)
        if size == 0:
            return
        text = _encode(model_name, pk, record, updated_at)
        with self._errors():
            self._set_script(keys=keys, args=[pk, text, size])

    def delete(self, model_name: str, pk: int) -> None:
        """Forget one record."""
        records, lru, _ = self._keys(model_name)
        with self._errors(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(records, _check_pk(pk))
            pipe.zrem(lru, pk)
            pipe.execute()

    def clear(self, model_name: str | None = None) -> None:
        """Forget the records of ``model_name``, or of every model in this namespace."""
        with self._errors():
            if model_name is not None:
                self.redis.delete(*self._keys(model_name))
                return
            pattern = f"zammad_orm:{{{self.namespace}:*"
            batch = list(self.redis.scan_iter(match=pattern, count=500))
            if batch:
                self.redis.delete(*batch)

    def _shrink(self, model_name: str, size: int) -> None:
        with self._errors():
            self._set_script(keys=self._keys(model_name), args=["", "", size])

    def close(self) -> None:
        """Close the connection pool."""
        self.redis.close()


# --- choosing a cache -------------------------------------------------------------------------------


def cache_namespace(url: str, identity: str) -> str:
    """Return a namespace for the records of one server as seen by one user.

    Args:
        url: The server's base URL.
        identity: A non-secret name of the credentials (``Auth.identity``).

    Returns:
        32 hex digits: a hash, so neither URL nor identity can be read from the cache's layout.

    """
    return hashlib.sha256(f"{url.rstrip('/')}\n{identity}".encode()).hexdigest()[:32]


def make_cache(
    spec: Any,
    *,
    namespace: str,
    sizes: Mapping[str, int] | None = None,
    default_size: int = DEFAULT_SIZE,
) -> RecordCache:
    """Build the record cache a client setting asks for.

    Args:
        spec: ``None`` or ``"memory"`` (default), ``"disk"`` (in :func:`default_cache_dir`),
            ``"disk:/some/path"``, a ``redis://``/``rediss://``/``unix://`` URL, ``False`` for no cache,
            or a ready :class:`RecordCache` (returned as is).
        namespace: Separates servers and users (see :func:`cache_namespace`).
        sizes: Sizes of particular models.
        default_size: The size of every other model.

    Raises:
        ConfigurationError: ``spec`` is none of these.

    """
    if spec is None or spec is True or spec == "memory":
        return MemoryRecordCache(sizes=sizes, default_size=default_size)
    if spec is False:
        return NullRecordCache()
    if isinstance(spec, os.PathLike):
        return DiskRecordCache(spec, namespace=namespace, sizes=sizes, default_size=default_size)
    if isinstance(spec, str):
        if spec == "disk" or spec.startswith("disk:"):
            path = spec[len("disk:") :] or None
            return DiskRecordCache(path, namespace=namespace, sizes=sizes, default_size=default_size)
        if spec.startswith(("redis://", "rediss://", "unix://")):
            return RedisRecordCache(spec, namespace=namespace, sizes=sizes, default_size=default_size)
    elif isinstance(spec, RecordCache):
        return spec
    raise ConfigurationError(
        f"unknown cache setting {spec!r}: use 'memory', 'disk', 'disk:/path', a redis:// URL, False, "
        "or a RecordCache"
    )
