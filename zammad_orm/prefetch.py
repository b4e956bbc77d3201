"""Loading a relation of many objects at once (``select_related``): known objects free, the rest in batches.

Related objects already in the identity map or the record cache (e.g. from a search reply's ``assets``)
cost nothing while they are younger than their ``max_age`` (older ones are revalidated together, one
request: ``client.revalidate_many``); the rest are fetched with ``id:(a OR b ...)`` searches of at most
:data:`~zammad_orm.paging.ID_BATCH` ids, else with the target's index endpoint, else one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import QueryError
from .expr import Lookup
from .paging import ID_BATCH, PageForm, SearchPlan, iterate_index
from .replies import Page, decode_search
from .resolver import related_model

if TYPE_CHECKING:
    from .interface import ClientAPI

__all__ = ["Related", "load_page_relations", "load_paths", "load_relation", "repeats"]


class Related(NamedTuple):
    """What :func:`load_relation` loaded."""

    #: The related objects, in the order of the objects they belong to.
    objects: list[Any]
    #: How many ids were fetched in batches (not in the identity map nor the record cache before).
    fetched: int


def load_relation(
    client: ClientAPI,
    objs: Sequence[Any],
    step: str,
    *,
    use_search: bool,
    carried: Mapping[str, Any] | None = None,
) -> Related:
    """Load relation ``step`` of every object in ``objs`` in batches; return the related objects.

    Searches fetch the unknown ids only when ``use_search`` (the server has a search index). ``carried``:
    the ``assets`` the objects' reply carried, loaded with it just now: their ids are neither stale nor
    missing, and are not looked up for that (a ``select_related`` page then costs what the plain loop
    does).

    Raises:
        QueryError: ``step`` is not a relation of the objects' model.

    """
    model = type(objs[0])
    meta = model._meta
    rel = meta.relation(step)
    if rel is None:
        raise QueryError(f"{meta.name} has no relation {step!r} to load")
    target = related_model(model, rel.target)
    keep: list[Any] = []  # strong references while the relation attributes pick them up
    missing: list[int] = []
    if rel.local is not None and target is not None:
        wanted: set[int] = set()
        local, fk = rel.local, rel.kind == "fk"
        for obj in objs:
            value = getattr(obj, local)
            if isinstance(value, list):
                wanted.update(value)
            elif isinstance(value, int) and not (fk and _attached(obj, rel.name, value) is not None):
                wanted.add(value)  # a row that holds its related object (attached from assets) needs nothing
        given = carried.get(target._meta.asset_key) if carried and client.cache_size(target) != 0 else None
        if isinstance(given, Mapping):
            wanted = {pk for pk in wanted if str(pk) not in given}
        if wanted:
            # Copies older than their max_age: one search for those updated since (or a table listing).
            renewed = client.revalidate_many(target, sorted(wanted))
            missing = sorted(pk for pk in wanted if not client.knows(target, pk))
            fetched = _fetch_ids(client, target, missing, use_search=use_search)
            if fetched is None:
                missing = []  # no batch request possible (or needed: constants of models without endpoint)
            keep = (fetched or []) + renewed
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


def _attached(obj: Any, name: str, pk: Any) -> Any:
    """Return what ``obj`` keeps for belongs-to relation ``name`` while it still has id ``pk``, else None."""
    kept = obj._rel.get(name)
    return kept if kept is not None and kept.id == pk else None


def repeats(rows: Sequence[Any], paths: Sequence[str]) -> bool:
    """Return whether the first steps of ``paths`` point to few objects over ``rows`` (agents, states).

    A belongs-to relation to a reference table always does; another one does when its distinct ids
    are at most a tenth of the rows (at least 5). Has-many relations do not.
    """
    if not rows:
        return False
    model = type(rows[0])
    limit = max(5, len(rows) // 10)
    for path in paths:
        rel = model._meta.relation(path.split("__", 1)[0])
        if rel is None or rel.kind != "fk" or rel.local is None:
            return False
        target = related_model(model, rel.target)
        if target is not None and target._meta.table:
            continue
        if len({getattr(row, rel.local) for row in rows}) > limit:
            return False
    return True


def load_page_relations(
    client: ClientAPI, page: Page, paths: Sequence[str], form: PageForm | None, *, first: bool
) -> None:
    """Load the ``select_related`` paths of a page of rows, and let the page choose the form of the next.

    After the first page, the next pages are lighter when these relations repeat (:func:`repeats`);
    after a later page that needed a batch request, they are ``full=true`` again (:class:`PageForm`).
    """
    rows = page.rows
    batched = load_paths(client, rows, paths, carried=page.assets)
    if form is not None and first:
        form.choose(lighter=repeats(rows, paths))
    elif form is not None:
        form.after_page(batched=batched)


def load_paths(
    client: ClientAPI, objs: Sequence[Any], paths: Sequence[str], *, carried: Mapping[str, Any] | None = None
) -> bool:
    """Load the relation paths (``"customer__organization"``) of ``objs``, step by step, in batches.

    Returns:
        Whether any ids were fetched in batches (neither the identity map nor the record cache knew them).

    """
    batched = False
    for path in paths:
        level: list[Any] = list(objs)
        for step in path.split("__"):
            if not level:
                break
            level, fetched = load_relation(
                client, level, step, use_search=client.facts.search_works(), carried=carried
            )
            batched = batched or fetched > 0
    return batched


def _fetch_ids(client: ClientAPI, model: Any, ids: list[int], *, use_search: bool) -> list[Any] | None:
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
    if meta.table and meta.endpoint is not None:  # a reference table: the client's copy, read once
        wanted = set(ids)
        return [obj for obj in client.table_objects(model) if obj.id in wanted]  # by its max_age
    if meta.endpoint is not None and not meta.searchable:
        for rows in iterate_index(client, model, meta.endpoint, meta.max_page_size):
            out.extend(rows)
        return out
    return None
