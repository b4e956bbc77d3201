"""Writes of many objects: ``bulk_create()``, and ``update()``/``delete()`` of every match of a QuerySet.

Zammad has no bulk endpoints, so each object costs one request; :func:`each` sends them
:data:`WRITE_CONCURRENCY` at a time, each inside ``client.activate()`` so that the objects' own
``save()``/``update()``/``delete()`` run on the QuerySet's client, and in a copy of the caller's context, so
that they act as the user the caller acts as (``with client.on_behalf_of(...)``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .errors import FieldError

if TYPE_CHECKING:
    from .interface import ClientAPI, ModelLike

__all__ = ["WRITE_CONCURRENCY", "Writes", "bulk_create", "check_values", "create_values", "each"]

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound="ModelLike")

#: Concurrent requests of ``update()``, ``delete()`` and ``bulk_create()``.
WRITE_CONCURRENCY = 4


def each(client: ClientAPI, work: Callable[[T], R], items: list[T]) -> list[R]:
    """Run ``work`` on every item with ``client`` active, a few at a time; return the results in order."""

    def run(item: T) -> R:
        with client.activate():
            return work(item)

    if len(items) <= 1:
        return [run(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor  # only for bulk writes: not at import

    # Each item runs in a copy of the caller's context: its ``on_behalf_of`` and open captures go along.
    contexts = [contextvars.copy_context() for _ in items]
    with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) as pool:
        return list(pool.map(lambda item, context: context.run(run, item), items, contexts))


def check_values(client: ClientAPI, model: Any, fields: Mapping[str, Any]) -> None:
    """Check the values of ``QuerySet.update()`` once, before its search: names, types, reference names.

    Raises:
        FieldError: an unknown field, a value of the wrong type, a name a reference table lacks.

    """
    model._check_references(model._input(fields), client)


def bulk_create(client: ClientAPI, model: type[Any], manager: Any, objs: list[Any]) -> list[Any]:
    """Create ``objs`` (instances of ``model`` or dicts of fields) through ``manager``; return them in order.

    Raises:
        FieldError: An item is neither a ``model`` instance nor a dict.

    """

    def make(item: Any) -> Any:
        if isinstance(item, Mapping):
            return manager.create(**item)
        if not isinstance(item, model):
            raise FieldError(f"bulk_create() takes {model.__name__} objects or dicts, got {item!r}")
        item.save()
        return item

    return each(client, make, objs)


def create_values(lookups: Mapping[str, Any], defaults: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the fields of an object ``get_or_create()`` makes: the exact lookups, then ``defaults``."""
    values = {k: v for k, v in lookups.items() if "__" not in k or k.endswith("__exact")}
    values = {k.removesuffix("__exact"): v for k, v in values.items()}
    values.update(defaults or {})
    return values


class Writes(Generic[M]):
    """The write methods of a QuerySet (a base class of ``QuerySet``): create, update, delete its objects."""

    __slots__ = ()

    model: type[M]
    _results: Any

    def _active_client(self) -> ClientAPI:
        raise NotImplementedError

    def _objects(self, page_size: int | None = None, stream: bool = False, total: Any = None) -> Iterator[M]:
        raise NotImplementedError

    def get(self, /, *nodes: Any, **lookups: Any) -> M:
        """Return the one object matching (``QuerySet.get``)."""
        raise NotImplementedError

    # -- writes ------------------------------------------------------------------------------------

    def _manager(self, client: ClientAPI) -> Any:
        return self.model.objects.using(client)

    def create(self, /, **fields: Any) -> M:
        """Create an object through this QuerySet's client."""
        return cast(M, self._manager(self._active_client()).create(**fields))

    def get_or_create(self, /, defaults: Mapping[str, Any] | None = None, **lookups: Any) -> tuple[M, bool]:
        """Return ``(object, False)`` if one matches the lookups, else create it: ``(object, True)``."""
        try:
            return self.get(**lookups), False
        except self.model.DoesNotExist:
            return self.create(**create_values(lookups, defaults)), True

    def update_or_create(
        self, /, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[M, bool]:
        """Update the object matching the lookups with ``defaults``, or create it."""
        try:
            obj = self.get(**lookups)
        except self.model.DoesNotExist:
            return self.create(**create_values(lookups, defaults)), True
        if defaults:
            obj.update(**dict(defaults))
        return obj, False

    def bulk_create(self, objs: Iterable[Any]) -> list[M]:
        """Create objects (instances or dicts of fields), a few requests at a time; return them in order."""
        client = self._active_client()
        return bulk_create(client, self.model, self._manager(client), list(objs))

    def update(self, /, **fields: Any) -> int:
        """Update every matching object (one request each, a few at a time); return how many."""
        if not fields:
            return 0
        check_values(self._active_client(), self.model, fields)  # FieldError before the search
        objs = list(self._objects())
        each(self._active_client(), lambda obj: obj.update(**fields), objs)
        self._results.items = None
        return len(objs)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete every matching object (one request each, a few at a time); return the counts."""
        objs = list(self._objects())
        each(self._active_client(), lambda obj: obj.delete(), objs)
        self._results.items = None
        return len(objs), {self.model._meta.name: len(objs)}
