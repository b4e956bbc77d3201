"""The Redis cache: records shared by every host, LRU eviction as atomic Lua scripts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from zammad_orm.cache.base import (
    DEFAULT_SIZE,
    CachedRecord,
    Entry,
    _check_name,
    _check_pk,
    _decode,
    _encode,
    _last_distinct,
    _Sizes,
    _untagged,
)
from zammad_orm.errors import CacheError, ConfigurationError

__all__ = ["RedisRecordCache"]

# KEYS: records hash, recency sorted set, clock; ARGV: pk, touch (1/0).
_GET_LUA = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and ARGV[2] == '1' then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
return v
"""
# KEYS: as above; ARGV: size, then pk and JSON entry pairs in write order (none to only evict).
_SET_LUA = """
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[i])
end
local size = tonumber(ARGV[1])
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

    def set(
        self,
        model_name: str,
        pk: int,
        record: dict[str, Any],
        *,
        updated_at: str | None = None,
        etag: str | None = None,
    ) -> None:
        """Store ``record``, evicting the least recently used entries beyond the model's size."""
        self._keys(model_name)  # checks the name first
        _check_pk(pk)
        self._write(model_name, [(pk, record, updated_at, etag)])

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        """Store several ``(pk, record, updated_at)`` in one script call, like :meth:`set` for each, in order.

        Raises:
            CacheError: A record is not plain JSON, or the server cannot be reached.

        """
        self._write(model_name, _untagged(items))

    def _write(self, model_name: str, items: Sequence[Entry]) -> None:
        keys = self._keys(model_name)
        size = self.size(model_name)
        if size == 0:
            return
        for pk, _, _, _ in items:
            _check_pk(pk)
        if size > 0:
            items = _last_distinct(items, size)  # the earlier ones would be evicted by the later ones
        args: list[Any] = [size]
        for pk, record, updated, etag in items:
            args += [pk, _encode(model_name, pk, record, updated, etag)]
        with self._errors():
            self._set_script(keys=keys, args=args)

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
            self._set_script(keys=self._keys(model_name), args=[size])

    def close(self) -> None:
        """Close the connection pool."""
        self.redis.close()
