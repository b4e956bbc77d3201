"""The interfaces the lower layers use: what a client, a record cache and an identity map offer.

``query``, the paging and loading helpers, ``models``, ``manager`` and ``aggregates`` run through a client
but sit below :mod:`zammad_orm.client`. They see it as a :class:`ClientAPI`, declared here, so that every
dependency points downward (the layer test checks ``TYPE_CHECKING`` imports too).
:class:`~zammad_orm.client.Client` implements it: ``mypy --strict`` checks that wherever the client hands
itself down (``set_default_client(client)``, ``model._from_record(record, client)``). Model classes
appear as :class:`ModelLike`: the model layer is above this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import attrs

from zammad_orm.facts import ServerFacts

__all__ = ["CachedRecord", "CachedReplies", "ClientAPI", "IdentityView", "ModelLike", "RecordCache", "Reply"]


class ModelLike(Protocol):
    """What the lower layers use of a model class and its instances (:class:`zammad_orm.Model` has it)."""

    _meta: ClassVar[Any]
    objects: ClassVar[Any]
    DoesNotExist: ClassVar[Any]
    MultipleObjectsReturned: ClassVar[Any]
    id: int | None
    extra: dict[str, Any]
    _fetched_at: float | None

    def save(self, *, update_fields: Any = None, if_unmodified: bool = False) -> None:
        """Send the changed fields."""
        ...

    def update(self, **kwargs: Any) -> Any:
        """Change fields and save them."""
        ...

    def delete(self) -> None:
        """Delete the object on the server."""
        ...


T = TypeVar("T", bound=ModelLike)


@attrs.frozen
class CachedRecord:
    """One cached record.

    Attributes:
        record: The raw JSON object the server sent. Treat it as read-only.
        fetched_at: When it was stored (:func:`time.time`).
        updated_at: The record's ``updated_at`` string, for staleness checks.
        etag: The ``ETag`` the server sent with the record (a ``GET`` of that one object), to ask
            ``If-None-Match`` when the record is revalidated; ``None`` when the record came another way
            (a search, a page, a write) or from a cache entry written before ETags were kept.

    """

    record: dict[str, Any]
    fetched_at: float
    updated_at: str | None
    etag: str | None = None

    @property
    def age(self) -> float:
        """Seconds since the record was fetched."""
        return time.time() - self.fetched_at


@runtime_checkable
class RecordCache(Protocol):
    """What the client needs from a record cache (every bundled backend implements all of it)."""

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        """Return the cached record, or ``None``."""
        ...

    def set(
        self,
        model_name: str,
        pk: int,
        record: dict[str, Any],
        *,
        updated_at: str | None = None,
        etag: str | None = None,
    ) -> None:
        """Store ``record`` (``updated_at`` defaults to the record's own; ``etag``: the reply's ``ETag``)."""
        ...

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        """Store several ``(pk, record, updated_at)`` at once, like :meth:`set` for each, in order."""
        ...

    def delete(self, model_name: str, pk: int) -> None:
        """Forget one record."""
        ...

    def clear(self, model_name: str | None = None) -> None:
        """Forget the records of one model, or all of them."""
        ...

    def configure(self, model_name: str, size: int) -> None:
        """Set a model's size: -1 unbounded, 0 disabled, >0 LRU entries."""
        ...

    def size(self, model_name: str, default: int | None = None) -> int:
        """Return a model's size; a model not configured yet is configured with ``default`` when given."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


class IdentityView(Protocol):
    """The part of the identity map the lower layers read."""

    def get(self, model: type[Any], pk: int) -> Any:
        """Return the live object ``(model, pk)``, or ``None``."""
        ...


class Reply(Protocol):
    """A response whose status was checked (``ClientAPI.send``): its body decodes on demand."""

    def json(self) -> Any:
        """Decode the body as JSON (``None`` for an empty body); ``DecodeError`` when it is not JSON."""
        ...


class CachedReplies(Protocol):
    """The replies of QuerySet reads a client keeps (``client.replies``: :mod:`zammad_orm.reply_cache`)."""

    def send(self, model: Any, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        """``GET path`` for rows of ``model``: the stored reply while fresh, else asked (conditionally)."""
        ...

    def prepare(
        self, model: Any, path: str, params: Mapping[str, Any] | None = None
    ) -> tuple[bool, Callable[[], Reply]]:
        """Look ``GET path`` up now: whether the reply is at hand, and the call that answers it."""
        ...


class ClientAPI(Protocol):
    """What the layers below :mod:`zammad_orm.client` use of a client.

    Attributes:
        url: The server URL without ``/api/v1``.
        api_url: The URL of the REST API (``<url>/api/v1``).
        facts: What the client learned about its server (:class:`~zammad_orm.facts.ServerFacts`).
        identity: The identity map (one object per ``(model, id)``).
        cache: The record cache under it.
        page_concurrency: Most search pages of one query on the wire at once.
        replies: The replies of QuerySet reads kept in the record cache (:class:`CachedReplies`).

    """

    @property
    def url(self) -> str: ...  # noqa: D102

    @property
    def api_url(self) -> str: ...  # noqa: D102

    @property
    def facts(self) -> ServerFacts: ...  # noqa: D102

    @property
    def identity(self) -> IdentityView: ...  # noqa: D102

    @property
    def cache(self) -> RecordCache: ...  # noqa: D102

    @property
    def page_concurrency(self) -> int: ...  # noqa: D102

    @property
    def replies(self) -> CachedReplies: ...  # noqa: D102

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Send a request and return the decoded JSON body."""
        ...

    def send(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Reply:
        """Send a request and return the response (status checked, body not decoded)."""
        ...

    def download(self, path: str, *, params: Mapping[str, Any] | None = None) -> bytes:
        """GET ``path`` and return the raw body (attachments)."""
        ...

    def activate(self) -> AbstractContextManager[Any]:
        """Make this the client of ``Model.objects`` inside a ``with`` block."""
        ...

    def cache_size(self, model: type[Any]) -> int:
        """Return the record cache size of ``model`` (-1 unbounded, 0 off, >0 LRU)."""
        ...

    def max_age(self, model: type[Any]) -> float:
        """Return the seconds a copy of ``model`` (a record, a query reply) is used without a request."""
        ...

    def knows(self, model: type[Any], pk: int) -> bool:
        """Return whether object ``pk`` is in the identity map or the record cache (no request)."""
        ...

    def load(self, model: type[T], record: Any, *, store: bool = True) -> T:
        """Merge a server record into the identity map (and the cache); return the one instance."""
        ...

    def load_many(self, model: type[T], records: list[Any], *, owned: bool = False) -> list[T]:
        """Load every record of a page, in order."""
        ...

    def load_assets(self, assets: Any) -> None:
        """Merge every record of a search reply's ``assets`` map."""
        ...

    def adopt(self, obj: Any) -> None:
        """Register an instance that was just saved, refreshed or created through this client."""
        ...

    def forget(self, model: type[Any], pk: int) -> None:
        """Drop an object from the identity map and the cache (after a delete)."""
        ...

    def fetch(self, model: type[T], pk: int, *, expand: bool = False, max_age: float | None = None) -> T:
        """GET one object from the server (conditional when a copy is held; none for a copy under max_age)."""
        ...

    def fetch_record(self, model: type[Any], pk: int, *, expand: bool = False) -> Any:
        """GET the raw record of one object."""
        ...

    def resolve(
        self,
        model: type[T],
        pk: int,
        *,
        hint: Any = None,
        via: tuple[str, str] | None = None,
        max_age: float | None = None,
    ) -> T:
        """Return object ``pk``: identity map, then record cache, then one request.

        ``via`` names the relation read that asks (``("Ticket", "owner")``), for the N+1 warning. A copy
        older than ``max_age`` (``None``: the model's) is revalidated first.
        """
        ...

    def resolve_many(
        self,
        model: type[T],
        ids: list[int],
        *,
        via: tuple[str, str] | None = None,
        max_age: float | None = None,
    ) -> list[T]:
        """Resolve several ids, in order."""
        ...

    def revalidate_many(self, model: type[Any], ids: Iterable[int]) -> list[Any]:
        """Revalidate the held copies of ``ids`` older than their ``max_age`` in few requests.

        Returns the objects renewed from the record cache (to keep alive while they are used).
        """
        ...

    def table_rows(self, model: type[Any], max_age: float | None = None) -> list[dict[str, Any]]:
        """Return every row of a reference table, listed again when the client's listing is too old."""
        ...

    def table_objects(self, model: type[T], max_age: float | None = None) -> list[T]:
        """Return the objects of the rows of a reference table (:meth:`table_rows`), as old as its listing."""
        ...

    def mark_stale(self, model: type[Any], pk: int) -> None:
        """Make the held copy of ``pk`` due for revalidation (a write changed it on the server)."""
        ...

    def list_related(self, model: type[T], path: str) -> list[T]:
        """GET a list endpoint and load every record."""
        ...

    def decode_list(self, model: type[T], reply: Any, *, owned: bool = False) -> list[T]:
        """Load the objects of an index reply (a list of records)."""
        ...

    def local_copy(self, model: type[Any]) -> list[Any]:
        """Return the objects of the model's local copy (``client.sync``); ``NotSynced`` before one exists."""
        ...

    def iterate(self, model: type[T], path: str, params: Mapping[str, Any]) -> Iterator[T]:
        """Page through an index endpoint until a page comes back short."""
        ...
