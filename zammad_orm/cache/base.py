"""What every record cache shares: validation, JSON encoding and per-model sizes.

The entry type and the interface, :class:`CachedRecord` and :class:`RecordCache`, live in
:mod:`zammad_orm.interface` and are re-exported here.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from zammad_orm import _json
from zammad_orm.errors import CacheError, ConfigurationError, FieldError
from zammad_orm.interface import CachedRecord, RecordCache

__all__ = ["DEFAULT_SIZE", "CachedRecord", "RecordCache", "get_many"]

#: The size of a model nobody configured: unbounded.
DEFAULT_SIZE = -1

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


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


def _check_record(model_name: str, record: object) -> None:
    if not isinstance(record, dict):
        raise FieldError(f"a cached {model_name} record must be a dict, got {type(record).__name__}")


def _updated_at(record: Mapping[str, Any], updated_at: str | None) -> str | None:
    if updated_at is not None:
        return updated_at
    value = record.get("updated_at")
    return value if isinstance(value, str) else None


def _last_distinct(items: Sequence[Entry], size: int) -> list[Entry]:
    """Return the writes of a batch that an LRU of ``size`` keeps: the last write of the last ids."""
    seen: set[int] = set()
    kept: list[Entry] = []
    for item in reversed(items):
        if item[0] not in seen:
            seen.add(item[0])
            kept.append(item)
            if len(kept) == size:
                break
    kept.reverse()
    return kept


#: One write of a backend: ``(pk, record, updated_at, etag)`` (``set_many`` writes have no ETag).
Entry = tuple[int, dict[str, Any], "str | None", "str | None"]


def _untagged(items: Sequence[tuple[int, dict[str, Any], str | None]]) -> list[Entry]:
    """Return the writes of a ``set_many`` batch as entries without an ETag."""
    return [(pk, record, updated, None) for pk, record, updated in items]


#: Encodes cache entries: compact, UTF-8 as is, no ``NaN``; without the cycle check, which costs a quarter of
#: the time of encoding a record (a record that holds itself ends in a ``RecursionError`` instead).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False)


def _non_finite(record: dict[str, Any]) -> bool:
    """Whether ``record`` may hold a float that JSON cannot write (``NaN``, an infinity).

    A record of more than 1,000 lists and objects (or one that contains itself) counts as holding one.
    """
    stack: list[Any] = [record]
    budget = 1_000
    while stack:
        budget -= 1
        if budget < 0:
            return True
        container = stack.pop()
        for value in container.values() if type(container) is dict else container:
            kind = type(value)
            if kind is float:
                if value - value != 0.0:  # NaN and the infinities (x - x is NaN for them)
                    return True
            elif kind is dict or kind is list:
                stack.append(value)
    return False


def _encode(model_name: str, pk: int, record: Any, updated_at: str | None, etag: str | None = None) -> bytes:
    """Encode a cache entry as UTF-8 JSON: ``{"record", "fetched_at", "updated_at"[, "etag"]}``.

    orjson (when installed) encodes it, ten times as fast as the standard library; a record with ``NaN``
    or an infinity goes to the standard library, which refuses them (orjson would write ``null``), and so
    does what orjson refuses (keys that are not strings, integers beyond 64 bits).

    Raises:
        CacheError: The record is not plain JSON.

    """
    _check_record(model_name, record)
    entry: dict[str, Any] = {
        "record": record,
        "fetched_at": time.time(),
        "updated_at": _updated_at(record, updated_at),
    }
    if etag is not None:  # entries without one stay as they were (older entries have no key at all)
        entry["etag"] = etag
    if _json.fast is not None and not _non_finite(record):
        with contextlib.suppress(TypeError):  # orjson.JSONEncodeError: the standard library decides
            return _json.fast.dumps(entry)
    try:
        return _ENCODER.encode(entry).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # RecursionError: a record that holds itself
        reason = "it contains itself" if isinstance(exc, RecursionError) else str(exc)
        message = f"{model_name} {pk} cannot be cached: the record is not plain JSON ({reason})"
        raise CacheError(message) from exc


def _decode(text: str | bytes, where: str) -> CachedRecord:
    try:
        entry = _json.loads(text)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"{where}: the cache entry is not JSON ({exc}); clear the cache") from exc
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("record"), dict)
        or not isinstance(entry.get("fetched_at"), (int, float))
        or not isinstance(entry.get("updated_at"), (str, type(None)))
        or not isinstance(entry.get("etag"), (str, type(None)))
    ):
        raise CacheError(f"{where}: the cache entry does not have the expected shape; clear the cache")
    return CachedRecord(entry["record"], float(entry["fetched_at"]), entry["updated_at"], entry.get("etag"))


def get_many(cache: RecordCache, model_name: str, pks: Sequence[int]) -> dict[int, CachedRecord]:
    """Return the entries ``cache`` holds of several ids.

    The cache's own ``get_many`` when it has one (the disk cache reads a batch with one query), else one
    :meth:`~RecordCache.get` per id.
    """
    batch = getattr(cache, "get_many", None)
    if batch is not None:
        return batch(model_name, pks)  # type: ignore[no-any-return]
    return {pk: found for pk in pks if (found := cache.get(model_name, pk)) is not None}


class _Sizes:
    """Per-model sizes with a default; the part every backend shares."""

    def __init__(self, sizes: Mapping[str, int] | None, default_size: int) -> None:
        self.default_size = _check_size("the default", default_size)
        self._sizes: dict[str, int] = {}
        self._sizes_lock = threading.Lock()
        for name, size in (sizes or {}).items():
            self._sizes[_check_name("model name", name)] = _check_size(name, size)

    def size(self, model_name: str, default: int | None = None) -> int:
        """Return the size of ``model_name`` (-1 unbounded, 0 disabled, >0 LRU entries).

        Args:
            model_name: The model's name.
            default: For a model not configured yet (neither by ``sizes`` nor by :meth:`configure`): its
                size from now on, configured at once. Without it such a model has the default size.

        """
        with self._sizes_lock:
            size = self._sizes.get(model_name)
        if size is not None:
            return size
        if default is None:
            return self.default_size
        self.configure(model_name, default)
        return default

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
