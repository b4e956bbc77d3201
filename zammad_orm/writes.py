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

__all__ = ["WRITE_CONCURRENCY", "bulk_create", "create_values", "each"]

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

    def in_callers_context(item: T) -> R:
        # The caller's context (its `with client.on_behalf_of(...)`, its active client) goes with every
        # write to the worker thread: one copy per item, since a context is entered by one thread at a time.
        return context.copy().run(run, item)

    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) as pool:
        return list(pool.map(in_callers_context, items))


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
