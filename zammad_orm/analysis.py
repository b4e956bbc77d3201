"""The analysis half of the QuerySet: grouped rows, ``aggregate()``, and the rows as DataFrames.

:class:`Analysis` is a base of :class:`~zammad_orm.query.QuerySet` (kept apart so that ``query.py`` holds
the building and running of queries): it runs the aggregates of :mod:`zammad_orm.aggregates` through
the QuerySet's client and turns rows into the typed DataFrames of :mod:`zammad_orm.frames`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from .aggregates import (
    Aggregate,
    aggregate_plan,
    aggregate_values,
    check_aggregates,
    grouped_rows,
    server_grouping,
)
from .checks import order_rows
from .errors import QueryError
from .frames import column_kinds, pandas_frame, polars_frame, row_dicts
from .rows import RowMode
from .search_backend import answered_by_search

if TYPE_CHECKING:
    from .functions import Func
    from .interface import ClientAPI
    from .search_backend import Answerer

__all__ = ["Analysis"]


class Analysis:
    """Aggregates and DataFrames of a QuerySet (a base class of ``QuerySet``; see its attributes there)."""

    __slots__ = ()

    model: Any
    _fields: tuple[str, ...] | None
    _mode: RowMode
    _annotations: tuple[tuple[str, Aggregate], ...]
    _computed: tuple[tuple[str, Func], ...]
    _ordering: tuple[str, ...]
    _low: int
    _high: int | None
    _raw: Any

    def _clone(self, **changes: Any) -> Any:
        raise NotImplementedError

    def _active_client(self) -> ClientAPI:
        raise NotImplementedError

    def _backend(self, client: ClientAPI) -> Answerer:
        raise NotImplementedError

    def resolved(self, client: ClientAPI | None = None, notes: list[str] | None = None) -> Any:
        """Check every name and resolve the filter (``QuerySet.resolved``)."""
        raise NotImplementedError

    def values(self, *fields: str, **functions: Func) -> Any:
        """Return a ``values()`` QuerySet (``QuerySet.values``)."""
        raise NotImplementedError

    # -- aggregates --------------------------------------------------------------------------------

    def _server_grouping(self, client: ClientAPI) -> tuple[str, Any] | None:
        return server_grouping(
            self.model, self._fields or (), self._annotations, searching=self._backend(client) == "search"
        )

    def _grouped(self) -> Iterator[dict[str, Any]]:
        client = self._active_client()
        self.resolved(client)  # every name checked before the first count
        # A slice of a grouped QuerySet slices the groups, not the rows counted; the groups are ordered
        # here (by their fields or annotations), the rows counted need no order.
        base = self._clone(annotations=(), mode="objects", fields=None, low=0, high=None, ordering=())
        if self._backend(client) == "search":  # one count per group needs a search index: settle it
            answered_by_search(client, self.model, found=False, raw=self._raw is not None)
        server, computed = self._server_grouping(client), dict(self._computed)
        rows = grouped_rows(base, self._fields or (), self._annotations, client, server, computed)
        yield from order_rows(rows, self._ordering)[self._low : self._high]

    def _aggregates(
        self, args: Sequence[Aggregate], named: Mapping[str, Aggregate]
    ) -> tuple[tuple[str, Any], ...]:
        if self._annotations:
            raise QueryError("aggregate() of grouped rows: aggregate the QuerySet before values().annotate()")
        for arg in args:
            if not isinstance(arg, Aggregate):
                raise QueryError(f"aggregate() takes aggregates (Count, Sum, Avg, Min, Max), got {arg!r}")
        pairs = {**{a.default_alias: a for a in args}, **named}
        check_aggregates(self.model, pairs)
        return tuple(pairs.items())

    def _aggregate_on_server(self, client: ClientAPI, pairs: Sequence[tuple[str, Aggregate]]) -> bool:
        return aggregate_plan(pairs, searching=self._raw is None and self._backend(client) == "search")

    def aggregate(self, *aggregates: Aggregate, **named: Aggregate) -> dict[str, Any]:
        """Aggregate every row as Django does: ``{"time_unit__sum": Decimal("12.5"), "n": 7}``.

        Positional aggregates are named ``<field>__<function>``. Row counts are one count query on the
        server; the rest one pass over the rows (``explain(Sum("time_unit"))`` says which).
        """
        pairs = self._aggregates(aggregates, named)
        client = self._active_client()
        self.resolved(client)  # every name checked before any request
        check_aggregates(self.model, dict(pairs), client.facts.attributes)
        base = self._clone(mode="objects", fields=None, ordering=(), computed=())
        return aggregate_values(base, pairs, server=self._aggregate_on_server(client, pairs))

    # -- DataFrames --------------------------------------------------------------------------------

    def _frame(self, fields: tuple[str, ...]) -> tuple[Any, Any, Any]:
        if fields and self._annotations:
            raise QueryError("to_dataframe(fields) of grouped rows: the fields are those of values()")
        qs = self.values(*fields) if fields else self
        computed = dict(qs._computed)
        names, dicts = row_dicts(cast("Iterable[Any]", qs), qs._mode, qs._fields, self.model, computed)
        return names, dicts, column_kinds(self.model, names, computed, dict(qs._annotations))

    def to_dataframe(self, *fields: str) -> Any:
        """Return the rows as a pandas DataFrame, columns typed by their fields (``[pandas]`` extra).

        ``fields`` selects columns as ``values(...)`` does (``"state__name"``); the dtypes are listed in
        :mod:`zammad_orm.frames` (aware ``datetime64[ns, UTC]``, ``Int64``, ``boolean``, ``Decimal``).
        """
        return pandas_frame(*self._frame(fields))

    def to_polars(self, *fields: str) -> Any:
        """Return the rows as a Polars DataFrame, columns typed by their fields (``[polars]`` extra)."""
        return polars_frame(*self._frame(fields))
