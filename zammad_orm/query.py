"""The immutable, lazy QuerySet: chaining, slicing, result caching; it does no I/O of its own.

A :class:`QuerySet` is a value: ``filter``/``exclude``/``order_by``/``[a:b]``/``select_related``/... return
new QuerySets (``attrs.evolve``). Nothing is sent until it is iterated, counted or indexed; then it runs
through its client (the bound one, else the active client) and caches the result like Django's, so it can
be iterated many times.

How a query runs (see ``docs/queries.md``):

* searchable models go to ``<endpoint>/search``: compiled query, ``sort_by`` ending in ``id``, pages in
  flight, keyset paging past the 10,000-row window (:mod:`zammad_orm.paging`);
* without a search index or search endpoint, the index endpoint is filtered client-side by the *same*
  expression tree (:mod:`zammad_orm.clientside`; a :class:`SearchIndexUnavailableWarning` says so once).

The shapes of ``values()``/``values_list()`` rows are made by :mod:`zammad_orm.rows`, the writes of many
objects by :mod:`zammad_orm.writes` (the base ``Writes``), aggregates and DataFrames by
:mod:`zammad_orm.analysis` (the base ``Analysis``), date functions by :mod:`zammad_orm.functions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from ._memory import whole_result
from .aggregates import Aggregate, check_aggregates
from .analysis import Analysis
from .checks import (
    check_annotations,
    check_fields,
    check_names,
    check_ordering,
    check_related,
)
from .clientside import filter_client_side
from .compiler import DEFAULT_RAW_ORDER, compile_expression, compile_ordering, raw_ordering, raw_paging
from .errors import QueryError
from .explain import LOCAL_COPY, CompiledQuery, Grouping, describe, meaning_notes
from .expr import MatchAll, MatchNone, Node, Q, conjoin, describe_node, lower, negate
from .functions import Func, check_functions, order_keys
from .paging import (
    ID_BATCH,
    SEARCH_PAGE_SIZE,
    SEARCH_WINDOW,
    PageForm,
    SearchPlan,
    count_search,
    iterate_search,
)
from .prefetch import load_page_relations, load_paths
from .resolver import resolve
from .rows import ResultCache, RowMode, relation_prefixes, shape_rows, with_progress
from .search_backend import (
    Answerer,
    SearchIndexUnavailableWarning,
    answered_by_search,
    choose_backend,
    configure_search,
)
from .writes import Writes

if TYPE_CHECKING:
    from .interface import ClientAPI, ModelLike

__all__ = ["CompiledQuery", "QuerySet", "SearchIndexUnavailableWarning", "configure_search"]

M = TypeVar("M", bound="ModelLike")

#: get() reads this many rows: enough to say how many matched, up to "more than 20" (as Django does).
_GET_LIMIT = 21


@attrs.frozen(eq=False)
class _Raw:
    query: str
    ordering: tuple[tuple[str, bool], ...] | None
    params: Mapping[str, Any]


@attrs.frozen(eq=False, repr=False)
class QuerySet(Analysis, Writes[M]):
    """A lazy, immutable, re-iterable query over one model.

    Args:
        model: The model class.
        client: The client to use; ``None`` means the active client when the QuerySet runs.

    """

    model: type[M]
    client: ClientAPI | None = None
    _where: Node = attrs.field(factory=MatchAll)
    _ordering: tuple[str, ...] = ()
    _low: int = 0
    _high: int | None = None
    _raw: _Raw | None = None
    _related: tuple[str, ...] = ()
    _fields: tuple[str, ...] | None = None
    _mode: RowMode = "objects"
    _annotations: tuple[tuple[str, Aggregate], ...] = ()
    _computed: tuple[tuple[str, Func], ...] = ()
    _only: tuple[str, ...] = ()
    _local: bool = False  # answered from the local copy client.sync(Model) keeps (no requests)
    _results: ResultCache = attrs.field(factory=ResultCache)

    # -- building ----------------------------------------------------------------------------------

    def _clone(self, **changes: Any) -> QuerySet[M]:
        return attrs.evolve(self, results=ResultCache(), **changes)

    def _unsliced(self, what: str) -> None:
        if self._low or self._high is not None:
            raise QueryError(f"cannot {what} a QuerySet after slicing it")

    def using(self, client: ClientAPI) -> QuerySet[M]:
        """Return this QuerySet bound to ``client``."""
        return self._clone(client=client)

    def all(self) -> QuerySet[M]:
        """Return a copy (with an empty result cache)."""
        return self._clone()

    def none(self) -> QuerySet[M]:
        """Return a QuerySet that matches nothing (and never sends a request)."""
        return self._clone(where=MatchNone())

    def filter(self, /, *nodes: Node, **lookups: Any) -> QuerySet[M]:
        """Narrow by ``Q`` objects and ``field__lookup=value`` keywords (ANDed)."""
        self._unsliced("filter")
        self._no_raw("filter")
        return self._clone(where=conjoin([self._where, Q(*nodes, **lookups)]))

    def exclude(self, /, *nodes: Node, **lookups: Any) -> QuerySet[M]:
        """Drop what matches the ``Q`` objects and keywords (ANDed, then negated)."""
        self._unsliced("exclude")
        self._no_raw("exclude")
        return self._clone(where=conjoin([self._where, negate(Q(*nodes, **lookups))]))

    def local(self) -> QuerySet[M]:
        """Return this QuerySet answered from the local copy of ``client.sync(Model)``, with no requests."""
        self._no_raw("answer locally")
        self._active_client().local_copy(self.model)  # NotSynced before the copy exists
        return self._clone(local=True)

    def _no_raw(self, what: str) -> None:
        if self._raw is not None:
            raise QueryError(f"cannot {what} a raw search; put everything in the query string")

    def order_by(self, *fields: str) -> QuerySet[M]:
        """Order by model columns (``"-created_at"`` descending); ``id`` always breaks ties.

        Grouped rows (``values(...).annotate(n=Count("id"))``) are ordered by their fields or annotations
        (``order_by("-n")``). An unknown name raises ``QueryError`` (custom attributes: when it runs).
        """
        self._unsliced("reorder")
        keys = order_keys(fields, dict(self._computed), bool(self._annotations))  # week → created_at
        check_ordering(self.model, keys, None, self._fields, self._annotations)
        if not self._annotations:
            compile_ordering(keys)  # validate now, before any request
        return self._clone(ordering=tuple(fields))

    def reverse(self) -> QuerySet[M]:
        """Reverse the ordering (an unordered QuerySet is ordered by ``id``)."""
        self._unsliced("reverse")
        if self._annotations:  # grouped rows: flip the keys given (none: the grouped fields)
            given = self._ordering or tuple(self._fields or ())
            return self._clone(ordering=tuple(k[1:] if k.startswith("-") else f"-{k}" for k in given))
        keys = self._keys()
        return self._clone(
            ordering=tuple(("" if desc else "-") + col for col, desc in keys),
            raw=self._raw_with(keys, flip=True),
        )

    def _raw_with(self, keys: tuple[tuple[str, bool], ...], *, flip: bool) -> _Raw | None:
        if self._raw is None:
            return None
        return attrs.evolve(self._raw, ordering=tuple((c, not d) for c, d in keys) if flip else keys)

    def select_related(self, *paths: str) -> QuerySet[M]:
        """Load these relations (``"owner"``, ``"customer__organization"``) in batches with the results."""
        check_related(self.model, paths)
        return self._clone(related=self._related + tuple(p for p in paths if p not in self._related))

    prefetch_related = select_related

    def only(self, *fields: str) -> QuerySet[M]:
        """Check the names, as Django's ``only()`` does; Zammad always sends whole records."""
        check_fields(self.model, fields, attributes=None, what="only")
        return self._clone(only=self._only + tuple(fields))

    def values(self, *fields: str, **functions: Func) -> QuerySet[M]:
        """Yield dicts of these fields (``"state__name"``, computed columns, ``week=TruncWeek(...)``)."""
        if self._annotations:
            raise QueryError(
                "values() after an aggregate: give the grouped fields first, values(...).annotate()"
            )
        qs = self.annotate(**functions) if functions else self
        plain = self._plain((*fields, *functions), qs._computed)
        check_fields(self.model, plain, attributes=None, what="values")
        walked = [*plain, *(f.field for n, f in qs._computed if n in fields or n in functions)]
        return qs._clone(
            fields=(*fields, *functions), mode="dict", related=qs._related + relation_prefixes(walked)
        )

    @staticmethod
    def _plain(fields: Iterable[str], computed: Iterable[tuple[str, Func]]) -> tuple[str, ...]:
        names = {n for n, _ in computed}
        return tuple(f for f in fields if f not in names)

    def values_list(self, *fields: str, flat: bool = False, named: bool = False) -> QuerySet[M]:
        """Yield tuples of these fields; ``flat=True`` yields single values, ``named=True`` namedtuples."""
        if flat and named:
            raise QueryError("values_list() takes flat=True or named=True, not both")
        if flat and len(fields) != 1:
            raise QueryError("values_list(flat=True) needs exactly one field")
        plain = self._plain(fields, self._computed)
        check_fields(self.model, plain, attributes=None, what="values_list")
        mode: RowMode = "flat" if flat else "named" if named else "list"
        walked = [*plain, *(f.field for n, f in self._computed if n in fields)]
        return self._clone(fields=fields, mode=mode, related=self._related + relation_prefixes(walked))

    def annotate(self, /, **expressions: Any) -> QuerySet[M]:
        """Add computed columns (``week=TruncWeek("created_at", tzinfo=tz)``) or aggregates per group.

        As in Django, aggregates (``n=Count("id")``, ``Sum``, ``Avg``, ``Min``, ``Max``) after
        ``values(...)`` give one row per combination of the values; a computed column given before
        ``values()`` can be grouped by (``annotate(week=...).values("week").annotate(n=Count("id"))``).
        """
        aggs = {n: e for n, e in expressions.items() if isinstance(e, Aggregate)}
        funcs = {n: e for n, e in expressions.items() if n not in aggs}
        if aggs and (self._mode != "dict" or not self._fields):
            raise QueryError(
                "annotate() of an aggregate needs values('field', ...) first (one row per group); "
                "qs.aggregate(...) aggregates every row"
            )
        check_aggregates(self.model, aggs)
        taken = [*(self._fields or ()), *(n for n, _ in (*self._annotations, *self._computed))]
        check_functions(self.model, funcs, taken)
        check_annotations(self._fields or (), [*(n for n, _ in self._annotations), *aggs])
        fields = (*self._fields, *funcs) if self._fields and self._mode == "dict" else self._fields
        walked = relation_prefixes([f.field for f in funcs.values()]) if self._fields else ()
        return self._clone(
            annotations=self._annotations + tuple(aggs.items()),
            computed=self._computed + tuple(funcs.items()),
            fields=fields,
            related=self._related + tuple(p for p in walked if p not in self._related),
        )

    def raw(
        self,
        query: str,
        *,
        sort_by: str | Sequence[str] | None = None,
        order_by: str | Sequence[str] | None = None,
        **params: Any,
    ) -> QuerySet[M]:
        """Search with a query string as written (the seed API's ``search(query, sort_by=, order_by=)``).

        ``params`` may hold ``page`` (first page, 1-based), ``page_size``/``per_page`` and ``expand``; the
        rest is sent as is.
        """
        if not self.model._meta.searchable:
            raise QueryError(f"Zammad has no search endpoint for {self.model.__name__}")
        if not isinstance(query, str):
            raise QueryError(f"search query must be a string, got {query!r}")
        page, size, params = raw_paging(params)
        ordering = raw_ordering(sort_by, order_by)
        if size:
            params["_page_size"] = size
        return self._clone(raw=_Raw(query, ordering, params), low=(page - 1) * (size or SEARCH_PAGE_SIZE))

    # -- slicing -----------------------------------------------------------------------------------

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise QueryError("QuerySet slices take no step")
            start, stop = key.start or 0, key.stop
            if (start is not None and start < 0) or (stop is not None and stop < 0):
                raise QueryError("negative indexing is not supported")
            if self._results.items is not None:
                return self._results.items[key]
            low = self._low + start
            high = self._low + stop if stop is not None else self._high
            if self._high is not None and high is not None:
                high = min(high, self._high)
            return self._clone(low=low, high=high if high is None else max(high, low))
        if isinstance(key, bool) or not isinstance(key, int):
            raise TypeError(f"QuerySet indices must be integers or slices, not {type(key).__name__}")
        if key < 0:
            raise QueryError("negative indexing is not supported")
        if self._results.items is not None:
            return self._results.items[key]
        found = list(self[key : key + 1])
        if not found:
            raise IndexError("QuerySet index out of range")
        return found[0]

    # -- evaluation --------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fetch_all())

    def __len__(self) -> int:
        return len(self._fetch_all())

    def __bool__(self) -> bool:
        return bool(self._fetch_all())

    def __repr__(self) -> str:
        items = list(self[:21]) if self._results.items is None else self._results.items[:21]
        shown = ", ".join(repr(i) for i in items[:20]) + (
            ", ...(remaining elements truncated)..." if len(items) > 20 else ""
        )
        return f"<QuerySet [{shown}]>"

    def _fetch_all(self) -> list[Any]:
        if self._results.items is None:
            with whole_result():  # the garbage collector leaves its pages alone until the end
                self._results.items = list(self._rows(self._objects()))
        return self._results.items

    def iterator(self, chunk_size: int = SEARCH_PAGE_SIZE, *, progress: bool = False) -> Iterator[Any]:
        """Stream the results without caching them (``chunk_size`` objects per request).

        With ``progress=True`` a tqdm progress bar (the ``[progress]`` extra) counts the rows on stderr,
        with their total and an ETA once the first page told the total (no extra request is sent).
        """
        if chunk_size < 1:
            raise QueryError("chunk_size must be >= 1")
        size = min(chunk_size, SEARCH_PAGE_SIZE)
        if progress:
            return with_progress(
                lambda total: self._rows(self._objects(size, True, total)), self.model._meta.name
            )
        return self._rows(self._objects(page_size=size, stream=True))

    def _active_client(self) -> ClientAPI:
        return self.client if self.client is not None else cast("ClientAPI", self.model.objects.client)

    def _objects(
        self, page_size: int | None = None, stream: bool = False, total: Callable[[int], None] | None = None
    ) -> Iterator[M]:
        if self._annotations:
            yield from ()
            return
        tree = self._where
        if isinstance(tree, MatchNone) or (self._high is not None and self._high <= self._low):
            return
        client = self._active_client()
        resolved = self.resolved(client)
        if isinstance(lower(resolved), MatchNone) and self._raw is None:
            return
        if self._backend(client) == "search":
            raw = self._raw is not None
            plan = self._plan(client, resolved, page_size)
            found = False
            form = PageForm.wanted(self._related, plan.params)
            pages = iterate_search(
                client,
                self.model,
                plan,
                start=self._low,
                stop=self._high,
                in_flight=client.page_concurrency,
                stream=stream,
                form=form,
            )
            for number, page in enumerate(pages):
                if not found:  # until the backend is known, the first reply decides it
                    found = answered_by_search(client, self.model, found=True, raw=raw)
                if total is not None and page.total is not None:
                    total(page.total)
                load_page_relations(client, page, self._related, form, first=number == 0)
                yield from page.rows
            if found or answered_by_search(client, self.model, found=False, raw=raw):
                return
        rows = self._client_side(client, resolved)[self._low : self._high]
        if total is not None:
            total(len(rows))
        for start in range(0, len(rows), SEARCH_PAGE_SIZE):
            chunk = rows[start : start + SEARCH_PAGE_SIZE]
            load_paths(client, chunk, self._related)
            yield from chunk

    def _rows(self, objects: Iterator[M]) -> Iterator[Any]:
        if self._annotations:
            yield from self._grouped()
            return
        yield from shape_rows(
            objects, self._mode, self._fields, self.model._meta.fields, dict(self._computed)
        )

    # -- resolution of field paths -----------------------------------------------------------------

    def resolved(self, client: ClientAPI | None = None, notes: list[str] | None = None) -> Node:
        """Return the filter with user paths resolved to Zammad search fields and values typed.

        With a client, names of reference tables are checked and conditions the search index cannot
        answer are matched on the tables (``notes`` receives a line for each); the other names of the
        QuerySet (``order_by``, ``values``, ...) are checked too. Raises ``QueryError`` for any mistake.
        """
        if client is None:
            return resolve(self.model, self._where, notes=notes)
        facts = client.facts  # the custom attributes are asked only for a name not declared
        values = "values" if self._mode == "dict" else "values_list"
        keys = order_keys(self._ordering, dict(self._computed), bool(self._annotations))
        check_ordering(self.model, keys, facts.attributes, self._fields, self._annotations)
        fields = self._plain(self._fields or (), self._computed)
        check_names(self.model, (), fields, self._only, self._annotations, facts.attributes, values)
        check_functions(self.model, dict(self._computed), (), facts.attributes)
        return resolve(
            self.model, self._where, attributes=client.facts.attributes, tables=client.facts, notes=notes
        )

    def _keys(self) -> tuple[tuple[str, bool], ...]:
        if self._raw is not None and self._raw.ordering is not None:
            keys = self._raw.ordering
        elif self._raw is not None:
            keys = DEFAULT_RAW_ORDER.get(self.model._meta.name, (("updated_at", True),))
        else:  # grouped rows are ordered client-side: the rows counted need no order
            ordering = (
                order_keys(self._ordering, dict(self._computed), False) if not self._annotations else ()
            )
            keys = tuple((k.lstrip("-+"), k.startswith("-")) for k in ordering)
        sort_by, order_by = compile_ordering([("-" if d else "") + c for c, d in keys])
        return tuple((c, o == "desc") for c, o in zip(sort_by, order_by, strict=False))

    def _plan(self, client: ClientAPI, resolved: Node, page_size: int | None = None) -> SearchPlan:
        endpoint = f"{self.model._meta.endpoint}/search"
        size = page_size or SEARCH_PAGE_SIZE
        extra: dict[str, Any] = {}
        if self._raw is not None:
            extra = dict(self._raw.params)
            size = int(extra.pop("_page_size", 0)) or size
        if self._high is not None and page_size is None:
            size = max(1, min(size, self._high)) if self._low < SEARCH_WINDOW else size
        return SearchPlan(
            path=endpoint,
            where=resolved,
            raw=self._raw.query if self._raw is not None else None,
            ordering=self._keys(),
            page_size=size,
            params=extra,
            allow_stars=lambda: client.facts.generation != "unified",
            cached=self._raw is None,  # the seed API's search(query) asks every time
        )

    @property
    def query(self) -> CompiledQuery:
        """The request this QuerySet sends (``print(qs.query)``); no search is sent to resolve it."""
        return self._compiled(self._active_client(), None)

    def _compiled(self, client: ClientAPI, notes: list[str] | None) -> CompiledQuery:
        resolved = self.resolved(client, notes)
        if self._backend(client) == "search":
            plan = self._plan(client, resolved)
            params = {k: v for k, v in plan.request_params(1).items() if k not in ("page",)}
            return CompiledQuery(plan.path, params, client_side=False)
        sort_by, order_by = zip(*self._keys(), strict=False) if self._keys() else ((), ())
        params = {
            "query": compile_expression(resolved) if self._raw is None else self._raw.query,
            "sort_by": ",".join(sort_by),
            "order_by": ",".join("desc" if d else "asc" for d in order_by),
        }
        endpoint = LOCAL_COPY if self._local else str(self.model._meta.endpoint)
        return CompiledQuery(endpoint, params, client_side=True)

    def explain(self, *aggregates: Aggregate, **named: Aggregate) -> str:
        """Describe what evaluating this QuerySet will do: endpoint, parameters, pages, counting, caches.

        Grouped rows say whether the server counts (one query per group) or the client aggregates; with
        aggregates, how ``aggregate()`` of them is computed.
        """
        client = self._active_client()
        on_server = (
            self._aggregate_on_server(client, self._aggregates(aggregates, named))
            if named or aggregates
            else None
        )
        nothing = isinstance(self._where, MatchNone)
        grouping: Grouping | None = None
        if self._annotations and not nothing:
            grouping = "server" if self._server_grouping(client) else "client"
        notes: list[str] = []
        compiled = None if nothing else self._compiled(client, notes)
        raw, meta = (self._raw.query if self._raw is not None else None), self.model._meta
        notes = [f"translated: {n}" for n in notes]
        notes += meaning_notes(raw, client.facts.backend(meta.name), client.facts.generation, meta.searchable)
        if on_server is not None:
            notes.append(
                "aggregate(): on the server, the count() above"
                if on_server
                else "aggregate(): client-side in one pass over all matching rows (decimal sums exact)"
            )
        return describe(
            self.model.__name__,
            compiled,
            notes=notes,
            cached_rows=None if self._results.items is None else len(self._results.items),
            low=self._low,
            high=self._high,
            related=self._related,
            grouping=grouping,
            generation=client.facts.generation,
            in_flight=client.page_concurrency,
            max_age=None if self._raw is not None else client.max_age(self.model),
        )

    def _backend(self, client: ClientAPI) -> Answerer:
        if self._raw is not None and not (self.model._meta.searchable and self.model._meta.endpoint):
            raise QueryError(f"Zammad has no search endpoint for {self.model.__name__}")
        return "client" if self._local else choose_backend(client, self.model, raw=self._raw is not None)

    def _client_side(self, client: ClientAPI, resolved: Node) -> list[M]:
        return filter_client_side(client, self.model, lower(resolved), self._keys(), local=self._local)

    # -- single objects ----------------------------------------------------------------------------

    def get(self, /, *nodes: Node, **lookups: Any) -> M:
        """Return the one object matching; ``Model.DoesNotExist`` / ``Model.MultipleObjectsReturned``."""
        qs = self.filter(*nodes, **lookups) if (nodes or lookups) else self
        found = list(qs[:_GET_LIMIT]) if qs._high is None else list(qs)[:_GET_LIMIT]
        name = self.model.__name__
        if not found:
            # Not an HTTP 404: the search answered, and nothing matched.
            raise self.model.DoesNotExist(f"{name} matching query does not exist: {qs._described()}")
        if len(found) > 1:
            many = f"more than {_GET_LIMIT - 1}" if len(found) == _GET_LIMIT else str(len(found))
            raise self.model.MultipleObjectsReturned(
                f"get() returned more than one {name} -- it returned {many}: {qs._described()}"
            )
        return cast(M, found[0])

    def _described(self) -> str:
        text = describe_node(self._where)  # as written: filter(state='open', title__icontains='x')
        return f"search({self._raw.query!r})" if self._raw else f"filter({text})" if text else "all()"

    def first(self) -> M | None:
        """Return the first object (by the ordering, else by id), or ``None``."""
        qs = self if (self._ordering or self._raw or self._annotations) else self._clone(ordering=("id",))
        found = list(qs[:1])
        return cast(M, found[0]) if found else None

    def last(self) -> M | None:
        """Return the last object (by the ordering, else by id), or ``None``."""
        return self.reverse().first()

    def count(self) -> int:
        """Count the matches exactly (``only_total_count`` on 6.5+, else the cheapest exact way)."""
        if self._results.items is not None:
            return len(self._results.items)
        if isinstance(self._where, MatchNone) or self._annotations:
            return len(list(self)) if self._annotations else 0
        client = self._active_client()
        resolved = self.resolved(client)
        if isinstance(lower(resolved), MatchNone) and self._raw is None:
            return 0
        total = -1
        if self._backend(client) == "search":
            total, _ = count_search(client, self.model, self._plan(client, resolved))
            if not answered_by_search(client, self.model, found=total > 0, raw=self._raw is not None):
                total = -1
        if total < 0:
            total = len(self._client_side(client, resolved))
        total = max(0, total - self._low)
        return total if self._high is None else min(total, self._high - self._low)

    def exists(self) -> bool:
        """Return whether anything matches (fetches at most one row)."""
        if self._results.items is not None:
            return bool(self._results.items)
        return bool(list(self[:1]))

    def in_bulk(self, id_list: Iterable[int] | None = None) -> dict[int, M]:
        """Return ``{id: object}`` for these ids (searched in batches of at most 200 ids)."""
        if id_list is None:
            return {cast(int, o.id): o for o in self}
        ids = list(dict.fromkeys(id_list))
        out: dict[int, M] = {}
        for start in range(0, len(ids), ID_BATCH):
            batch = ids[start : start + ID_BATCH]
            # k ids have at most k matches: a complete first page ends the batch.
            for obj in self.filter(id__in=batch)[: len(batch)]:
                out[cast(int, obj.id)] = obj
        return out
