"""Manager: the seed API's collection methods and the entry points of QuerySets, bound to a client.

``Ticket.objects`` is the ticket manager without a client: it uses the *active* client when it runs
(the innermost ``with client.activate():``, else the default client set by the last ``connect()``).
``client.tickets`` is the same manager bound to that client (``Ticket.objects.using(client)``).

This module also owns the default/active client: :func:`get_active_client`,
:func:`set_default_client` and the :class:`~contextvars.ContextVar` behind ``client.activate()``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from zammad_orm import errors
from zammad_orm.freshness import call_max_age
from zammad_orm.query import QuerySet

if TYPE_CHECKING:
    from zammad_orm.interface import CachedRecord, ClientAPI, RecordCache
    from zammad_orm.models import Model

__all__ = [
    "CollectionCache",
    "Manager",
    "get_active_client",
    "set_default_client",
]

M = TypeVar("M", bound="Model")

_default_client: ClientAPI | None = None
_active_client: contextvars.ContextVar[ClientAPI | None] = contextvars.ContextVar(
    "zammad_orm_active_client", default=None
)


def get_active_client() -> ClientAPI:
    """Return the client of the innermost ``client.activate()`` block, else the default client.

    Raises:
        ConfigurationError: No client was connected yet.

    """
    client = _active_client.get() or _default_client
    if client is None:
        raise errors.ConfigurationError(
            "no Zammad client: call zammad_orm.connect(...) first, or use Model.objects.using(client)"
        )
    return client


def set_default_client(client: ClientAPI | None) -> None:
    """Make ``client`` the default client of ``Model.objects`` (``connect()`` calls this)."""
    global _default_client
    _default_client = client


def activate(client: ClientAPI) -> contextvars.Token[ClientAPI | None]:
    """Make ``client`` the active client in the current context; returns the token to reset it."""
    return _active_client.set(client)


def deactivate(token: contextvars.Token[ClientAPI | None]) -> None:
    """Undo :func:`activate`."""
    _active_client.reset(token)


class CollectionCache:
    """The record cache of one collection (the seed API's ``cache`` attribute).

    A view onto the client's record cache (:mod:`zammad_orm.cache`) restricted to one model: the seed
    API's "resource LRU cache" of ``DEFAULT_CACHE_SIZE`` entries. With a disk or Redis cache that is its
    in-process memory tier (``get`` and ``in`` look there); ``delete`` and ``clear`` drop the records
    from the persistent tier as well.
    """

    def __init__(self, client: ClientAPI, model: type[Model]) -> None:
        self._client = client
        self._name = model._meta.name
        self._model = model

    @property
    def max_size(self) -> int:
        """Configured size: -1 unbounded, 0 disabled, >0 LRU entries."""
        return self._client.cache_size(self._model)

    def get(self, pk: int) -> CachedRecord | None:
        """Return the cached raw record of ``pk`` (with ``fetched_at``/``updated_at``), if any."""
        cache = self._client.cache
        memory: RecordCache = getattr(cache, "memory", cache)
        return memory.get(self._name, pk)

    def __contains__(self, pk: object) -> bool:
        return isinstance(pk, int) and self.get(pk) is not None

    def delete(self, pk: int) -> None:
        """Drop one record from the cache."""
        self._client.cache.delete(self._name, pk)

    def clear(self) -> None:
        """Drop every cached record of this collection."""
        self._client.cache.clear(self._name)

    def __repr__(self) -> str:
        return f"<CollectionCache {self._name} size={self.max_size}>"


class Manager(Generic[M]):
    """The collection of a model, optionally bound to a client.

    Args:
        model: The model class.
        client: The client to use; ``None`` means the active client at call time.

    """

    def __init__(self, model: type[M], client: ClientAPI | None = None) -> None:
        self.model = model
        self._client = client

    # -- binding -----------------------------------------------------------------------------------

    @property
    def client(self) -> ClientAPI:
        """The client this collection talks to."""
        return self._client if self._client is not None else get_active_client()

    def using(self, client: ClientAPI) -> Manager[M]:
        """Return this manager bound to ``client``."""
        return type(self)(self.model, client)

    @property
    def endpoint(self) -> str:
        """The REST path of the collection below ``/api/v1`` (``"tickets"``)."""
        return self.model._meta.rest_endpoint()

    @property
    def url(self) -> str:
        """The API endpoint URL of the collection."""
        return f"{self.client.api_url}/{self.endpoint}"

    @property
    def DEFAULT_CACHE_SIZE(self) -> int:
        """Default record cache size of this collection (-1 unbounded, 0 off, >0 LRU)."""
        return self.model.DEFAULT_CACHE_SIZE

    @property
    def cache(self) -> CollectionCache:
        """The record cache of this collection."""
        return CollectionCache(self.client, self.model)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Manager)
            and other.model is self.model
            and other._client is self._client
            and type(other) is type(self)
        )

    def __hash__(self) -> int:
        return hash((self.model, id(self._client)))

    def __repr__(self) -> str:
        bound = "active client" if self._client is None else repr(self._client)
        return f"<{type(self).__name__} {self.model.__name__} on {bound}>"

    # -- single objects ----------------------------------------------------------------------------

    def get(self, /, pk: int | None = None, *, max_age: float | None = None, **lookups: Any) -> M:
        """Fetch one object from the server.

        ``get(42)``/``get(pk=42)``/``get(id=42)`` read ``<endpoint>/42``; other lookups run a query
        (``get(number="67001")``) through the QuerySet. When the client holds a copy of object 42, the
        ``GET`` is conditional (``If-None-Match``: a ``304`` costs no body); ``max_age=60`` returns a
        copy younger than 60 seconds without a request, ``max_age=0`` always asks.

        Raises:
            DoesNotExist: ``Model.DoesNotExist`` (also a ``NotFound``) when nothing matches.
            MultipleObjectsReturned: the lookups matched several objects.
            UnsupportedOperation: An id was given and Zammad cannot get this resource by id.

        """
        if pk is None:
            pk = lookups.pop("pk", None)
        if pk is None and set(lookups) == {"id"}:
            pk = lookups.pop("id")
        seconds = call_max_age(max_age)
        if pk is not None and not lookups:
            self.model._meta.require("get")
            if isinstance(pk, bool) or not isinstance(pk, int):
                raise errors.FieldError(f"{self.model.__name__} ids are integers, got {pk!r}")
            if self.model._meta.endpoint is None:
                return self._builtin(pk)
            return self.client.fetch(self.model, pk, max_age=seconds)
        if seconds is not None:
            raise errors.FieldError("max_age applies to get() by id only (a query always asks the server)")
        if pk is not None:
            lookups["id"] = pk
        return self.get_queryset().get(**lookups)

    def _builtin(self, pk: int) -> M:
        """Return one of the seeded constants of a model Zammad has no endpoint for."""
        builtin: dict[int, Any] = getattr(self.model, "BUILTIN", {})
        if pk not in builtin and self.client.identity.get(self.model, pk) is None:
            raise self.model.DoesNotExist(
                f"{self.model.__name__} {pk} is not a known constant (nothing was sent)"
            )
        return self.client.resolve(self.model, pk)

    def __getitem__(self, pk: int) -> M:
        """Return the object with id ``pk`` from the identity map, the cache or the server.

        A copy older than the model's ``max_age`` (``client.max_age(Ticket)``) is revalidated first.
        """
        return self.client.resolve(self.model, pk)

    def create(self, /, **fields: Any) -> M:
        """Create an object on the server and return it.

        References may be given as instances, ids or names, as Zammad accepts them
        (``group="Users"``, ``state="open"``, ``customer="guess:jane@example.com"``).

        Raises:
            UnsupportedOperation: Zammad cannot create this resource (before any request).
            FieldError: An unknown field name, a value of the wrong type, or a name a reference table
                does not have (``state="opne"``; before any write).
            UnprocessableEntity: The server refused the data (its message included).
            OutcomeUnknown: The request was sent but its reply was lost: the object may or may not exist
                now; the message tells how to look for it. The create is never sent twice.

        """
        endpoint = self.model._meta.rest_endpoint("create")
        payload = self.model._input(fields)
        self.model._check_references(payload, self.client)
        try:
            record = self.client.request("POST", endpoint, json=payload)
        except errors.OutcomeUnknown as exc:
            raise exc.about(f"{self.model.__name__} create", self._how_to_check(payload)) from exc
        obj = self.client.load(self.model, record)
        obj._mark_touched(self.client)
        return obj

    def _how_to_check(self, payload: dict[str, Any]) -> str:
        """Tell how to find out whether a create whose reply was lost happened (see ``OutcomeUnknown``)."""
        return (
            f"Look for the {self.model.__name__} on the server (client.{self.model._meta.collection}"
            ".filter(...) by a value only it has) before creating it again."
        )

    # -- iteration ---------------------------------------------------------------------------------

    def iter(self, *args: Any, **params: Any) -> Iterator[M]:
        """Iterate through all objects of the collection, page by page.

        With ``params`` you can override the pagination defaults of ``Client.pagination``:
        ``page`` (first page, 1-based), ``page_size`` and ``expand``; other params are passed to the
        endpoint. ``args`` are extra path segments below the endpoint.

        Example::

            items = tuple(client.roles.iter(page_size=20))

        Raises:
            UnsupportedOperation: Zammad cannot list this resource (before any request).

        """
        self.model._meta.require("list")
        if self.model._meta.endpoint is None:
            builtin: dict[int, Any] = getattr(self.model, "BUILTIN", {})
            return iter([self._builtin(pk) for pk in sorted(builtin)])
        path = "/".join([self.endpoint, *(str(a) for a in args)])
        return self.client.iterate(self.model, path, params)

    def search(
        self, query: str, *, sort_by: str | None = None, order_by: str | None = None, **params: Any
    ) -> QuerySet[M]:
        """Search with Zammad's query syntax; returns a lazy, re-iterable QuerySet.

        Args:
            query: The query string, sent as is (e.g. ``"state.name:open AND tags:vip"``).
            sort_by: Attribute to sort by (``"created_at"``).
            order_by: ``"asc"`` or ``"desc"``.
            params: More options: ``page``, ``page_size``, ``expand``.

        Raises:
            UnsupportedOperation: Zammad has no search for this resource (before any request).

        """
        self.model._meta.require("search")
        if not isinstance(query, str):
            raise errors.QueryError(f"search query must be a string, got {query!r}")
        if order_by not in (None, "asc", "desc"):
            raise errors.QueryError(f"order_by must be 'asc' or 'desc', got {order_by!r}")
        return self.get_queryset().raw(query, sort_by=sort_by, order_by=order_by, **params)

    # -- QuerySet entry points ---------------------------------------------------------------------

    def get_queryset(self) -> QuerySet[M]:
        """Return a new QuerySet over this collection."""
        return QuerySet(self.model, self._client)

    def all(self) -> QuerySet[M]:
        """Return a QuerySet of every object."""
        return self.get_queryset().all()

    def filter(self, /, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Return a QuerySet filtered by Django-style lookups and ``Q`` objects."""
        return self.get_queryset().filter(*args, **kwargs)

    def exclude(self, /, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Return a QuerySet excluding the matching objects."""
        return self.get_queryset().exclude(*args, **kwargs)

    def order_by(self, *fields: str) -> QuerySet[M]:
        """Return a QuerySet ordered by the given fields (``"-created_at"`` descending)."""
        return self.get_queryset().order_by(*fields)

    def count(self) -> int:
        """Return the number of objects (see the QuerySet for how it is counted)."""
        return int(self.get_queryset().count())

    def __getattr__(self, name: str) -> Any:
        # Every other QuerySet method (select_related, values, first, ...) is reachable here too.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get_queryset(), name)
