"""Checks of the names a QuerySet is given besides its filter, before any request; grouped rows' order.

The names of ``order_by``, ``values``/``values_list``, ``only``, ``annotate`` and ``select_related``.

Each unknown name raises :class:`~zammad_orm.errors.QueryError` naming the model, what was written and
the closest names. A name that is not declared may still be a custom attribute of the server: while
building a QuerySet (``attributes=None``) such names pass, and they are checked when it runs, against
the attributes the server lists (``GET /object_manager_attributes``, asked once per client, only then).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from .coerce import base_types
from .errors import QueryError
from .indexed import INDEX_ONLY
from .resolver import related_model
from .suggest import did_you_mean

__all__ = [
    "check_annotations",
    "check_fields",
    "check_names",
    "check_ordering",
    "check_related",
    "order_rows",
    "path_types",
]

Attributes = Callable[[str], "AbstractSet[str]"] | None


def _custom(meta: Any, name: str, attributes: Attributes) -> bool | None:
    """Say whether ``name`` is a custom attribute; ``None``: cannot tell without the server."""
    if name in (getattr(meta, "custom_keys", ()) or ()):
        return True
    if attributes is None:
        return None
    return name in attributes(meta.name)


def _names(model: Any, attributes: Attributes) -> list[str]:
    meta = model._meta
    known = set(getattr(meta, "custom_keys", ()) or ())
    if attributes is not None:
        known |= attributes(meta.name)
    return [*meta.fields, *meta.relations, *known]


def check_fields(model: Any, paths: Sequence[str], *, attributes: Attributes, what: str) -> None:
    """Check the field paths of ``values()``/``values_list()``/``only()``/``Count()`` (``"state__name"``).

    A path walks relations by their attribute names and ends in a field, a relation, a custom attribute
    or a property (``weburl``); tickets also have ``tags``.

    Raises:
        QueryError: a step that is no field, relation or property of its model.

    """
    for path in paths:
        if not isinstance(path, str) or not path:
            raise QueryError(f"{what}() takes field names, got {path!r}")
        current = model
        steps = path.split("__")
        for index, step in enumerate(steps):
            meta = current._meta
            last = index == len(steps) - 1
            name = "id" if step == "pk" else step
            rel = meta.relations.get(name)
            if rel is not None:
                current = related_model(current, rel.target)
                if current is None:
                    break
                continue
            where = f"{what}({path!r})"
            if name in meta.fields or name == "extra":  # extra: the custom attributes as one dict
                if not last:
                    raise QueryError(f"{where}: {meta.name}.{name} is a field, not a relation to follow")
                continue
            attribute = getattr(current, name, None)
            if isinstance(attribute, property) or (
                name in INDEX_ONLY.get(meta.name, {}) and callable(attribute)
            ):
                if not last:
                    raise QueryError(f"{where}: {meta.name}.{name} is not a relation to follow")
                continue
            custom = _custom(meta, name, attributes)
            if custom is None or (custom and last):
                break
            if custom:
                raise QueryError(
                    f"{where}: {meta.name}.{name} is a custom attribute, not a relation to follow"
                )
            raise QueryError(
                f"{where}: {meta.name} has no field {step!r}{did_you_mean(step, _names(current, attributes))}"
            )


def path_types(model: Any, path: str) -> set[type] | None:
    """Return the classes a field path holds (``{Decimal}`` for ``"time_unit"``), ``set()`` for a relation.

    ``None`` when the path cannot tell: a custom attribute, a property, a relation to an unknown model.
    """
    current = model
    steps = path.split("__")
    for index, step in enumerate(steps):
        meta = current._meta
        name = "id" if step == "pk" else step
        rel = meta.relations.get(name)
        if rel is not None:
            if index == len(steps) - 1:
                return set()
            current = related_model(current, rel.target)
            if current is None:
                return None
            continue
        info = meta.fields.get(name)
        return base_types(info.type) if info is not None and index == len(steps) - 1 else None
    return None


def check_names(
    model: Any,
    ordering: Sequence[str],
    fields: Sequence[str] | None,
    only: Sequence[str],
    annotations: Sequence[tuple[str, Any]],
    attributes: Attributes,
    values: str = "values",
) -> None:
    """Check the names of ``order_by()``, ``values()``, ``only()`` and the ``Count()`` of ``annotate()``.

    ``values`` names the method that gave ``fields`` (``values_list``), for the message.

    Raises:
        QueryError: an unknown name.

    """
    check_ordering(model, ordering, attributes, fields, annotations)
    check_fields(model, fields or (), attributes=attributes, what=values)
    check_fields(model, only, attributes=attributes, what="only")
    check_fields(model, [agg.field for _, agg in annotations], attributes=attributes, what="Count")


def check_related(model: Any, paths: Sequence[str]) -> None:
    """Check the relation paths of ``select_related()`` (``"customer__organization"``).

    Raises:
        QueryError: a step that is not a relation of its model.

    """
    for path in paths:
        if not isinstance(path, str) or not path:
            raise QueryError(f"select_related() takes relation paths, got {path!r}")
        current = model
        for step in path.split("__"):
            meta = current._meta
            rel = meta.relation(step)
            if rel is None:
                kind = "a field, not a relation" if step in meta.fields else "no relation"
                raise QueryError(
                    f"select_related({path!r}): {step!r} is {kind} of {meta.name}"
                    f"{did_you_mean(step, meta.relations)}; "
                    f"its relations are {', '.join(sorted(meta.relations))}"
                )
            current = related_model(current, rel.target)
            if current is None:
                break


def check_ordering(
    model: Any,
    keys: Sequence[str],
    attributes: Attributes,
    fields: Sequence[str] | None = (),
    annotated: Sequence[tuple[str, Any]] = (),
) -> None:
    """Check ``order_by()`` keys: the model's columns, or for grouped rows the group fields and annotations.

    Args:
        model: The model class.
        keys: The keys as given (``"-created_at"``).
        attributes: The server's custom attributes (``None``: not known yet; unknown names pass).
        fields: The fields of ``values()``; with annotations, the rows are grouped by them.
        annotated: The ``(name, Count)`` pairs of ``annotate()``.

    Raises:
        QueryError: an unknown column, a relation, a list field, or a key grouped rows do not have.

    """
    meta = model._meta
    annotations = [name for name, _ in annotated]
    grouped = list(fields or ()) if annotations else []
    for key in keys:
        if not isinstance(key, str):
            raise QueryError(f"order_by() takes field names, got {key!r}")
        name = key[1:] if key.startswith(("-", "+")) else key
        if annotations:
            if name in annotations or name in grouped:
                continue
            raise QueryError(
                f"order_by({key!r}): grouped rows are ordered by their fields "
                f"({', '.join(grouped)}) or annotations ({', '.join(annotations)})"
                f"{did_you_mean(name, [*grouped, *annotations])}"
            )
        if "__" in name or "." in name:
            raise QueryError(
                f"order_by({key!r}): Zammad sorts only by the model's own columns (a relation path is "
                "sorted only among grouped rows: values(...).annotate(...).order_by(...))"
            )
        column = "id" if name == "pk" else name
        info = meta.fields.get(column) or next((f for f in meta.fields.values() if f.wire == column), None)
        if info is not None:
            types_ = base_types(info.type)
            if list in types_ or dict in types_:
                raise QueryError(
                    f"order_by({key!r}): {meta.name}.{info.name} is not a column Zammad can sort by"
                )
            continue
        rel = meta.relations.get(column)
        if rel is not None:
            local = f"; order by {rel.local}" if rel.kind == "fk" and rel.local else ""
            raise QueryError(f"order_by({key!r}): {column} is a relation, not a column{local}")
        if _custom(meta, column, attributes) is not False:
            continue
        columns = [n for n, f in meta.fields.items() if not base_types(f.type) & {list, dict}]
        raise QueryError(
            f"order_by({key!r}): {meta.name} has no column {column!r}"
            f"{did_you_mean(column, [*columns, *(attributes(meta.name) if attributes else ())])}"
        )


def check_annotations(fields: Sequence[str], names: Sequence[str]) -> None:
    """Refuse an annotation named like a grouped field (``values("n").annotate(n=...)``).

    Raises:
        QueryError: naming the clash.

    """
    for name in names:
        if name in fields:
            raise QueryError(
                f"annotate({name}=...): {name!r} is already a field of the rows; choose another name"
            )


def order_rows(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Order grouped rows by ``order_by()`` keys (``"-n"``); missing values last, as Elasticsearch sorts."""
    for key in reversed([k for k in keys if k.lstrip("-+") not in ("id", "pk")]):
        name, descending = key.lstrip("-+"), key.startswith("-")
        present = [r for r in rows if r.get(name) is not None]
        missing = [r for r in rows if r.get(name) is None]
        try:
            present.sort(key=lambda r: _sortable(r[name]), reverse=descending)
        except TypeError:  # values of several types: compare their text
            present.sort(key=lambda r: str(r[name]), reverse=descending)
        rows = present + missing
    return rows


def _sortable(value: Any) -> Any:
    return str(value) if hasattr(value, "_meta") else value  # objects (values("state")) by their text
