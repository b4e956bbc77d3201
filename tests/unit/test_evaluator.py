"""The evaluator: lookup semantics on Python values, date math, tokens, Lucene regexes."""

from __future__ import annotations

import datetime as dt
import re
from collections import UserDict
from typing import Any

import attrs
import pytest

from zammad_orm.dates import parse_date
from zammad_orm.errors import QueryError
from zammad_orm.evaluator import (
    KEYWORD_LIMIT,
    evaluate,
    lucene_regex_to_python,
    predicate,
    tokenize,
    wildcard_to_python,
)
from zammad_orm.expr import Node, Phrase, Q, Range, Regex, Term, Wildcard

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 15, 12, 30, 45, tzinfo=UTC)

DOC: dict[str, Any] = {
    "id": 7,
    "title": "Printer on Fire (2nd floor)",
    "number": "67007",
    "article_count": 4,
    "active": True,
    "time_unit": None,
    "created_at": dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
    "state": {"id": 2, "name": "open"},
    "owner": {"id": 3, "login": "admin@example.com"},
    "tags": ["hardware", "needs review"],
    "article": [{"body": "It smokes.", "from": "Jane <jane@example.com>"}, {"body": "On my way"}],
}


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Q(title="Printer on Fire (2nd floor)"), True),
        (Q(title="printer on fire (2nd floor)"), False),
        (Q(title__iexact="PRINTER ON FIRE (2ND FLOOR)"), True),
        (Q(title__contains="on Fire"), True),
        (Q(title__contains="on fire"), False),
        (Q(title__icontains="ON FIRE (2"), True),
        (Q(title__startswith="Printer"), True),
        (Q(title__istartswith="printer"), True),
        (Q(title__endswith="floor)"), True),
        (Q(title__iendswith="FLOOR)"), True),
        (Q(title__endswith="floor"), False),
        (Q(title__regex="Printer.*\\)"), True),
        (Q(title__search="fire printer"), True),
        (Q(title__search="fire water"), False),
        (Q(state__name="open"), True),
        (Q(state__name__in=["new", "open"]), True),
        (Q(state__name__in=["new"]), False),
        (Q(owner__login__iexact="ADMIN@example.com"), True),
        (Q(tags="needs review"), True),
        (Q(tags="needs"), False),
        (Q(tags__icontains="REVIEW"), True),
        (Q(tags__in=["x", "hardware"]), True),
        (Q(article__body__icontains="smokes"), True),
        (Q(article__body__contains="way"), True),
        (Q(article__from__isnull=False), True),
        (Q(article_count=4), True),
        (Q(article_count__gt=4), False),
        (Q(article_count__gte=4), True),
        (Q(article_count__lt=5), True),
        (Q(article_count__range=(1, 4)), True),
        (Q(article_count__in=[1, 2]), False),
        (Q(active=True), True),
        (Q(active=False), False),
        (Q(time_unit__isnull=True), True),
        (Q(time_unit=None), True),
        (Q(missing__isnull=True), True),
        (Q(missing="x"), False),
        (~Q(missing="x"), True),
        (Q(created_at__year=2026), True),
        (Q(created_at__year=2026, created_at__month=3), True),
        (Q(created_at__year=2026, created_at__month=3, created_at__day=11), False),
        (Q(created_at__date=dt.date(2026, 3, 10)), True),
        (Q(created_at__gte=dt.date(2026, 3, 10)), True),
        (Q(created_at__gt=dt.date(2026, 3, 10)), False),
        (Q(created_at__lte=dt.date(2026, 3, 10)), True),
        (Q(created_at__lt=dt.date(2026, 3, 10)), False),
        (Q(created_at__gte="now-7d"), True),
        (Q(created_at__gte="now-3d"), False),
        (Q(created_at__gte=dt.timedelta(days=6)), True),
        (Q(created_at__gte=dt.timedelta(days=5)), False),
        (Q(created_at=dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))), True),
        (Q(state__name="open") & ~Q(tags="spam"), True),
        (Q(state__name="closed") | Q(article_count__gt=3), True),
        (Term(None, "smokes"), True),
        (Term(None, "jane"), True),
        (Wildcard(None, "print*"), True),
        (Phrase("title", "on fire"), True),
        (Phrase("title", "fire on"), False),
        (Range("title", "fire", "fire"), True),  # text: any token in the range
        (Range("number.keyword", "67000", "67010"), True),
    ],
)
def test_semantics(node: Node, expected: bool) -> None:
    assert evaluate(node, DOC, now=NOW) is expected


def test_tokenize_like_the_standard_analyzer() -> None:
    assert tokenize("Printer on Fire (2nd floor)") == ("printer", "on", "fire", "2nd", "floor")
    assert tokenize("jane@example.com") == ("jane", "example", "com")
    assert tokenize("snake_case") == ("snake_case",)
    assert tokenize("Ünïcode Straße") == ("ünïcode", "straße")


@pytest.mark.parametrize(
    ("text", "up", "expected"),
    [
        ("2024", False, dt.datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024", True, dt.datetime(2024, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        ("2024-02", True, dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC)),
        ("2024-03-18", False, dt.datetime(2024, 3, 18, tzinfo=UTC)),
        ("2024-03-18T22:50:03.732Z", True, dt.datetime(2024, 3, 18, 22, 50, 3, 732000, tzinfo=UTC)),
        ("2024-03-18T22:50:03+01:00", False, dt.datetime(2024, 3, 18, 21, 50, 3, tzinfo=UTC)),
        ("now", False, NOW),
        ("now-7d", False, NOW - dt.timedelta(days=7)),
        ("now+1h", False, NOW + dt.timedelta(hours=1)),
        ("now-1M/d", False, dt.datetime(2026, 2, 15, tzinfo=UTC)),
        ("now-1M/d", True, dt.datetime(2026, 2, 15, 23, 59, 59, 999000, tzinfo=UTC)),
        ("now/y", False, dt.datetime(2026, 1, 1, tzinfo=UTC)),
        ("now/w", False, dt.datetime(2026, 3, 9, tzinfo=UTC)),
        ("now-1y-2M", False, dt.datetime(2025, 1, 15, 12, 30, 45, tzinfo=UTC)),
        ("now-30m/H", False, dt.datetime(2026, 3, 15, 12, 0, tzinfo=UTC)),
        ("2024-01-31||+1M", False, dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("1710802203732", False, dt.datetime(2024, 3, 18, 22, 50, 3, 732000, tzinfo=UTC)),
        ("yesterday", False, None),
        ("now-7x", False, None),
        ("2024-13-01", False, None),
    ],
)
def test_parse_date(text: str, up: bool, expected: dt.datetime | None) -> None:
    assert parse_date(text, now=NOW, round_up=up) == expected


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("joh?n(ath[oa]n)", ["johnathan", "jonathon"], ["john", "johnathen"]),
        ("a.c", ["abc", "a\nc"], ["ac"]),
        ("a{2,3}", ["aa", "aaa"], ["a", "aaaa"]),
        ("[^a-c]x", ["dx"], ["ax"]),
        ('"a.b"c', ["a.bc"], ["axbc"]),
        ("a@", ["a", "anything"], ["b"]),
        ("<1-12>", ["7", "12"], ["13"]),
        ("a\\/b", ["a/b"], ["ab"]),
        ("x|y", ["x", "y"], ["xy"]),
        ("(a|b)+", ["abba"], ["abc"]),
        ("[\\\\]", ["\\"], ["a"]),
        ("#", [], ["", "a"]),
    ],
)
def test_lucene_regex(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = re.compile(lucene_regex_to_python(pattern), re.DOTALL)
    for text in matches:
        assert regex.fullmatch(text), (pattern, text)
    for text in misses:
        assert not regex.fullmatch(text), (pattern, text)


def test_malformed_regex_never_matches() -> None:
    assert evaluate(Q(title__regex="[abc"), DOC) is False
    with pytest.raises(ValueError, match="unterminated"):
        lucene_regex_to_python("[abc")


def test_wildcard_translation() -> None:
    assert re.fullmatch(wildcard_to_python("a*b?"), "axxbc")
    assert not re.fullmatch(wildcard_to_python("a\\*b"), "axb")
    assert re.fullmatch(wildcard_to_python("a\\*b"), "a*b")


def test_keys_with_dots_and_lists_of_dicts() -> None:
    assert evaluate(Q(**{"x__y": 1}), {"x.y": 1})
    assert evaluate(Q(members__login="a"), {"members": [{"login": "b"}, {"login": "a"}]})
    assert not evaluate(Q(members__login="a"), {"members": []})


def test_iso_date_strings_compare_as_dates() -> None:
    doc = {"due": "2026-01-15", "title": "2026-01-15 report"}
    assert evaluate(Range("due", "2026-01-01", "2026-01-31"), doc)
    assert not evaluate(Range("due", "2026-02-01", None), doc)
    assert evaluate(Term("due", "2026-01"), doc)  # a month covers the day
    assert evaluate(Term("title", "report"), doc)  # ordinary text stays text


def test_bare_terms_search_every_string_leaf() -> None:
    """A bare term (no field) looks at every string, nested dicts, lists and tuples included."""
    match = predicate(Wildcard(None, "smok*"))
    assert match(DOC)  # article[0].body
    assert match({"a": ({"b": ["x", ("smoking",)]},)})
    assert match(UserDict({"deep": UserDict({"text": "Smoke"})}))  # any Mapping, not only dict
    assert not match({"n": 5, "when": NOW, "flag": True, "none": None, "d": NOW.date(), "f": 1.5})
    assert not match({"title": "smirk", "tags": ["smog"]})
    # The same predicate answers consistently for a value it has seen before (memoised per value).
    assert [match({"t": v}) for v in ("smoked", "x", "smoked", "SMOKY x")] == [True, False, True, True]
    assert predicate(Term(None, "floor"))(DOC)
    assert not predicate(Term(None, "ceiling"))(DOC)
    assert predicate(Phrase(None, "my way"))(DOC)


def test_keyword_ignores_strings_longer_than_zammads_limit() -> None:
    """As Zammad's mapping (``ignore_above: 5012``): a long body has tokens but no ``.keyword`` value."""
    short = {"article": [{"body": "printer on fire"}]}
    long_ = {"article": [{"body": "printer on fire " + "x" * KEYWORD_LIMIT}]}
    contains = Regex("article.body.keyword", ".{0,}printer.{0,}")  # what __contains compiles to
    word = Term("article.body", "printer")
    assert evaluate(contains, short) is True
    assert evaluate(contains, long_) is False
    assert evaluate(word, long_) is True
    exact = Term("article.body.keyword", "y" * KEYWORD_LIMIT)
    assert evaluate(exact, {"article": [{"body": "y" * KEYWORD_LIMIT}]}) is True
    assert evaluate(exact, {"article": [{"body": "y" * (KEYWORD_LIMIT + 1)}]}) is False


def test_an_unknown_node_type_is_an_error_not_a_silent_mismatch() -> None:
    @attrs.frozen
    class Fuzzy(Node):
        field: str
        text: str

    with pytest.raises(QueryError, match="does not know the expression node Fuzzy"):
        predicate(Fuzzy("title", "printr"))
    with pytest.raises(QueryError, match="Fuzzy"):
        evaluate(Term("title", "x") | Fuzzy("title", "printr"), {"title": "x"})
