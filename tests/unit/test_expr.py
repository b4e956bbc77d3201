"""The expression algebra: Q, lookups, combinators, immutability, lowering."""

from __future__ import annotations

import attrs
import pytest

from zammad_orm.errors import QueryError
from zammad_orm.expr import (
    And,
    Exists,
    Lookup,
    MatchAll,
    MatchNone,
    Not,
    Or,
    Phrase,
    Q,
    Range,
    Regex,
    lower,
    split_lookup,
)


def test_q_builds_lookups() -> None:
    assert Q(state="open") == Lookup("state", "exact", "open")
    assert Q(state__name__in=["a"]) == Lookup("state.name", "in", ["a"])
    assert Q(owner__login="bob") == Lookup("owner.login", "exact", "bob")
    assert Q(year=2024) == Lookup("year", "exact", 2024)  # a lone field named like a lookup
    assert Q() == MatchAll()
    assert Q(a=1, b=2) == And((Lookup("a", "exact", 1), Lookup("b", "exact", 2)))


def test_combinators_flatten_and_simplify() -> None:
    a, b, c = Q(a=1), Q(b=1), Q(c=1)
    assert (a & b) & c == And((a, b, c))
    assert a | (b | c) == Or((a, b, c))
    assert ~~a == a
    assert ~a == Not(a)
    assert a & MatchAll() == a
    assert a | MatchNone() == a
    assert a & MatchNone() == MatchNone()
    assert a | MatchAll() == MatchAll()
    assert ~MatchAll() == MatchNone()


def test_nodes_are_frozen_and_hashable() -> None:
    node = Q(title="x") & ~Q(tags="y")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        node.children = ()  # type: ignore[misc]
    assert hash(Q(a=1) & Q(b=2)) == hash(Q(a=1) & Q(b=2))


def test_combining_with_non_nodes_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Q(a=1) & 3  # type: ignore[operator]
    with pytest.raises(QueryError, match="positionally"):
        Q("title")  # type: ignore[arg-type]


def test_split_lookup() -> None:
    assert split_lookup("created_at__gte") == ("created_at", "gte")
    assert split_lookup("customer__organization__name__icontains") == (
        "customer.organization.name",
        "icontains",
    )
    assert split_lookup("title") == ("title", "exact")
    with pytest.raises(QueryError, match="malformed"):
        split_lookup("a____b")


def test_lower_gives_search_nodes() -> None:
    assert lower(Q(title="x")) == Phrase("title.keyword", "x")
    assert lower(Q(title__icontains="a")) == Regex("title.keyword", ".{0,}[Aa].{0,}")
    assert lower(Q(x__isnull=True)) == Not(Exists("x"))
    assert lower(Q(n__in=[])) == MatchNone()
    assert lower(~Q(n__in=[])) == MatchAll()
    assert lower(Q(n__gte=1, n__lt=3)) == And(
        (Range("n", "1", None, True), Range("n", None, "3", True, False))
    )
    assert lower(Q(n__range=(1, 3))) == Range("n", "1", "3")


def test_unknown_lookup_is_rejected() -> None:
    with pytest.raises(QueryError, match="unknown lookup 'like'"):
        Lookup("title", "like", "x")
