"""The filter of the rows after a keyset position: how paging continues past the search window.

:func:`keyset_after` turns the sort columns of a query and the last row seen into a filter of the rows
that sort strictly after it (Elasticsearch's order: missing values last in both directions, ``id`` as the
last tie-break). :mod:`zammad_orm.paging` adds it to a query to go on past the 10,000-row window, and the
local copies (:mod:`zammad_orm.replica`) to resume a sync after a watermark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import QueryError
from .expr import Lookup, MatchNone, Node, conjoin, disjoin

__all__ = ["keyset_after"]


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
