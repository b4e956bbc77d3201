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
from _weakref import _remove_dead_weakref  # type: ignore[attr-defined]  # the stdlib's atomic delete-if-dead
from collections.abc import Iterator
from typing import Any, TypeVar, overload

from zammad_orm.errors import FieldError

__all__ = ["IdentityMap"]

T = TypeVar("T")
_Refs = dict[tuple[type, int], "weakref.KeyedRef[Any, Any]"]


class IdentityMap:
    """A thread-safe mapping ``(model class, pk) -> object`` with weak values.

    The key of an object is ``(type(obj), obj.id)``: the exact class, so a subclass instance never
    answers for its base class.

    Reads take no lock: :meth:`get` is one dict lookup and one dereference, which a loop over thousands
    of rows does for every relation it reads. Writes take the lock, so that :meth:`setdefault` is atomic.
    A dead object's entry is removed by its weak reference's callback, with the same atomic
    delete-if-dead as :class:`weakref.WeakValueDictionary`.
    """

    def __init__(self) -> None:
        self._refs: dict[tuple[type, int], weakref.KeyedRef[Any, Any]] = {}
        self._lock = threading.Lock()
        refs = self._refs

        def remove(
            ref: weakref.KeyedRef[Any, Any], _refs: dict[tuple[type, int], weakref.KeyedRef[Any, Any]] = refs
        ) -> None:
            _remove_dead_weakref(_refs, ref.key)

        self._remove = remove

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
            self._refs[key] = weakref.KeyedRef(obj, self._remove, key)
        except TypeError as exc:
            raise FieldError(
                f"{type(obj).__name__} objects cannot be weakly referenced; give the class a "
                "__weakref__ slot (attrs: keep weakref_slot=True)"
            ) from exc

    def get(self, model: type[T], pk: int) -> T | None:
        """Return the live object of ``model`` with id ``pk``, or ``None``."""
        ref = self._refs.get((model, pk))
        return None if ref is None else ref()

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
            ref = self._refs.get(key)
            current: T | None = None if ref is None else ref()
            if current is not None:
                return current
            self._put(key, obj)
            return obj

    def discard(self, model: type, pk: int) -> None:
        """Forget the object of ``model`` with id ``pk`` (no error when there is none)."""
        with self._lock:
            self._refs.pop((model, pk), None)

    def clear(self) -> None:
        """Forget every object."""
        with self._lock:
            self._refs.clear()

    @overload
    def objects(self) -> list[object]: ...
    @overload
    def objects(self, model: type[T]) -> list[T]: ...
    def objects(self, model: type[Any] | None = None) -> list[Any]:
        """Return the live objects, optionally only those of ``model``."""
        alive = ((key, ref()) for key, ref in self._snapshot().items())
        return [obj for (cls, _), obj in alive if obj is not None and (model is None or cls is model)]

    def _snapshot(self) -> dict[tuple[type, int], weakref.KeyedRef[Any, Any]]:
        # dict.copy() is one C call: a weakref callback cannot change the dict in the middle of it.
        with self._lock:
            return self._refs.copy()

    def __contains__(self, key: object) -> bool:
        ref = self._refs.get(key)  # type: ignore[call-overload]
        return ref is not None and ref() is not None

    def __len__(self) -> int:
        return sum(1 for ref in self._snapshot().values() if ref() is not None)

    def __iter__(self) -> Iterator[tuple[type, int]]:
        return iter([key for key, ref in self._snapshot().items() if ref() is not None])

    def __repr__(self) -> str:
        return f"<IdentityMap of {len(self)} objects>"
