"""Hostile and wrong input: arbitrary keywords, lookups, value types and unicode through the public API.

``filter()``/``exclude()`` with any keyword and any value either raise a clear error of the
``zammad_orm.errors`` tree before a request, or build a query whose compiled string, parsed back by the
emulator's parser (``zammad_orm.testing.search``), selects exactly what the expression means. This is the
property of ``tests/unit/test_properties.py`` (whose value strategy, extended with NUL, Lucene syntax and
date-math lookalikes, is reused) one level up: through the QuerySet, the resolver and its type checks.
``create()`` and ``save()`` with any keyword and value either raise a clear error before sending, or send
a JSON body of known fields whose strings are exactly the strings given.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zammad_orm as zo
from tests.reliability.conftest import count
from tests.unit.test_properties import NOW, record_sets, texts
from zammad_orm import errors
from zammad_orm.evaluator import predicate
from zammad_orm.expr import LOOKUPS, MatchAll, MatchNone, Q, lower
from zammad_orm.testing import Emulator
from zammad_orm.testing.search import parse
from zammad_orm.transport import WSGITransport

PATHS = [
    "title", "number", "note", "state__name", "state", "state_id", "priority__name", "group__name", "group",
    "customer__email", "customer", "owner__login", "owner_id", "tags", "article__body", "article__subject",
    "article_count", "created_at", "updated_at", "pending_time", "id", "pk", "organization__name",
    "preferences", "time_unit",
]  # fmt: skip
GARBAGE_PATHS = ["", "__", "title__", "__title", "_raw", "objects", "extra", "state__name__name",
                 "pk__pk", "customer__password", "tags__tags", "ǅ", "title\x00", "title.name",
                 "title OR x"]  # fmt: skip

names = st.one_of(st.sampled_from(PATHS), st.sampled_from(GARBAGE_PATHS), st.text(max_size=10))
lookup_names = st.one_of(
    st.sampled_from(sorted(LOOKUPS)), st.sampled_from(["", "regex", "search", "exact__exact", "in__in", "ǅ"])
)


@st.composite
def keywords(draw: st.DrawFn) -> str:
    name = draw(names)
    lookup = draw(st.one_of(st.none(), lookup_names))
    return name if lookup is None else f"{name}__{lookup}"


scalars = st.one_of(
    texts,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.dates(),
    st.timedeltas(min_value=dt.timedelta(days=-5000), max_value=dt.timedelta(days=5000)),
    st.decimals(allow_nan=True),
    st.binary(max_size=4),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.tuples(scalars, scalars),
    st.frozensets(st.one_of(texts, st.integers(-3, 3)), max_size=2),
    st.dictionaries(st.text(max_size=3), scalars, max_size=2),
    st.builds(object),
)


@pytest.fixture(scope="module")
def offline() -> Iterator[tuple[Emulator, zo.Client]]:
    """A client on the emulator's app in-process: its facts (custom attributes) come from the emulator."""
    server = Emulator(seed=4)
    client = zo.Client("http://zammad.invalid", http_token=server.token, transport=WSGITransport(server.app))
    client.facts.attributes("Ticket")  # learned once, so the examples below send nothing
    yield server, client
    client.close()
    server.close()


def _clear(exc: BaseException) -> None:
    """The error says what is wrong: a message, not an empty one."""
    assert str(exc).strip(), type(exc)


def _same_meaning(client: zo.Client, qs: Any, docs: tuple[dict[str, Any], ...]) -> None:
    resolved = qs.resolved(client)
    query = qs.query.params["query"]
    parsed = parse(query)
    tree = lower(resolved)
    if isinstance(tree, (MatchAll, MatchNone)):
        return  # nothing to search: no query string is sent for these (see the QuerySet's short cuts)
    assert parsed is not None, f"the compiled query does not parse: {query!r}"
    direct, through_string = predicate(resolved, now=NOW), predicate(parsed, now=NOW)
    for doc in docs:
        assert through_string(doc) == direct(doc), (query, doc)


TEXT_PATHS = ["title", "note", "state__name", "priority__name", "group__name", "customer__email",
              "owner__login", "tags", "article__body", "organization__name", "number"]  # fmt: skip
TEXT_LOOKUPS = [None, "exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
                "iendswith", "gt", "gte", "lt", "lte", "in", "isnull", "range"]  # fmt: skip


@st.composite
def plausible(draw: st.DrawFn) -> tuple[str, Any]:
    """A keyword a program could mean, with a value of about the right kind (hostile strings included)."""
    kind = draw(st.sampled_from(["text", "number", "date"]))
    if kind == "text":
        path, lookup = draw(st.sampled_from(TEXT_PATHS)), draw(st.sampled_from(TEXT_LOOKUPS))
        if lookup == "in":
            value: Any = draw(st.lists(texts, max_size=3))
        elif lookup == "isnull":
            value = draw(st.booleans())
        elif lookup == "range":
            value = tuple(sorted(draw(st.lists(texts, min_size=2, max_size=2))))
        else:
            value = draw(texts)
    elif kind == "number":
        path = draw(st.sampled_from(["article_count", "id", "owner_id", "state_id"]))
        lookup = draw(st.sampled_from([None, "exact", "gt", "gte", "lt", "lte", "in", "range"]))
        ints = st.integers(-5, 10**6)
        value = (draw(st.lists(ints, max_size=3)) if lookup == "in"
                 else tuple(sorted(draw(st.lists(ints, min_size=2, max_size=2)))) if lookup == "range"
                 else draw(ints))  # fmt: skip
    else:
        path = draw(st.sampled_from(["created_at", "updated_at", "pending_time"]))
        lookup = draw(st.sampled_from([None, "gte", "lt", "year", "month", "date", "range", "isnull"]))
        when = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1),
                            timezones=st.just(dt.timezone.utc))  # fmt: skip
        value = (draw(st.integers(1990, 2040)) if lookup == "year"
                 else draw(st.integers(1, 12)) if lookup == "month"
                 else draw(when).date() if lookup == "date"
                 else draw(st.booleans()) if lookup == "isnull"
                 else tuple(sorted(draw(st.lists(when, min_size=2, max_size=2)))) if lookup == "range"
                 else draw(st.one_of(when, st.sampled_from(["now-7d", "now/d", "2024-03", "now-1M/M"]),
                                     st.timedeltas(dt.timedelta(0), dt.timedelta(days=900)))))  # fmt: skip
    return (path if lookup is None else f"{path}__{lookup}"), value


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pairs=st.lists(
        st.one_of(plausible(), plausible(), st.tuples(keywords(), values)), min_size=1, max_size=3
    ),
    negate=st.booleans(),
    docs=record_sets,
)
def test_filter_and_exclude_build_a_true_query_or_raise_a_clear_error(
    offline: tuple[Emulator, zo.Client], pairs: list[tuple[str, Any]], negate: bool, docs: Any
) -> None:
    _, client = offline
    lookups = dict(pairs)
    count("hypothesis examples: filter/exclude")
    try:
        qs = client.tickets.exclude(**lookups) if negate else client.tickets.filter(**lookups)
        _same_meaning(client, qs, docs)
    except (errors.QueryError, errors.FieldError) as exc:
        _clear(exc)
        count("hostile inputs refused with a clear error")
    except errors.ZammadError as exc:  # pragma: no cover - any other error of the tree is a finding
        pytest.fail(f"{type(exc).__name__} for {lookups!r}: {exc}")
    else:
        count("hostile inputs compiled to the same meaning")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=texts, path=st.sampled_from(["title", "article__body", "tags", "customer__email", "note"]))
def test_hostile_values_reach_the_emulator_as_what_they_mean(
    offline: tuple[Emulator, zo.Client], value: str, path: str
) -> None:
    """Sent for real (in-process): the emulator answers, and never with a ticket that does not match."""
    _, client = offline
    for lookup in ("exact", "icontains"):
        qs = client.tickets.filter(**{f"{path}__{lookup}": value})
        try:
            rows = list(qs[:20])
        except (errors.QueryError, errors.FieldError):
            continue
        matches = predicate(qs.resolved(client), now=dt.datetime.now(dt.timezone.utc))
        for ticket in rows:
            doc = {"title": ticket.title, "note": ticket.note, "tags": [], "customer": {}, "article": []}
            if path in ("title", "note"):
                assert matches(doc), (value, ticket.title)
    count("hypothesis examples: sent to the emulator")


# --- create() and save() -----------------------------------------------------------------------------


class Recorder:
    """A WSGI app that records each request body and answers like Zammad (201/200 with a record)."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    # The reference tables a write's names are checked against (read once per client, before the write).
    TABLES: ClassVar[dict[str, list[dict[str, Any]]]] = {
        "/api/v1/groups": [{"id": 1, "name": "Users"}],
        "/api/v1/ticket_states": [{"id": 1, "name": "new"}, {"id": 2, "name": "open"}],
        "/api/v1/ticket_priorities": [{"id": 2, "name": "2 normal"}],
    }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["REQUEST_METHOD"] == "GET":  # a reference table (not a write: not recorded)
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(self.TABLES.get(environ["PATH_INFO"], [])).encode()]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"null")
        self.bodies.append(body)
        record = {"id": 9, "title": "t", "updated_at": "2024-03-18T22:50:03.732Z"}
        status = "201 Created" if environ["REQUEST_METHOD"] == "POST" else "200 OK"
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(record).encode()]


def _allowed(model: type[zo.Model]) -> set[str]:
    meta = model._meta
    wire = {info.wire for info in meta.fields.values()}
    relations = {rel.name for rel in meta.descriptors.values()} | {
        rel.local for rel in meta.descriptors.values() if rel.local
    }
    return wire | relations | set(meta.write_only) | set(meta.custom_keys)


def _strings_kept(sent: Any, given_values: list[Any]) -> None:
    """Every string given as a value is sent exactly as given (no escaping, no stripping, NUL kept)."""
    encoded = json.dumps(sent, ensure_ascii=False)
    for value in given_values:
        if isinstance(value, str):
            assert json.dumps(value, ensure_ascii=False)[1:-1] in encoded


create_keys = st.one_of(
    st.sampled_from(["title", "group", "customer", "state", "priority", "owner", "note", "pending_time",
                     "article", "tags", "preferences", "number", "id", "created_at", "extra", "owner_id",
                     "state_id", "mentions", "links", "type"]),
    st.text(max_size=8),
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.dictionaries(create_keys, values, min_size=1, max_size=4))
def test_create_sends_known_fields_exactly_or_raises_before_sending(fields: dict[str, Any]) -> None:
    app = Recorder()
    client = zo.Client("http://zammad.invalid", http_token="t", transport=WSGITransport(app), cache=False)
    count("hypothesis examples: create/save")
    try:
        client.tickets.create(**fields)
    except (errors.FieldError, errors.QueryError) as exc:
        _clear(exc)
        assert app.bodies == []  # refused before any request
        return
    (sent,) = app.bodies
    assert isinstance(sent, dict)
    assert set(sent) <= _allowed(zo.Ticket) | set(fields.get("extra") or {}), set(sent) - _allowed(zo.Ticket)
    _strings_kept(sent, [v for k, v in fields.items() if k in ("title", "note")])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(create_keys, values, min_size=1, max_size=3))
def test_save_sends_known_fields_exactly_or_refuses_the_assignment(changes: dict[str, Any]) -> None:
    app = Recorder()
    client = zo.Client("http://zammad.invalid", http_token="t", transport=WSGITransport(app), cache=False)
    ticket = client.load(zo.Ticket, {"id": 9, "title": "t", "note": "n", "state_id": 1, "group_id": 1})
    assigned: dict[str, Any] = {}
    for name, value in changes.items():
        try:
            setattr(ticket, name, value)
        except (errors.FieldError, errors.QueryError, AttributeError) as exc:
            _clear(exc)
            continue
        assigned[name] = value
    try:
        ticket.save()
    except (errors.FieldError, errors.QueryError) as exc:
        _clear(exc)
        assert app.bodies == []
        return
    assert len(app.bodies) <= 1
    if app.bodies:
        (sent,) = app.bodies
        asked = set(assigned.get("extra") or {})  # custom attributes sent because the caller set them
        assert set(sent) <= _allowed(zo.Ticket) | asked, set(sent) - _allowed(zo.Ticket)
        _strings_kept(sent, [v for k, v in assigned.items() if k in ("title", "note")])
    count("hypothesis examples: create/save")


def test_obviously_wrong_input_names_the_mistake(offline: tuple[Emulator, zo.Client]) -> None:
    _, client = offline
    cases: list[tuple[Any, str]] = [
        (lambda: client.tickets.filter(nonsense="x").query, "nonsense"),
        (lambda: client.tickets.filter(title__regexp_no="x").query, "regexp_no"),
        (lambda: client.tickets.filter(created_at__gte="yesterday-ish").query, "created_at"),
        (lambda: client.tickets.filter(article_count__gt=math.nan).query, "article_count"),
        (lambda: client.tickets.create(title="x", nonsense=1), "nonsense"),
        (lambda: client.tickets.create(title=Decimal(1)), "title"),
    ]
    for call, name in cases:
        with pytest.raises((errors.QueryError, errors.FieldError), match=name):
            call()
    assert Q(title="a") is not None


@pytest.mark.parametrize(
    ("key", "value"),
    [("article_count", 9999), ("article_count__gte", 9999), ("created_at", "9999-12-31"),
     ("created_at__lt", "9999-12-31T23:00:00Z")],
)  # fmt: skip
def test_values_that_read_as_the_last_year_do_not_crash_matching(
    offline: tuple[Emulator, zo.Client], key: str, value: Any
) -> None:
    """``9999`` reads as a year too (Elasticsearch date math); its period ends past the last datetime.

    Found by the property above: ``filter(article_count=9999)`` made the emulator answer 500 and
    client-side filtering raise ``ValueError: year 10000 is out of range``.
    """
    server, client = offline
    expected = [t.id for t in client.tickets.all()] if key == "created_at__lt" else []
    assert [t.id for t in client.tickets.filter(**{key: value})] == expected
    local = zo.Client("http://zammad.invalid", http_token=server.token, transport=WSGITransport(server.app))
    zo.configure_search(local, "database")  # no search index: the same filter evaluated in Python
    with pytest.warns(zo.SearchIndexUnavailableWarning):
        assert [t.id for t in local.tickets.filter(**{key: value})] == expected
    local.close()
