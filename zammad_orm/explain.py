"""What a QuerySet sends and what evaluating it will cost: ``print(qs.query)`` and ``qs.explain()``.

:class:`CompiledQuery` is the request of a QuerySet (endpoint and parameters, or the index endpoint it
filters client-side); :func:`describe` writes the plan ``QuerySet.explain()`` shows: endpoint,
parameters, pages, how ``count()`` counts, what the caches serve and how grouped counts are computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

from .facts import SearchGeneration
from .paging import ID_BATCH, SEARCH_PAGE_SIZE, SEARCH_WINDOW

__all__ = ["LOCAL_COPY", "CompiledQuery", "Grouping", "describe", "meaning_notes"]

#: Who counts the groups of ``values(...).annotate(...)``: the server (one count per group) or the client.
Grouping = Literal["server", "client"]
#: The "endpoint" of a QuerySet answered from the local copy of ``client.sync(Model)`` (``local()``).
LOCAL_COPY = "(local copy)"


class CompiledQuery(NamedTuple):
    """What a QuerySet sends: ``print(qs.query)`` shows it."""

    #: The path below ``/api/v1`` (``"tickets/search"``, or ``"tickets"`` when filtered client-side).
    endpoint: str
    #: The request parameters (``query``, ``per_page``, ``sort_by``, ``order_by``, ...).
    params: Mapping[str, Any]
    #: ``True`` when the index endpoint is paged and the filter evaluated in Python.
    client_side: bool

    def __str__(self) -> str:
        params = dict(self.params)
        query = params.pop("query", "")
        rest = "   ".join(f"{k}={v}" for k, v in params.items())
        where = f"   (evaluated client-side over GET {self.endpoint})" if self.client_side else ""
        where = "   (evaluated client-side over the local copy)" if self.endpoint == LOCAL_COPY else where
        return f"{query}   {rest}{where}".strip()


def describe(
    model_name: str,
    compiled: CompiledQuery | None,
    *,
    cached_rows: int | None,
    low: int,
    high: int | None,
    related: Sequence[str],
    grouping: Grouping | None,
    generation: SearchGeneration,
    in_flight: int = 1,
    notes: Sequence[str] = (),
    max_age: float | None = None,
) -> str:
    """Write the plan of a QuerySet, one aspect per line (``QuerySet.explain()``).

    Args:
        model_name: The model's class name.
        compiled: The request, or ``None`` for a QuerySet that matches nothing (``none()``).
        cached_rows: The number of rows in the QuerySet's result cache, ``None`` when not evaluated yet.
        low: The first row of the slice.
        high: The end of the slice (exclusive), ``None`` for no end.
        related: The relation paths of ``select_related``/``values``.
        grouping: ``"server"`` (a count per group) or ``"client"`` for grouped aggregates, ``None``
            without ``annotate()``.
        generation: The server's search generation (``"unified"``: Zammad 6.5+).
        in_flight: Most page requests on the wire at once (the client's ``page_concurrency``).
        notes: Lines to add: conditions translated into ids, meanings that depend on the server.
        max_age: The seconds a reply is used without a request (the model's ``max_age``); ``None``: the
            replies are not kept (a ``raw()`` query string).

    """
    lines = [f"QuerySet of {model_name}"]
    if cached_rows is not None:
        lines.append(f"results: cached ({cached_rows} rows); iterating or counting sends no request")
    if compiled is None:
        lines.append("none(): matches nothing; no request will be sent")
        return "\n".join(lines)
    if compiled.endpoint == LOCAL_COPY:
        lines.append(f"endpoint: none: the local copy client.sync({model_name}) keeps (no request)")
        lines.append(f"filter: {compiled.params['query']} evaluated client-side; sorted client-side")
        lines.append("count(): the same pass over the local copy")
        lines.append("cache: as fresh as the last client.sync(); reference tables are read once per client")
    elif compiled.client_side:
        lines.append(
            f"endpoint: GET /api/v1/{compiled.endpoint} (index; no search index or no search endpoint)"
        )
        lines.append(f"filter: {compiled.params['query']} evaluated client-side; sorted client-side")
        lines.append("pages: every page of the index endpoint")
        lines.append("count(): the same pass over the index endpoint")
        lines.append(
            f"cache: {_kept('index pages', max_age)} (full=true); the objects they reference come with them "
            "in their assets"
        )
    else:
        lines.append(f"endpoint: GET /api/v1/{compiled.endpoint}")
        lines.append(f"parameters: {dict(compiled.params)}")
        lines.append(_pages(int(compiled.params.get("per_page", SEARCH_PAGE_SIZE)), low, high))
        if in_flight > 1:
            lines.append(
                f"in flight: the first page alone, then up to {in_flight} pages at once while the rows are "
                "read (Client(page_concurrency=...))"
            )
        if generation == "unified":
            lines.append("count(): one request with only_total_count=true")
        else:
            lines.append(
                f"count(): the ids of the matches, {SEARCH_PAGE_SIZE} per request in id order (this Zammad "
                "version sends no total); pages in the light expand=true form, only the ids are read"
            )
        lines.append(
            f"cache: {_kept('search replies', max_age)}; the records and assets of each reply refresh the "
            "identity map and the record cache, and the assets (users, organizations, groups) are "
            "attached to the rows that refer to them"
        )
    if related:
        lines.append(
            f"related: {', '.join(related)} from the search assets, the identity map and the record "
            f"cache; the rest in batches of at most {ID_BATCH} ids per request (reference tables: the "
            "whole table once per client); pages after the first in the lighter expand=true form when "
            "the first shows these relations repeat across rows"
        )
    if grouping == "server":
        how = "one only_total_count request" if generation == "unified" else "the count() above"
        lines.append(f"grouped counts: on the server, one count query per group ({how} each)")
    elif grouping is not None:
        lines.append("grouped aggregates: client-side in one pass over all matching rows")
    lines.extend(notes)
    return "\n".join(lines)


def _kept(what: str, max_age: float | None) -> str:
    """Say how long the replies of a QuerySet are used without a request."""
    if max_age is None:
        return f"the {what} are always asked for (raw() query strings are never kept)"
    if max_age == 0:
        return f"the {what} are asked for every time (max_age 0), conditionally (304: no body)"
    return (
        f"the {what} are kept in the record cache and used without a request while younger than "
        f"{max_age:g} s (the model's max_age) and asked for after the last write of a client sharing the "
        "cache; an older one costs one conditional request (304: no body)"
    )


def _pages(size: int, low: int, high: int | None) -> str:
    if high is None:
        return (
            f"pages: until a short page, {size} rows each; past {SEARCH_WINDOW} rows the query continues "
            "after the last row seen (keyset on the sort columns and id)"
        )
    if high > SEARCH_WINDOW and low >= size:
        pages = -(-high // size)
        return (
            f"pages: {pages} of {size} rows (rows {low}..{high - 1} lie past the {SEARCH_WINDOW}-row "
            "window: the search walks there from the start by keyset)"
        )
    pages = -(-(high - low + low % size) // size)
    return f"pages: {pages} of {size} rows (rows {low}..{high - 1})"


def meaning_notes(
    raw: str | None, backend: str | None, generation: SearchGeneration, searchable: bool
) -> list[str]:
    """Say what a query means on this server when that depends on its version or search backend.

    Args:
        raw: The query string of a raw search (sent as written), ``None`` for a compiled filter.
        backend: The model's known search backend (``"database"``: no search index), ``None`` if unknown.
        generation: The server's search generation (``"unified"``: Zammad 6.5+).
        searchable: Whether the model has a search endpoint.

    """
    if raw is None:
        if backend != "database" or not searchable:
            return []
        return [
            "note: without a search index the filter means what it would mean to Elasticsearch, evaluated "
            "by zammad_orm.evaluator (text fields: lowercase word tokens; .keyword: whole values)"
        ]
    notes = []
    if "*" in raw and generation == "unified":
        notes.append(
            "note: Zammad 6.5 and later delete every '*' from a search query, so this server searches "
            f"{raw.replace('*', '')!r}"
        )
    if backend == "database":
        notes.append(
            "note: this server has no search index: Zammad looks for the whole string with SQL LIKE in "
            "titles, numbers and article texts (field names, AND/OR and wildcards mean nothing there)"
        )
    return notes
