"""Aggregates as in Django: ``Count``, ``Sum``, ``Avg``, ``Min``, ``Max``, per group or over a whole QuerySet.

``qs.values("state__name").annotate(n=Count("id"), hours=Sum("time_unit"))`` gives one row per group;
``qs.aggregate(Sum("time_unit"), n=Count("id"))`` one dict (``{"time_unit__sum": Decimal("12.5"), "n": 7}``).

Who computes them (``QuerySet.explain()`` says which):

* **the server**, when Zammad can count: ``aggregate()`` of row counts is one count query
  (``QuerySet.count()``: on Zammad 6.5+ one ``only_total_count`` request); grouped row counts by one
  belongs-to relation to a small configuration table (states, priorities, groups) are one count query
  per group, plus one for "no value";
* **client-side** otherwise: one pass over the matches (related objects loaded in batches). Sums of
  decimal fields (``time_unit``) are exact :class:`~decimal.Decimal` sums.

Zammad's time accounting reports (``/time_accounting/log/...``) cover the accountings *created* in one
calendar month, whatever the ticket, so they answer no ticket QuerySet; sums are computed client-side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .checks import check_fields, path_types
from .errors import QueryError
from .resolver import related_model
from .rows import read_column, relation_prefixes

if TYPE_CHECKING:
    from .interface import ClientAPI

__all__ = [
    "Aggregate",
    "Avg",
    "Count",
    "Max",
    "Min",
    "Sum",
    "aggregate_plan",
    "aggregate_values",
    "check_aggregates",
    "grouped_rows",
    "server_grouping",
]

_NUMBERS = {int, float, Decimal}
_ORDERED = {int, float, Decimal, str, dt.datetime, dt.date, bool}


@attrs.frozen
class Aggregate:
    """An aggregate over a field path (the base of ``Count``, ``Sum``, ``Avg``, ``Min`` and ``Max``).

    Args:
        field: The field path (``"time_unit"``, ``"customer__organization"``).
        distinct: Aggregate each distinct value once.

    """

    field: str
    distinct: bool = attrs.field(default=False, kw_only=True)

    #: The name in default aliases: ``Sum("time_unit")`` is ``time_unit__sum`` in ``aggregate()``.
    function: ClassVar[str] = ""
    #: The classes of fields the aggregate takes (``None``: any field).
    accepts: ClassVar[set[type] | None] = None

    @property
    def default_alias(self) -> str:
        """The key of a positional aggregate in ``aggregate()``'s dict (``"time_unit__sum"``)."""
        return f"{self.field}__{self.function}"

    def check(self, model: Any, name: str, attributes: Any = None) -> None:
        """Check the field path and that the aggregate has a meaning for its values.

        Raises:
            QueryError: an unknown field, or e.g. ``Sum`` of a text field.

        """
        label = type(self).__name__
        if not isinstance(self.field, str) or not self.field:
            raise QueryError(f"{label}() takes a field name, got {self.field!r}")
        check_fields(model, [self.field], attributes=attributes, what=label)
        types_ = path_types(model, self.field)
        if self.accepts is None or types_ is None:
            return
        if not types_ or not types_ <= self.accepts:
            held = ", ".join(sorted(t.__name__ for t in types_)) or "related objects"
            raise QueryError(
                f"{name}={label}({self.field!r}): {self.field} holds {held}; {label} takes "
                f"{'numbers' if self.accepts == _NUMBERS else 'numbers, text, dates or booleans'}"
            )

    def compute(self, values: list[Any]) -> Any:
        """Return the aggregate of the values of one group (``None`` values are left out)."""
        present = [v for v in values if v is not None]
        if self.distinct:
            present = list(dict.fromkeys(present))
        return self._of(present)

    def _of(self, values: list[Any]) -> Any:
        raise NotImplementedError

    def output(self, model: Any) -> set[type] | None:
        """Return the classes of the aggregate's values (``None``: unknown)."""
        return path_types(model, self.field)


class Count(Aggregate):
    """The number of rows where the field has a value (``Count("id")``: every row).

    ``Count("customer", distinct=True)`` counts the distinct customers.
    """

    function = "count"

    def __init__(self, field: str = "id", *, distinct: bool = False) -> None:
        super().__init__(field, distinct=distinct)

    def _of(self, values: list[Any]) -> int:
        return len(values)

    def output(self, model: Any) -> set[type] | None:
        """Return ``{int}``: counts are integers."""
        return {int}


class Sum(Aggregate):
    """The sum of a number field; exact for decimals (``Sum("time_unit")`` is a ``Decimal``).

    ``None`` when no row has a value.
    """

    function = "sum"
    accepts = _NUMBERS

    def _of(self, values: list[Any]) -> Any:
        return sum(values) if values else None


class Avg(Aggregate):
    """The mean of a number field: a ``Decimal`` for decimal fields, else a ``float``; ``None`` if empty."""

    function = "avg"
    accepts = _NUMBERS

    def _of(self, values: list[Any]) -> Any:
        if not values:
            return None
        if all(isinstance(v, Decimal) for v in values):
            return sum(values) / len(values)
        return float(sum(values)) / len(values)

    def output(self, model: Any) -> set[type] | None:
        """``Decimal`` for decimal fields, else ``float``."""
        types_ = path_types(model, self.field)
        return {Decimal} if types_ == {Decimal} else {float}


class Min(Aggregate):
    """The smallest value (numbers, text, dates); ``None`` if empty."""

    function = "min"
    accepts = _ORDERED

    def _of(self, values: list[Any]) -> Any:
        return min(values) if values else None


class Max(Aggregate):
    """The largest value (numbers, text, dates); ``None`` if empty."""

    function = "max"
    accepts = _ORDERED

    def _of(self, values: list[Any]) -> Any:
        return max(values) if values else None


Annotations = Sequence[tuple[str, Aggregate]]


def check_aggregates(model: Any, named: Mapping[str, Any], attributes: Any = None) -> None:
    """Check the aggregates of ``annotate()``/``aggregate()`` before any request.

    Raises:
        QueryError: not an aggregate, an unknown field, or an aggregate with no meaning for the field.

    """
    for name, agg in named.items():
        if not isinstance(agg, Aggregate):
            raise QueryError(f"{name}={agg!r}: expected an aggregate (Count, Sum, Avg, Min, Max)")
        agg.check(model, name, attributes)


def _counts_rows(annotations: Annotations) -> bool:
    return all(type(a) is Count and a.field in ("id", "pk") for _, a in annotations)


def server_grouping(
    model: Any, fields: Sequence[str], annotations: Annotations, *, searching: bool
) -> tuple[str, Any] | None:
    """Return ``(local id column, target model)`` when one count query per group is the cheaper way.

    That is: the search index answers (``searching``), one grouped field that is a belongs-to relation
    (or a field of it) whose target is a small configuration table (listed by an index endpoint, not
    searchable); every aggregate counts rows. Otherwise ``None``: aggregate client-side. On 6.0–6.4 the
    count queries page through id lists, which together cost about as many requests as one pass over
    the rows but carry no records to build.
    """
    if len(fields) != 1 or not _counts_rows(annotations) or not searching:
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


def aggregate_plan(annotations: Annotations, *, searching: bool) -> bool:
    """Say whether ``aggregate()`` of these is computed by the server (row counts: one count query)."""
    return searching and _counts_rows(annotations)


def _one_pass(
    objects: Iterable[Any], fields: Sequence[str], annotations: Annotations, computed: Mapping[str, Any]
) -> dict[tuple[Any, ...], dict[str, list[Any]]]:
    groups: dict[tuple[Any, ...], dict[str, list[Any]]] = {}
    for obj in objects:
        key = tuple(read_column(obj, f, computed) for f in fields)
        bucket = groups.setdefault(key, {name: [] for name, _ in annotations})
        for name, agg in annotations:
            bucket[name].append(read_column(obj, agg.field, computed))
    return groups


def _walked(fields: Sequence[str], annotations: Annotations, computed: Mapping[str, Any]) -> tuple[str, ...]:
    paths = [computed[f].field if f in computed else f for f in fields]
    return relation_prefixes([*paths, *(a.field for _, a in annotations)])


def grouped_rows(
    base: Any,
    fields: Sequence[str],
    annotations: Annotations,
    client: ClientAPI,
    server: tuple[str, Any] | None,
    computed: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Aggregate the rows of the QuerySet ``base`` per combination of ``fields``; rows sorted by the values.

    Args:
        base: The QuerySet without ``values()``/``annotate()``.
        fields: The grouped paths (``"state__name"``) or computed columns (``"week"``).
        annotations: ``(name, aggregate)`` pairs: the aggregated columns of each row.
        client: The client ``base`` runs on.
        server: :func:`server_grouping`'s answer: count on the server per group, else client-side.
        computed: The computed columns (``{"week": TruncWeek("created_at")}``).

    """
    computed = computed or {}
    rows: list[dict[str, Any]] = []
    if server is not None:
        local, target = server
        attr = fields[0].partition("__")[2]
        meta = target._meta
        listed = (  # a reference table: the client's copy (the name check read it already)
            client.table_objects(target)
            if meta.table and meta.endpoint
            else target.objects.using(client).iter()
        )
        for obj in listed:
            n = base.filter(**{local: obj.id}).count()
            if n:
                value = getattr(obj, attr) if attr else obj
                rows.append({fields[0]: value, **{name: n for name, _ in annotations}})
        none = base.filter(**{f"{local}__isnull": True}).count()
        if none:
            rows.append({fields[0]: None, **{name: none for name, _ in annotations}})
    else:
        objects = base.select_related(*_walked(fields, annotations, computed))
        for key, bucket in _one_pass(objects, fields, annotations, computed).items():
            row = dict(zip(fields, key, strict=False))
            row.update({name: agg.compute(bucket[name]) for name, agg in annotations})
            rows.append(row)
    rows.sort(key=lambda r: tuple((v is None, str(v)) for v in (r[f] for f in fields)))
    return rows


def aggregate_values(base: Any, annotations: Annotations, *, server: bool) -> dict[str, Any]:
    """Return ``{name: value}`` of the aggregates over every row of ``base`` (``QuerySet.aggregate()``).

    ``server``: :func:`aggregate_plan`'s answer; row counts are then one count query.
    """
    if server:
        total = base.count()
        return {name: total for name, _ in annotations}
    objects = base.select_related(*_walked((), annotations, {}))
    bucket = _one_pass(objects, (), annotations, {}).get((), {name: [] for name, _ in annotations})
    return {name: agg.compute(bucket[name]) for name, agg in annotations}
