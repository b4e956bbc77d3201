"""Persistent caches of raw JSON records: diskcache (JSON-only disk, never pickle) and Redis backends.

A record cache sits under the identity map: it keeps the raw JSON dicts the server sent, per model
name and id, with the time they were fetched and the record's ``updated_at``. Three backends share one
interface, :class:`RecordCache`:

* :class:`MemoryRecordCache` — an in-process LRU;
* :class:`DiskRecordCache` — SQLite files through ``diskcache``, shared by the processes of one host;
* :class:`RedisRecordCache` — a Redis server, shared by many hosts.

A client puts a memory tier in front of a disk or Redis cache: :class:`TieredCache`. By default a
client keeps its records on disk (``$ZAMMAD_ORM_CACHE`` names another default).

Sizes are per model: ``-1`` unbounded, ``0`` disabled (``get`` answers ``None``, ``set`` does nothing,
and the model's entries are dropped), ``n > 0`` least-recently-used with at most ``n`` entries.
Recency is tracked only while a model is bounded: reads of an unbounded model stay read-only, so when
an unbounded model is later bounded, its entries are evicted in the order they were written.

Nothing is ever pickled. diskcache pickles values by default, and loading a planted pickle runs
arbitrary code (CVE-2025-69872); :class:`DiskRecordCache` stores values as JSON text through its own
``diskcache.Disk`` subclass and raises :class:`~zammad_orm.errors.CacheError` for a pickled entry
instead of loading it.

One module per job: :mod:`~zammad_orm.cache.base` (entries, interface, sizes),
:mod:`~zammad_orm.cache.memory`, :mod:`~zammad_orm.cache.disk`, :mod:`~zammad_orm.cache.redis_cache`,
:mod:`~zammad_orm.cache.tiered` and :mod:`~zammad_orm.cache.factory` (``make_cache``).
Import everything from ``zammad_orm.cache``.
"""

from __future__ import annotations

from zammad_orm.cache.base import DEFAULT_SIZE, CachedRecord, RecordCache
from zammad_orm.cache.disk import (
    DEFAULT_SIZE_LIMIT,
    DiskRecordCache,
    DiskUsage,
    clear_disk_cache,
    default_cache_dir,
    disk_usage,
)
from zammad_orm.cache.factory import cache_namespace, cache_setting, make_cache
from zammad_orm.cache.memory import MemoryRecordCache, NullRecordCache
from zammad_orm.cache.redis_cache import RedisRecordCache
from zammad_orm.cache.tiered import TieredCache

__all__ = [
    "DEFAULT_SIZE",
    "DEFAULT_SIZE_LIMIT",
    "CachedRecord",
    "DiskRecordCache",
    "DiskUsage",
    "MemoryRecordCache",
    "NullRecordCache",
    "RecordCache",
    "RedisRecordCache",
    "TieredCache",
    "cache_namespace",
    "cache_setting",
    "clear_disk_cache",
    "default_cache_dir",
    "disk_usage",
    "make_cache",
]
