"""Client-side filtering: evaluate a query over an index endpoint when no search index can answer it.

Used for models without a search endpoint and for servers without a search index. Each object becomes
a search document like Zammad's index document (:func:`document`), the *same* expression tree the
compiler would send is evaluated on it by :mod:`zammad_orm.evaluator`, and the matches are sorted the
way Elasticsearch sorts (missing values last).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import QueryError
from .evaluator import predicate
from .expr import MatchAll, Node
from .paging import iterate_index
from .references import any_field, field_heads

if TYPE_CHECKING:
    from .interface import ClientAPI, ModelLike

__all__ = ["compare_rows", "document", "filter_client_side"]

M = TypeVar("M", bound="ModelLike")


def document(client: ClientAPI, obj: Any, heads: Mapping[str, Any], *, whole: bool = False) -> dict[str, Any]:
    """Build the search document of ``obj`` (like Zammad's index document) with the parts ``heads`` reads.

    Columns come typed from the model, only those ``heads`` names (every column when ``heads`` is empty:
    the filter reads the object itself; at every level when ``whole``); referenced objects (``state``,
    ``owner``, ``article``) are nested documents, loaded through the identity map, the record cache or one
    request; ``tags`` of tickets are asked for when the filter reads them.
    """
    meta = type(obj)._meta
    every = whole or not heads
    doc: dict[str, Any] = {
        info.wire: getattr(obj, name)
        for name, info in meta.fields.items()
        if every or info.wire.partition(".")[0] in heads
    }
    doc.update(obj.extra if every else {k: v for k, v in obj.extra.items() if k.partition(".")[0] in heads})
    for head, sub in heads.items():
        rel = meta.relation(head)
        if rel is not None and (head not in doc or rel.search == head):
            related = getattr(obj, rel.name)
            if isinstance(related, list):
                doc[rel.search] = [document(client, r, sub, whole=whole) for r in related]
            else:
                doc[rel.search] = None if related is None else document(client, related, sub, whole=whole)
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


def filter_client_side(
    client: ClientAPI, model: type[M], tree: Node, keys: Sequence[tuple[str, bool]], *, local: bool = False
) -> list[M]:
    """Page the index endpoint, keep what ``tree`` (lowered) matches, sort by ``keys``.

    ``local``: filter the objects of the model's local copy instead (``client.sync(Model)``), with no
    request for them; a filter on what the copy does not hold (``tags``, the ``articles`` of tickets and
    other lists the server keeps on the other side) raises ``QueryError``.
    """
    match = predicate(tree)
    heads = field_heads(tree)
    whole = any_field(tree)  # a term on no field reads every column
    kept: list[M] = []
    pages: Iterable[list[M]]
    if local:
        for head in heads:
            rel = model._meta.relation(head)
            if head == "tags" or (rel is not None and rel.kind == "reverse"):
                raise QueryError(f"{head!r} is not in the local copy of {model.__name__}: search the server")
        pages = [client.local_copy(model)]
    else:
        endpoint = model._meta.rest_endpoint("list")  # refused before any request if there is none
        pages = iterate_index(
            client,
            model,
            endpoint,
            model._meta.max_page_size,
            full=True,
            in_flight=client.page_concurrency,
            cached=True,  # a QuerySet's read: its pages are kept as query replies
        )
    for page in pages:
        for obj in page:
            if isinstance(tree, MatchAll) or match(document(client, obj, heads, whole=whole)):
                kept.append(obj)
    return sorted(kept, key=cmp_to_key(lambda a, b: compare_rows(a, b, keys)))
