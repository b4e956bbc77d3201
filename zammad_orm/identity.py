"""The per-client weak identity map: one Python object per (model, id).

Each :class:`~zammad_orm.client.Client` owns one :class:`IdentityMap`. Whenever a record arrives (a
``GET``, a search result, an ``assets`` block), the client merges it into the object already in the
map, so every part of a program that holds "ticket 42" holds the same object and sees the same state.

The map holds its objects *weakly*: once nothing else refers to an object it disappears from the map
(the raw record may still live in the persistent cache below). Objects must therefore be
weak-referenceable. Plain classes are; ``attrs`` classes with ``slots=True`` are too, because attrs
adds a ``__weakref__`` slot by default (``weakref_slot=True``) — don't turn that off for models.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Any, TypeVar, overload

from zammad_orm.errors import FieldError

__all__ = ["IdentityMap"]

T = TypeVar("T")


class IdentityMap:
    """A thread-safe mapping ``(model class, pk) -> object`` with weak values.

    The key of an object is ``(type(obj), obj.id)``: the exact class, so a subclass instance never
    answers for its base class.
    """

    def __init__(self) -> None:
        self._objects: weakref.WeakValueDictionary[tuple[type, int], Any] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    @staticmethod
    def _key(obj: object) -> tuple[type, int]:
        pk = getattr(obj, "id", None)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise FieldError(
                f"{type(obj).__name__} object has no integer id ({pk!r}); only objects that exist on the "
                "server can enter the identity map"
            )
        return type(obj), pk

    def _put(self, key: tuple[type, int], obj: object) -> None:
        try:
            self._objects[key] = obj
        except TypeError as exc:
            raise FieldError(
                f"{type(obj).__name__} objects cannot be weakly referenced; give the class a "
                "__weakref__ slot (attrs: keep weakref_slot=True)"
            ) from exc

    def get(self, model: type[T], pk: int) -> T | None:
        """Return the live object of ``model`` with id ``pk``, or ``None``."""
        with self._lock:
            obj: T | None = self._objects.get((model, pk))
            return obj

    def add(self, obj: object) -> None:
        """Put ``obj`` in the map under ``(type(obj), obj.id)``, replacing any other object there.

        Raises:
            FieldError: ``obj`` has no integer ``id``, or cannot be weakly referenced (a slotted class
                without ``__weakref__``).

        """
        key = self._key(obj)
        with self._lock:
            self._put(key, obj)

    def setdefault(self, obj: T) -> T:
        """Return the object already mapped under ``obj``'s key, or add ``obj`` and return it.

        Atomic: two threads loading the same record end up with the same object.
        """
        key = self._key(obj)
        with self._lock:
            current: T | None = self._objects.get(key)
            if current is not None:
                return current
            self._put(key, obj)
            return obj

    def discard(self, model: type, pk: int) -> None:
        """Forget the object of ``model`` with id ``pk`` (no error when there is none)."""
        with self._lock:
            self._objects.pop((model, pk), None)

    def clear(self) -> None:
        """Forget every object."""
        with self._lock:
            self._objects.clear()

    @overload
    def objects(self) -> list[object]: ...
    @overload
    def objects(self, model: type[T]) -> list[T]: ...
    def objects(self, model: type[Any] | None = None) -> list[Any]:
        """Return the live objects, optionally only those of ``model``."""
        with self._lock:
            items = list(self._objects.items())
        return [obj for (cls, _), obj in items if model is None or cls is model]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._objects

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)

    def __iter__(self) -> Iterator[tuple[type, int]]:
        with self._lock:
            return iter(list(self._objects.keys()))

    def __repr__(self) -> str:
        return f"<IdentityMap of {len(self)} objects>"
