"""The two-tier record cache: an in-process LRU in front of a persistent cache (disk or Redis).

:class:`TieredCache` is what a client builds for ``cache="disk"``, a path or a Redis URL (and by default):
reads look in the memory tier, then in the persistent tier, and an entry found there is promoted into
memory as it is; writes go to both. The memory tier's sizes are the record cache sizes of the client
(``DEFAULT_CACHE_SIZE``, ``client.configure_cache()``); the persistent tier has sizes of its own
(``PERSISTENT_CACHE_SIZE``, unbounded by default) and, on disk, a byte limit per model.

The records of search pages and batches (``set_many``) are written to the persistent tier behind the
reader's back, by a thread of the cache's own, in order: a loop over many pages does not wait for the
disk. A whole result (``list(qs)``) holds its writes back and its reader writes them once the last page
is in, or while it waits for a page (:func:`~zammad_orm._memory.after_whole_result`). Every other use of
the persistent tier (a read that missed memory, a single write, a delete, a clear, ``close()``) waits for
the writes queued before it, so a cache always reads what it wrote; at the interpreter's exit the queued
writes are finished.

When the persistent tier fails — a full disk, a Redis server gone — the cache warns once with a
:class:`~zammad_orm.errors.CacheWarning` and goes on with the memory tier alone. An entry it cannot
decode is dropped with a warning (once per model) and counts as a miss.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from zammad_orm._memory import after_whole_result
from zammad_orm.cache.base import CachedRecord, RecordCache, _updated_at, get_many
from zammad_orm.cache.memory import MemoryRecordCache
from zammad_orm.errors import CacheError, CacheWarning

__all__ = ["LookupCounter", "PersistentDefaults", "TieredCache"]

#: Counts one read of a tier: ``(tier, model name, "hit" | "miss")`` (``Accounting.lookup``).
LookupCounter = Callable[[Any, str, Any], None]
#: A model's persistent-tier settings on first use: ``(size, byte limit or None)``, by model name.
PersistentDefaults = Callable[[str], tuple[int, int | None]]


#: One record of a batch write: ``(pk, record, updated_at)``.
Item = tuple[int, dict[str, Any], str | None]
#: Records a whole result's reader writes at a time while it waits for a page (then it looks again).
WAIT_BATCH = 200
#: The most batches queued for a persistent tier; a writer further behind makes ``set_many`` wait.
MAX_QUEUED = 4
#: Caches with writes queued for their persistent tier: finished at the interpreter's exit.
_QUEUED: weakref.WeakSet[TieredCache] = weakref.WeakSet()


@atexit.register
def _finish_queued_writes() -> None:
    for cache in list(_QUEUED):
        cache.flush()


def _by_model(entries: Iterable[tuple[str, list[Item]]]) -> dict[str, list[Item]]:
    """Group queued ``(model name, items)`` writes by model, each model's items in the order queued."""
    batches: dict[str, list[Item]] = {}
    for model_name, items in entries:
        batches.setdefault(model_name, []).extend(items)
    return batches


def _bad_data(exc: CacheError) -> bool:
    """Whether a cache error is about the data (not JSON, pickled), not about the disk or the server."""
    return exc.__cause__ is None or isinstance(exc.__cause__, (TypeError, ValueError))


class TieredCache:
    """A :class:`~zammad_orm.cache.memory.MemoryRecordCache` in front of a persistent cache.

    Implements :class:`~zammad_orm.interface.RecordCache`. ``size``/``configure`` are the memory tier's
    (``0`` switches the memory tier off; the model is then read from the persistent tier alone, and
    ``size`` answers the persistent tier's size, so that ``0`` still means "not cached at all" only when
    both tiers are off). ``configure_persistent`` and ``configure_limit`` set the persistent tier.

    Args:
        memory: The in-process tier.
        persistent: The persistent tier (a disk or Redis cache).
        persistent_defaults: The persistent size and byte limit of a model on its first use.
        on_lookup: Counts every read of a tier (the client passes its accounting).

    Attributes:
        memory: The in-process tier.
        persistent: The persistent tier; ``None`` once it failed and the cache went on without it.

    """

    def __init__(
        self,
        memory: MemoryRecordCache,
        persistent: RecordCache,
        *,
        persistent_defaults: PersistentDefaults | None = None,
        on_lookup: LookupCounter | None = None,
    ) -> None:
        self.memory = memory
        self.persistent: RecordCache | None = persistent
        self._defaults = persistent_defaults
        self.on_lookup = on_lookup
        self._configured: set[str] = set()
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        # Writes go to both tiers, and a read from the persistent tier is promoted into memory, under one
        # lock: two threads that store the same record leave the same (last) version in both tiers, and
        # a promotion never puts back an older version than a write stored meanwhile.
        self._io = threading.RLock()
        # ``set_many`` writes queued for the persistent tier, and the thread that writes them (None: idle).
        self._queue: deque[tuple[str, list[Item]]] = deque()
        self._queued = threading.Condition()
        self._writer: threading.Thread | None = None
        # The writes a whole result holds back until its reader makes them (:meth:`_release`): never the
        # writer thread's, which would write beside the rows' loop (each return from SQLite a GIL wait).
        self._held: list[tuple[str, list[Item]]] = []
        self._disk = threading.Lock()  # one write to the persistent tier at a time (the writer's or another)
        # The newest entry of each record queued and not written yet: reads find it before the disk does.
        self._waiting: dict[tuple[str, int], CachedRecord] = {}

    def __repr__(self) -> str:
        return f"<TieredCache {self.memory!r} in front of {self.persistent!r}>"

    # -- sizes -------------------------------------------------------------------------------------------

    @property
    def default_size(self) -> int:
        """The memory tier's size of a model nobody configured."""
        return self.memory.default_size

    def size(self, model_name: str, default: int | None = None) -> int:
        """Return the memory tier's size of a model, or the persistent tier's when memory is off.

        A model's first use configures both tiers: memory with ``default`` (its ``DEFAULT_CACHE_SIZE``),
        the persistent tier with ``persistent_defaults`` (its ``PERSISTENT_CACHE_SIZE`` and bytes).
        """
        size = self.memory.size(model_name, default)
        if model_name not in self._configured:
            self._first_use(model_name)
        if size != 0:
            return size
        persistent = self.persistent
        return 0 if persistent is None else persistent.size(model_name)

    def _first_use(self, model_name: str) -> None:
        with self._lock:
            if model_name in self._configured:
                return
            self._configured.add(model_name)
        persistent = self.persistent
        if self._defaults is None or persistent is None:
            return
        size, limit = self._defaults(model_name)
        with self._failing("configure"):
            persistent.size(model_name, size)
            if limit is not None and hasattr(persistent, "configure_limit"):
                persistent.configure_limit(model_name, limit)

    def configure(self, model_name: str, size: int) -> None:
        """Set the memory tier's size of a model (-1 unbounded, 0 off, >0 LRU entries)."""
        self.memory.configure(model_name, size)

    def configure_persistent(self, model_name: str, size: int) -> None:
        """Set the persistent tier's size of a model (-1 unbounded, 0 off, >0 LRU entries)."""
        self.flush()  # after the writes queued before
        self._configured.add(model_name)
        if self.persistent is not None:
            with self._failing("configure"):
                self.persistent.configure(model_name, size)

    def configure_limit(self, model_name: str, size_limit: int) -> None:
        """Set the most bytes of a model's disk cache (a Redis tier has no byte limit per model)."""
        self.flush()
        persistent = self.persistent
        if persistent is not None and hasattr(persistent, "configure_limit"):
            with self._failing("configure"):
                persistent.configure_limit(model_name, size_limit)

    # -- records -----------------------------------------------------------------------------------------

    def _count(self, tier: str, model_name: str, found: CachedRecord | None) -> None:
        if self.on_lookup is not None:
            self.on_lookup(tier, model_name, "miss" if found is None else "hit")

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the entry from memory, else from the persistent tier (promoted into memory), or ``None``."""
        in_memory = self.memory.size(model_name) != 0
        if in_memory:
            found = self.memory.get(model_name, pk)
            self._count("memory", model_name, found)
            if found is not None:
                return found
        with self._io:
            with self._queued:  # written, not on disk yet (and the memory tier evicted it meanwhile)
                waiting = self._waiting.get((model_name, pk))
            if waiting is not None:
                self._count("persistent", model_name, waiting)
                if in_memory:
                    self.memory.put(model_name, pk, waiting)
                return waiting
            persistent = self.persistent  # read without the writer's lock: SQLite and Redis read beside it
            if persistent is None:
                return None
            found = None
            try:
                found = persistent.get(model_name, pk)
            except CacheError as exc:
                if not _bad_data(exc):
                    self._give_up(exc)
                    return None
                self._warn(f"entry:{model_name}", f"{exc}; the entry is dropped and fetched again")
                with contextlib.suppress(CacheError):
                    persistent.delete(model_name, pk)
            self._count("persistent", model_name, found)
            if found is not None and in_memory:
                self.memory.put(model_name, pk, found)
            return found

    def get_many(self, model_name: str, pks: Sequence[int]) -> dict[int, CachedRecord]:
        """Return the entries found of several ids, like :meth:`get` for each.

        The ids memory does not hold are read from the persistent tier in one batch.
        """
        in_memory = self.memory.size(model_name) != 0
        found: dict[int, CachedRecord] = {}
        missing: list[int] = []
        for pk in pks:
            entry = self.memory.get(model_name, pk) if in_memory else None
            if in_memory:
                self._count("memory", model_name, entry)
            if entry is not None:
                found[pk] = entry
            else:
                missing.append(pk)
        if not missing:
            return found
        with self._io:
            with self._queued:
                waiting = {pk: w for pk in missing if (w := self._waiting.get((model_name, pk))) is not None}
            persistent = self.persistent
            rest = [pk for pk in missing if pk not in waiting]
            stored: dict[int, CachedRecord] = {}
            if persistent is not None and rest:
                try:
                    stored = get_many(persistent, model_name, rest)
                except CacheError as exc:
                    if not _bad_data(exc):
                        self._give_up(exc)
                        return found
                    # An entry that cannot be decoded: read one by one, dropping the bad one with a warning.
                    stored = {pk: entry for pk in rest if (entry := self.get(model_name, pk)) is not None}
                    rest = []
            for pk in rest:
                self._count("persistent", model_name, stored.get(pk))
            for pk, entry in {**waiting, **stored}.items():
                if pk in waiting:
                    self._count("persistent", model_name, entry)
                if in_memory:
                    self.memory.put(model_name, pk, entry)
                found[pk] = entry
        return found

    def set(
        self,
        model_name: str,
        pk: int,
        record: dict[str, Any],
        *,
        updated_at: str | None = None,
        etag: str | None = None,
    ) -> None:
        """Store ``record`` (with its ``updated_at`` and ``etag``) in both tiers."""
        self.flush()
        with self._io, self._disk:
            self._forget_waiting(model_name, pk)
            self.memory.set(model_name, pk, record, updated_at=updated_at, etag=etag)
            if self.persistent is not None:
                with self._failing("write"):
                    self.persistent.set(model_name, pk, record, updated_at=updated_at, etag=etag)

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        """Store several ``(pk, record, updated_at)`` in both tiers, like :meth:`set` for each, in order.

        The memory tier has them when this returns; the persistent tier gets them from the cache's writer
        thread (see :meth:`flush`).
        """
        with self._io:
            self.memory.set_many(model_name, items)
        if self.persistent is None or not items:
            return
        now = time.time()
        # A whole result: written by its reader once its last page is in, or while it waits for a page.
        held = after_whole_result(self._release, on_wait=True)
        with self._queued:
            for pk, record, updated in items:
                self._waiting[(model_name, pk)] = CachedRecord(record, now, _updated_at(record, updated))
            _QUEUED.add(self)
            if held:  # its rows hold these records anyway: what waits costs no memory of its own
                self._held.append((model_name, list(items)))
                return
            self._queue.append((model_name, list(items)))
            self._start_writer()
            while len(self._queue) > MAX_QUEUED and self._writer is not threading.current_thread():
                self._queued.wait()  # the writer is behind: wait, so that what is queued stays bounded

    def _start_writer(self) -> None:
        """Start the writer thread when writes wait and none runs (the caller holds ``_queued``)."""
        if self._writer is None and self._queue:
            self._writer = threading.Thread(target=self._write_queued, name="zammad-cache", daemon=True)
            self._writer.start()

    def _release(self, ready: Callable[[], bool] | None = None) -> None:
        """Write what whole results held back, in this (idle) reader, beside any writer thread.

        While the reader waits for a page (``ready``: whether it came), :data:`WAIT_BATCH` records at a
        time, until it came; the rest stays held, in order, for the next wait or the result's end.
        """
        with self._queued:
            held, self._held = self._held, []
        batches = list(_by_model(held).items())
        for number, (model_name, items) in enumerate(batches):
            step = len(items) if ready is None else WAIT_BATCH
            for start in range(0, len(items), step):
                if ready is not None and ready():
                    with self._queued:
                        self._held[:0] = [(model_name, items[start:]), *batches[number + 1 :]]
                    return
                self._write_batch(model_name, items[start : start + step])

    def flush(self) -> None:
        """Wait until the writes queued for the persistent tier (and those held back) are written."""
        with self._queued:
            self._queue.extend(self._held)
            self._held = []
            self._start_writer()
            while self._writer is not None and self._writer is not threading.current_thread():
                self._queued.wait()

    def _write_queued(self) -> None:
        while True:
            with self._queued:
                if not self._queue:
                    self._writer = None
                    self._queued.notify_all()
                    return
                # Everything queued, one write (one transaction) per model, in the order queued.
                batches = _by_model(self._queue)
                self._queue.clear()
                self._queued.notify_all()
            for model_name, items in batches.items():
                self._write_batch(model_name, items)

    def _write_batch(self, model_name: str, items: list[Item]) -> None:
        persistent = self.persistent  # None: gone since, the records stay in memory only
        # Warnings a filter turns into errors have nobody to catch them in this thread.
        with contextlib.suppress(Warning):
            try:
                if persistent is not None:
                    with self._disk, self._failing("write"):
                        with self._queued:  # a version queued or written since is that write's to make
                            newest = self._waiting.get
                            items = [
                                i for i in items if (w := newest((model_name, i[0]))) and w.record is i[1]
                            ]
                        if items:
                            persistent.set_many(model_name, items)
            except CacheError as exc:  # a record that is not JSON: nobody to raise it to any more
                self._warn(f"write:{model_name}", f"{exc}; these records are kept in memory only")
        with self._queued:  # written: reads find them on disk now (unless queued again since)
            for pk, record, _ in items:
                waiting = self._waiting.get((model_name, pk))
                if waiting is not None and waiting.record is record:
                    del self._waiting[(model_name, pk)]

    def delete(self, model_name: str, pk: int) -> None:
        """Forget one record in both tiers."""
        self.flush()
        with self._io, self._disk:
            self._forget_waiting(model_name, pk)
            self.memory.delete(model_name, pk)
            if self.persistent is not None:
                with self._failing("delete"):
                    self.persistent.delete(model_name, pk)

    def _forget_waiting(self, model_name: str | None, pk: int | None = None) -> None:
        """Drop the pending versions of a record (of a model, of all): a write is made now, after them.

        A reader writing what a whole result held back (:meth:`_release`) skips them then.
        """
        with self._queued:
            if model_name is not None and pk is not None:
                self._waiting.pop((model_name, pk), None)
                return
            for key in [key for key in self._waiting if model_name in (None, key[0])]:
                del self._waiting[key]

    def clear(self, model_name: str | None = None) -> None:
        """Forget the records of one model, or all of them, in both tiers."""
        self.flush()
        with self._io, self._disk:
            self._forget_waiting(model_name)
            self.memory.clear(model_name)
            if self.persistent is not None:
                with self._failing("clear"):
                    self.persistent.clear(model_name)

    def close(self) -> None:
        """Finish the queued writes and close the persistent tier."""
        self.flush()
        persistent, self.persistent = self.persistent, None
        if persistent is not None:
            persistent.close()

    # -- failures ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _failing(self, what: str) -> Any:
        try:
            yield
        except CacheError as exc:
            if _bad_data(exc):
                raise  # a record that is not JSON: the caller's mistake, not the cache's
            self._give_up(exc)

    def _give_up(self, exc: CacheError) -> None:
        """Go on with the memory tier alone after the persistent tier failed."""
        persistent, self.persistent = self.persistent, None
        if persistent is None:
            return
        with contextlib.suppress(Exception):
            persistent.close()
        self._warn("tier", f"{exc}; records are kept in memory only from now on")

    def _warn(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        warnings.warn(message, CacheWarning, stacklevel=4)
