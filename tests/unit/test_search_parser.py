"""The emulator's query_string parser: every construct of spec §4.5 on hand-made search documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zammad_orm.expr import Exists, Not, Range, Term, Wildcard
from zammad_orm.testing.search import compile_query, parse, prepare

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 15, 12, 0, 0, tzinfo=UTC)


def user(uid: int, login: str, email: str, first: str, last: str) -> dict[str, Any]:
    return {"id": uid, "login": login, "email": email, "firstname": first, "lastname": last, "active": True}


ORG = {"id": 1, "name": "Zammad Foundation", "active": True}
STATES = {
    "new": {"id": 1, "name": "new"},
    "open": {"id": 2, "name": "open"},
    "closed": {"id": 4, "name": "closed"},
    "pending": {"id": 3, "name": "pending reminder"},
}


def ticket(tid: int, **kw: Any) -> dict[str, Any]:
    state = STATES[kw.pop("state", "open")]
    doc: dict[str, Any] = {
        "id": tid,
        "number": f"6700{tid}",
        "title": kw.pop("title", f"Ticket {tid}"),
        "state_id": state["id"],
        "state": state,
        "priority_id": 2,
        "priority": {"id": 2, "name": "2 normal"},
        "group_id": 1,
        "group": {"id": 1, "name": "Users"},
        "owner_id": 3,
        "owner": user(3, "admin@example.com", "admin@example.com", "Ad", "Min"),
        "customer_id": 2,
        "customer": user(2, "nicole.braun@zammad.org", "nicole.braun@zammad.org", "Nicole", "Braun"),
        "organization_id": 1,
        "organization": ORG,
        "article_count": 1,
        "pending_time": None,
        "created_at": dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        "updated_at": dt.datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
        "tags": [],
        "article": [
            {
                "from": "Bob <bob@x.org>",
                "to": "support",
                "subject": "hi",
                "body": "Hello world",
                "internal": False,
            }
        ],
    }
    doc.update(kw)
    return doc


DOCS = [
    ticket(1, title="Welcome to Zammad!", state="new", tags=["feedback"]),
    ticket(2, title="Printer on fire", article_count=7, tags=["hardware", "urgent"]),
    ticket(
        3,
        title="Test ticket",
        state="closed",
        created_at=dt.datetime(2025, 11, 16, 8, 0, tzinfo=UTC),
        organization_id=None,
        organization=None,
        article=[{"from": "john@example.com", "body": "johnathan wrote this", "internal": True}],
    ),
    ticket(
        4,
        title="pending text test",
        state="pending",
        pending_time=dt.datetime(2026, 3, 20, tzinfo=UTC),
        article_count=12,
        created_at=dt.datetime(2026, 3, 14, 23, 0, tzinfo=UTC),
        custom_level="gold",
        tags=["feedback"],
    ),
    ticket(
        5, title="application/pdf attached (a+b)", article_count=5, created_at=NOW - dt.timedelta(hours=2)
    ),
]


def hits(query: str) -> list[int]:
    match = compile_query(query, now=NOW)
    assert match is not None, f"{query!r} did not parse"
    return [d["id"] for d in DOCS if match(d)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # field terms on columns and relation paths (case-insensitive token match on text)
        ("title:printer", [2]),
        ("title:PRINTER", [2]),
        ("title:fire printer", [2]),  # default operator AND: "printer" searched in all fields
        ("number:67003", [3]),
        ("state.name:open", [2, 5]),
        ("state.name:pending", [4]),
        ("owner.login:admin@example.com", [1, 2, 3, 4, 5]),
        ("customer.email:nicole.braun@zammad.org", [1, 2, 3, 4, 5]),
        ('organization.name:"Zammad Foundation"', [1, 2, 4, 5]),
        ("group.name:Users", [1, 2, 3, 4, 5]),
        ("tags:feedback", [1, 4]),
        ("tags:urgent", [2]),
        ("article.body:johnathan", [3]),
        ("article.from:*bob*", [1, 2, 4, 5]),
        ("custom_level:gold", [4]),
        ("state_id:4", [3]),
        ("article.internal:true", [3]),
        ("missing_field:x", []),
        # phrases
        ('title:"printer on fire"', [2]),
        ('title:"fire printer"', []),
        ('title:"on"', [2]),
        # wildcards
        ("title:print*", [2]),
        ("title:te?t", [3, 4]),
        ("number:6700*", [1, 2, 3, 4, 5]),
        ("state.name:pend*", [4]),
        ("title:*zam*", [1]),
        # ranges and comparisons
        ("article_count:[5 TO 10]", [2, 5]),
        ("article_count:{5 TO 10]", [2]),
        ("article_count:[5 TO 7}", [5]),
        ("article_count:[5 TO *]", [2, 4, 5]),
        ("article_count:[* TO 5}", [1, 3]),
        ("article_count:>5", [2, 4]),
        ("article_count:>=5", [2, 4, 5]),
        ("article_count:<5", [1, 3]),
        ("article_count:<=5", [1, 3, 5]),
        ("created_at:[2025-11-15 TO 2025-11-18]", [3]),
        ("created_at:2026-03-14", [4]),
        ("created_at:<2026-01-01", [3]),
        ("created_at:>=2026-03-01T10:00:00Z", [1, 2, 4, 5]),
        ("created_at:>2026-03-01T10:00:00.000Z", [4, 5]),
        # date math
        ("created_at:>now-7d", [4, 5]),
        ("created_at:>now-1d/d", [5]),
        ("created_at:>=now-1d/d", [4, 5]),
        ("created_at:>now-3h", [5]),
        ("created_at:[now-1M TO now]", [1, 2, 4, 5]),
        ("created_at:<now-1y", []),
        ("pending_time:>now", [4]),
        # exists
        ("_exists_:pending_time", [4]),
        ("NOT _exists_:pending_time", [1, 2, 3, 5]),
        ("_exists_:organization_id", [1, 2, 4, 5]),
        ("_exists_:custom_level", [4]),
        ("organization_id:*", [1, 2, 4, 5]),
        ("NOT organization.name:*", [3]),
        # boolean operators
        ("title:printer OR title:welcome", [1, 2]),
        ("title:printer || title:welcome", [1, 2]),
        ("tags:feedback AND state.name:new", [1]),
        ("tags:feedback && state.name:new", [1]),
        ("tags:feedback NOT state.name:new", [4]),
        ("tags:feedback !state.name:new", [4]),
        ("tags:feedback -state.name:new", [4]),
        ("+tags:feedback -state.name:new", [4]),
        ("NOT tags:feedback", [2, 3, 5]),
        ("!tags:feedback", [2, 3, 5]),
        ("-tags:feedback", [2, 3, 5]),
        # Lucene clause rules: "a OR b AND c" requires b and c (not a OR (b AND c))
        ("title:welcome OR tags:feedback AND state.name:pending", [4]),
        ("title:welcome OR (tags:feedback AND state.name:pending)", [1, 4]),
        # grouping, field-scoped groups
        ("state.name:(open OR new)", [1, 2, 5]),
        ("state.name:(closed OR new) AND (tags:feedback OR article_count:1)", [1, 3]),
        ("title:(test -pending)", [3]),
        ("title:(test pending)", [4]),
        # bare terms search every string field (nested objects, tags, articles)
        ("printer", [2]),
        ("hardware", [2]),
        ("johnathan", [3]),
        ("foundation", [1, 2, 4, 5]),
        ("braun", [1, 2, 3, 4, 5]),
        ("print*", [2]),
        # regex
        ("article.body:/joh?n(ath[oa]n)/", [3]),
        ("title:/te.t/", [3, 4]),
        ("title.keyword:/Printer.*/", [2]),
        # fuzzy / boost / proximity tolerated
        ("title:printer~", [2]),
        ("title:printer^2", [2]),
        ('title:"printer fire"~2', [2]),
        # keyword sub-field: whole value, case-sensitive
        ('title.keyword:"Printer on fire"', [2]),
        ('title.keyword:"printer on fire"', []),
        ("title.keyword:Printer*", [2]),
        ('state.name.keyword:"pending reminder"', [4]),
        # escaping reserved characters
        ("title:application\\/pdf", [5]),
        ('title.keyword:"application/pdf attached (a+b)"', [5]),
        ("title.keyword:application\\/pdf\\ attached\\ \\(a\\+b\\)", [5]),
        ("title.keyword:>=Test\\ ticket", [1, 3, 4, 5]),  # code-point order: lowercase > "T"
        ("title.keyword:>Test\\ ticket", [1, 4, 5]),
    ],
)
def test_construct_hits(query: str, expected: list[int]) -> None:
    assert hits(query) == expected


@pytest.mark.parametrize(
    "query",
    ["title:(printer", "title:[1 TO", 'title:"unterminated', "AND", "title:", ")", "", "   ", "a:b:c:(d"],
)
def test_parse_errors_give_none(query: str) -> None:
    assert compile_query(query) is None


def test_parse_builds_search_nodes() -> None:
    assert parse("state_id:2") == Term("state_id", "2")
    assert parse("title:te?t*") == Wildcard("title", "te?t*")
    assert parse("title:te\\?t") == Term("title", "te?t")
    assert parse("_exists_:owner.login") == Exists("owner.login")
    assert parse("x:{1 TO 5]") == Range("x", "1", "5", False, True)
    assert parse("NOT x:1") == Not(Term("x", "1"))


def test_escaped_wildcards_are_literal() -> None:
    node = parse("title.keyword:a\\*b*")
    assert node == Wildcard("title.keyword", "a\\*b*")
    match = compile_query("title.keyword:a\\*b*")
    assert match is not None
    assert match({"title": "a*bcd"})
    assert not match({"title": "axbcd"})


def test_escaped_line_break_survives_the_lexer() -> None:
    match = compile_query('title.keyword:a\\\nb OR title.keyword:"c\\\nd"')
    assert match is not None
    assert match({"title": "a\nb"})
    assert match({"title": "c\nd"})
    assert not match({"title": "ab"})


def test_prepare_like_zammad() -> None:
    assert prepare("  welcome ", zammad_version="6.2") == "welcome*"
    assert prepare("foo bar", zammad_version="6.2.0") == "foo bar*"
    assert prepare("title:foo", zammad_version="6.2") == "title:foo"
    assert prepare("NOT customer.organization_id:*", zammad_version="6.4") == "NOT customer.organization_id:*"
    # 6.5 deletes every "*" first (zammad/zammad#5558)
    assert prepare("NOT customer.organization_id:*", zammad_version="6.5") == "NOT customer.organization_id:"
    assert prepare("print*", zammad_version="6.5.1") == "print*"
    assert prepare("", zammad_version="6.2") == ""


def test_now_defaults_to_current_time() -> None:
    match = compile_query("created_at:>now-1h")
    assert match is not None
    assert match({"created_at": dt.datetime.now(UTC)})
    assert not match({"created_at": dt.datetime.now(UTC) - dt.timedelta(hours=2)})


def test_lists_match_any_element_and_missing_never() -> None:
    match = compile_query("tags:b")
    assert match is not None
    assert match({"tags": ["a", "b"]})
    assert not match({"tags": []})
    assert not match({})
    negated = compile_query("NOT tags:b")
    assert negated is not None
    assert negated({})


def test_date_only_and_naive_values() -> None:
    match = compile_query("due:[2026-01-01 TO 2026-01-31]")
    assert match is not None
    assert match({"due": dt.date(2026, 1, 31)})
    assert not match({"due": dt.date(2026, 2, 1)})
    assert match({"due": dt.datetime(2026, 1, 15)})


QUERY_CHARS = [*list('abAB01 :*?"\\/()[]{}<>=!&|+-~^.\n'), "AND", "OR", "NOT", "TO", "_exists_", "title"]


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(QUERY_CHARS), st.text(max_size=3)), max_size=12))
def test_any_query_parses_or_is_refused_but_never_crashes(parts: list[str]) -> None:
    query = "".join(parts)
    match = compile_query(query, now=NOW)
    if match is not None:
        for doc in DOCS:
            assert match(doc) in (True, False)
