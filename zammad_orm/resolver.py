"""Resolves the user paths of a filter against a model: Zammad search fields, with values typed per field.

``state="open"`` becomes ``state.name``, ``owner__login`` becomes ``owner.login``, ``created_at="now-7d"``
becomes date math; relations are found through :meth:`ModelMeta.relation`, custom attributes through the
server's list of them. Every unknown name and every value a field cannot hold is a
:class:`~zammad_orm.errors.QueryError` here, before any request. The resolved tree is what
:mod:`zammad_orm.compiler` writes and :mod:`zammad_orm.evaluator` evaluates.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any

from .dates import DATE_MATH
from .errors import QueryError
from .expr import And, DateMath, Lookup, LookupName, Node, Not, Or, conjoin, disjoin, negate
from .fields import union_members

__all__ = ["INDEX_ONLY", "AttributeNames", "related_model", "resolve"]

# Search-index fields that are not model attributes (spec §4.4), by model name.
INDEX_ONLY: dict[str, dict[str, type]] = {
    "Ticket": {"tags": str, "mention_user_ids": int},
    "User": {"permissions": str},
}

AttributeNames = Callable[[str], "AbstractSet[str]"]


def resolve(model: Any, node: Node, *, attributes: AttributeNames | None = None) -> Node:
    """Rewrite the user paths of every lookup into Zammad search fields, with values typed per field.

    ``state="open"`` becomes ``state.name`` (users: ``login``), ``state=2`` or a model instance
    ``state_id``; ``owner__login`` → ``owner.login``; ``article__body`` → ``article.body``; ``tags`` and
    custom attributes pass through. ``model`` is a model class (its ``_meta`` describes fields and
    relations); ``attributes(model_name)`` lists the custom attributes the server knows.

    Raises:
        QueryError: an unknown field or relation (named), or a value that cannot be compared.

    """
    if isinstance(node, And):
        return conjoin(resolve(model, c, attributes=attributes) for c in node.children)
    if isinstance(node, Or):
        return disjoin(resolve(model, c, attributes=attributes) for c in node.children)
    if isinstance(node, Not):
        return negate(resolve(model, node.child, attributes=attributes))
    if isinstance(node, Lookup):
        return _resolve_path(
            model, node.field.split("."), node.lookup, node.value, "", attributes, node.field
        )
    return node


def related_model(model: Any, name: str) -> Any:
    """Return the model class called ``name`` (a relation target), found among the model classes."""
    root = next((c for c in reversed(model.__mro__) if hasattr(c, "_meta") or c.__name__ == "Model"), model)
    return _subclass_named(root, name)


@functools.lru_cache(maxsize=256)
def _subclass_named(root: type, name: str) -> Any:
    stack = [root]
    while stack:
        cls = stack.pop()
        meta = cls.__dict__.get("_meta")
        if meta is not None and getattr(meta, "name", None) == name:
            return cls
        stack.extend(cls.__subclasses__())
    return None


def _display(key: str) -> str:
    return key.replace(".", "__")


def _resolve_path(
    model: Any,
    parts: list[str],
    lookup: LookupName,
    value: Any,
    prefix: str,
    attributes: AttributeNames | None,
    key: str,
) -> Node:
    meta = model._meta
    head, rest = ("id" if parts[0] == "pk" else parts[0]), parts[1:]
    rel = meta.relation(head)
    if rel is not None:
        return _resolve_relation(model, rel, rest, lookup, value, prefix, attributes, key)
    info = meta.fields.get(head) or next((f for f in meta.fields.values() if f.wire == head), None)
    if info is not None:
        if rest and _base_types(info.type) - {dict}:
            raise QueryError(f"{_display(key)}: {meta.name}.{head} has no field {rest[0]!r}")
        if not info.searchable:
            raise QueryError(f"{_display(key)}: {meta.name}.{head} cannot be searched")
        return Lookup(prefix + ".".join([info.wire, *rest]), lookup, _coerce(info.type, lookup, value, key))
    extra = INDEX_ONLY.get(meta.name, {}).get(head)
    if extra is not None and not rest:
        return Lookup(prefix + head, lookup, _coerce(extra, lookup, value, key))
    known = set(getattr(meta, "custom_keys", ()) or ())
    if head not in known and attributes is not None:
        known |= attributes(meta.name)
    if head in known:
        value = _plain(value)
        if attributes is not None and _mentions_now(value) and head in attributes(f"{meta.name}:dates"):
            value = _coerce(dt.datetime, lookup, value, key)  # a date attribute: date math allowed
        return Lookup(prefix + ".".join([head, *rest]), lookup, value)
    raise QueryError(
        f"{_display(key)}: {meta.name} has no field {head!r} (not declared, not a relation, and not a custom "
        "attribute of the server)"
    )


def _resolve_relation(
    model: Any,
    rel: Any,
    rest: list[str],
    lookup: LookupName,
    value: Any,
    prefix: str,
    attributes: AttributeNames | None,
    key: str,
) -> Node:
    target = related_model(model, rel.target)
    search = prefix + rel.search
    if rest:
        if target is None:
            return Lookup(".".join([search, *rest]), lookup, _plain(value))
        return _resolve_path(target, rest, lookup, value, search + ".", attributes, key)
    if lookup == "isnull":
        return Lookup(prefix + (rel.local or rel.search), "isnull", value)
    if rel.kind == "reverse" or rel.local is None:
        raise QueryError(f"{_display(key)}: compare a field of {rel.name}, e.g. {_display(key)}__id")

    def by_name(names: Any, how: LookupName) -> Node:
        if not _names_searchable(rel):
            raise QueryError(
                f"{_display(key)}: Zammad's search index holds only the {rel.local} of {rel.name}; "
                f"filter by {rel.target} objects or ids, not names"
            )
        if target is None:
            return Lookup(f"{search}.{rel.lookup}", how, names)
        return _resolve_path(target, [rel.lookup], how, names, search + ".", attributes, key)

    if lookup == "in":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise QueryError(f"{_display(key)}__in needs a list of values, got {value!r}")
        values = list(value)
        ids = [_id_of(v) for v in values if _id_of(v) is not None]
        names = [v for v in values if isinstance(v, str)]
        if len(ids) + len(names) != len(values):
            raise QueryError(f"{_display(key)}__in takes ids, {rel.target} objects or names, got {values!r}")
        parts: list[Node] = []
        if ids or not names:
            parts.append(Lookup(prefix + rel.local, "in", ids))
        if names:
            parts.append(by_name(names, "in"))
        return disjoin(parts)
    if value is None and lookup == "exact":
        return Lookup(prefix + rel.local, "isnull", True)
    pk = _id_of(value)
    if pk is not None:
        return Lookup(prefix + rel.local, lookup, pk)
    if isinstance(value, str):
        return by_name(value, lookup)
    raise QueryError(f"{_display(key)}: expected a {rel.target}, an id or a name, got {value!r}")


def _names_searchable(rel: Any) -> bool:
    # Zammad's index nests the referenced object of a belongs-to relation, but a has-many relation only
    # as its id list (``role_ids``): names of m2m targets cannot be searched.
    return bool(rel.kind == "fk")


def _id_of(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if hasattr(value, "_meta") and isinstance(getattr(value, "id", None), int):
        return int(value.id)
    return None


def _plain(value: Any) -> Any:
    pk = _id_of(value)
    return pk if pk is not None and not isinstance(value, int) else value


def _base_types(annotation: Any) -> set[type]:
    """Return the classes of the members of ``annotation`` (``list`` for ``list[int]``), ``None`` left out."""
    classes = (typing.get_origin(m) or m for m in union_members(annotation) if m is not type(None))
    return {c for c in classes if isinstance(c, type)}


def _coerce(annotation: Any, lookup: str, value: Any, key: str) -> Any:
    if lookup in ("isnull", "regex", "search", "year", "month", "day", "date"):
        return value
    if lookup == "in" and isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return [_coerce_one(annotation, v, key) for v in value]
    if lookup == "range" and isinstance(value, (list, tuple)):
        return tuple(_coerce_one(annotation, v, key) for v in value)
    return _coerce_one(annotation, value, key)


def _mentions_now(value: Any) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, str) and v.startswith("now") for v in values)


def _coerce_one(annotation: Any, value: Any, key: str) -> Any:
    types_ = _base_types(annotation)
    value = _plain(value)
    if value is None or not types_:
        return value
    if types_ & {dt.datetime, dt.date} and isinstance(value, str) and value.startswith("now"):
        if not DATE_MATH.match(value):
            raise QueryError(
                f"{_display(key)}: {value!r} is not Zammad date math (e.g. 'now-7d', 'now-1M/d')"
            )
        return DateMath(value)  # date math only for date fields: elsewhere "now-7d" is text
    if dt.datetime in types_ and isinstance(value, str) and not value.startswith("now"):
        return _parse_datetime(value, key)
    if dt.date in types_ and dt.datetime not in types_ and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise QueryError(f"{_display(key)}: {value!r} is not a date (YYYY-MM-DD)") from None
    if int in types_ and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if str in types_ and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if bool in types_ and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    _check_type(types_, value, key)
    return value


_NUMBER = (int, float, Decimal)


def _check_type(types_: set[type], value: Any, key: str) -> None:
    """Refuse a value the field cannot hold (``article_count="abc"``, ``created_at=5``, ``title=True``).

    Fields typed with anything beyond str/int/float/bool/date/datetime (dicts, lists, ``Any``) are not
    checked.
    """
    if not types_ or types_ - {str, int, float, Decimal, bool, dt.datetime, dt.date}:
        return
    if isinstance(value, bool):
        ok = bool in types_
    elif isinstance(value, _NUMBER):
        ok = bool(types_ & {int, float, Decimal})
    elif isinstance(value, (dt.date, dt.timedelta)):
        ok = bool(types_ & {dt.datetime, dt.date})
    elif isinstance(value, str):
        ok = str in types_  # date math ("now-7d") for date fields is handled before
    else:
        ok = False
    if not ok:
        names = " or ".join(sorted(_TYPE_NAMES.get(t, t.__name__) for t in types_))
        raise QueryError(f"{_display(key)} holds {names} values; cannot compare it with {value!r}")


_TYPE_NAMES = {str: "text", int: "integer", float: "number", Decimal: "number", bool: "boolean",
               dt.datetime: "date/time", dt.date: "date"}  # fmt: skip


def _parse_datetime(text: str, key: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"{_display(key)}: {text!r} is neither an ISO-8601 date/time nor date math like 'now-7d'"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
