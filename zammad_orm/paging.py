"""Paging through search and index endpoints, with keyset continuation past the search window.

Zammad's search pages through Elasticsearch with ``from``/``size``; ``from + size`` may not pass the
index's ``max_result_window`` (10,000), deeper pages come back empty. :func:`iterate_search` therefore
pages by number while inside the window and then continues *after the last row seen*: it adds a keyset
clause on the sort columns (always ending in ``id``) to the query and starts again at page 1. Results are
complete and free of duplicates and gaps as long as the data does not change while iterating.
:func:`count_search` counts the same way; :func:`iterate_index` pages an index endpoint.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._memory import BulkLoad, no_gc_pauses, reader_waits
from .compiler import compile_expression
from .errors import DecodeError
from .expr import Lookup, MatchAll, Node, conjoin
from .freshness import as_of
from .keyset import keyset_after
from .references import related_model
from .replies import Page, decode_search, reply_ids

if TYPE_CHECKING:
    from .interface import ClientAPI, ModelLike, Reply

__all__ = [
    "ID_BATCH",
    "SEARCH_PAGE_SIZE",
    "SEARCH_WINDOW",
    "PageForm",
    "SearchPlan",
    "count_search",
    "iterate_ids",
    "iterate_index",
    "iterate_search",
    "keyset_after",
]

M = TypeVar("M", bound="ModelLike")

#: Elasticsearch's default ``index.max_result_window``: ``from + size`` may not pass it.
SEARCH_WINDOW = 10_000
#: ``per_page`` of searches: the largest every search endpoint honours in every 6.x version.
SEARCH_PAGE_SIZE = 200
#: Most ids in one ``id:(a OR b ...)`` search.
ID_BATCH = 200


@attrs.frozen
class SearchPlan:
    """One search stream: endpoint, filter (tree or raw string), ordering, page size, extra params.

    Attributes:
        path: The search endpoint below ``/api/v1`` (``"tickets/search"``).
        where: The filter tree (used when ``raw`` is ``None``).
        raw: A query string sent as written (the seed API's ``search(query)``).
        ordering: ``(column, descending)`` pairs, ending with the ``id`` tie-break.
        page_size: ``per_page`` of each request.
        params: More request parameters (``expand``).
        allow_stars: ``False`` on Zammad 6.5+, which deletes ``*`` from queries; a callable is asked only
            when a query holds a ``*`` (so a client learns its server's version only when it matters).
        cached: Send the pages through ``client.replies``: a QuerySet's reads, answered from the record
            cache while fresh (:mod:`zammad_orm.reply_cache`).

    """

    path: str
    where: Node = attrs.field(factory=MatchAll)
    raw: str | None = None
    ordering: tuple[tuple[str, bool], ...] = (("id", False),)
    page_size: int = SEARCH_PAGE_SIZE
    params: Mapping[str, Any] = attrs.field(factory=dict)
    allow_stars: bool | Callable[[], bool] = True
    cached: bool = False

    def query(self, after: Node | None = None) -> str:
        """Return the query string, narrowed to rows after a keyset position when given."""
        if self.raw is None:
            return self._compile(self.where if after is None else conjoin([self.where, after]))
        if after is None:
            return self.raw
        raw = self.raw.strip()
        if ":" not in raw:
            raw += "*"  # what Zammad appends to a query without ":"; wrapping adds one
        return f"({raw}) AND {self._compile(after)}"

    def _compile(self, node: Node) -> str:
        text = compile_expression(node)
        if "*" in text and not (self.allow_stars() if callable(self.allow_stars) else self.allow_stars):
            return compile_expression(node, allow_stars=False)  # raises the error that names the query
        return text

    def sort_params(self) -> dict[str, str]:
        """Return ``sort_by``/``order_by`` as Zammad expects them (comma-separated)."""
        if not self.ordering:
            return {}
        return {
            "sort_by": ",".join(col for col, _ in self.ordering),
            "order_by": ",".join("desc" if desc else "asc" for _, desc in self.ordering),
        }

    def request_params(self, page: int, after: Node | None = None, *, expand: bool = False) -> dict[str, Any]:
        """Return the parameters of one page request.

        Pages are asked for with ``full=true``: the reply's ``assets`` carry every user, organization and
        group the rows refer to, so reading ``t.owner.login`` costs no request. ``expand``: the expanded
        form instead (records alone, the lightest reply that lists the ids).
        """
        form = {"expand": "true"} if expand else {"full": "true"}
        return {
            "query": self.query(after),
            "page": page,
            "per_page": self.page_size,
            **self.sort_params(),
            **form,
            **self.params,
        }


def iterate_search(
    client: ClientAPI,
    model: type[M],
    plan: SearchPlan,
    *,
    start: int = 0,
    stop: int | None = None,
    in_flight: int = 1,
    stream: bool = False,
    form: PageForm | None = None,
) -> Iterator[Page]:
    """Yield the pages of a search from row ``start`` up to ``stop``, continuing past the window.

    Each yielded :class:`Page` holds only the rows inside ``[start, stop)``, in the query's order. With
    ``in_flight > 1`` up to that many page requests are on the wire at once: the first page of each
    window goes alone (a small result costs one request), and once it came back full the next pages
    are asked for ahead while the consumer works on the current one. At the end of a result at most
    ``in_flight - 1`` requests were not needed; past the search window the next window starts after the
    last row seen (keyset), again with one page first. When the first page of a whole result (no
    ``form``, ``stream`` or ``stop``, not a raw query string) comes back full, the reference tables its
    rows refer to and its assets leave out (a ticket's states and priorities) are loaded beside the next
    pages, once per client (:func:`unsent_tables`). An error of any page is raised once, when that page
    is due; the requests still on the wire are abandoned. The first page yielded carries the number of
    rows in ``[start, stop)`` when the reply tells it (6.5+: ``total_count``; a short page).
    ``stream``: see :func:`~zammad_orm.replies.decode_search`. With a ``form`` each page is asked for in
    the form it names when the page is asked for, and the pages after the first are asked for only once
    the consumer has seen the first (and could choose the form of the rest).
    """
    size = plan.page_size
    page = start // size + 1
    skip = start % size
    if page > 1 and page * size > SEARCH_WINDOW:
        page, skip = 1, start  # deep offsets walk from the start, then continue by keyset
    remaining = None if stop is None else stop - start
    after: Node | None = None

    def params(number: int, position: Node | None) -> dict[str, Any]:
        return plan.request_params(number, position, expand=form is not None and form.expand)

    first = form is not None  # the first page is seen before the next ones are asked for
    preload = form is None and not stream and stop is None and plan.raw is None
    told = False  # the first yielded page carries the total of [start, stop) when the reply tells it
    bulk = BulkLoad(stream=stream)
    cache = model if plan.cached else None
    with _Fetcher(client, plan.path, params, in_flight, cache) as fetcher:
        while remaining is None or remaining > 0:
            last = SEARCH_WINDOW // size  # the last page number inside the window
            if remaining is not None:
                last = min(last, page + (skip + remaining - 1) // size)
            fetcher.start(after, page, last)
            rows: list[Any] = []
            while (answer := fetcher.next()) is not None:
                # From the reply text to the page objects: collected (or frozen) once; a kept reply's objects
                # are as old as the reply.
                with no_gc_pauses(), as_of(getattr(answer, "asked", None)):
                    reply = answer.json()
                    count = _row_count(model, reply)
                    if count == size and not first:
                        if preload:  # a result of many pages: load the tables its loop reads meanwhile
                            preload = False
                            fetcher.preload(client, unsent_tables(client, model, reply))
                        fetcher.ahead()  # the result goes on: keep pages in flight while this one decodes
                    expanded = fetcher.asked.get("expand") == "true"
                    decoded = decode_search(client, model, reply, expanded=expanded, stream=stream)
                    bulk.page_done()
                rows, total = decoded.rows, None
                if not told:
                    told, total = True, decoded.total
                    if total is None and count < size and after is None:  # a short first page: all rows
                        total = (page - 1) * size + count
                    if total is not None:
                        total = max(0, total - start) if stop is None else max(0, min(total, stop) - start)
                kept = rows[skip:]
                skip = max(0, skip - len(rows))
                if remaining is not None:
                    kept = kept[:remaining]
                    remaining -= len(kept)
                if kept:
                    yield Page(kept, total, decoded.assets)
                if count < size:
                    return
                if first:
                    first = False
                    fetcher.ahead()
            if fetcher.page <= SEARCH_WINDOW // size:
                return  # stopped inside the window: ``stop`` was reached
            after, page = keyset_after(plan.ordering, rows[-1]), 1


class PageForm:
    """The reply form of the pages of a ``select_related`` QuerySet: ``full=true`` or ``expand=true``.

    Every page starts as ``full=true``: its ``assets`` carry the related objects. When the first page
    shows that the loaded relations repeat across rows (agents, groups, states: :func:`~zammad_orm.
    prefetch.repeats`), the next pages are asked for with ``expand=true``, the records alone (about a
    third of the bytes), since the identity map knows their related objects already. If such a page
    still needed a batch request, the pages asked for after it are ``full=true`` again, for good.

    Attributes:
        expand: Whether the pages asked for next use ``expand=true``.

    """

    __slots__ = ("_settled", "expand")

    def __init__(self) -> None:
        self.expand = False
        self._settled = False

    @classmethod
    def wanted(cls, related: Sequence[str], params: Mapping[str, Any]) -> PageForm | None:
        """Return a form for a QuerySet loading ``related`` paths, unless the caller chose the form."""
        return cls() if related and "expand" not in params and "full" not in params else None

    def choose(self, *, lighter: bool) -> None:
        """After the first page: ask for the next pages with ``expand=true`` when ``lighter``."""
        if not self._settled:
            self.expand, self._settled = lighter, not lighter

    def after_page(self, *, batched: bool) -> None:
        """After a later page: back to ``full=true`` for good when it needed batch requests."""
        if self.expand and batched:
            self.expand, self._settled = False, True


class _Fetcher:
    """The page requests of one paged read: in order, with up to ``in_flight`` of them on the wire.

    ``params(page, after)`` makes the parameters of page ``page`` (after keyset position ``after``).
    With a ``model``, the pages are sent through ``client.replies`` (replies of that model's rows).
    """

    def __init__(
        self,
        client: ClientAPI,
        path: str,
        params: Callable[[int, Node | None], Mapping[str, Any]],
        in_flight: int,
        model: Any = None,
    ) -> None:
        self._client = client
        self._model = model
        self._path = path
        self._params = params
        self._in_flight = max(1, in_flight)
        self._pool: Any = None
        if self._in_flight > 1:
            from concurrent.futures import ThreadPoolExecutor  # loaded by the first paged search

            self._pool = ThreadPoolExecutor(self._in_flight, "zammad-page")
        # Each entry answers one page: a call to make (sequential) or a future's result (in flight), the
        # future, and the parameters the page was asked with.
        self._queue: deque[tuple[Callable[[], Any], Any, Mapping[str, Any]]] = deque()
        self.asked: Mapping[str, Any] = {}  # the parameters of the page :meth:`next` returned last
        self._after: Node | None = None
        self.page = 1  # the next page number to ask for
        self._last = 0

    def __enter__(self) -> _Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Kept replies: the pages asked for ahead are answered and kept when they come (the next evaluation
        # finds them), unless an error ended the read; the read does not wait for them (under a real
        # server's latency that wait was a round trip more at the end of every read of many pages).
        keep = self._model is not None and exc_info[0] in (None, GeneratorExit)
        self._abandon(cancel=not keep)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=not keep)

    def start(self, after: Node | None, page: int, last: int) -> None:
        """Begin a window: pages ``page`` to ``last`` after keyset position ``after``; ask for the first."""
        self._abandon()
        self._after, self.page, self._last = after, page, last
        self._ask()

    def limit(self, last: int) -> None:
        """Set the last page of the window (when a reply told how many rows there are)."""
        self._last = last

    def ahead(self) -> None:
        """Keep ``in_flight`` page requests on the wire (within the window)."""
        while len(self._queue) < self._in_flight and self.page <= self._last:
            self._ask()

    def next(self) -> Reply | None:
        """Return the response of the next page in order, ``None`` when the window's pages are all read."""
        if not self._queue:
            return None
        answer, future, self.asked = self._queue.popleft()  # dropped once read: a reply is held until then
        if future is not None and not future.done():
            reader_waits(future.done)  # the cache may write meanwhile, until the page came
        reply: Reply = answer()  # decoded by the reading thread, not in a worker
        return reply

    def _ask(self) -> None:
        params = self._params(self.page, self._after)
        self.page += 1
        call: Callable[[], Reply]
        # Past the first window of 10,000 rows (keyset) a read is a bulk read: its pages are not kept (a page
        # of 200 tickets is about 850 KB, and the first pages of every window would be kept).
        if self._model is None or self._after is not None:
            ready, call = False, functools.partial(self._client.send, "GET", self._path, params=params)
        else:  # looked up here: a kept reply needs no worker
            ready, call = self._client.replies.prepare(self._model, self._path, params)
        if ready or self._pool is None:
            self._queue.append((call, None, params))
            return
        # Each request runs in a copy of this context: impersonation (``on_behalf_of``) is a context variable.
        # The worker only sends: the reply is decoded by the reader, so that a page's many small objects
        # are made in one thread (in workers they spread over per-thread allocator arenas: 3× the RSS).
        future = self._pool.submit(contextvars.copy_context().run, call)
        self._queue.append((future.result, future, params))

    def preload(self, client: ClientAPI, paths: Sequence[str]) -> None:
        """Load reference tables (``ticket_states``, ...) beside the pages on the wire, without waiting.

        A load that fails here is not reported: the table is asked for again, and its error raised, when
        a row's relation needs it.
        """
        if self._pool is None:
            return
        for path in paths:  # threads of their own: the pool's workers are the pages'
            run = functools.partial(contextvars.copy_context().run, _load_table, client, path)
            threading.Thread(target=run, name="zammad-table", daemon=True).start()

    def _abandon(self, *, cancel: bool = True) -> None:
        for _, future, _ in self._queue:
            if future is not None and cancel:
                future.cancel()  # those already on the wire run to their end, unread
        self._queue.clear()


def _load_table(client: ClientAPI, path: str) -> None:
    with contextlib.suppress(Exception):  # asked again, and raised, by the read that needs it
        client.facts.table(path)


def unsent_tables(client: ClientAPI, model: Any, reply: Any) -> list[str]:
    """Return the reference tables a search's rows refer to that its reply's ``assets`` leave out.

    A page of tickets with its assets carries the users, organizations and groups; their states and
    priorities are rows of ``ticket_states`` and ``ticket_priorities``, which a loop over the result
    reads next. Tables this client knows already are left out.
    """
    assets = reply.get("assets") if isinstance(reply, dict) else None
    if not isinstance(assets, dict):
        return []
    paths = []
    for info in model._meta.relations.values():
        target = related_model(model, info.target) if info.kind == "fk" else None
        meta = getattr(target, "_meta", None)
        if meta is None or not meta.table or meta.endpoint is None or meta.name in assets:
            continue
        if not client.facts.has_table(meta.endpoint) and meta.endpoint not in paths:
            paths.append(meta.endpoint)
    return paths


def _row_count(model: Any, reply: Any) -> int:
    """How many rows a search reply lists (before decoding it)."""
    ids = _ids_of(model, reply)
    return len(reply) if isinstance(reply, list) else len(ids or ())


def count_search(client: ClientAPI, model: type[M], plan: SearchPlan) -> tuple[int, int]:
    """Count the matches exactly; return ``(count, requests)``.

    The first request asks for ``only_total_count=true`` together with the first page of ids: Zammad
    6.5+ answers ``{"total_count": n}`` (one request); 6.0–6.4 ignore the flag and answer the page, so
    the ids are paged through (:func:`iterate_ids`) and counted. No objects are built. Needs no
    knowledge of the server's version.
    """
    total = requests = 0
    for found in _id_pages(client, model, plan, ask_total=True):
        requests += 1
        if isinstance(found, int):
            return found, requests
        total += len(found)
    return total, requests


def iterate_ids(client: ClientAPI, model: type[M], plan: SearchPlan) -> Iterator[list[int]]:
    """Yield the ids of a search's matches, a page at a time, in id order (keyset past the window).

    The pages are asked for with ``expand=true``: of the replies every 6.x version gives, it is the
    lightest that lists the ids (about a third of the default reply, whose ``assets`` carry every
    referenced user, organization and group), 200 ids per request. No objects are built.
    """
    for found in _id_pages(client, model, plan, ask_total=False):
        if isinstance(found, list):
            yield found


def _id_pages(
    client: ClientAPI, model: type[M], plan: SearchPlan, *, ask_total: bool
) -> Iterator[int | list[int]]:
    """Yield the id pages of a search; with ``ask_total`` a 6.5+ server's total (an int) instead."""
    by_id = attrs.evolve(plan, ordering=(("id", False),), page_size=SEARCH_PAGE_SIZE)
    page, after, first = 1, None, True
    while True:
        params = {**by_id.request_params(page, after, expand=True), "expand": "true"}  # over plan.params
        params.pop("full", None)
        if first and ask_total:
            params["only_total_count"] = "true"
        if plan.cached:
            reply = client.replies.send(model, plan.path, params).json()
        else:
            reply = client.request("GET", plan.path, params=params)
        if isinstance(reply, dict) and isinstance(reply.get("total_count"), int) and first and ask_total:
            client.facts.note_generation("unified")
            yield reply["total_count"]
            return
        if first and ask_total and isinstance(reply, list):
            client.facts.note_generation("pre65")  # 6.5+ would have answered the total
        first = False
        found = _ids_of(model, reply)
        if found is None:  # an unexpected shape: let the full decoder explain it
            found = [row.id for row in decode_search(client, model, reply, expanded=True).rows]
        yield found
        if len(found) < by_id.page_size:
            return
        page += 1
        if page * by_id.page_size > SEARCH_WINDOW:
            after, page = Lookup("id", "gt", max(found)), 1


def _ids_of(model: Any, reply: Any) -> list[int] | None:
    if isinstance(reply, list):
        return [r["id"] for r in reply if isinstance(r, dict) and isinstance(r.get("id"), int)]
    found = reply_ids(model, reply) if isinstance(reply, dict) else None
    return None if found is None else [int(i) for i in found[1]]


def iterate_index(
    client: ClientAPI,
    model: type[M],
    path: str,
    page_size: int,
    *,
    page: int = 1,
    params: Mapping[str, Any] | None = None,
    expand: bool | None = None,
    full: bool = False,
    in_flight: int = 1,
    cached: bool = False,
) -> Iterator[list[M]]:
    """Yield the objects of an index endpoint, page by page from ``page``, until a page comes back short.

    Args:
        client: The client.
        model: The model class of the records.
        path: The endpoint path.
        page_size: ``per_page`` of each request.
        page: The first page (1-based).
        params: More request parameters (the endpoint's own).
        expand: Ask for the expanded form (``None``: do not say).
        full: Ask for ``full=true`` pages: their ``assets`` bring the users, organizations and groups the
            rows refer to (client-side filtering reads them), and their ``total_count`` tells how many
            pages there are: no empty last page, and the rest are asked for ``in_flight`` at a time.
        in_flight: Most page requests on the wire at once, once the number of pages is known.
        cached: Send the pages through ``client.replies`` (a QuerySet's client-side filter).

    Raises:
        DecodeError: A reply is not a list of records (nor an object holding one under the model's key).

    """

    def query(number: int, _after: Node | None) -> dict[str, Any]:
        asked = {**(params or {}), "page": number, "per_page": page_size}
        if expand is not None:
            asked["expand"] = expand
        if full:
            asked["full"] = "true"
        return asked

    seen = (page - 1) * page_size
    with _Fetcher(client, path, query, in_flight, model if cached else None) as fetcher:
        fetcher.start(None, page, page)  # the first page alone: it may tell how many there are
        while (answer := fetcher.next()) is not None:
            with no_gc_pauses():
                reply = answer.json()
            total = reply.get("total_count") if isinstance(reply, dict) else None
            with no_gc_pauses(), as_of(getattr(answer, "asked", None)):
                if isinstance(reply, dict) and "assets" in reply:
                    rows = decode_search(client, model, reply).rows
                    count = len(rows)
                else:
                    if isinstance(reply, dict):
                        reply = reply.get(model._meta.collection, reply.get(model._meta.search_key))
                    if not isinstance(reply, list):
                        raise DecodeError(
                            f"expected a list of {model.__name__} from {path}, got {reply!r:.200}"
                        )
                    rows = client.load_many(model, reply, owned=True)
                    count = len(reply)
            seen += count
            if count < page_size or (isinstance(total, int) and seen >= total):
                if rows:
                    yield rows
                return
            # Known total: every page up to the last one may be in flight; else the next page only.
            fetcher.limit(-(-total // page_size) if isinstance(total, int) else fetcher.page)
            fetcher.ahead()
            if rows:
                yield rows
