"""Writes of many objects: ``bulk_create()``, and ``update()``/``delete()`` of every match of a QuerySet.

Zammad has no bulk endpoints, so each object costs one request; :func:`each` sends them
:data:`WRITE_CONCURRENCY` at a time, each inside ``client.activate()`` so that the objects' own
``save()``/``update()``/``delete()`` run on the QuerySet's client, and in a copy of the caller's context, so
that they act as the user the caller acts as (``with client.on_behalf_of(...)``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import FieldError

if TYPE_CHECKING:
    from .interface import ClientAPI

__all__ = ["WRITE_CONCURRENCY", "bulk_create", "check_values", "create_values", "each"]

T = TypeVar("T")
R = TypeVar("R")

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
