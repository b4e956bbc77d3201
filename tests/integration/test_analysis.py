"""Aggregates, date truncation, typed DataFrames and the progress total, over real HTTP to the emulator."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import zammad_orm as zo
from zammad_orm import Avg, Count, ExtractMonth, Max, Min, Sum, TruncMonth, TruncWeek
from zammad_orm.coerce import base_types
from zammad_orm.errors import QueryError
from zammad_orm.models import registry

from .conftest import make_client, sent

Emulator: Any = pytest.importorskip("zammad_orm.testing").Emulator
pd = pytest.importorskip("pandas")

AUCKLAND = ZoneInfo("Pacific/Auckland")


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    with Emulator(demo=80, seed=7) as server:
        yield server


@pytest.fixture(scope="module")
def demo65() -> Iterator[Any]:
    with Emulator(demo=80, seed=7, zammad_version="6.5") as server:
        yield server


@pytest.fixture
def client(demo: Any) -> Iterator[zo.Client]:
    c = make_client(demo)
    yield c
    c.close()


def _searches(client: zo.Client) -> list[str]:
    return [path for method, path in sent(client).sent if "/search" in path]


# -- aggregate() -------------------------------------------------------------------------------------


def test_aggregate_counts_rows_on_the_server_in_one_request_on_65(demo65: Any) -> None:
    client = make_client(demo65)
    qs = zo.Ticket.objects.using(client).filter(state="open")
    qs.explain()  # learns the server version and the states: the aggregate alone is counted below
    sent(client).reset()
    result = qs.aggregate(n=Count("id"), rows=Count())
    assert len(sent(client).sent) == 1
    assert "only_total_count=true" in sent(client).sent[0][1]
    assert "aggregate(): on the server" in qs.explain(n=Count("id"))
    expected = len(list(zo.Ticket.objects.using(make_client(demo65)).filter(state="open")))
    assert result == {"n": expected, "rows": expected}
    assert expected > 0


def test_aggregate_counts_cost_what_count_costs_on_62(demo: Any) -> None:
    counting, aggregating = make_client(demo), make_client(demo)
    n = zo.Ticket.objects.using(counting).filter(state="closed").count()
    assert zo.Ticket.objects.using(aggregating).filter(state="closed").aggregate(Count("id")) == {
        "id__count": n
    }
    assert sent(aggregating).sent == sent(counting).sent


def test_aggregate_client_side_in_one_pass_with_exact_decimal_sums(demo: Any, client: zo.Client) -> None:
    qs = zo.Ticket.objects.using(client).all()
    assert "aggregate(): client-side in one pass" in qs.explain(Sum("time_unit"))
    sent(client).reset()
    result = qs.aggregate(
        Sum("time_unit"),
        Avg("time_unit"),
        first=Min("created_at"),
        last=Max("created_at"),
        customers=Count("customer", distinct=True),
        owned=Count("owner_id"),
    )
    aggregating = len(sent(client).sent)
    direct_client = make_client(demo)
    tickets = list(zo.Ticket.objects.using(direct_client).all())
    assert aggregating == len(sent(direct_client).sent)  # one pass: the requests of reading the rows
    units = [t.time_unit for t in tickets if t.time_unit is not None]
    assert units
    assert all(isinstance(u, Decimal) for u in units)
    total = sum(units, Decimal(0))
    assert result["time_unit__sum"] == total
    assert isinstance(result["time_unit__sum"], Decimal)
    assert result["time_unit__avg"] == total / len(units)
    assert result["first"] == min(t.created_at for t in tickets)
    assert result["last"] == max(t.created_at for t in tickets)
    assert result["customers"] == len({t.customer_id for t in tickets})
    assert result["owned"] == sum(1 for t in tickets if t.owner_id is not None)


def test_decimal_sums_are_exact_where_floats_are_not(fresh_emulator: Any) -> None:
    client = make_client(fresh_emulator)
    tickets = [
        client.tickets.create(title="__sum__", group="Users", customer="nicole.braun@zammad.org", article="x")
        for _ in range(2)
    ]
    for ticket, units in zip(tickets, ["0.1", "0.2"], strict=True):
        ticket.create_time_accounting(units)
        ticket.create_time_accounting(units)
    qs = zo.Ticket.objects.using(client).filter(title="__sum__")
    assert qs.aggregate(Sum("time_unit")) == {"time_unit__sum": Decimal("0.6")}
    assert sum(float(t.time_unit) for t in qs) != 0.6  # what a float column would give: 0.6000000000000001
    per_ticket = zo.TimeAccounting.objects.using(client).filter(ticket_id__in=[t.id for t in tickets])
    assert per_ticket.aggregate(total=Sum("time_unit"), n=Count()) == {"total": Decimal("0.6"), "n": 4}
    frame = qs.to_dataframe("number", "time_unit")
    assert frame["time_unit"].dtype == object
    assert frame["time_unit"].sum() == Decimal("0.6")


# -- grouped aggregates ------------------------------------------------------------------------------


def test_grouped_sums_means_and_extremes_per_state(demo: Any, client: zo.Client) -> None:
    qs = (
        zo.Ticket.objects.using(client)
        .values("state__name")
        .annotate(n=Count("id"), hours=Sum("time_unit"), mean=Avg("time_unit"), newest=Max("created_at"))
        .order_by("-n")
    )
    assert "grouped aggregates: client-side" in qs.explain()
    rows = list(qs)
    by_state: dict[str, list[Any]] = defaultdict(list)
    for t in zo.Ticket.objects.using(make_client(demo)).select_related("state"):
        by_state[t.state.name].append(t)
    assert {r["state__name"] for r in rows} == set(by_state)
    assert [r["n"] for r in rows] == sorted((len(v) for v in by_state.values()), reverse=True)
    for row in rows:
        tickets = by_state[row["state__name"]]
        units = [t.time_unit for t in tickets if t.time_unit is not None]
        assert row["n"] == len(tickets)
        assert row["hours"] == (sum(units, Decimal(0)) if units else None)
        assert row["mean"] == (sum(units, Decimal(0)) / len(units) if units else None)
        assert row["newest"] == max(t.created_at for t in tickets)


def test_annotate_of_an_aggregate_needs_values_and_names_are_checked_before_any_request(
    client: zo.Client,
) -> None:
    tickets = zo.Ticket.objects.using(client)
    cases = [
        (lambda: tickets.annotate(n=Sum("time_unit")), "needs values"),
        (lambda: tickets.values("state__name").annotate(t=Sum("title")), "Sum takes numbers"),
        (lambda: tickets.values("state__name").annotate(t=Avg("state")), "holds related objects"),
        (lambda: list(tickets.values("state__name").annotate(t=Sum("time_units"))), "time_unit"),
        (lambda: tickets.aggregate(Sum("number")), "Sum takes numbers"),
        (lambda: tickets.aggregate("time_unit"), "takes aggregates"),
        (lambda: tickets.aggregate(n=Min("craeted_at")), "created_at"),
        (lambda: tickets.annotate(week=TruncWeek("title")), "holds no dates"),
        (lambda: tickets.annotate(week=TruncWeek("created_at", tzinfo="UTC")), "ZoneInfo"),  # type: ignore[arg-type]
        (lambda: tickets.annotate(title=TruncWeek("created_at")), "already a column"),
        (lambda: tickets.annotate(m=ExtractMonth("created_at")).order_by("m"), "truncation"),
        (lambda: list(tickets.annotate(w=TruncWeek("craeted_at")).values("w")), "created_at"),
        (lambda: tickets.values("state__name").annotate(n=Count()).aggregate(Count()), "grouped rows"),
    ]
    for call, message in cases:
        with pytest.raises(QueryError, match=message):
            call()
    assert _searches(client) == []


# -- date truncation ---------------------------------------------------------------------------------


def test_tickets_created_and_closed_per_week_for_eight_weeks_in_one_expression(
    demo: Any, client: zo.Client
) -> None:
    weeks = (
        zo.Ticket.objects.using(client)
        .filter(created_at__gte="now-8w")
        .annotate(week=TruncWeek("created_at", tzinfo=AUCKLAND))
        .values("week")
        .annotate(created=Count("id"), closed=Count("close_at"))
        .order_by("week")
    )
    rows = list(weeks)
    recent = list(zo.Ticket.objects.using(make_client(demo)).filter(created_at__gte="now-8w"))
    assert recent, "the demo data has tickets of the last 8 weeks"
    expected: Counter[dt.datetime] = Counter()
    closed: Counter[dt.datetime] = Counter()
    for t in recent:
        local = t.created_at.astimezone(AUCKLAND)
        monday = (local - dt.timedelta(days=local.weekday())).date()
        expected[dt.datetime(monday.year, monday.month, monday.day, tzinfo=AUCKLAND)] += 1
        closed[dt.datetime(monday.year, monday.month, monday.day, tzinfo=AUCKLAND)] += t.close_at is not None
    assert {r["week"]: r["created"] for r in rows} == dict(expected)
    assert {r["week"]: r["closed"] for r in rows} == dict(closed)
    assert [r["week"] for r in rows] == sorted(expected)
    assert all(r["week"].weekday() == 0 and r["week"].hour == 0 for r in rows)
    assert 1 <= len(rows) <= 9
    frame = weeks.to_dataframe()
    assert str(frame["week"].dtype) == "datetime64[ns, Pacific/Auckland]"
    assert str(frame["created"].dtype) == "Int64"


def test_rows_ordered_by_a_truncation_are_ordered_by_its_field_on_the_server(client: zo.Client) -> None:
    qs = zo.Ticket.objects.using(client).annotate(month=TruncMonth("created_at")).order_by("-month")
    rows = list(qs.values_list("number", "created_at", "month")[:30])
    searched = _searches(client)
    assert searched
    assert "sort_by=created_at%2Cid" in searched[0]
    assert "order_by=desc%2Cdesc" in searched[0]
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)
    assert all(r[2] == dt.datetime(r[1].year, r[1].month, 1, tzinfo=dt.timezone.utc) for r in rows)
    named = zo.Ticket.objects.using(client).values("number", month=ExtractMonth("created_at"))[:5]
    assert all(set(r) == {"number", "month"} and 1 <= r["month"] <= 12 for r in named)


# -- DataFrames --------------------------------------------------------------------------------------


def _expected_dtype(types_: set[type]) -> str:
    if types_ == {dt.datetime}:
        return "datetime64[ns, UTC]"
    if types_ == {dt.date}:
        return "datetime64[ns]"
    if types_ == {bool}:
        return "boolean"
    if types_ == {int}:
        return "Int64"
    if types_ == {str}:
        return "string"
    if types_ in ({float}, {int, float}):
        return "float64"
    return "object"  # decimals (exact), lists, dicts


LISTED = [
    name
    for name, model in sorted(registry.items())
    if model._meta.endpoint and "list" in getattr(model._meta, "capabilities", {"list"})
]


@pytest.mark.parametrize("name", LISTED)
def test_every_models_dataframe_has_the_dtypes_of_its_fields(client: zo.Client, name: str) -> None:
    model = registry[name]
    try:
        frame = model.objects.using(client).all()[:20].to_dataframe()
    except zo.errors.UnsupportedOperation:
        pytest.skip(f"{name} cannot be listed")
    for field, info in model._meta.fields.items():
        assert str(frame[field].dtype) == _expected_dtype(base_types(info.type)), (name, field)


def test_empty_results_have_the_same_dtypes(client: zo.Client) -> None:
    tickets = zo.Ticket.objects.using(client)
    full = tickets.to_dataframe("number", "state__name", "owner__login", "created_at", "time_unit", "id")
    empty = tickets.filter(title="no such title anywhere").to_dataframe(
        "number", "state__name", "owner__login", "created_at", "time_unit", "id"
    )
    assert len(full) > 0
    assert len(empty) == 0
    assert list(full.dtypes.astype(str)) == list(empty.dtypes.astype(str))
    assert list(full.dtypes.astype(str)) == [
        "string",
        "string",
        "string",
        "datetime64[ns, UTC]",
        "object",
        "Int64",
    ]
    assert list(full.columns) == ["number", "state__name", "owner__login", "created_at", "time_unit", "id"]
    numbers = list(tickets.values_list("number", flat=True))
    assert list(full["number"]) == numbers


def test_values_and_values_list_frames_are_typed(client: zo.Client) -> None:
    users = zo.User.objects.using(client).order_by("id")
    frame = users.values("login", "active", "organization__name", "last_login", "vip")[:10].to_dataframe()
    assert dict(frame.dtypes.astype(str)) == {
        "login": "string",
        "active": "boolean",
        "organization__name": "string",
        "last_login": "datetime64[ns, UTC]",
        "vip": "boolean",
    }
    flat = users.values_list("id", flat=True)[:5].to_dataframe()
    assert str(flat["id"].dtype) == "Int64"
    assert list(flat["id"]) == [u.id for u in users[:5]]


def test_polars_frames_are_typed(client: zo.Client) -> None:
    pl = pytest.importorskip("polars")
    tickets = zo.Ticket.objects.using(client)
    frame = tickets.to_polars("number", "state__name", "created_at", "time_unit", "article_count")
    assert frame.schema["number"] == pl.String
    assert frame.schema["created_at"] == pl.Datetime("us", "UTC")
    assert isinstance(frame.schema["time_unit"], pl.Decimal)
    assert frame.schema["article_count"] == pl.Int64
    assert frame["time_unit"].sum() == tickets.aggregate(Sum("time_unit"))["time_unit__sum"]
    weeks = tickets.annotate(week=TruncWeek("created_at", tzinfo=AUCKLAND)).values("week").annotate(n=Count())
    grouped = weeks.to_polars()
    assert grouped.schema["week"] == pl.Datetime("us", "Pacific/Auckland")
    assert grouped["n"].sum() == tickets.count()


# -- progress ----------------------------------------------------------------------------------------


def _bar(client: zo.Client, capsys: pytest.CaptureFixture[str], chunk: int) -> tuple[list[int], str]:
    capsys.readouterr()
    ids = [
        t.id for t in zo.Ticket.objects.using(client).filter(state="closed").iterator(chunk, progress=True)
    ]
    return ids, capsys.readouterr().err.replace("\r", "\n")


def test_progress_shows_the_total_the_first_page_tells(
    demo65: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # One page at a time: with pages in flight, how many pages were asked ahead depends on timing.
    bar_client, plain_client = (
        make_client(demo65, page_concurrency=1),
        make_client(demo65, page_concurrency=1),
    )
    plain = [t.id for t in zo.Ticket.objects.using(plain_client).filter(state="closed").iterator(5)]
    ids, err = _bar(bar_client, capsys, 5)  # several pages: 6.5 sends total_count with the first
    assert ids == plain
    assert len(ids) > 5
    assert f"| {len(ids)}/{len(ids)} [" in err
    assert f"0/{len(ids)} [" in err or f"5/{len(ids)} [" in err  # the total was known before the end
    assert sent(bar_client).sent == sent(plain_client).sent  # the total costs no request


def test_progress_total_of_a_short_result_and_none_when_unknown(
    demo: Any, client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    ids, err = _bar(client, capsys, 200)  # one short page: its rows are all of them
    assert f"| {len(ids)}/{len(ids)} [" in err
    ids, err = _bar(make_client(demo), capsys, 5)  # 6.2 sends no total: rows counted only
    assert f"Ticket: {len(ids)} rows" in err
    assert "/" not in err.split("Ticket:")[-1].split("[")[0]


def test_time_accounted_per_organization_in_a_few_requests(demo: Any, client: zo.Client) -> None:
    qs = (
        zo.TimeAccounting.objects.using(client)
        .values("ticket__organization__name")
        .annotate(units=Sum("time_unit"))
    )
    rows = list(qs)
    paths = [path.split("?")[0] for _, path in sent(client).sent]
    # The index pages carry the accountings in their assets (key TicketTimeAccounting): none is fetched alone.
    assert not [p for p in paths if p.startswith("/time_accountings/")]
    accountings = list(zo.TimeAccounting.objects.using(make_client(demo)).all())
    ticket_batches = -(-len({ta.ticket_id for ta in accountings}) // 200)
    assert len(paths) <= -(-len(accountings) // 500) + ticket_batches + 1  # + the organizations, once
    expected: dict[str | None, Decimal] = defaultdict(Decimal)
    for ta in zo.TimeAccounting.objects.using(make_client(demo)).select_related("ticket__organization"):
        expected[ta.ticket.organization.name if ta.ticket.organization else None] += ta.time_unit
    assert {r["ticket__organization__name"]: r["units"] for r in rows} == dict(expected)
