"""Reference tables: the small tables of names (states, priorities, groups, ...) checked and matched locally.

A *reference table* is a model declared ``@model(table=True)`` (ticket states, priorities, groups,
roles, time accounting types: loaded whole, once per client, through
:meth:`~zammad_orm.facts.ServerFacts.table`) or a model Zammad has no endpoint for whose rows are
built-in constants (``BUILTIN``: state types, article types, article senders). Organizations are
checked too when one page of ``GET /organizations`` (1,000 rows) holds them all
(:meth:`~zammad_orm.facts.ServerFacts.small_table`); beyond that a check would need a search, and
names of organizations are not checked.

Two services, both before any search or write is sent:

* :func:`check_names`: a name given for a reference (``state="opne"``) must be one of the table's
  names, else the error names the field, the value and the closest names (``did you mean 'open'?``).
  A name not found in a table loaded earlier is looked up once more (it may be new).
* :func:`matching_ids`: a condition on a table's rows that Zammad's search index cannot answer
  (``state__state_type__name="open"``: the index holds ``state.*`` but no ``state.state_type``) is
  evaluated here, with :mod:`zammad_orm.evaluator`, over the rows (their references to other
  reference tables nested), and becomes the ids of the rows that match (``state_id`` in ``[1, 2, 3, 7]``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from .errors import FieldError, PermissionDenied, QueryError, ZammadError
from .evaluator import predicate
from .expr import And, Node, Not, Or, lower
from .suggest import did_you_mean, listing

__all__ = [
    "Tables",
    "any_field",
    "check_names",
    "check_payload",
    "field_heads",
    "forget_models",
    "human_name",
    "is_reference",
    "matching_ids",
    "related_model",
    "rows_of",
    "source_of",
]

#: Models whose names are checked when one page of their index endpoint holds every row.
_SMALL_LISTINGS = {"Organization": "organizations"}
#: The rows of such a listing: one request with the largest page the index endpoints honour.
SMALL_LIMIT = 1000


class Tables(Protocol):
    """Where the rows of reference tables come from (a client's :class:`~zammad_orm.facts.ServerFacts`)."""

    def table(self, path: str) -> list[dict[str, Any]]:
        """Return every record of the table at ``path``, asked once per client."""
        ...

    def has_table(self, path: str) -> bool:
        """Return whether the table at ``path`` was asked for already."""
        ...

    def forget_table(self, path: str) -> None:
        """Drop the table at ``path``, so that the next read asks again."""
        ...

    def small_table(self, path: str, limit: int) -> list[dict[str, Any]] | None:
        """Return every record at ``path`` when one page of ``limit`` holds them all, else ``None``."""
        ...


def related_model(model: Any, name: str) -> Any:
    """Return the model class called ``name`` (a relation target), found among the model classes.

    A specialised model (``meta.specialise``, the typed classes ``zammad-orm codegen`` writes) is found
    before its base: it is the class of that name furthest down the hierarchy.
    """
    root = next((c for c in reversed(model.__mro__) if hasattr(c, "_meta") or c.__name__ == "Model"), model)
    return _subclass_named(root, name)


@functools.lru_cache(maxsize=256)
def _subclass_named(root: type, name: str) -> Any:
    found: Any = None
    stack = [root]
    while stack:
        cls = stack.pop()
        meta = cls.__dict__.get("_meta")
        if (
            meta is not None
            and getattr(meta, "name", None) == name
            and (found is None or issubclass(cls, found))
        ):
            found = cls
        stack.extend(cls.__subclasses__())
    return found


def forget_models() -> None:
    """Forget the relation targets found so far (a model was specialised: it is the target now)."""
    _subclass_named.cache_clear()


def human_name(model: Any) -> str:
    """Return a model's name in words: ``TicketPriority`` → ``ticket priority``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model._meta.name).lower()


def _builtin(model: Any) -> Mapping[int, Mapping[str, Any]]:
    found = getattr(model, "BUILTIN", None)
    return found if model._meta.endpoint is None and isinstance(found, Mapping) else {}


def is_reference(model: Any) -> bool:
    """Return whether ``model`` is a reference table (``@model(table=True)``, or built-in constants)."""
    return bool(model._meta.table or _builtin(model))


def source_of(model: Any) -> str:
    """Say where the rows of a reference table come from (``GET /api/v1/ticket_states``)."""
    if _builtin(model):
        return f"the built-in {human_name(model)}s of Zammad"
    return f"GET /api/v1/{model._meta.endpoint}"


def _path(model: Any) -> str | None:
    return str(model._meta.endpoint) if model._meta.table else _SMALL_LISTINGS.get(model._meta.name)


def rows_of(model: Any, tables: Tables | None, *, refresh: bool = False) -> list[dict[str, Any]] | None:
    """Return the rows of a reference table (or of a small listing), ``None`` when they cannot be had.

    ``None``: not a reference table, no ``tables`` (no client), an organization listing larger than one
    page, or the user may not read the table (403).
    """
    builtin = _builtin(model)
    if builtin:
        return [dict(row) for row in builtin.values()]
    path = _path(model)
    if tables is None or path is None:
        return None
    try:
        if refresh:
            tables.forget_table(path)
        if model._meta.table:
            return tables.table(path)
        return tables.small_table(path, SMALL_LIMIT)
    except PermissionDenied:
        return None  # this user cannot list the table: nothing to check against


def check_names(
    model: Any,
    names: Sequence[str],
    tables: Tables | None,
    *,
    fold: bool,
    error: Callable[[str, str], ZammadError],
) -> None:
    """Refuse a name that is not the name of a row of the reference table ``model``.

    Args:
        model: The reference table (``TicketPriority``).
        names: The names given.
        tables: Where the rows come from; ``None`` skips tables that must be asked for.
        fold: Compare case-insensitively (``iexact``).
        error: Makes the exception from a name not found and the suggestion text to append.

    Raises:
        ZammadError: what ``error`` makes, for the first name not found.

    """
    label = _label(model)
    path = _path(model)
    loaded_before = tables is not None and path is not None and tables.has_table(path)
    rows = rows_of(model, tables)
    if rows is None:
        return
    missing = _missing(names, rows, label, fold)
    if missing and loaded_before:
        rows = rows_of(model, tables, refresh=True) or rows  # maybe created since: ask once more
        missing = _missing(names, rows, label, fold)
    if missing:
        known = [str(r.get(label)) for r in rows if r.get(label) is not None]
        hint = did_you_mean(missing[0], known)
        if not hint and len(known) <= 12:
            hint = f" (the {human_name(model)} names are {listing(known)})"
        raise error(missing[0], hint)


def check_payload(model: Any, payload: Mapping[str, Any], tables: Tables | None) -> None:
    """Refuse a write that names a row a reference table does not have (``{"state": "opne"}``).

    Relations given by name (``state``, ``priority``, ``group``, a user's ``roles``, an article's ``type``
    and ``sender``, organizations when listed cheaply) are checked; nested input (a ticket's ``article``)
    too.

    Raises:
        FieldError: naming the field, the name and the closest names, before the write is sent.

    """
    meta = model._meta
    for key, value in payload.items():
        rel = meta.relations.get(key)
        if rel is not None and rel.local is not None:
            given = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            names = [n for n in given if isinstance(n, str) and not n.startswith("guess:")]
            target = related_model(model, rel.target)
            if names and target is not None and (is_reference(target) or _path(target) is not None):
                check_names(target, names, tables, fold=False, error=_write_error(model, key, target))
        elif isinstance(value, Mapping):
            nested = meta.relation(key)  # a ticket's "article"
            target = related_model(model, nested.target) if nested is not None else None
            if target is not None:
                check_payload(target, value, tables)


def _write_error(model: Any, key: str, target: Any) -> Callable[[str, str], ZammadError]:
    def error(name: str, hint: str) -> ZammadError:
        return FieldError(
            f"{model._meta.name}.{key}: there is no {human_name(target)} named {name!r}{hint}; "
            "nothing was sent"
        )

    return error


def _label(model: Any) -> str:
    return "login" if model._meta.name == "User" else "name"


def _missing(names: Sequence[str], rows: list[dict[str, Any]], label: str, fold: bool) -> list[str]:
    known = {str(r.get(label)) for r in rows if r.get(label) is not None}
    if fold:
        folded = {k.casefold() for k in known}
        return [n for n in names if n.casefold() not in folded]
    return [n for n in names if n not in known]


def matching_ids(model: Any, node: Node, tables: Tables | None) -> tuple[list[int], bool, int]:
    """Evaluate a condition over the rows of a reference table.

    Args:
        model: The reference table.
        node: The condition, resolved against ``model`` (``state_type.name`` = ``open``); references to
            other reference tables are nested into each row as the condition reads them.
        tables: Where the rows come from.

    Returns:
        The ids of the rows that match (sorted), whether an empty row (no referenced object at all)
        matches too, and the number of rows looked at.

    Raises:
        QueryError: the rows cannot be had (no client, or this user may not read the table).

    """
    rows = rows_of(model, tables)
    if rows is None:
        raise QueryError(
            f"a condition on {human_name(model)}s needs their rows ({source_of(model)}), which cannot be "
            "read here" + (" (no client)" if tables is None else " (this user may not list them)")
        )
    tree = lower(node)
    match = predicate(tree)
    heads = field_heads(tree)
    ids = sorted(
        int(row["id"])
        for row in rows
        if isinstance(row.get("id"), int) and match(_document(model, row, heads, tables))
    )
    return ids, match({}), len(rows)


def _document(
    model: Any, row: Mapping[str, Any], heads: Mapping[str, Any], tables: Tables | None
) -> dict[str, Any]:
    """Return a row with the referenced rows of other reference tables nested as the condition reads them."""
    doc = dict(row)
    for head, sub in heads.items():
        rel = model._meta.relation(head)
        if rel is None or rel.kind != "fk" or rel.local is None:
            continue
        target = related_model(model, rel.target)
        if target is None or not is_reference(target):
            continue
        ref = row.get(rel.local)
        found = None
        if ref is not None:
            found = next((r for r in rows_of(target, tables) or [] if r.get("id") == ref), {"id": ref})
        doc[rel.search] = None if found is None else _document(target, found, sub, tables)
    return doc


def _leaves(node: Node) -> Iterator[Node]:
    """Yield the nodes of a lowered tree under its ``And``, ``Or`` and ``Not`` nodes."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (And, Or)):
            stack.extend(item.children)
        elif isinstance(item, Not):
            stack.append(item.child)
        else:
            yield item


def any_field(node: Node) -> bool:
    """Return whether a lowered tree holds a term on no field (it reads every column)."""
    return any(hasattr(item, "field") and item.field is None for item in _leaves(node))


def field_heads(node: Node) -> dict[str, Any]:
    """Return the field paths a lowered tree reads, nested: ``{"state": {"name": {}}, "title": {}}``."""
    heads: dict[str, Any] = {}
    for item in _leaves(node):
        if isinstance(getattr(item, "field", None), str):
            level = heads
            for part in item.field.removesuffix(".keyword").split("."):  # type: ignore[attr-defined]
                level = level.setdefault(part, {})
    return heads
