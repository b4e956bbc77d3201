"""Date functions for ``annotate()``, ``values()`` and ``order_by()``: ``TruncWeek("created_at", tzinfo=tz)``.

As in Django, ``Trunc*`` cut a date or timestamp down to the start of its day, ISO week (Monday), month,
quarter or year, and ``Extract*`` read one number of it (year, month, ISO week, weekday...). Both are
computed in the time zone ``tzinfo`` (a :class:`zoneinfo.ZoneInfo`; UTC when not given), so a week
starts on the Monday of the place the user lives in. Zammad's search has no such functions: the values
are computed client-side from the rows (a truncation keeps the order of its field, so ordering rows by
one is ordering them by the field, on the server).

A function names a *computed column*; :func:`computed_columns` checks the names and fields of those a
QuerySet is given, before any request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from .checks import check_fields, path_types
from .errors import QueryError

__all__ = [
    "Extract",
    "ExtractDay",
    "ExtractHour",
    "ExtractIsoWeekDay",
    "ExtractIsoYear",
    "ExtractMonth",
    "ExtractQuarter",
    "ExtractWeek",
    "ExtractWeekDay",
    "ExtractYear",
    "Func",
    "Trunc",
    "TruncDay",
    "TruncMonth",
    "TruncQuarter",
    "TruncWeek",
    "TruncYear",
    "check_functions",
    "order_keys",
]

_UTC = dt.timezone.utc


def _check_tz(value: Any) -> None:
    if value is not None and not isinstance(value, dt.tzinfo):
        raise QueryError(f"tzinfo= takes a zoneinfo.ZoneInfo (or another datetime.tzinfo), got {value!r}")


@attrs.frozen
class Func:
    """A date function of one field path (the base of ``Trunc*`` and ``Extract*``).

    Args:
        field: The date or timestamp field (``"created_at"``, ``"customer__created_at"``).
        tzinfo: The time zone the value is computed in (``ZoneInfo("Europe/Berlin")``); UTC when ``None``.

    """

    field: str
    tzinfo: dt.tzinfo | None = attrs.field(
        default=None, kw_only=True, validator=lambda _s, _a, v: _check_tz(v)
    )

    #: Whether the function keeps the order of its field (a truncation does, an extraction does not).
    monotonic: ClassVar[bool] = False

    def apply(self, value: Any) -> Any:
        """Return the function of one value of the field (``None`` stays ``None``)."""
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_UTC)
            return self._of_datetime(value.astimezone(self.tzinfo or _UTC))
        if isinstance(value, dt.date):
            return self._of_date(value)
        raise QueryError(
            f"{type(self).__name__}({self.field!r}) got {value!r}, which is no date or timestamp"
        )

    def _of_datetime(self, value: dt.datetime) -> Any:
        raise NotImplementedError

    def _of_date(self, value: dt.date) -> Any:
        return self._of_datetime(dt.datetime(value.year, value.month, value.day, tzinfo=self.tzinfo or _UTC))

    def check(self, model: Any, name: str, attributes: Any = None) -> None:
        """Check that the field is a date or timestamp of ``model``.

        Raises:
            QueryError: an unknown field, or one that holds no dates.

        """
        if not isinstance(self.field, str):
            raise QueryError(f"{type(self).__name__}() takes a field name, got {self.field!r}")
        check_fields(model, [self.field], attributes=attributes, what=type(self).__name__)
        types_ = path_types(model, self.field)
        if types_ is not None and not types_ & {dt.datetime, dt.date}:
            raise QueryError(
                f"{name}={type(self).__name__}({self.field!r}): {self.field} holds no dates "
                f"({', '.join(sorted(t.__name__ for t in types_)) or 'a relation'})"
            )

    def output(self, model: Any) -> type:
        """Return the Python type of the values (``datetime``, ``date`` or ``int``)."""
        return int


@attrs.frozen
class Trunc(Func):
    """Cut a date or timestamp to the start of its period (``kind``: day, week, month, quarter, year).

    A timestamp gives an aware ``datetime`` in ``tzinfo`` (midnight there); a date gives a ``date``.
    Weeks start on Monday (ISO 8601).
    """

    kind: ClassVar[str] = ""
    monotonic: ClassVar[bool] = True

    def _of_date(self, value: dt.date) -> dt.date:
        if self.kind == "week":
            return value - dt.timedelta(days=value.weekday())
        if self.kind == "month":
            return value.replace(day=1)
        if self.kind == "quarter":
            return dt.date(value.year, 3 * ((value.month - 1) // 3) + 1, 1)
        if self.kind == "year":
            return dt.date(value.year, 1, 1)
        return value

    def _of_datetime(self, value: dt.datetime) -> dt.datetime:
        day = self._of_date(value.date())
        return dt.datetime(day.year, day.month, day.day, tzinfo=value.tzinfo)

    def output(self, model: Any) -> type:
        """Return ``date`` for a date field, else ``datetime``."""
        types_ = path_types(model, self.field) or set()
        return dt.date if dt.date in types_ and dt.datetime not in types_ else dt.datetime


class TruncDay(Trunc):
    """The day of a timestamp, as midnight in ``tzinfo``."""

    kind = "day"


class TruncWeek(Trunc):
    """The Monday (ISO week start) of a timestamp's week in ``tzinfo``, at midnight."""

    kind = "week"


class TruncMonth(Trunc):
    """The first day of the month, at midnight in ``tzinfo``."""

    kind = "month"


class TruncQuarter(Trunc):
    """The first day of the quarter (January, April, July, October), at midnight in ``tzinfo``."""

    kind = "quarter"


class TruncYear(Trunc):
    """The first of January, at midnight in ``tzinfo``."""

    kind = "year"


@attrs.frozen
class Extract(Func):
    """One number of a date or timestamp in ``tzinfo`` (``lookup``: year, month, week, week_day...)."""

    lookup: ClassVar[str] = ""

    def _of_datetime(self, value: dt.datetime) -> int:
        iso = value.isocalendar()
        numbers = {
            "year": value.year,
            "iso_year": iso[0],
            "quarter": (value.month - 1) // 3 + 1,
            "month": value.month,
            "week": iso[1],
            "day": value.day,
            "week_day": value.isoweekday() % 7 + 1,
            "iso_week_day": value.isoweekday(),
            "hour": value.hour,
        }
        return numbers[self.lookup]


class ExtractYear(Extract):
    """The year."""

    lookup = "year"


class ExtractIsoYear(Extract):
    """The ISO 8601 week-numbering year (the year of the week's Thursday)."""

    lookup = "iso_year"


class ExtractQuarter(Extract):
    """The quarter, 1 to 4."""

    lookup = "quarter"


class ExtractMonth(Extract):
    """The month, 1 to 12."""

    lookup = "month"


class ExtractWeek(Extract):
    """The ISO 8601 week number, 1 to 53."""

    lookup = "week"


class ExtractDay(Extract):
    """The day of the month."""

    lookup = "day"


class ExtractWeekDay(Extract):
    """The day of the week as Django numbers it: 1 is Sunday, 7 is Saturday."""

    lookup = "week_day"


class ExtractIsoWeekDay(Extract):
    """The ISO day of the week: 1 is Monday, 7 is Sunday."""

    lookup = "iso_week_day"


class ExtractHour(Extract):
    """The hour, 0 to 23 (in ``tzinfo``)."""

    lookup = "hour"


def check_functions(
    model: Any, named: Mapping[str, Any], taken: Sequence[str], attributes: Any = None
) -> None:
    """Check the computed columns of ``annotate()``/``values()``: their fields, and names not yet taken.

    Raises:
        QueryError: a function of an unknown or non-date field, or a name a column already has.

    """
    for name, func in named.items():
        if not isinstance(func, Func):
            raise QueryError(f"{name}={func!r}: expected a field function such as TruncWeek('created_at')")
        if name in taken or name in model._meta.fields or name in model._meta.relations:
            raise QueryError(
                f"annotate({name}=...): {name!r} is already a column of the rows; choose another name"
            )
        func.check(model, name, attributes)


def order_keys(keys: Sequence[str], computed: Mapping[str, Func], grouped: bool) -> tuple[str, ...]:
    """Return ``order_by()`` keys with computed columns replaced by their fields, for rows not grouped.

    A truncation keeps the order of its field, so ``order_by("week")`` is ``order_by("created_at")`` on the
    server. Grouped rows are ordered by their columns client-side: their keys are returned as given.

    Raises:
        QueryError: ordering rows that are not grouped by an extraction (``ExtractMonth``), or by a
            function of a related object's field.

    """
    if grouped:
        return tuple(keys)
    out: list[str] = []
    for key in keys:
        name = key.lstrip("-+") if isinstance(key, str) else key
        func = computed.get(name)
        if func is not None:
            if not func.monotonic or "__" in func.field:
                raise QueryError(
                    f"order_by({key!r}): rows can be ordered by a truncation of their own field only "
                    f"({type(func).__name__}({func.field!r}) is not); group them with "
                    "values(...).annotate(...) to order by it"
                )
            key = ("-" if key.startswith("-") else "") + func.field
        out.append(key)
    return tuple(out)
