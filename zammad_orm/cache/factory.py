"""Choosing a cache: the backend a client's ``cache=`` setting names, and the namespace of its records."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any, Literal

from zammad_orm.cache.base import DEFAULT_SIZE, RecordCache
from zammad_orm.cache.disk import DiskRecordCache
from zammad_orm.cache.memory import MemoryRecordCache, NullRecordCache
from zammad_orm.cache.redis_cache import RedisRecordCache
from zammad_orm.errors import ConfigurationError

__all__ = ["CacheKind", "cache_kind", "cache_namespace", "make_cache"]

#: The backend a ``cache=`` setting names: ``"memory"`` (``None``, ``True``, ``"memory"``), ``"none"``
#: (``False``), ``"disk"`` (``"disk"``, ``"disk:/path"``, a path object) or ``"redis"`` (a Redis URL).
CacheKind = Literal["memory", "none", "disk", "redis"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def cache_namespace(url: str, identity: str) -> str:
    """Return a namespace for the records of one server as seen by one user.

    Args:
        url: The server's base URL.
        identity: A non-secret name of the credentials (``Auth.identity``).

    Returns:
        32 hex digits: a hash, so neither URL nor identity can be read from the cache's layout.

    """
    return hashlib.sha256(f"{url.rstrip('/')}\n{identity}".encode()).hexdigest()[:32]


def cache_kind(spec: Any) -> CacheKind | None:
    """Return the backend a ``cache=`` setting names; ``None`` for anything else (a ready cache, nonsense)."""
    if spec is None or spec is True or spec == "memory":
        return "memory"
    if spec is False:
        return "none"
    if isinstance(spec, os.PathLike):
        return "disk"
    if isinstance(spec, str):
        if spec == "disk" or spec.startswith("disk:"):
            return "disk"
        if spec.startswith(_REDIS_SCHEMES):
            return "redis"
    return None


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
    kind = cache_kind(spec)
    if kind == "memory":
        return MemoryRecordCache(sizes=sizes, default_size=default_size)
    if kind == "none":
        return NullRecordCache()
    if kind == "disk":
        path = spec if isinstance(spec, os.PathLike) else spec[len("disk:") :] or None
        return DiskRecordCache(path, namespace=namespace, sizes=sizes, default_size=default_size)
    if kind == "redis":
        return RedisRecordCache(spec, namespace=namespace, sizes=sizes, default_size=default_size)
    if isinstance(spec, RecordCache):
        return spec
    raise ConfigurationError(
        f"unknown cache setting {spec!r}: use 'memory', 'disk', 'disk:/path', a redis:// URL, False, "
        "or a RecordCache"
    )
