"""Loading server records into objects: the identity map and record cache side of the client.

:class:`RecordLoader` is the part of :class:`~zammad_orm.client.Client` that turns records into model
instances. Every record that comes back is merged into the client's identity map (one Python object per
``(model, id)``) and written to its record cache; relations resolve through identity map, then cache,
then one request. Search ``assets`` only go to the cache unless their object is alive.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import attrs

from zammad_orm import errors
from zammad_orm.accounting import Accounting, NPlusOneDetector, endpoint_of
from zammad_orm.cache import RecordCache
from zammad_orm.cache.base import get_many
from zammad_orm.facts import ServerFacts
from zammad_orm.freshness import fetched_now, kept_reply
from zammad_orm.identity import IdentityMap
from zammad_orm.models import Model, registry
from zammad_orm.paging import iterate_index
from zammad_orm.revalidation import Revalidation

if TYPE_CHECKING:
    from zammad_orm.interface import ClientAPI, ModelLike

__all__ = ["Pagination", "RecordLoader"]

_INF = math.inf
_now = time.time

M = TypeVar("M", bound="ModelLike")


@attrs.define
class Pagination:
    """Default pagination of ``iter()`` and ``search()`` (the seed API's ``Client.pagination``).

    Attributes:
        page_size: Objects per request (clamped to what each endpoint honours).
        expand: Ask for the expanded form (names of related objects).

    """

    page_size: int = 100
    expand: bool = False


class RecordLoader(Revalidation):
    """Turns server records into model instances through the identity map and the record cache.

    A mixin of :class:`~zammad_orm.client.Client`, which provides the state below and ``request``.
    A copy older than its model's ``max_age`` is revalidated before it is returned
    (:class:`~zammad_orm.revalidation.Revalidation`).

    Attributes:
        identity: The identity map (one object per ``(model, id)``).
        cache: The record cache under it.
        pagination: Default pagination of :meth:`iterate`.

    """

    identity: IdentityMap
    cache: RecordCache
    facts: ServerFacts
    _asset_marks: dict[tuple[str, int], Any]
    pagination: Pagination
    _lock: threading.RLock
    _accounting: Accounting
    _n_plus_one: NPlusOneDetector
    warn_n_plus_one: bool

    if TYPE_CHECKING:
        # Provided by the client; declared here for type checkers only.
        def request(
            self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
        ) -> Any:
            """Send a request and return the decoded JSON body (see ``Client.request``)."""

    # -- identity map and cache --------------------------------------------------------------------

    def cache_size(self, model: type[Any]) -> int:
        """Return the record cache size of ``model`` (-1 unbounded, 0 off, >0 LRU), as the cache keeps it.

        A model nobody configured gets its ``DEFAULT_CACHE_SIZE`` on first use.
        """
        return self.cache.size(model._meta.name, model.DEFAULT_CACHE_SIZE)

    def configure_cache(self, model: type[Any], size: int) -> None:
        """Set the record cache size of one model (-1 unbounded, 0 off, >0 LRU entries)."""
        self.cache.configure(model._meta.name, size)

    def knows(self, model: type[Any], pk: int) -> bool:
        """Return whether object ``pk`` is in the identity map or the record cache (no request)."""
        if self.identity.get(model, pk) is not None:
            return True
        return self.cache_size(model) != 0 and self.cache.get(model._meta.name, pk) is not None

    def load(self, model: type[M], record: Any, *, store: bool = True) -> M:
        """Merge a server record into the identity map and the cache; return the one instance.

        ``store=False`` leaves the record cache alone (a stream's related objects, a cached record).

        Raises:
            DecodeError: The record is not an object with an id.

        """
        return cast(M, self._load(model, record, store=store))

    def _load(self, model: type[Any], record: Any, *, store: bool) -> Any:
        """:meth:`load`; ``store=False`` when the record comes from the record cache already."""
        if not isinstance(record, dict) and not isinstance(record, Mapping):
            raise errors.DecodeError(f"expected a {model.__name__} object, got {record!r}")
        pk = record.get("id")
        if type(pk) is not int:
            if pk is not None:  # the identity map's key: never guessed from a string or a float
                raise errors.DecodeError(
                    f"the server's {model.__name__} record has a non-integer 'id': {pk!r:.80}"
                )
            return model._from_record(record, cast("ClientAPI", self))
        with self._lock:
            obj, how = self._place(model, pk, record)
        if how == "same" or (how == "new" and not store) or kept_reply():
            return obj  # nothing new to cache (the same data again, built from a cached record or reply)
        self._store(model, pk, obj._raw)
        return obj

    def _place(
        self, model: type[Any], pk: int, record: Mapping[str, Any], *, copy: bool = True
    ) -> tuple[Any, Literal["same", "merged", "new"]]:
        """Put a record with an id into the identity map (the caller holds the lock).

        Returns:
            The one instance, and whether it already held the record (``"same"``: only its age
            changes), took it in (``"merged"``) or was built from it (``"new"``; ``copy=False`` keeps
            ``record`` itself as its raw record).

        """
        existing = self.identity.get(model, pk)
        if isinstance(existing, model):
            if existing._holds(record):  # as fresh as the newer of the two copies
                object.__setattr__(existing, "_fetched_at", max(existing._fetched_at, fetched_now()))
                return existing, "same"
            existing._merge(record, keep=existing._dirty_names())
            return existing, "merged"
        return self.identity.setdefault(model._from_record(record, cast("ClientAPI", self), copy=copy)), "new"

    def load_many(self, model: type[M], records: list[Any], *, owned: bool = False) -> list[M]:
        """:meth:`load` every record of a page, in order; the record cache is written once per page.

        Args:
            model: The model class of the records.
            records: The records.
            owned: The records were just decoded from a reply and nothing else holds them: new objects
                keep them as their raw records instead of a copy.

        Raises:
            DecodeError: A record is not an object with an id.

        """
        out: list[M] = []
        stored: list[tuple[int, dict[str, Any], str | None]] = []
        cached = self.cache_size(model) != 0
        with self._lock:
            for record in records:
                pk = record.get("id") if isinstance(record, dict) else None
                if type(pk) is not int:
                    out.append(self._load(model, record, store=True))  # raises, or loads it alone
                    continue
                obj, how = self._place(model, pk, record, copy=not owned)
                out.append(obj)
                if how != "same":
                    raw = obj._raw
                    updated = raw.get("updated_at")
                    stored.append((pk, raw, updated if isinstance(updated, str) else None))
        if stored and cached and not kept_reply():  # a kept reply's records were cached with it
            self.cache.set_many(model._meta.name, stored)
        return out

    def load_assets(self, assets: Any) -> None:
        """Merge every record of an ``assets`` map (``{"Ticket": {"1": {...}}, ...}``).

        Live objects (in the identity map) are updated at once. The other records only go to the record
        cache, one write per model: most assets are never looked at, and a relation that needs one
        builds the object from the cache without a request. The same agents, groups and organizations
        come with every page of a search; a record whose version (``updated_at``) this client merged
        from an earlier page already is skipped: a live object without comparing the records, a cached
        one (in an unbounded cache) without reading the cache. The cache is read once per model and page.
        """
        if not isinstance(assets, Mapping):
            return
        for key, records in assets.items():
            model_class = _asset_model(key)
            if model_class is None or not isinstance(records, Mapping):
                continue
            size = self.cache_size(model_class)
            name = model_class._meta.name
            marks = self._asset_marks
            unseen: dict[int, Mapping[str, Any]] = {}
            for record in records.values():
                pk = record.get("id") if isinstance(record, Mapping) else None
                if not isinstance(pk, int):
                    continue
                updated = record.get("updated_at")
                seen = updated is not None and marks.get((name, pk)) == updated
                if size == 0 or self.identity.get(model_class, pk) is not None:
                    if not seen:  # the same version came with an earlier page: merged then
                        self.load(model_class, record)
                        if updated is not None:
                            marks[(name, pk)] = updated
                    continue
                if size < 0 and seen:
                    continue
                unseen[pk] = record
                if size < 0:
                    marks[(name, pk)] = updated
            if unseen and not kept_reply():  # a kept reply's records were cached with it
                self._store_assets(model_class, unseen)

    def _store_assets(self, model: type[Any], records: dict[int, Mapping[str, Any]]) -> None:
        """Cache asset records, each merged over the copy the cache holds (assets may be partial).

        An asset with every column the model declares is complete (what a server filters out of an
        asset for a customer, it leaves out whole): it replaces the copy, unread. The others are merged:
        the cache is read once for them; those that add nothing to their copy are not written.
        """
        name = model._meta.name
        columns = model._meta.by_wire.keys()
        partial = [pk for pk, record in records.items() if not record.keys() >= columns]
        held = get_many(self.cache, name, partial) if partial else {}
        batch: list[tuple[int, dict[str, Any], str | None]] = []
        for pk, record in records.items():
            before = held.get(pk)
            if before is None:
                merged = dict(record)
            elif before.record == record or record.items() <= before.record.items():
                continue  # nothing new (assets repeat across search pages; equality is the cheaper test)
            else:
                merged = {**before.record, **record}
            updated = record.get("updated_at")
            batch.append((pk, merged, updated if isinstance(updated, str) else None))
        if batch:
            self.cache.set_many(name, batch)

    def adopt(self, obj: Model) -> None:
        """Register an instance that was just saved, refreshed or created through this client."""
        pk = obj.id
        if pk is None:
            return
        model = type(obj)
        if model._meta.table:  # a write to a reference table: ask for the table again when needed
            self.facts.forget_table(str(model._meta.endpoint))
        with self._lock:
            if obj._client is None:
                object.__setattr__(obj, "_client", self)
            existing = self.identity.get(model, pk)
            if existing is None:
                self.identity.add(obj)
            elif existing is not obj and isinstance(existing, Model):
                existing._merge(obj._raw, keep=existing._dirty_names())
        self._store(model, pk, obj._raw)

    def forget(self, model: type[Any], pk: int) -> None:
        """Drop an object from the identity map and the cache (after a delete)."""
        if model._meta.table:
            self.facts.forget_table(str(model._meta.endpoint))
        self.identity.discard(model, pk)
        self.cache.delete(model._meta.name, pk)

    def _store(self, model: type[Any], pk: int, record: dict[str, Any], *, etag: str | None = None) -> None:
        if self.cache_size(model) == 0:
            return
        updated = record.get("updated_at")
        self.cache.set(
            model._meta.name, pk, record, updated_at=updated if isinstance(updated, str) else None, etag=etag
        )

    # -- reading objects ---------------------------------------------------------------------------

    def resolve(
        self,
        model: type[M],
        pk: int,
        *,
        hint: Any = None,
        via: tuple[str, str] | None = None,
        max_age: float | None = None,
    ) -> M:
        """Return object ``pk``: identity map, then record cache, then one request.

        Each lookup counts as a hit or a miss of its tier in ``client.stats()``. A copy older than
        ``max_age`` (``None``: the model's, :meth:`max_age`) is revalidated first (one conditional
        request; a ``revalidation`` in ``client.stats()``).

        Args:
            model: The model class.
            pk: The id.
            hint: The expanded name the referring record carried (used for models Zammad has no
                endpoint for, such as state types).
            via: ``(model name, relation name)`` when a relation read asks (``("Ticket", "owner")``): a
                request it costs counts towards the N+1 warning (``Client(warn_n_plus_one=True)``).
            max_age: Seconds a copy may be old (``math.inf``: use any copy).

        """
        name = model._meta.name
        found = self.identity.get(model, pk)
        if isinstance(found, model):
            self._accounting.lookup("identity", name, "hit")
            # Inlined age check (this path runs at the first read of each relation of each row): the
            # model's limit from the memo of MaxAges, one clock read unless the limit is infinite.
            limit = max_age if max_age is not None else self.max_ages.memo.get(model)
            if limit is None:
                limit = self.max_ages.of(model)
            if limit < _INF:
                fetched_at = found._fetched_at
                if fetched_at is None or _now() - fetched_at >= limit:
                    return cast(M, self._revalidate(model, pk, found, "identity", None))
            return found
        self._accounting.lookup("identity", name, "miss")
        if self.cache_size(model) != 0:
            cached = self.cache.get(name, pk)
            self._accounting.lookup("record", name, "miss" if cached is None else "hit")
            if cached is not None:
                obj: M = self._load(model, cached.record, store=False)
                object.__setattr__(obj, "_fetched_at", cached.fetched_at)
                if self._stale(model, cached.fetched_at, max_age):
                    return cast(M, self._revalidate(model, pk, obj, "record", cached))
                return obj
        if model._meta.endpoint is None:
            builtin: Mapping[int, Mapping[str, Any]] = getattr(model, "BUILTIN", {})
            record = dict(builtin.get(pk, {"id": pk}))
            if isinstance(hint, str):
                record["name"] = hint
            record["id"] = pk
            return self.load(model, record)
        if model._meta.table:
            from_table = self._table_row(model, pk, max_age)
            if from_table is not None:
                return cast(M, from_table)
        if via is None or not self.warn_n_plus_one:
            return self._fetch_new(model, pk)
        started = time.monotonic()
        fetched = self._fetch_new(model, pk)
        endpoint = endpoint_of(f"{model._meta.rest_endpoint('get')}/{pk}")
        self._n_plus_one.note(via[0], via[1], model.__name__, endpoint, started)
        return fetched

    def resolve_many(
        self,
        model: type[M],
        ids: list[int],
        *,
        via: tuple[str, str] | None = None,
        max_age: float | None = None,
    ) -> list[M]:
        """Resolve several ids (in order) like :meth:`resolve`."""
        return [self.resolve(model, pk, via=via, max_age=max_age) for pk in ids]

    def list_related(self, model: type[M], path: str) -> list[M]:
        """GET a list endpoint (``ticket_articles/by_ticket/1``) and load every record."""
        reply = self.request("GET", path)
        if isinstance(reply, dict):
            reply = reply.get(model._meta.collection, reply.get(model._meta.search_key, []))
        if not isinstance(reply, list):
            raise errors.DecodeError(f"expected a list of {model.__name__} from {path}, got {reply!r}")
        return self.load_many(model, reply, owned=True)

    def iterate(self, model: type[M], path: str, params: Mapping[str, Any]) -> Iterator[M]:
        """Page through an index endpoint until a page comes back short.

        Args:
            model: The model class of the records.
            path: The endpoint path.
            params: ``page`` (first page), ``page_size``, ``expand`` and endpoint parameters.

        """
        params = dict(params)
        page = int(params.pop("page", 1) or 1)
        size = int(params.pop("page_size", params.pop("per_page", self.pagination.page_size)))
        expand = bool(params.pop("expand", self.pagination.expand))
        if page < 1 or size < 1:
            raise errors.QueryError(f"page and page_size must be >= 1, got {page} and {size}")
        size = min(size, model._meta.max_page_size)
        client = cast("ClientAPI", self)
        pages = iterate_index(client, model, path, size, page=page, params=params, expand=expand)
        return (obj for rows in pages for obj in rows)

    def decode_list(self, model: type[M], reply: Any, *, owned: bool = False) -> list[M]:
        """Load the objects of an index reply: a list of records (search replies: see replies.py).

        Args:
            model: The model class of the records.
            reply: The decoded reply.
            owned: The reply was just decoded and nothing else holds it (see :meth:`load_many`).

        Raises:
            DecodeError: The reply is not a list of objects.

        """
        if not isinstance(reply, list):
            raise errors.DecodeError(f"expected a list of {model.__name__} records, got {str(reply)[:200]!r}")
        return self.load_many(model, reply, owned=owned)


def _asset_model(key: str) -> type[Model] | None:
    """Return the model an ``assets`` key holds (the map is rebuilt when a model was added or specialised)."""
    found = _BY_ASSET_KEY.get(key)
    if len(_BY_ASSET_KEY) != len(registry) or (found is not None and registry[found._meta.name] is not found):
        _BY_ASSET_KEY.clear()
        _BY_ASSET_KEY.update({m._meta.asset_key: m for m in registry.values()})
        found = _BY_ASSET_KEY.get(key)
    return found


_BY_ASSET_KEY: dict[str, type[Model]] = {}
