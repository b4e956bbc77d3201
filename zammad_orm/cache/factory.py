"""Choosing a cache: the backend a client's ``cache=`` setting names, and the namespace of its records."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping
from typing import Any, Literal

from zammad_orm.cache.base import DEFAULT_SIZE, RecordCache, _check_name, _check_size
from zammad_orm.cache.disk import DEFAULT_SIZE_LIMIT, DiskRecordCache
from zammad_orm.cache.files import _check_limit
from zammad_orm.cache.memory import MemoryRecordCache, NullRecordCache
from zammad_orm.cache.redis_cache import RedisRecordCache
from zammad_orm.cache.tiered import LookupCounter, PersistentDefaults, TieredCache
from zammad_orm.errors import CacheError, CacheWarning, ConfigurationError

__all__ = [
    "CACHE_ENV",
    "CacheKind",
    "cache_kind",
    "cache_namespace",
    "cache_setting",
    "disk_path",
    "make_cache",
]

#: The backend a ``cache=`` setting names: ``"memory"`` (``"memory"``), ``"none"`` (``False``),
#: ``"disk"`` (``"disk"``, ``"disk:/path"``, a path object or a string starting with ``/``, ``~``,
#: ``./``) or ``"redis"`` (a Redis URL). ``None`` and ``True`` name the default: ``$ZAMMAD_ORM_CACHE``
#: when set, else ``"disk"``.
CacheKind = Literal["memory", "none", "disk", "redis"]

#: The environment variable that sets the cache of clients made without ``cache=`` (same syntax).
CACHE_ENV = "ZAMMAD_ORM_CACHE"

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_OFF = ("false", "off", "none", "0")
_PATH_STARTS = ("/", "~", "./", "../")


def cache_setting(spec: Any) -> Any:
    """Return the setting a client's ``cache=`` stands for: ``None``/``True`` become the default.

    The default is ``$ZAMMAD_ORM_CACHE`` (``memory``, ``disk``, ``disk:/path``, a path, a Redis URL, or
    ``false``/``off``/``none`` for no cache) when it is set and not empty, else ``"disk"``: records are
    kept on disk in :func:`~zammad_orm.cache.disk.default_cache_dir`. An explicit argument wins.
    """
    if spec is not None and spec is not True:
        return spec
    env = os.environ.get(CACHE_ENV, "").strip()
    if not env:
        return "disk"
    if env.lower() in _OFF:
        return False
    if cache_kind(env) is None:
        raise ConfigurationError(
            f"${CACHE_ENV}={env!r} is not a cache setting: use memory, disk, disk:/path, a path, a redis:// "
            "URL, or false"
        )
    return env


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
    """Return the backend a ``cache=`` setting names; ``None`` for anything else (a ready cache, nonsense).

    ``None`` and ``True`` name the default (see :func:`cache_setting`).
    """
    if spec is None or spec is True:
        return cache_kind(cache_setting(spec))
    if spec == "memory":
        return "memory"
    if spec is False:
        return "none"
    if isinstance(spec, os.PathLike):
        return "disk"
    if isinstance(spec, str):
        if spec == "disk" or spec.startswith(("disk:", *_PATH_STARTS)):
            return "disk"
        if spec.startswith(_REDIS_SCHEMES):
            return "redis"
    return None


def disk_path(spec: str | os.PathLike[str]) -> str | None:
    """Return the directory a disk setting names (``"disk:/x"``, ``"/x"``, a path); ``None``: the default."""
    if isinstance(spec, os.PathLike):
        return os.fspath(spec)
    path = spec[len("disk:") :] if spec.startswith("disk:") else "" if spec == "disk" else spec
    return os.path.expanduser(path) if path else None


def make_cache(
    spec: Any,
    *,
    namespace: str,
    sizes: Mapping[str, int] | None = None,
    default_size: int = DEFAULT_SIZE,
    persistent_sizes: Mapping[str, int] | None = None,
    size_limit: int = DEFAULT_SIZE_LIMIT,
    persistent_defaults: PersistentDefaults | None = None,
    on_lookup: LookupCounter | None = None,
) -> RecordCache:
    """Build the record cache a client setting asks for.

    Args:
        spec: ``None`` (the default: ``$ZAMMAD_ORM_CACHE``, else ``"disk"``), ``"memory"``, ``"disk"``
            (in :func:`default_cache_dir`), ``"disk:/some/path"`` or a path, a
            ``redis://``/``rediss://``/``unix://`` URL, ``False`` for no cache, or a ready
            :class:`RecordCache` (returned as is). Disk and Redis come as a
            :class:`~zammad_orm.cache.tiered.TieredCache`: a memory tier in front of them.
        namespace: Separates servers and users (see :func:`cache_namespace`).
        sizes: Sizes of particular models (the memory tier's).
        default_size: The size of every other model (the memory tier's).
        persistent_sizes: Sizes of particular models in the persistent tier (default unbounded).
        size_limit: The most bytes of each model's disk cache (default 1 GiB).
        persistent_defaults: The persistent size and byte limit of a model on its first use.
        on_lookup: Counts the reads of each tier (``Accounting.lookup``).

    The default directory (``"disk"``, and the default setting) that cannot be made — no home directory,
    a read-only file system — is reported as a :class:`~zammad_orm.errors.CacheWarning`, and the cache is
    a memory cache; a directory named in the setting that cannot be made raises ``CacheError``.

    Raises:
        ConfigurationError: ``spec`` is none of these.
        CacheError: The directory named in ``spec`` cannot be made private.

    """
    _check_limit("the default", size_limit)  # checked whatever the backend: bad settings fail early
    for name, size in (persistent_sizes or {}).items():
        _check_size(_check_name("model name", name), size)
    spec = cache_setting(spec)
    kind = cache_kind(spec)
    if kind == "memory":
        return MemoryRecordCache(sizes=sizes, default_size=default_size)
    if kind == "none":
        return NullRecordCache()
    persistent: RecordCache
    if kind == "disk":
        path = disk_path(spec)
        try:
            persistent = DiskRecordCache(
                path, namespace=namespace, sizes=persistent_sizes, size_limit=size_limit
            )
        except (CacheError, RuntimeError) as exc:  # RuntimeError: no home directory to find the default in
            if path is not None:
                raise  # a directory the caller named: not ours to replace
            warnings.warn(
                f"the default disk cache cannot be used ({exc}); records are kept in memory only",
                CacheWarning,
                stacklevel=3,
            )
            return MemoryRecordCache(sizes=sizes, default_size=default_size)
    elif kind == "redis":
        persistent = RedisRecordCache(spec, namespace=namespace, sizes=persistent_sizes)
    elif isinstance(spec, RecordCache):
        return spec
    else:
        raise ConfigurationError(
            f"unknown cache setting {spec!r}: use 'memory', 'disk', 'disk:/path', a redis:// URL, False, "
            "or a RecordCache"
        )
    memory = MemoryRecordCache(sizes=sizes, default_size=default_size)
    return TieredCache(memory, persistent, persistent_defaults=persistent_defaults, on_lookup=on_lookup)
