"""In-process record caches: an LRU per model, and one that caches nothing."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from zammad_orm.cache.base import (
    DEFAULT_SIZE,
    CachedRecord,
    Entry,
    _check_name,
    _check_pk,
    _check_record,
    _check_size,
    _last_distinct,
    _Sizes,
    _untagged,
    _updated_at,
)

__all__ = ["MemoryRecordCache", "NullRecordCache"]


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
        _check_name("model name", model_name)
        _check_pk(pk)
        _check_record(model_name, record)  # even for a disabled model, unlike set_many
        self._write(model_name, [(pk, record, updated_at, etag)])

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        """Store several ``(pk, record, updated_at)`` at once, like :meth:`set` for each, in order."""
        self._write(model_name, _untagged(items))

    def _write(self, model_name: str, items: Sequence[Entry]) -> None:
        _check_name("model name", model_name)
        size = self.size(model_name)
        if size == 0:
            return
        for pk, record, _, _ in items:
            _check_pk(pk)
            _check_record(model_name, record)
        if size > 0:
            items = _last_distinct(items, size)  # the earlier ones would be evicted by the later ones
        now = time.time()
        entries_new = [
            (pk, CachedRecord(record, now, _updated_at(record, updated), etag))
            for pk, record, updated, etag in items
        ]
        with self._lock:
            entries = self._data.setdefault(model_name, OrderedDict())
            for pk, entry in entries_new:
                entries.pop(pk, None)
                entries[pk] = entry
            self._evict(entries, size)

    def put(self, model_name: str, pk: int, entry: CachedRecord) -> None:
        """Store an entry as it is (one read from another cache: its ``fetched_at`` stays)."""
        size = self.size(model_name)
        if size == 0:
            return
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

    def set(
        self,
        model_name: str,
        pk: int,
        record: dict[str, Any],
        *,
        updated_at: str | None = None,
        etag: str | None = None,
    ) -> None:
        """Do nothing."""

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        """Do nothing."""

    def delete(self, model_name: str, pk: int) -> None:
        """Do nothing."""

    def clear(self, model_name: str | None = None) -> None:
        """Do nothing."""

    def configure(self, model_name: str, size: int) -> None:
        """Check the arguments and otherwise ignore them: this cache stays off."""
        _check_name("model name", model_name)
        _check_size(model_name, size)

    def size(self, model_name: str, default: int | None = None) -> int:
        """Return 0: every model is disabled."""
        return 0
