"""The disk cache: SQLite files through ``diskcache``, JSON only, never unpickled (CVE-2025-69872)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zammad_orm.cache.base import (
    _NAME,
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
from zammad_orm.cache.files import (  # the directory as a whole: re-exported here (``zammad-orm cache``)
    DATABASE,
    DEFAULT_SIZE_LIMIT,
    DiskUsage,
    _check_limit,
    _private_directory,
    _private_files,
    clear_disk_cache,
    default_cache_dir,
    disk_usage,
)
from zammad_orm.errors import CacheError, CacheWarning

if TYPE_CHECKING:
    import diskcache

#: The rows of records in diskcache's ``Cache`` table, as ``Cache.set`` writes a short ``bytes`` value: a
#: raw key (``raw = 1``), no expiry, the value in the row (``mode = 1``, diskcache's ``MODE_RAW``,
#: ``size = 0``); ``{}`` is one ``(?, 1, ?, NULL, ?, 0, NULL, 0, 1, NULL, ?)`` per record.
_INSERT = (
    "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, mode,"
    " filename, value) VALUES {}"
)
_ROW = "(?, 1, ?, NULL, ?, 0, NULL, 0, 1, NULL, ?)"
#: Records per statement of a batch write (4 parameters each: older SQLite allow 999 per statement).
_WRITE_CHUNK = 200
#: The most ids in one ``SELECT ... IN`` of :meth:`DiskRecordCache.get_many` (SQLite allows 32,766).
_CHUNK = 500

__all__ = [
    "DEFAULT_SIZE_LIMIT",
    "DiskRecordCache",
    "DiskUsage",
    "clear_disk_cache",
    "default_cache_dir",
    "disk_usage",
]


def _key(pk: object) -> int:
    """Check an id as a key of the ``Cache`` table: an int SQLite stores as such (64 bits)."""
    key = _check_pk(pk)
    if not -(2**63) <= key < 2**63:
        raise CacheError(f"cache keys are 64-bit ints or strings, got {key!r}")
    return key


class DiskRecordCache(_Sizes):
    """A cache in SQLite files (through ``diskcache``), shared by every process of the host.

    Layout: ``<directory>/<namespace>/<model name>/`` holds one ``diskcache.Cache`` per model, whose
    rows are kept in least-recently-used order (a use deletes and re-inserts the row, so SQLite's rowid
    order is the recency order and eviction takes the first row). Every directory is created with mode
    ``0o700`` and every file with ``0o600``; records are stored in the SQLite file, never as files of
    their own.

    A model's cache is bounded twice: by its size (entries, as in every cache) and by ``size_limit``
    bytes of its SQLite file. Storing beyond the byte limit evicts the least recently used entries.

    A model's database that SQLite cannot open or finds corrupt is reported once as a
    :class:`~zammad_orm.errors.CacheWarning`, removed and made anew (its records are fetched again).

    Args:
        directory: The cache root; default :func:`default_cache_dir`.
        namespace: Separates servers and users (see :func:`cache_namespace`).
        sizes: Sizes of particular models.
        default_size: The size of every other model.
        timeout: Seconds to wait for another process's lock on the SQLite files.
        size_limit: The most bytes of each model's database (default :data:`DEFAULT_SIZE_LIMIT`).
        size_limits: Byte limits of particular models.

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
        size_limit: int = DEFAULT_SIZE_LIMIT,
        size_limits: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(sizes, default_size)
        self.size_limit = _check_limit("the default", size_limit)
        self._limits = {
            _check_name("model name", n): _check_limit(n, v) for n, v in (size_limits or {}).items()
        }
        self.directory = _private_directory(Path(directory) if directory is not None else default_cache_dir())
        self.root = _private_directory(self.directory / _check_name("namespace", namespace))
        self.timeout = timeout
        self._caches: dict[str, diskcache.Cache] = {}
        self._unchecked: dict[str, int] = {}  # bytes written since the byte limit was checked, by model
        self._lock = threading.Lock()
        # Batch writes go through a connection of their own per model, used by any thread (the record cache's
        # writer, or the reader of a whole result at its end), one write at a time (``_writing``).
        self._writers: dict[str, tuple[int, sqlite3.Connection]] = {}
        self._writing = threading.RLock()
        # diskcache is imported when a disk cache is opened, not by ``import zammad_orm``.
        from zammad_orm.cache import jsondisk

        self._jsondisk = jsondisk

    def __repr__(self) -> str:
        return f"<DiskRecordCache {str(self.root)!r}>"

    def path(self, model_name: str) -> Path:
        """Return the directory of ``model_name``'s ``diskcache.Cache``."""
        return self.root / _check_name("model name", model_name)

    def limit(self, model_name: str) -> int:
        """Return the most bytes of ``model_name``'s database."""
        return self._limits.get(model_name, self.size_limit)

    def configure_limit(self, model_name: str, size_limit: int) -> None:
        """Set the most bytes of ``model_name``'s database; a smaller limit evicts at once.

        Raises:
            ConfigurationError: The name or the limit is invalid.

        """
        self._limits[_check_name("model name", model_name)] = _check_limit(model_name, size_limit)
        if model_name in self._caches:
            self._evict_bytes(self._cache(model_name), size_limit)

    def _cache(self, model_name: str) -> diskcache.Cache:
        with self._lock:
            cache = self._caches.get(model_name)
            if cache is None:
                try:
                    cache = self._open(model_name)
                except (sqlite3.Error, OSError) as exc:  # corrupt, unreadable: made anew once
                    self.rebuild(model_name, f"{exc}", opened=False)
                    with self._errors(model_name):
                        cache = self._open(model_name)
                self._caches[model_name] = cache
            return cache

    def _reader(self, model_name: str) -> diskcache.Cache | None:
        """Return the database to read ``model_name`` from; ``None`` when it has none yet (every read misses).

        A read does not make a database: a cold cache's first reads (the asset merges of a search's
        first pages, a kept reply looked up) would open a new file for each model, 10 ms each, on the
        reader's path; the first write makes it.
        """
        with self._lock:
            cache = self._caches.get(model_name)
        if cache is not None or (self.path(model_name) / DATABASE).exists():
            return cache or self._cache(model_name)
        return None

    def _open(self, model_name: str) -> diskcache.Cache:
        path = _private_directory(self.path(model_name))
        _private_files(path)
        cache = self._jsondisk.Cache(
            str(path),
            timeout=self.timeout,
            disk=self._jsondisk.JSONDisk,
            eviction_policy="none",  # our own count-based LRU, below
            size_limit=2**62,
            cull_limit=0,
            statistics=False,
            disk_min_file_size=2**62,  # every record in the database: no files of their own
            # diskcache's defaults give each model's connection 32 MB of page cache and 64 MB of memory
            # mapping, which a long stream fills (RSS grew with the rows read): 2 MiB and no mapping.
            sqlite_cache_size=-2048,  # in KiB (a negative size), whatever the page size
            sqlite_mmap_size=0,
            # No fsync: a cache loses nothing it cannot fetch again, and a file an operating system crash
            # left corrupt is rebuilt (``rebuild``). The checkpoint at ``close`` took 27 ms for 10,000
            # tickets with diskcache's ``NORMAL`` (two fsyncs), 8 ms without.
            sqlite_synchronous=0,
        )
        len(cache)  # reads the database: a corrupt file fails here, not at the first get
        return cache

    def rebuild(self, model_name: str, reason: str, *, opened: bool = True) -> None:
        """Remove ``model_name``'s database and start it anew, warning with a ``CacheWarning``.

        Raises:
            CacheError: The files cannot be removed.

        """
        warnings.warn(
            f"the disk cache of {model_name} in {self.path(model_name)} cannot be read ({reason});"
            " it is removed and built anew",
            CacheWarning,
            stacklevel=4,
        )
        if opened:
            with self._lock:
                stale = self._caches.pop(model_name, None)
                writer = self._writers.pop(model_name, None)
            if writer is not None and writer[0] == os.getpid():
                with contextlib.suppress(Exception):
                    writer[1].close()
            if stale is not None:
                with contextlib.suppress(Exception):
                    stale.close()
        try:
            shutil.rmtree(self.path(model_name), ignore_errors=False)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CacheError(
                f"disk cache {self.path(model_name)}: cannot remove a corrupt cache: {exc}"
            ) from exc

    @contextlib.contextmanager
    def _corrupt(self, model_name: str) -> Iterator[None]:
        """Turn a database SQLite finds corrupt into a rebuild (the read answers ``None``)."""
        try:
            yield
        except sqlite3.OperationalError:
            raise  # locked, busy, disk full: not corruption
        except sqlite3.DatabaseError as exc:
            self.rebuild(model_name, str(exc))

    @contextlib.contextmanager
    def _errors(self, model_name: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError, self._jsondisk.Timeout) as exc:
            raise CacheError(f"disk cache {self.root / model_name}: {exc}") from exc

    def _load(self, model_name: str, pk: int, value: Any) -> CachedRecord:
        where = f"disk cache {self.root / model_name}, {model_name} {pk}"
        if isinstance(value, self._jsondisk.Refused):
            raise CacheError(f"{where}: refusing to load {value.reason} (only JSON is read; clear the cache)")
        return _decode(value, where)

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the cached record, or ``None``.

        Raises:
            CacheError: The entry is pickled or not JSON, or the files cannot be read (a corrupt
                database is rebuilt instead: ``None``, and a ``CacheWarning``).

        """
        size = self.size(model_name)
        _key(pk)
        cache = None if size == 0 else self._reader(model_name)
        if cache is None:
            return None
        value: Any = None
        with self._errors(model_name), self._corrupt(model_name):
            if size < 0:
                value = cache.get(pk)
            else:
                with cache.transact():
                    value = cache.get(pk)
                    if value is not None and not isinstance(value, self._jsondisk.Refused):
                        cache.delete(pk)  # re-insert at the end of the rowid (= recency) order
                        cache.set(pk, value.decode("utf-8") if isinstance(value, bytes) else value)
        return None if value is None else self._load(model_name, pk, value)

    def get_many(self, model_name: str, pks: Sequence[int]) -> dict[int, CachedRecord]:
        """Return the cached records of several ids (those found), like :meth:`get` for each.

        An unbounded model is read with one ``SELECT`` per 500 ids; a bounded one (least recently used)
        one id at a time, since each read moves the entry to the end of the order.

        Raises:
            CacheError: As :meth:`get`.

        """
        size = self.size(model_name)
        if size == 0 or not pks:
            return {}
        if size > 0:
            return {pk: found for pk in pks if (found := self.get(model_name, pk)) is not None}
        cache = self._reader(model_name)
        if cache is None:
            for pk in pks:
                _key(pk)
            return {}
        fetch = cache.disk.fetch
        rows: list[tuple[int, int, str | None, Any]] = []
        with self._errors(model_name), self._corrupt(model_name):
            for start in range(0, len(pks), _CHUNK):
                chunk = [_key(pk) for pk in pks[start : start + _CHUNK]]
                marks = ",".join("?" * len(chunk))
                rows += cache._sql(
                    f"SELECT key, mode, filename, value FROM Cache WHERE raw = 1 AND key IN ({marks})", chunk
                ).fetchall()
        load = self._load
        return {pk: load(model_name, pk, fetch(mode, file, value, False)) for pk, mode, file, value in rows}

    def set(
        self,
        model_name: str,
        pk: int,
        record: dict[str, Any],
        *,
        updated_at: str | None = None,
        etag: str | None = None,
    ) -> None:
        """Store ``record``, evicting the least recently used entries beyond the model's size.

        Raises:
            CacheError: The record is not plain JSON, or the files cannot be written.

        """
        _check_pk(pk)
        self._write(model_name, [(pk, record, updated_at, etag)])

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        """Store several ``(pk, record, updated_at)`` in one transaction, like :meth:`set` for each, in order.

        Raises:
            CacheError: A record is not plain JSON, or the files cannot be written.

        """
        self._write(model_name, _untagged(items))

    def _write_connection(self, model_name: str) -> sqlite3.Connection:
        """Return the connection batch writes of ``model_name`` use (opened once per process).

        Not diskcache's connection, which is one per thread: the record cache's writer threads come and
        go, and opening a database there takes a dozen returns from SQLite, each a wait for the
        interpreter lock (up to 5 ms while the reader runs Python code).
        """
        pid = os.getpid()
        with self._lock:
            known = self._writers.get(model_name)
        if known is not None and known[0] == pid:
            return known[1]
        cache = self._cache(model_name)  # creates the database and its tables
        con = sqlite3.connect(
            str(self.path(model_name) / DATABASE),
            timeout=self.timeout,
            isolation_level=None,
            check_same_thread=False,  # used by one thread at a time (``_writing``)
            # No statement cache: a cached statement keeps the copies of the blobs last bound to it.
            cached_statements=0,
        )
        # diskcache's settings for a connection (the journal mode is the file's own).
        for key in ("sqlite_synchronous", "sqlite_cache_size", "sqlite_mmap_size"):
            con.execute(f"PRAGMA {key[len('sqlite_') :]} = {int(getattr(cache, key))}")
        with self._lock:
            self._writers[model_name] = (pid, con)  # a connection of the parent process is left alone
        return con

    def _write(self, model_name: str, items: Sequence[Entry]) -> None:
        size = self.size(_check_name("model name", model_name))
        if size == 0:
            return
        for pk, _, _, _ in items:
            _key(pk)
        # The last write of each id, in the order of those writes (an LRU also drops what it would evict).
        items = _last_distinct(items, size if size > 0 else len(items))
        now = time.time()
        cache = self._cache(model_name)
        written = self._unchecked.get(model_name, 0)
        with self._writing, self._errors(model_name):
            con = self._write_connection(model_name)
            # What ``cache.delete(pk); cache.set(pk, text)`` does per record (JSONDisk stores the text as raw
            # UTF-8 bytes in the row; diskcache's triggers keep its count), as two statements per 200
            # records: not 400 round trips through diskcache, and not a turn of the GIL per row as
            # ``executemany`` takes. Delete and insert (not update) puts each row at the end of the rowid
            # order (LRU). Records are encoded 200 at a time, each chunk's memory used again by the next
            # (a record that is not JSON rolls the whole batch back).
            con.execute("BEGIN IMMEDIATE")
            try:
                for start in range(0, len(items), _WRITE_CHUNK):
                    chunk = [
                        (pk, now, now, sqlite3.Binary(_encode(model_name, pk, record, updated, etag)))
                        for pk, record, updated, etag in items[start : start + _WRITE_CHUNK]
                    ]
                    written += sum(len(row[3]) for row in chunk)
                    marks = ",".join("?" * len(chunk))
                    con.execute(
                        f"DELETE FROM Cache WHERE raw = 1 AND key IN ({marks})", [row[0] for row in chunk]
                    )
                    con.execute(
                        _INSERT.format(",".join([_ROW] * len(chunk))), [v for row in chunk for v in row]
                    )
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        if size > 0:
            with self._errors(model_name), cache.transact():
                self._evict(cache, size)
        # The file's size is looked at (two queries) once a sixty-fourth of the byte limit was written since.
        limit = self.limit(model_name)
        if written * 64 < limit:
            self._unchecked[model_name] = written
            return
        self._unchecked[model_name] = 0
        with self._errors(model_name):
            self._evict_bytes(cache, limit)

    @staticmethod
    def _evict_bytes(cache: diskcache.Cache, limit: int) -> None:
        """Evict the least recently used tenth of the entries until the database fits in ``limit`` bytes.

        The database shrinks as rows go (diskcache's SQLite runs with ``auto_vacuum``), so its page count
        is the measure; each round is a transaction of its own, committed (and vacuumed) before the next.
        """
        while cache.volume() > limit:
            count = len(cache)
            if count == 0:
                return
            with cache.transact():
                for _ in range(max(1, count // 10)):
                    key, _value = cache.peekitem(last=False)
                    cache.delete(key)

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
            writers, self._writers = list(self._writers.values()), {}
        for pid, con in writers:
            if pid == os.getpid():
                con.close()
        for cache in caches:
            cache.close()
