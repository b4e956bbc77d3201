"""Revalidation: a copy older than its model's ``max_age`` is checked with the server before it is used.

:class:`Revalidation` is a base of :class:`~zammad_orm.loading.RecordLoader` (and so of the client). The
age of a copy is the ``_fetched_at`` of its object in the identity map, or the ``fetched_at`` of its record
cache entry; it is looked at when an object is looked up by id (``client.tickets[42]``, the first read of a
relation), never when an attribute of an object already at hand is read.

* One copy: one conditional ``GET`` with ``If-None-Match: <ETag>`` when the record cache holds the ETag of
  that copy (else a plain ``GET``). ``304 Not Modified`` renews the copy's age without a body; ``200``
  merges the record into the object of the identity map in place, like a refresh.
* Many copies (the related objects of a page, :mod:`zammad_orm.prefetch`): one search of their ids for the
  records updated since the oldest copy was fetched, minus :data:`~zammad_orm.freshness.CLOCK_MARGIN`.
  The records that come back are merged; the others are renewed. Unchanged copies cost one small request
  in all.

The ``max_age`` of each model is :mod:`zammad_orm.freshness`'s.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from zammad_orm import errors
from zammad_orm.accounting import Accounting
from zammad_orm.cache import CachedRecord, RecordCache
from zammad_orm.expr import Lookup, conjoin
from zammad_orm.facts import ServerFacts
from zammad_orm.fields import Reverse
from zammad_orm.freshness import CLOCK_MARGIN, MaxAges, as_of
from zammad_orm.identity import IdentityMap
from zammad_orm.meta import registry
from zammad_orm.paging import ID_BATCH, SearchPlan
from zammad_orm.replies import decode_search
from zammad_orm.reply_cache import ReplyCache
from zammad_orm.sync import ABSENT, filled

if TYPE_CHECKING:
    from zammad_orm.interface import ClientAPI
    from zammad_orm.transport import Response

__all__ = ["Revalidation"]

_TABLES: dict[str, type[Any]] = {}  # endpoint -> model of the reference tables (filled on first use)


def _tables() -> dict[str, type[Any]]:
    found = {m._meta.endpoint: m for m in registry.values() if m._meta.table and m._meta.endpoint}
    _TABLES.update(found)
    return found


M = TypeVar("M")

Tier = Literal["identity", "record"]


class Revalidation:
    """Checks copies older than their ``max_age`` with the server (a base of ``RecordLoader``).

    Attributes:
        max_ages: The ``max_age`` of each model for this client (:class:`~zammad_orm.freshness.MaxAges`).

    """

    identity: IdentityMap
    cache: RecordCache
    facts: ServerFacts
    max_ages: MaxAges
    _lock: threading.RLock
    _accounting: Accounting

    if TYPE_CHECKING:
        # Provided by the loader and the client; declared here for type checkers only.
        def send(
            self,
            method: str,
            path: str,
            *,
            params: Mapping[str, Any] | None = None,
            json: Any = None,
            headers: Mapping[str, str] | None = None,
        ) -> Response:
            """Send a request (see ``Client.send``)."""

        def request(
            self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
        ) -> Any:
            """Send a request and decode the body (see ``Client.request``)."""

        def cache_size(self, model: type[Any]) -> int:
            """See ``RecordLoader.cache_size``."""

        def forget(self, model: type[Any], pk: int) -> None:
            """See ``RecordLoader.forget``."""

        def _load(self, model: type[Any], record: Any, *, store: bool) -> Any:
            """See ``RecordLoader._load``."""

        def _place(
            self, model: type[Any], pk: int, record: Mapping[str, Any], *, copy: bool = True
        ) -> tuple[Any, str]:
            """See ``RecordLoader._place``."""

        def _store(
            self, model: type[Any], pk: int, record: dict[str, Any], *, etag: str | None = None
        ) -> None:
            """See ``RecordLoader._store``."""

    def max_age(self, model: type[Any]) -> float:
        """Return the seconds a copy of ``model`` is used before it is revalidated (this client's setting)."""
        return self.max_ages.of(model)

    @property
    def replies(self) -> ReplyCache:
        """The replies of QuerySet reads, kept in the record cache (:mod:`zammad_orm.reply_cache`)."""
        found: ReplyCache | None = self.__dict__.get("_replies")
        if found is None:
            fresh = ReplyCache(self.send, lambda: self.cache, self.max_ages.of, self._accounting.lookup)
            found = self.__dict__.setdefault("_replies", fresh)
        return found

    def _ask_facts(self, method: str, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """Send the requests of ``client.facts``: the version and the reference tables via :attr:`replies`.

        The version is kept as long as a reference table (``TicketState``'s ``max_age``: a day by
        default), a table as long as its model's ``max_age``; the other facts are asked for as ever. A
        table this client listed before and forgot (a name not found in it may be new, a write changed
        it, its listing grew old) is revalidated.
        """
        table = _TABLES.get(path) if _TABLES else _tables().get(path)
        if method != "GET" or (path != "version" and table is None):
            return self.request(method, path, params=params)
        name = "version" if table is None else table._meta.name
        seconds = self.max_ages.of(registry["TicketState"] if table is None else table)
        listed: set[tuple[str, str]] = self.__dict__.setdefault("_facts_listed", set())
        if (path, str(params)) in listed:  # listed again (forgotten: a name not in it, a write): ask
            seconds = 0.0
        listed.add((path, str(params)))
        return self.replies.send_within(seconds, path, params, name=name).json()

    def _stale(self, model: type[Any], fetched_at: float | None, max_age: float | None) -> bool:
        """Whether a copy fetched at ``fetched_at`` is too old for ``max_age`` (``None``: the model's)."""
        limit = self.max_ages.of(model) if max_age is None else max_age
        if limit == math.inf:
            return False
        return fetched_at is None or time.time() - fetched_at >= limit

    # -- one record ----------------------------------------------------------------------------------

    def _copy(self, model: type[Any], pk: int) -> tuple[Any, CachedRecord | None, Tier]:
        """Return the copy of ``pk`` this client holds: its object, its cache entry and where it was."""
        found = self.identity.get(model, pk)
        if isinstance(found, model):
            return found, None, "identity"
        if self.cache_size(model) == 0:
            return None, None, "record"
        cached = self.cache.get(model._meta.name, pk)
        if cached is None:
            return None, None, "record"
        obj = self._load(model, cached.record, store=False)
        object.__setattr__(obj, "_fetched_at", cached.fetched_at)
        return obj, cached, "record"

    def fetch(self, model: type[M], pk: int, *, expand: bool = False, max_age: float | None = None) -> M:
        """GET one object from the server (``Model.DoesNotExist`` when it is missing).

        When this client holds a copy, the request is conditional (``If-None-Match`` with the copy's
        ETag, when known): ``304`` renews the copy without a body. With ``max_age``, a copy younger
        than that is returned without a request.
        """
        if not expand:
            obj, cached, tier = self._copy(model, pk)
            if obj is not None:
                if max_age is not None and not self._stale(model, obj._fetched_at, max_age):
                    return cast(M, obj)
                return cast(M, self._revalidate(model, pk, obj, tier, cached))
        return cast(M, self._take(model, pk, *self._must_get(model, pk, expand=expand)))

    def _must_get(self, model: type[Any], pk: int, *, expand: bool) -> tuple[dict[str, Any], str | None]:
        got = self._get_one(model, pk, expand=expand)
        assert got is not None  # no If-None-Match was sent, so no 304 can come
        return got

    def fetch_record(self, model: type[Any], pk: int, *, expand: bool = False) -> Any:
        """GET the raw record of one object (``Model.DoesNotExist`` when it is missing, and forgotten).

        ``'*'`` in the model's ``EXPANDED_ATTRIBUTES`` asks for the expanded form whatever ``expand`` says.

        Raises:
            DecodeError: The reply is not a record with the requested integer id.

        """
        return self._must_get(model, pk, expand=expand)[0]

    def _fetch_new(self, model: type[M], pk: int) -> M:
        """GET an object this client holds no copy of."""
        return cast(M, self._take(model, pk, *self._must_get(model, pk, expand=False)))

    def table_rows(self, model: type[Any], max_age: float | None = None) -> list[dict[str, Any]]:
        """Return every row of a reference table: the client's listing, listed again when too old.

        Too old: older than ``max_age`` (``None``: the model's ``max_age``).
        """
        table = model._meta.endpoint
        listed = self.facts.table_loaded_at(table)
        if listed is not None and self._stale(model, listed, max_age):
            self.facts.forget_table(table)
        return self.facts.table(table)

    def table_objects(self, model: type[Any], max_age: float | None = None) -> list[Any]:
        """Return the objects of every row of a reference table's listing (:meth:`table_rows`), in its order.

        A reference table is listed whole, once per client and again once the listing is older than
        ``max_age``: one request answers every row. A row whose object is alive gives that object (its
        age left alone); the others are loaded together, as old as the listing, and not written to the
        record cache again: the listing is cached (a row written alone used to wait for the cache's queued
        writes, in the middle of a loop's first row; a report's second run wrote every table again).
        """
        rows = self.table_rows(model, max_age)
        live = self.identity.get
        dead = [row for row in rows if not isinstance(row.get("id"), int) or live(model, row["id"]) is None]
        with as_of(self.facts.table_loaded_at(model._meta.endpoint)):
            loaded = {obj.id: obj for obj in self._api().load_many(model, dead)}
        ids = [row["id"] for row in rows if isinstance(row.get("id"), int)]
        return [obj for pk in ids if (obj := loaded.get(pk) or live(model, pk)) is not None]

    def _table_row(self, model: type[Any], pk: int, max_age: float | None) -> Any:
        """Return row ``pk`` of a reference table from its listing (``None``: not in it)."""
        if self.facts.row(model._meta.endpoint, pk) is None:
            return None
        return next((obj for obj in self.table_objects(model, max_age) if obj.id == pk), None)

    def _revalidate(
        self, model: type[Any], pk: int, obj: Any, tier: Tier, cached: CachedRecord | None
    ) -> Any:
        """Check ``obj`` (the copy of ``pk`` found in ``tier``) with one conditional GET; return it current.

        Raises:
            DoesNotExist: The object was deleted on the server (it is forgotten).
            DecodeError: The reply is not a record of that object.

        """
        name = model._meta.name
        self._accounting.lookup(tier, name, "revalidation")
        if cached is None and self.cache_size(model) != 0:
            cached = self.cache.get(name, pk)
        etag = None
        if cached is not None and cached.etag and cached.updated_at == obj._raw.get("updated_at"):
            etag = cached.etag  # the ETag belongs to the copy the object holds
        got = self._get_one(model, pk, etag=etag)
        if got is None:  # 304 Not Modified: the copy is current
            object.__setattr__(obj, "_fetched_at", time.time())
            if cached is not None:
                self.cache.set(name, pk, cached.record, updated_at=cached.updated_at, etag=etag)
            return obj
        return self._take(model, pk, *got)

    def _get_one(
        self, model: type[Any], pk: int, *, expand: bool = False, etag: str | None = None
    ) -> tuple[dict[str, Any], str | None] | None:
        """GET one record (``None``: 304 to ``If-None-Match: etag``), with the ETag to keep for it.

        ``'*'`` in the model's ``EXPANDED_ATTRIBUTES`` asks for the expanded form whatever ``expand``
        says. The ETag is kept only for the form a revalidation asks for.

        Raises:
            DoesNotExist: 404 (the object is forgotten).
            DecodeError: The reply is not a record with the requested integer id.

        """
        path = f"{model._meta.rest_endpoint('get')}/{pk}"
        usual = "*" in getattr(model, "EXPANDED_ATTRIBUTES", ())
        expand = expand or usual
        try:
            response = self.send(
                "GET",
                path,
                params={"expand": "true"} if expand else None,
                headers={"If-None-Match": etag} if etag else None,
            )
        except errors.RouteNotFound:
            raise  # no such route: not a missing object
        except errors.NotFound as exc:
            self.forget(model, pk)
            raise model.DoesNotExist(
                exc.message, status=exc.status, method=exc.method, url=exc.url, body=exc.body
            ) from exc
        if response.status == 304 and etag:
            return None
        record = response.json()
        got = record.get("id") if isinstance(record, dict) else record
        if type(got) is not int or got != pk:
            raise errors.DecodeError(
                f"GET {getattr(self, 'api_url', '')}/{path}: expected a {model.__name__} record with an"
                f" integer 'id' ({pk}), got {got!r:.120}"
            )
        tag = response.headers.get("ETag") if expand == usual else None
        return record, tag

    def _take(self, model: type[Any], pk: int, record: dict[str, Any], etag: str | None) -> Any:
        """Merge a record just fetched into the identity map (in place) and the cache, with its ETag.

        When the record is a newer version than the object held (another ``updated_at``, or a write
        marked the object stale), the keys it lacks are dropped from the object: they came with another
        form of the older version (the ``article_ids`` of a write's reply) and no longer hold.
        """
        with self._lock:
            existing = self.identity.get(model, pk)
            old = existing._raw if isinstance(existing, model) else None
            marked = isinstance(existing, model) and existing._fetched_at == -math.inf
            obj, _ = self._place(model, pk, record)
            if old is not None and (marked or old.get("updated_at") != record.get("updated_at")):
                raw = obj._raw
                for key in [k for k in raw if k not in record]:
                    del raw[key]  # the merge emptied the slots already: reads see the default now
        self._store(model, pk, obj._raw, etag=etag)
        return obj

    def mark_stale(self, model: type[Any], pk: int) -> None:
        """Make this client's copy of ``pk`` due for revalidation: a write changed it on the server.

        The object of the identity map (if any) is revalidated at its next lookup by id whatever its
        ``max_age`` and loses the has-many lists it kept (``ticket.articles``); the record cache entry is
        dropped. No request is sent.
        """
        found = self.identity.get(model, pk)
        if found is not None:
            object.__setattr__(found, "_fetched_at", -math.inf)
            kept = filled(found, "_rel")
            if kept is not ABSENT:
                for name, rel in model._meta.descriptors.items():
                    if isinstance(rel, Reverse):
                        kept.pop(name, None)
        if self.cache_size(model) != 0:
            self.cache.delete(model._meta.name, pk)

    # -- many records ----------------------------------------------------------------------------------

    def revalidate_many(self, model: type[Any], ids: Iterable[int]) -> list[Any]:
        """Revalidate the copies of ``ids`` older than the model's ``max_age``, in as few requests as may be.

        Ids this client holds no copy of are left alone (they are fetched when used). A searchable model
        costs one search per :data:`~zammad_orm.paging.ID_BATCH` stale ids, for those updated since the
        oldest copy was fetched (minus the clock margin): the changed records come back and are merged,
        the others are renewed. A reference table is listed again; another model (no search, or no
        search index) is revalidated one record at a time, never by listing a large endpoint.

        Returns:
            The objects renewed from the record cache: keep them alive while they are used.

        """
        limit = self.max_ages.of(model)
        if limit == math.inf or model._meta.endpoint is None:
            return []
        now = time.time()
        stale: dict[int, tuple[Any, CachedRecord | None, Tier]] = {}
        oldest = now
        for pk in ids:
            found = self.identity.get(model, pk)
            fetched: float | None
            if isinstance(found, model):
                copy: tuple[Any, CachedRecord | None, Tier] = (found, None, "identity")
                fetched = found._fetched_at
            else:
                cached = self.cache.get(model._meta.name, pk) if self.cache_size(model) != 0 else None
                if cached is None:
                    continue
                copy, fetched = (None, cached, "record"), cached.fetched_at
            if fetched is None or now - fetched >= limit:
                stale[pk] = copy
                oldest = min(oldest, fetched or 0.0)
        if not stale:
            return []
        meta = model._meta
        if meta.searchable and self.facts.search_works():
            return self._search_changed(model, stale, oldest - CLOCK_MARGIN)
        if meta.table and not meta.searchable:  # a small table: listed again, whole
            for _, _, tier in stale.values():
                self._accounting.lookup(tier, meta.name, "revalidation")
            return self._api().load_many(model, self.table_rows(model))  # one listing, if any
        keep = []
        for pk, (obj, cached, tier) in stale.items():
            if obj is None:
                obj, cached, tier = self._copy(model, pk)
            try:
                keep.append(self._revalidate(model, pk, obj, tier, cached))
            except model.DoesNotExist:
                continue  # deleted: the relation reads it again (and raises there)
        return keep

    def _search_changed(
        self, model: type[Any], stale: dict[int, tuple[Any, CachedRecord | None, Tier]], since: float
    ) -> list[Any]:
        """Search the stale ids for records updated after ``since``; merge those, renew the others."""
        meta = model._meta
        name = meta.name
        after = Lookup("updated_at", "gt", datetime.fromtimestamp(max(since, 0.0), timezone.utc))
        ids = sorted(stale)
        changed: set[int] = set()
        keep: list[Any] = []
        for start in range(0, len(ids), ID_BATCH):
            chunk = ids[start : start + ID_BATCH]
            where = conjoin([Lookup("id", "in", chunk), after])
            plan = SearchPlan(path=f"{meta.endpoint}/search", where=where, page_size=len(chunk))
            reply = self.request("GET", plan.path, params=plan.request_params(1))
            rows = decode_search(self._api(), model, reply).rows  # merged into the identity map
            keep.extend(rows)
            changed.update(row.id for row in rows)
        now = time.time()
        for pk in ids:
            obj, cached, tier = stale[pk]
            self._accounting.lookup(tier, name, "revalidation")
            if pk in changed:
                continue
            if obj is None and cached is not None:
                obj = self._load(model, cached.record, store=False)
                self.cache.set(name, pk, cached.record, updated_at=cached.updated_at, etag=cached.etag)
                keep.append(obj)
            if obj is not None:
                object.__setattr__(obj, "_fetched_at", now)
        return keep

    def _api(self) -> ClientAPI:
        return cast("ClientAPI", self)
