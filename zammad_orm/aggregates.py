"""Grouped counts of a QuerySet: ``qs.values("state__name").annotate(n=Count("id"))``.

Two ways to count per group (``QuerySet.explain()`` says which one a QuerySet takes):

* **on the server**, one count query per group (search index, one belongs-to relation to a small
  configuration table such as states, priorities or groups): the target's objects are listed and each
  is counted with ``QuerySet.count()`` (Zammad 6.5+: one ``only_total_count`` request; 6.0–6.4: the ids
  of the group's matches, paged in the light ``expand=true`` form), plus one count for "no value";
* **client-side** otherwise: one pass over the matches (related objects loaded in batches), counting
  each combination of the grouped values.

The grouped values are read from objects with the path helpers of :mod:`zammad_orm.rows`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .resolver import related_model
from .rows import relation_prefixes, value_of

if TYPE_CHECKING:
    from .interface import ClientAPI

__all__ = ["Count", "grouped_counts", "server_grouping"]


@attrs.frozen
class Count:
    """Aggregate for grouped counts: ``qs.values("state__name").annotate(n=Count("id"))``.

    Args:
        field: Count the rows where this path has a value (``"id"``: every row).

    """

    field: str = "id"


Annotations = Sequence[tuple[str, Count]]


def server_grouping(
    model: Any, fields: Sequence[str], annotations: Annotations, *, searching: bool
) -> tuple[str, Any] | None:
    """Return ``(local id column, target model)`` when one count query per group is the cheaper way.

    That is: the search index answers (``searching``), one grouped field that is a belongs-to relation
    (or a field of it) whose target is a small configuration table (listed by an index endpoint, not
    searchable); every aggregate counts ids. Otherwise ``None``: count client-side. On 6.0–6.4 the
    count queries page through id lists, which together cost about as many requests as one pass over
    the rows but carry no records to build.
    """
    if len(fields) != 1 or any(agg.field not in ("id", "pk") for _, agg in annotations):
        return None
    if not searching:
        return None
    head, _, rest = fields[0].partition("__")
    rel = model._meta.relations.get(head)
    if rel is None or rel.kind != "fk" or rel.local is None or "__" in rest:
        return None
    target = related_model(model, rel.target)
    # Only small configuration tables (states, priorities, groups): one count per user or
    # organization would cost more than one pass over the matches.
    if target is None or target._meta.endpoint is None or target._meta.searchable:
        return None
    return rel.local, target


def grouped_counts(
    base: Any,
    fields: Sequence[str],
    annotations: Annotations,
    client: ClientAPI,
    server: tuple[str, Any] | None,
) -> list[dict[str, Any]]:
    """Count the rows of the QuerySet ``base`` per combination of ``fields``; rows sorted by the values.

    Args:
        base: The QuerySet without ``values()``/``annotate()``.
        fields: The grouped paths (``"state__name"``).
        annotations: ``(name, Count)`` pairs: the counted columns of each row.
        client: The client ``base`` runs on.
        server: :func:`server_grouping`'s answer: count on the server per group, else client-side.

    """
    rows: list[dict[str, Any]] = []
    if server is not None:
        local, target = server
        attr = fields[0].partition("__")[2]
        for obj in target.objects.using(client).iter():
            n = base.filter(**{local: obj.id}).count()
            if n:
                value = getattr(obj, attr) if attr else obj
                rows.append({fields[0]: value, **{name: n for name, _ in annotations}})
        none = base.filter(**{f"{local}__isnull": True}).count()
        if none:
            rows.append({fields[0]: None, **{name: none for name, _ in annotations}})
    else:
        counts: dict[tuple[Any, ...], Counter[str]] = {}
        for obj in base.select_related(*relation_prefixes(fields)):
            key = tuple(value_of(obj, f) for f in fields)
            bucket = counts.setdefault(key, Counter())
            for name, agg in annotations:
                bucket[name] += value_of(obj, agg.field.replace("pk", "id")) is not None
        rows = [{**dict(zip(fields, key, strict=False)), **bucket} for key, bucket in counts.items()]
    rows.sort(key=lambda r: tuple((v is None, str(v)) for v in (r[f] for f in fields)))
    return rows
