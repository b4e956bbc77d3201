"""The JSON-only ``diskcache.Disk`` of the disk cache: stores JSON text, never unpickles (CVE-2025-69872).

Imported when a disk cache is first opened, so that ``import zammad_orm`` does not load diskcache.
"""

from __future__ import annotations

from typing import Any

import diskcache

from zammad_orm.errors import CacheError

__all__ = ["Cache", "JSONDisk", "Refused", "Timeout"]

#: diskcache's cache and lock-timeout error, for the disk cache (which imports this module lazily).
Cache = diskcache.Cache
Timeout = diskcache.Timeout


class Refused:
    """What :class:`JSONDisk` hands back instead of unpickling a value."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class JSONDisk(diskcache.Disk):  # type: ignore[misc]
    """A diskcache ``Disk`` that stores JSON text as UTF-8 bytes and never unpickles.

    Keys must be ints or strings (stored raw). A pickled key or value found on disk (planted, or from a
    plain ``diskcache.Cache``) is not loaded: values come back as a :class:`Refused` marker, so the
    cache can still evict the entry by key, and keys raise :class:`CacheError`.
    """

    def put(self, key: Any) -> tuple[Any, bool]:
        """Store a key raw (ints and strings only)."""
        # Anything else, including an int beyond SQLite's 64 bits, the base class would pickle.
        if not (type(key) is str or (type(key) is int and -(2**63) <= key < 2**63)):
            raise CacheError(f"cache keys are 64-bit ints or strings, got {key!r}")
        return super().put(key)  # type: ignore[no-any-return]

    def get(self, key: Any, raw: bool) -> Any:
        """Read a key back; a pickled key raises :class:`~zammad_orm.errors.CacheError`."""
        if not raw:
            raise CacheError("the cache holds a pickled key; refusing to unpickle it (clear the cache)")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = diskcache.UNKNOWN) -> Any:
        """Store JSON text as UTF-8 bytes; anything else raises :class:`~zammad_orm.errors.CacheError`."""
        if read or not isinstance(value, str):
            raise CacheError(f"the disk cache stores JSON text only, got {type(value).__name__}")
        return super().store(value.encode("utf-8"), False, key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        """Return a stored value, or a :class:`Refused` marker instead of unpickling one."""
        if mode == diskcache.core.MODE_PICKLE:
            return Refused("a pickled value")
        if mode not in (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY, diskcache.core.MODE_TEXT):
            return Refused(f"an entry of unknown mode {mode}")
        data = super().fetch(mode, filename, value, False)
        return data if isinstance(data, (bytes, str)) else Refused(f"a raw {type(data).__name__}")
