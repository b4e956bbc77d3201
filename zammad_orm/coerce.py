"""The values and lookups a field can take: typing values per field, refusing what a field cannot hold.

:func:`coerce` types a filter value for its field (``number=67001`` → ``"67001"``, an ISO string for a
datetime column → a datetime, ``"now-7d"`` for a date column → date math) and refuses a value the field
cannot hold (``article_count="abc"``). :func:`check_lookup` refuses a lookup the field has no meaning for
(``created_at__icontains``) and lists the lookups it has. Both raise
:class:`~zammad_orm.errors.QueryError` naming the field, before any request.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from .dates import DATE_MATH
from .errors import QueryError
from .expr import LOOKUPS, DateMath
from .fields import literal_values, union_members
from .suggest import did_you_mean

__all__ = [
    "RELATION_LOOKUPS",
    "base_types",
    "check_lookup",
    "coerce",
    "display",
    "id_of",
    "lookups_of",
    "plain",
    "unknown_lookup",
]

_TEXT = frozenset(
    {"exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
     "in", "gt", "gte", "lt", "lte", "range", "isnull", "regex", "search"}
)  # fmt: skip
_NUMBER = frozenset({"exact", "in", "gt", "gte", "lt", "lte", "range", "isnull"})
_BOOL = frozenset({"exact", "in", "isnull"})
_DATE = _NUMBER | {"year", "month", "day", "date"}
#: The lookups of a relation given no field of its target: ids and objects (``exact``, ``in``,
#: comparisons), ``isnull``, and the text lookups, which compare the target's name.
RELATION_LOOKUPS = frozenset(LOOKUPS) - {"year", "month", "day", "date"}


def display(key: str) -> str:
    """Return a dotted path as the user wrote it (``state.name`` → ``state__name``)."""
    return key.replace(".", "__")


def id_of(value: Any) -> int | None:
    """Return the id a value stands for (an int, or a saved model instance), else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if hasattr(value, "_meta") and isinstance(getattr(value, "id", None), int):
        return int(value.id)
    return None


def plain(value: Any) -> Any:
    """Return a model instance as its id; any other value unchanged."""
    pk = id_of(value)
    return pk if pk is not None and not isinstance(value, int) else value


def base_types(annotation: Any) -> set[type]:
    """Return the classes of the members of ``annotation`` (``list`` for ``list[int]``), ``None`` left out."""
    members = [m for m in union_members(annotation) if m is not type(None)]
    classes = [typing.get_origin(m) or m for m in members if typing.get_origin(m) is not Literal]
    values = [v for m in members if typing.get_origin(m) is Literal for v in typing.get_args(m)]
    return {c for c in classes if isinstance(c, type)} | {type(v) for v in values}


def lookups_of(annotation: Any) -> frozenset[str]:
    """Return the lookups that have a meaning for a field of this annotation (every lookup if unknown).

    A list field (``tags``, ``role_ids``) takes the lookups of its elements: a list matches when one of
    its elements does.
    """
    types_ = base_types(annotation)
    if list in types_:
        members = [typing.get_args(m) for m in union_members(annotation) if typing.get_origin(m) is list]
        element = members[0][0] if members and members[0] else Any
        return lookups_of(element)
    if not types_ or types_ - {str, int, float, Decimal, bool, dt.datetime, dt.date}:
        return frozenset(LOOKUPS)
    found: set[str] = set()
    if str in types_:
        found |= _TEXT
    if types_ & {int, float, Decimal}:
        found |= _NUMBER
    if bool in types_:
        found |= _BOOL
    if types_ & {dt.datetime, dt.date}:
        found |= _DATE
    return frozenset(found)


def _kind(annotation: Any) -> str:
    types_ = base_types(annotation)
    if list in types_:
        return "list"
    for kind, members in (("text", {str}), ("date/time", {dt.datetime, dt.date}), ("boolean", {bool})):
        if types_ & members:
            return kind
    return "number" if types_ & {int, float, Decimal} else "value"


def unknown_lookup(key: str, owner: str, word: str, valid: Iterable[str], kind: str = "") -> QueryError:
    """Return the error for ``word``, which is neither a field of ``owner`` nor one of its lookups."""
    names = sorted(valid)
    what = f" ({kind})" if kind else ""
    return QueryError(
        f"{key}: {word!r} is not a lookup of {owner}{what}{did_you_mean(word, names)}; "
        f"its lookups are {', '.join(names)}"
    )


def check_lookup(key: str, owner: str, annotation: Any, lookup: str) -> None:
    """Refuse a lookup a field of this annotation has no meaning for (``created_at__icontains``).

    Raises:
        QueryError: naming the field and listing the lookups it has.

    """
    valid = lookups_of(annotation)
    if lookup not in valid:
        raise QueryError(
            f"{key}: {owner} is a {_kind(annotation)} field and has no lookup {lookup!r}; "
            f"its lookups are {', '.join(sorted(valid))}"
        )


def coerce(annotation: Any, lookup: str, value: Any, key: str) -> Any:
    """Type ``value`` for a field of ``annotation`` under ``lookup`` (lists for ``in``, pairs for ``range``).

    Raises:
        QueryError: the value cannot be compared with the field.

    """
    if lookup in ("isnull", "regex", "search", "year", "month", "day", "date"):
        return value
    if lookup == "in" and isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        values = [_coerce_one(annotation, v, key) for v in value]
        _check_options(annotation, values, key)
        return values
    if lookup == "range" and isinstance(value, (list, tuple)):
        return tuple(_coerce_one(annotation, v, key) for v in value)
    coerced = _coerce_one(annotation, value, key)
    if lookup == "exact":
        _check_options(annotation, [coerced], key)
    return coerced


def _check_options(annotation: Any, values: list[Any], key: str) -> None:
    """Refuse a value a field of fixed values (a ``Literal``: a select attribute) never holds."""
    options = literal_values(annotation)
    wrong = [v for v in values if v is not None and v not in options] if options else []
    if wrong:
        hint = did_you_mean(str(wrong[0]), map(str, options))
        raise QueryError(
            f"{display(key)}: {wrong[0]!r} is not one of its values{hint}; its values are"
            f" {', '.join(map(repr, options))}"
        )


def _coerce_one(annotation: Any, value: Any, key: str) -> Any:
    types_ = base_types(annotation)
    if list in types_:
        members = [typing.get_args(m) for m in union_members(annotation) if typing.get_origin(m) is list]
        if members and members[0]:
            return _coerce_one(members[0][0], value, key)
    value = plain(value)
    if value is None or not types_:
        return value
    if types_ & {dt.datetime, dt.date} and isinstance(value, str) and value.startswith("now"):
        if not DATE_MATH.match(value):
            raise QueryError(f"{display(key)}: {value!r} is not Zammad date math (e.g. 'now-7d', 'now-1M/d')")
        return DateMath(value)  # date math only for date fields: elsewhere "now-7d" is text
    if dt.datetime in types_ and isinstance(value, str) and not value.startswith("now"):
        return _parse_datetime(value, key)
    if dt.date in types_ and dt.datetime not in types_ and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise QueryError(f"{display(key)}: {value!r} is not a date (YYYY-MM-DD)") from None
    if int in types_ and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if str in types_ and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if bool in types_ and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    _check_type(types_, value, key)
    return value


_NUMBERS = (int, float, Decimal)


def _check_type(types_: set[type], value: Any, key: str) -> None:
    """Refuse a value the field cannot hold (``article_count="abc"``, ``created_at=5``, ``title=True``).

    Fields typed with anything beyond str/int/float/bool/date/datetime (dicts, ``Any``) are not checked.
    """
    if not types_ or types_ - {str, int, float, Decimal, bool, dt.datetime, dt.date}:
        return
    if isinstance(value, bool):
        ok = bool in types_
    elif isinstance(value, _NUMBERS):
        ok = bool(types_ & {int, float, Decimal})
    elif isinstance(value, (dt.date, dt.timedelta)):
        ok = bool(types_ & {dt.datetime, dt.date})
    elif isinstance(value, str):
        ok = str in types_  # date math ("now-7d") for date fields is handled before
    else:
        ok = False
    if not ok:
        names = " or ".join(sorted(_TYPE_NAMES.get(t, t.__name__) for t in types_))
        raise QueryError(f"{display(key)} holds {names} values; cannot compare it with {value!r}")


_TYPE_NAMES = {str: "text", int: "integer", float: "number", Decimal: "number", bool: "boolean",
               dt.datetime: "date/time", dt.date: "date"}  # fmt: skip


def _parse_datetime(text: str, key: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"{display(key)}: {text!r} is neither an ISO-8601 date/time nor date math like 'now-7d'"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
