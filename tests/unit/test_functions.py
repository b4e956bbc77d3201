"""Date functions (``TruncWeek``, ``ExtractWeekDay``...) and aggregates, computed on values: no server."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zammad_orm import (
    Avg,
    Count,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractIsoYear,
    ExtractMonth,
    ExtractQuarter,
    ExtractWeek,
    ExtractWeekDay,
    ExtractYear,
    Max,
    Min,
    Sum,
    Ticket,
    TruncDay,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
    User,
)
from zammad_orm.errors import QueryError
from zammad_orm.functions import order_keys

UTC = dt.timezone.utc
AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+13 in March (daylight saving time)
BERLIN = ZoneInfo("Europe/Berlin")

# Sunday 2026-03-01 12:00 UTC is Monday 01:00 in Auckland: a new ISO week there, not in UTC.
SUNDAY_NOON_UTC = dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_week_starts_on_the_monday_of_the_users_time_zone() -> None:
    assert TruncWeek("created_at").apply(SUNDAY_NOON_UTC) == dt.datetime(2026, 2, 23, tzinfo=UTC)
    in_auckland = TruncWeek("created_at", tzinfo=AUCKLAND).apply(SUNDAY_NOON_UTC)
    assert in_auckland == dt.datetime(2026, 3, 2, tzinfo=AUCKLAND)
    assert in_auckland.tzinfo is AUCKLAND
    assert in_auckland.weekday() == 0
    # The same instant is in different weeks: the UTC Monday is 13 hours before the Auckland one ends.
    assert in_auckland.astimezone(UTC) == dt.datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


def test_truncations_of_a_timestamp_in_a_zone_with_daylight_saving_time() -> None:
    # 2026-03-29 00:30 UTC is 01:30 CET, before the switch to summer time at 02:00 local time.
    stamp = dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert TruncDay("created_at", tzinfo=BERLIN).apply(stamp) == dt.datetime(2026, 3, 29, tzinfo=BERLIN)
    assert TruncDay("created_at", tzinfo=BERLIN).apply(stamp).utcoffset() == dt.timedelta(hours=1)
    summer = dt.datetime(2026, 8, 15, 23, 30, tzinfo=UTC)  # 01:30 CEST on the 16th
    assert TruncDay("created_at", tzinfo=BERLIN).apply(summer) == dt.datetime(2026, 8, 16, tzinfo=BERLIN)
    assert TruncMonth("created_at", tzinfo=BERLIN).apply(summer) == dt.datetime(2026, 8, 1, tzinfo=BERLIN)
    assert TruncQuarter("created_at").apply(summer) == dt.datetime(2026, 7, 1, tzinfo=UTC)
    assert TruncYear("created_at").apply(summer) == dt.datetime(2026, 1, 1, tzinfo=UTC)
    new_year = dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert TruncYear("created_at", tzinfo=BERLIN).apply(new_year) == dt.datetime(2027, 1, 1, tzinfo=BERLIN)


def test_truncations_of_dates_stay_dates() -> None:
    day = dt.date(2026, 8, 16)  # a Sunday
    assert TruncWeek("out_of_office_start_at").apply(day) == dt.date(2026, 8, 10)
    assert TruncMonth("out_of_office_start_at").apply(day) == dt.date(2026, 8, 1)
    assert TruncQuarter("out_of_office_start_at").apply(day) == dt.date(2026, 7, 1)
    assert TruncWeek("created_at").apply(None) is None
    assert TruncWeek("out_of_office_start_at").output(User) is dt.date
    assert TruncWeek("created_at").output(Ticket) is dt.datetime


def test_extractions() -> None:
    assert ExtractWeekDay("created_at").apply(SUNDAY_NOON_UTC) == 1  # Django: 1 is Sunday
    assert ExtractWeekDay("created_at", tzinfo=AUCKLAND).apply(SUNDAY_NOON_UTC) == 2  # Monday there
    assert ExtractIsoWeekDay("created_at").apply(SUNDAY_NOON_UTC) == 7
    assert ExtractWeek("created_at").apply(SUNDAY_NOON_UTC) == 9
    assert ExtractWeek("created_at", tzinfo=AUCKLAND).apply(SUNDAY_NOON_UTC) == 10
    assert ExtractIsoYear("created_at").apply(dt.datetime(2027, 1, 1, tzinfo=UTC)) == 2026  # week 53 of 2026
    assert ExtractYear("created_at").apply(dt.datetime(2027, 1, 1, tzinfo=UTC)) == 2027
    assert ExtractMonth("created_at").apply(SUNDAY_NOON_UTC) == 3
    assert ExtractQuarter("created_at").apply(SUNDAY_NOON_UTC) == 1
    assert ExtractHour("created_at", tzinfo=AUCKLAND).apply(SUNDAY_NOON_UTC) == 1


def test_functions_refuse_fields_without_dates_and_bad_zones() -> None:
    with pytest.raises(QueryError, match="holds no dates"):
        TruncWeek("title").check(Ticket, "week")
    with pytest.raises(QueryError, match=r"no field 'craeted_at'.*created_at"):
        TruncWeek("craeted_at").check(Ticket, "week", lambda model: set())  # no custom attributes
    with pytest.raises(QueryError, match=r"zoneinfo\.ZoneInfo"):
        TruncWeek("created_at", tzinfo="Europe/Berlin")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="no date or timestamp"):
        TruncWeek("created_at").apply("2026-03-01")


def test_ordering_rows_by_a_truncation_is_ordering_them_by_its_field() -> None:
    computed = {"week": TruncWeek("created_at"), "month": ExtractMonth("created_at")}
    assert order_keys(["-week", "id"], computed, grouped=False) == ("-created_at", "id")
    assert order_keys(["month"], computed, grouped=True) == ("month",)
    with pytest.raises(QueryError, match="truncation of their own field"):
        order_keys(["month"], computed, grouped=False)


def test_aggregates_of_values() -> None:
    tenths = [Decimal("0.1")] * 10 + [None]
    assert Sum("time_unit").compute(tenths) == Decimal("1.0")  # exact: floats give 0.9999999999999999
    assert sum(float(v) for v in tenths if v is not None) != 1.0
    assert Avg("time_unit").compute(tenths) == Decimal("0.1")
    assert Avg("article_count").compute([1, 2]) == 1.5
    assert Sum("time_unit").compute([None]) is None
    assert Count("customer_id", distinct=True).compute([1, 2, 2, None]) == 2
    assert Count("customer_id").compute([1, 2, 2, None]) == 3
    assert Min("created_at").compute([SUNDAY_NOON_UTC, None]) == SUNDAY_NOON_UTC
    assert Max("title").compute(["a", "b"]) == "b"
    assert Sum("time_unit").default_alias == "time_unit__sum"
    assert Count().default_alias == "id__count"


def test_aggregates_refuse_fields_they_have_no_meaning_for() -> None:
    with pytest.raises(QueryError, match=r"total=Sum\('title'\): title holds str; Sum takes numbers"):
        Sum("title").check(Ticket, "total")
    with pytest.raises(QueryError, match="Avg takes numbers"):
        Avg("created_at").check(Ticket, "mean")
    with pytest.raises(QueryError, match="holds related objects"):
        Max("state").check(Ticket, "m")
    with pytest.raises(QueryError, match=r"no field 'time_units'.*time_unit"):
        Sum("time_units").check(Ticket, "t", lambda model: set())
    Sum("time_units").check(Ticket, "t")  # may be a custom attribute: checked when the QuerySet runs
    Sum("time_unit").check(Ticket, "t")
    Min("created_at").check(Ticket, "first")
    Count("customer").check(Ticket, "n")
