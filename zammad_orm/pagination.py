"""Page iteration over index and search endpoints, including keyset paging past the search window.

It also decides which endpoint answers a query (the search index, or the index endpoint filtered
client-side when the server has no search index) and loads related objects in batches.

Zammad's search pages through Elasticsearch with ``from``/``size``; ``from + size`` may not pass the
index's ``max_result_window`` (10,000), deeper pages come back empty. :func:`iterate_search` therefore
pages by number while inside the window and then continues *after the last row seen*: it adds a keyset
clause on the sort columns (always ending in ``id``) to the query and starts again at page 1. Results are
complete and free of duplicates and gaps as long as the data does not change while iterating.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import attrs

from .compiler import compile_expression, related_model
from .errors import DecodeError, QueryError
from .evaluator import predicate
from .expr import And, Lookup, MatchAll, MatchNone, Node, Not, Or, conjoin, disjoin

if TYPE_CHECKING:
    from .client import Client
    from .models import Model

__all__ = [
    "ID_BATCH",
    "SEARCH_PAGE_SIZE",
    "SEARCH_WINDOW",
    "Page",
    "Related",
    "ReplyForm",
    "SearchIndexUnavailableWarning",
    "SearchPlan",
    "attribute_names",
    "backend_settled",
    "choose_backend",
    "compare_rows",
    "configure_search",
    "count_search",
    "decode_search",
    "document",
    "field_heads",
    "filter_client_side",
    "iterate_index",
    "iterate_search",
    "keyset_after",
    "load_relation",
    "search_works",
    "settle_backend",
]

M = TypeVar("M", bound="Model")

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

    """

    path: str
    where: Node = attrs.field(factory=MatchAll)
    raw: str | None = None
    ordering: tuple[tuple[str, bool], ...] = (("id", False),)
    page_size: int = SEARCH_PAGE_SIZE
    params: Mapping[str, Any] = attrs.field(factory=dict)
    allow_stars: bool | Callable[[], bool] = True

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
        """Return the parameters of one page request (``expand``: the expanded form, without assets)."""
        form = {"expand": "true"} if expand else {"full": "true"}
        return {
            "query": self.query(after),
            "page": page,
            "per_page": self.page_size,
            **self.sort_params(),
            **form,
            **self.params,
        }


class ReplyForm:
    """Chooses the reply form of each search page of a QuerySet that loads relations (``select_related``).

    The first page is asked for with ``full=true``: its ``assets`` bring the related objects the rows
    share (agents, groups, organizations) into the identity map and the record cache. The next pages are
    asked for with ``expand=true``, the records alone (about a third of the bytes, nothing else to decode
    or store), and the relation ids that neither the identity map nor the record cache knows are loaded
    in batches. When an ``expand=true`` page needed such a batch (a relation with many distinct objects,
    such as customers), the rest of the stream goes back to ``full=true``: at most one batch more than
    with ``full=true`` pages alone.

    Attributes:
        expand: Whether the next page is asked for with ``expand=true``.

    """

    __slots__ = ("_settled", "expand")

    def __init__(self) -> None:
        self.expand = False
        self._settled = False

    def after_page(self, *, batched: bool) -> None:
        """Choose the next page's form; ``batched``: this page's relations needed batch requests."""
        if self._settled:
            return
        if self.expand and batched:
            self.expand, self._settled = False, True
        else:
            self.expand = True


@attrs.frozen
class Page:
    """The objects of one search reply (and the total, when the server sent one)."""

    rows: list[Any]
    total: int | None = None


def decode_search(client: Client, model: type[M], reply: Any, *, expanded: bool = False) -> Page:
    """Load the objects of a search reply of any generation (dict with ids + assets, list, full).

    Raises:
        DecodeError: the reply has none of the known shapes.

    """
    meta = model._meta
    if isinstance(reply, list):
        if meta.name == "Ticket" and not expanded:
            # Before 6.5 a ticket search answered a dict unless expand=true was asked for.
            client.note_search_generation("unified")
        return Page(client.load_many(model, reply, owned=True))
    if not isinstance(reply, dict):
        raise DecodeError(f"unexpected {meta.name} search reply: {str(reply)[:200]!r}")
    ids: Any = None
    if meta.search_key in reply:
        ids = reply[meta.search_key]
        client.note_search_generation("pre65")
    elif "record_ids" in reply:
        ids = reply["record_ids"]
        if meta.name == "Ticket":
            client.note_search_generation("unified")
    else:
        ids = next((v for k, v in reply.items() if k.endswith("_ids") and isinstance(v, list)), None)
    if not isinstance(ids, list):
        raise DecodeError(f"unexpected {meta.name} search reply: {str(reply)[:200]!r}")
    assets = reply.get("assets") or {}
    own: Mapping[str, Any] = {}
    if isinstance(assets, Mapping):
        own = assets.get(meta.asset_key) or {}
        # Related objects (users, groups, organizations) go to the identity map and record cache, where
        # select_related and relation reads find them without a request.
        client.load_assets({k: v for k, v in assets.items() if k != meta.asset_key})
    rows = [
        client.load(model, own[str(pk)]) if str(pk) in own else client.resolve(model, int(pk)) for pk in ids
    ]
    total = reply.get("total_count")
    return Page(rows, total if isinstance(total, int) else None)


def keyset_after(ordering: Sequence[tuple[str, bool]], row: Any) -> Node:
    """Return the filter of the rows that sort strictly after ``row``.

    Missing values sort last in both directions, as in Elasticsearch. For keys ``(k1, k2, id)``:
    ``k1 after v1 OR (k1 = v1 AND (k2 after v2 OR (k2 = v2 AND id after v3)))``.

    Raises:
        QueryError: ``row`` lacks a sort column.

    """
    clauses: list[Node] = []
    equal: list[Node] = []
    for column, descending in ordering:
        if not hasattr(row, column):
            raise QueryError(f"cannot page past the search window: rows have no {column!r}")
        value = getattr(row, column)
        if value is None:
            strictly: Node = MatchNone()
            same: Node = Lookup(column, "isnull", True)
        elif isinstance(value, bool):
            strictly = _bool_after(column, value, descending)
            same = Lookup(column, "exact", value)
        else:
            after = Lookup(column, "lt" if descending else "gt", value)
            # Missing values sort last; ids are never missing.
            strictly = after if column == "id" else disjoin([after, Lookup(column, "isnull", True)])
            same = Lookup(column, "exact", value)
        clauses.append(conjoin([*equal, strictly]))
        equal.append(same)
    return disjoin(clauses)


def _bool_after(column: str, value: bool, descending: bool) -> Node:
    missing = Lookup(column, "isnull", True)
    if value != descending:  # last non-null value in this direction: only nulls follow
        return missing
    return disjoin([Lookup(column, "exact", not value), missing])


def iterate_search(
    client: Client,
    model: type[M],
    plan: SearchPlan,
    *,
    start: int = 0,
    stop: int | None = None,
    form: ReplyForm | None = None,
) -> Iterator[Page]:
    """Yield the pages of a search from row ``start`` up to ``stop``, continuing past the window.

    Each yielded :class:`Page` holds only the rows inside ``[start, stop)``. With a ``form`` each page is
    asked for in the form it names when the page is due (the consumer updates it between pages);
    otherwise with ``full=true``, or as ``plan.params`` say.
    """
    size = plan.page_size
    page = start // size + 1
    skip = start % size
    if page > 1 and page * size > SEARCH_WINDOW:
        page, skip = 1, start  # deep offsets walk from the start, then continue by keyset
    position = start
    after: Node | None = None
    while stop is None or position < stop:
        expand = form.expand if form is not None else False
        params = plan.request_params(page, after, expand=expand)
        reply = client.request("GET", plan.path, params=params)
        got = decode_search(client, model, reply, expanded=params.get("expand") == "true")
        rows = got.rows
        kept = rows[skip:]
        skip = max(0, skip - len(rows))
        if stop is not None:
            kept = kept[: max(0, stop - position)]
        position += len(kept)
        if kept:
            yield Page(kept)
        if len(rows) < size:
            return
        page += 1
        if page * size > SEARCH_WINDOW:
            after = keyset_after(plan.ordering, rows[-1])
            page = 1


def count_search(client: Client, model: type[M], plan: SearchPlan) -> tuple[int, int]:
    """Count the matches exactly; return ``(count, requests)``.

    The first request asks for ``only_total_count=true`` together with the first page of ids: Zammad
    6.5+ answers ``{"total_count": n}`` (one request); 6.0–6.4 ignore the flag and answer the page, so
    the ids are paged through, 200 per request in id order (keyset past the window), and counted. The
    pages are asked for with ``expand=true``: of the replies those versions give, it is the lightest
    that lists the ids (about a third of the default reply, whose ``assets`` carry every referenced
    user, organization and group). No objects are built. Needs no knowledge of the server's version.
    """
    by_id = attrs.evolve(plan, ordering=(("id", False),), page_size=SEARCH_PAGE_SIZE)
    total, page, after, requests = 0, 1, None, 0
    while True:
        params = {**by_id.request_params(page, after, expand=True), "expand": "true"}  # over plan.params
        params.pop("full", None)
        if not requests:
            params["only_total_count"] = "true"
        reply = client.request("GET", plan.path, params=params)
        requests += 1
        if isinstance(reply, dict) and isinstance(reply.get("total_count"), int):
            client.note_search_generation("unified")
            return reply["total_count"], requests
        if requests == 1 and isinstance(reply, list):
            client.note_search_generation("pre65")  # 6.5+ would have answered the total
        found = _ids_of(model, reply)
        if found is None:  # an unexpected shape: let the full decoder explain it
            found = [row.id for row in decode_search(client, model, reply, expanded=True).rows]
        total += len(found)
        if len(found) < by_id.page_size:
            return total, requests
        page += 1
        if page * by_id.page_size > SEARCH_WINDOW:
            after, page = Lookup("id", "gt", max(found)), 1


def _ids_of(model: Any, reply: Any) -> list[int] | None:
    if isinstance(reply, list):
        return [r["id"] for r in reply if isinstance(r, dict) and isinstance(r.get("id"), int)]
    if isinstance(reply, dict):
        for key in (model._meta.search_key, "record_ids", *(k for k in reply if k.endswith("_ids"))):
            if isinstance(reply.get(key), list):
                return [int(i) for i in reply[key]]
    return None


def iterate_index(client: Client, model: type[M], path: str, page_size: int) -> Iterator[list[M]]:
    """Yield every object of an index endpoint, page by page (``id`` order), until a short page."""
    page = 1
    while True:
        reply = client.request("GET", path, params={"page": page, "per_page": page_size})
        if isinstance(reply, dict):
            reply = reply.get(model._meta.collection, reply.get(model._meta.search_key))
        if not isinstance(reply, list):
            raise DecodeError(f"expected a list of {model.__name__} from {path}, got {str(reply)[:200]!r}")
        rows = client.load_many(model, reply, owned=True)
        if rows:
            yield rows
        if len(reply) < page_size:
            return
        page += 1


# --- client-side filtering (no search index, or no search endpoint) -------------------------------------


def field_heads(node: Node) -> dict[str, Any]:
    """Return the field paths a lowered tree reads, nested: ``{"state": {"name": {}}, "title": {}}``."""
    heads: dict[str, Any] = {}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (And, Or)):
            stack.extend(item.children)
        elif isinstance(item, Not):
            stack.append(item.child)
        else:
            name = getattr(item, "field", None)
            if isinstance(name, str):
                level = heads
                for part in name.removesuffix(".keyword").split("."):
                    level = level.setdefault(part, {})
    return heads


def document(client: Client, obj: Any, heads: Mapping[str, Any]) -> dict[str, Any]:
    """Build the search document of ``obj`` (like Zammad's index document) with the parts ``heads`` reads.

    Columns come typed from the model; referenced objects (``state``, ``owner``, ``article``) are nested
    documents, loaded through the identity map, the record cache or one request; ``tags`` of tickets are
    asked for when the filter reads them.
    """
    meta = type(obj)._meta
    doc: dict[str, Any] = {info.wire: getattr(obj, name) for name, info in meta.fields.items()}
    doc.update(obj.extra)
    for head, sub in heads.items():
        rel = meta.relations.get(head) or next((r for r in meta.relations.values() if r.search == head), None)
        if rel is not None and (head not in doc or rel.search == head):
            related = getattr(obj, rel.name)
            if isinstance(related, list):
                doc[rel.search] = [document(client, r, sub) for r in related]
            else:
                doc[rel.search] = None if related is None else document(client, related, sub)
        elif head == "tags" and meta.name == "Ticket" and obj.id is not None:
            reply = client.request("GET", "tags", params={"object": "Ticket", "o_id": obj.id})
            doc["tags"] = [str(t) for t in (reply or {}).get("tags", [])]
    return doc


def compare_rows(a: Any, b: Any, keys: Sequence[tuple[str, bool]]) -> int:
    """Order two objects by ``(column, descending)`` keys; missing values last, as Elasticsearch does."""
    for column, descending in keys:
        x, y = getattr(a, column, None), getattr(b, column, None)
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        less = x < y
        return (1 if less else -1) if descending else (-1 if less else 1)
    return 0


# --- related objects in batches ---------------------------------------------------------------------------


class Related(NamedTuple):
    """What :func:`load_relation` loaded."""

    #: The related objects, in the order of the objects they belong to.
    objects: list[Any]
    #: How many ids were fetched in batches (not in the identity map nor the record cache before).
    fetched: int


def load_relation(client: Client, objs: Sequence[Any], step: str, *, use_search: bool) -> Related:
    """Load relation ``step`` of every object in ``objs`` in batches; return the related objects.

    Related objects already in the identity map or the record cache (e.g. from the search ``assets``)
    cost nothing; the rest are fetched with ``id:(a OR b ...)`` searches of at most :data:`ID_BATCH` ids
    (``use_search``), else with the target's index endpoint, else one by one.

    Raises:
        QueryError: ``step`` is not a relation of the objects' model.

    """
    model = type(objs[0])
    meta = model._meta
    rel = meta.relations.get(step) or next((r for r in meta.relations.values() if r.search == step), None)
    if rel is None:
        raise QueryError(f"{meta.name} has no relation {step!r} to load")
    target = related_model(model, rel.target)
    keep: list[Any] = []  # strong references while the relation attributes pick them up
    missing: list[int] = []
    if rel.local is not None and target is not None:
        wanted: set[int] = set()
        local = rel.local
        for obj in objs:
            value = getattr(obj, local)
            if isinstance(value, list):
                wanted.update(value)
            elif isinstance(value, int):
                wanted.add(value)
        missing = sorted(pk for pk in wanted if not _known(client, target, pk))
        fetched = _fetch_ids(client, target, missing, use_search=use_search)
        if fetched is None:
            missing = []  # no batch request was possible (or needed: constants of models without endpoint)
        keep = fetched or []
    out: list[Any] = []
    memo: dict[Any, Any] = {}  # key -> related object(s), resolved once per batch
    descriptor = meta.descriptors.get(rel.name, rel)  # the attribute: it knows its kind (and path)
    for obj in objs:
        value = obj._get_relation(descriptor, memo)
        if isinstance(value, list):
            out.extend(value)
        elif value is not None:
            out.append(value)
    del keep
    return Related(out, len(missing))


def _known(client: Client, model: Any, pk: int) -> bool:
    if client.identity.get(model, pk) is not None:
        return True
    return client.cache_size(model) != 0 and client.cache.get(model._meta.name, pk) is not None


def _fetch_ids(client: Client, model: Any, ids: list[int], *, use_search: bool) -> list[Any] | None:
    """Fetch objects ``ids`` in batches; ``None`` when no request can fetch them (they resolve one by one)."""
    if not ids:
        return []
    meta = model._meta
    out: list[Any] = []
    if meta.searchable and use_search:
        for start in range(0, len(ids), ID_BATCH):
            chunk = ids[start : start + ID_BATCH]
            plan = SearchPlan(
                path=f"{meta.endpoint}/search", where=Lookup("id", "in", chunk), page_size=len(chunk)
            )
            reply = client.request("GET", plan.path, params=plan.request_params(1))
            out.extend(decode_search(client, model, reply).rows)
        return out
    if meta.endpoint is not None and not meta.searchable:
        for rows in iterate_index(client, model, meta.endpoint, meta.max_page_size):
            out.extend(rows)
        return out
    return None


# --- which endpoint answers: the search index, or the index endpoint filtered client-side -------------


class SearchIndexUnavailableWarning(UserWarning):
    """The server has no search index: queries are evaluated client-side over the index endpoint."""


# Per client: search backend per model name ("elasticsearch" / "database") and custom attribute names.
_BACKENDS: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_ATTRIBUTES: weakref.WeakKeyDictionary[Any, dict[str, set[str]]] = weakref.WeakKeyDictionary()


def configure_search(client: Client, backend: str, *, model: type[Model] | None = None) -> None:
    """Tell the QuerySets of ``client`` whether the server has a search index.

    Args:
        client: The client.
        backend: ``"elasticsearch"`` (search endpoint), ``"database"`` (no index: filter client-side)
            or ``"auto"`` (the default: the first search's reply decides, probing when it is empty).
        model: Only for this model (default: every model).

    """
    if backend not in ("elasticsearch", "database", "auto"):
        raise QueryError(f"search backend must be 'elasticsearch', 'database' or 'auto', got {backend!r}")
    chosen = _BACKENDS.setdefault(client, {})
    key = model._meta.name if model is not None else "*"
    if backend == "auto":
        chosen.pop(key, None)
        if model is None:
            chosen.clear()
    else:
        chosen[key] = backend


def choose_backend(client: Client, model: Any, *, raw: bool = False) -> str:
    """Return ``"search"`` or ``"client"`` (filter the index endpoint client-side) for ``model``.

    Models without a search endpoint are always filtered client-side. For the others the configured
    backend is used (:func:`configure_search`, or a ``search_backend`` attribute of the client); while
    it is not known yet the search is tried and its first reply decides (:func:`settle_backend`). Without
    a search index a :class:`SearchIndexUnavailableWarning` is issued once. ``raw`` queries always go
    to the search endpoint as written.
    """
    meta = model._meta
    if not meta.searchable or meta.endpoint is None:
        return "client"
    backend = _known_backend(client, meta.name)
    if backend != "database" or raw:
        return "search"
    _warn_once(client, meta)
    return "client"


def backend_settled(client: Client, model: Any) -> bool:
    """Return whether it is known if ``model``'s searches reach a search index on this client."""
    meta = model._meta
    return not meta.searchable or meta.endpoint is None or _known_backend(client, meta.name) is not None


def settle_backend(client: Client, model: Any, *, found: bool) -> str:
    """Decide the backend of ``model`` from the first reply of a compiled search; return what answers.

    A compiled query is a field query, which Zammad's database fallback cannot parse (it looks for the
    whole string in titles, numbers and articles): rows found mean the search index answered
    (``found``). An empty reply is ambiguous, so the probe decides: ``id:>0`` finds nothing although
    the index endpoint lists objects → no search index (``"client"``, with the warning once).
    """
    meta = model._meta
    if backend_settled(client, model):
        return choose_backend(client, model)
    backend = "elasticsearch" if found else _probe(client, model)
    if backend is None:  # nothing anywhere: either way the answer is "nothing"
        return "search"
    _BACKENDS.setdefault(client, {}).setdefault(meta.name, backend)  # another thread may have settled it
    return choose_backend(client, model)


def _known_backend(client: Client, name: str) -> str | None:
    chosen = _BACKENDS.get(client, {})
    backend = chosen.get(name) or chosen.get("*") or getattr(client, "search_backend", None)
    return backend if backend in ("elasticsearch", "database") else None


def _warn_once(client: Client, meta: Any) -> None:
    chosen = _BACKENDS.setdefault(client, {})
    if not chosen.get(f"warned:{meta.name}"):
        chosen[f"warned:{meta.name}"] = "yes"
        warnings.warn(
            f"this Zammad server has no search index: {meta.name} queries are evaluated "
            f"client-side over GET /api/v1/{meta.endpoint} (slower, same results)",
            SearchIndexUnavailableWarning,
            stacklevel=5,
        )


def _probe(client: Client, model: Any) -> str | None:
    """Ask whether a field query works; without an index Zammad searches it as plain text."""
    meta = model._meta
    found = client.request(
        "GET", f"{meta.endpoint}/search", params={"query": "id:>0", "per_page": 1, "full": "true"}
    )
    if _has_rows(found):
        return "elasticsearch"
    listed = client.request("GET", str(meta.endpoint), params={"page": 1, "per_page": 1})
    return "database" if _has_rows(listed) else None


def search_works(client: Client) -> bool:
    """Return whether ``id:(...)`` searches find objects on this server (not so without a search index)."""
    chosen = _BACKENDS.get(client, {})
    if getattr(client, "search_backend", None) == "database":
        return False
    return not any(v == "database" for k, v in chosen.items() if not k.startswith("warned:"))


def _has_rows(reply: Any) -> bool:
    if isinstance(reply, list):
        return bool(reply)
    if isinstance(reply, dict):
        return any(isinstance(v, list) and v for k, v in reply.items() if k != "assets") or bool(
            reply.get("total_count")
        )
    return False


def filter_client_side(
    client: Client, model: type[M], tree: Node, keys: Sequence[tuple[str, bool]]
) -> list[M]:
    """Page the index endpoint, keep what ``tree`` (lowered) matches, sort by ``keys``."""
    match = predicate(tree)
    heads = field_heads(tree)
    kept: list[M] = []
    endpoint = model._meta.rest_endpoint("list")  # refused before any request if there is none
    for page in iterate_index(client, model, endpoint, model._meta.max_page_size):
        for obj in page:
            if isinstance(tree, MatchAll) or match(document(client, obj, heads)):
                kept.append(obj)
    return sorted(kept, key=cmp_to_key(lambda a, b: compare_rows(a, b, keys)))


def attribute_names(client: Client, model_name: str) -> set[str]:
    """Names of the custom attributes the server lists for a model (asked once per client).

    ``"<model>:dates"`` (``"Ticket:dates"``) names those of type date or datetime.
    """
    known = _ATTRIBUTES.setdefault(client, {})
    if not known:
        reply = client.request("GET", "object_manager_attributes")
        for item in reply if isinstance(reply, list) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                known.setdefault(str(item.get("object")), set()).add(item["name"])
                if item.get("data_type") in ("date", "datetime"):  # names under "<object>:dates"
                    known.setdefault(f"{item.get('object')}:dates", set()).add(item["name"])
        known.setdefault("", set())  # remember that the server was asked
    return known.get(model_name, set())
