"""Property: compile → parse (emulator) → evaluate agrees with evaluating the expression tree directly.

For random expression trees with arbitrary unicode values (reserved characters included) and random
records, the compiled query string, parsed back by ``zammad_orm.testing.search``, selects exactly the
records the evaluator selects from the original tree. This is what makes escaping trustworthy: no value
can change the meaning of the query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zammad_orm.compiler import compile_expression
from zammad_orm.evaluator import predicate
from zammad_orm.expr import Node, Q, conjoin, disjoin, negate
from zammad_orm.testing.search import parse

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

RESERVED = "+-=&|><!(){}[]^\"~*?:\\/ \n\t'AND OR NOT TO"
# Letters that make collisions between values and records likely, plus every reserved character and
# arbitrary unicode.
texts = st.one_of(
    st.text(alphabet=st.sampled_from(list("aAbB ") + list(RESERVED)), max_size=8),
    st.text(max_size=8),
    st.sampled_from(["x OR state.name:closed", "AND", "a*", "\\", "a\\", '"', "/", "", "ǅ", "İ", "ß"]),
    # NUL, Lucene syntax and strings that look like Elasticsearch date math (tests/reliability uses these).
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "now-7d",
            "now/d",
            "2024-01||+1M/d",
            "[* TO *]",
            "{a TO b}",
            "_exists_:title",
            "title:x",
            "*",
            "?",
            "a:b",
            '\\"',
            "'",
            "\u2028",
            "NOT x",
        ]
    ),
)
datetimes = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC)
)
ints = st.integers(min_value=-3, max_value=12)

TEXT_LOOKUPS = ["exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
                "iendswith", "gt", "gte", "lt", "lte"]  # fmt: skip
NUMBER_LOOKUPS = ["exact", "gt", "gte", "lt", "lte"]


@st.composite
def lookups(draw: st.DrawFn) -> Node:
    kind = draw(st.sampled_from(["text", "tags", "state", "number", "date", "bool", "null", "in", "range"]))
    if kind == "text":
        return Q(**{f"title__{draw(st.sampled_from(TEXT_LOOKUPS))}": draw(texts)})
    if kind == "tags":
        return Q(**{f"tags__{draw(st.sampled_from(['exact', 'icontains', 'startswith']))}": draw(texts)})
    if kind == "state":
        return Q(state__name__in=draw(st.lists(texts, max_size=3)))
    if kind == "number":
        return Q(**{f"article_count__{draw(st.sampled_from(NUMBER_LOOKUPS))}": draw(ints)})
    if kind == "date":
        choice = draw(st.sampled_from(["gte", "lt", "year", "date", "exact", "ago"]))
        when = draw(datetimes)
        if choice == "year":
            return Q(created_at__year=when.year)
        if choice == "date":
            return Q(created_at__date=when.date())
        if choice == "ago":
            return Q(created_at__gte=dt.timedelta(days=draw(st.integers(0, 900))))
        return Q(**{f"created_at__{choice}": when})
    if kind == "bool":
        return Q(active=draw(st.booleans()))
    if kind == "null":
        return Q(
            **{f"{draw(st.sampled_from(['title', 'pending_time', 'state']))}__isnull": draw(st.booleans())}
        )
    if kind == "in":
        return Q(article_count__in=draw(st.lists(ints, max_size=3)))
    low, high = sorted(draw(st.lists(ints, min_size=2, max_size=2)))
    return Q(article_count__range=(low, high))


trees = st.recursive(
    lookups(),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(conjoin),
        st.lists(children, min_size=2, max_size=3).map(disjoin),
        children.map(negate),
    ),
    max_leaves=6,
)


@st.composite
def records(draw: st.DrawFn, uid: int) -> dict[str, Any]:
    record: dict[str, Any] = {"id": uid}
    if draw(st.booleans()):
        record["title"] = draw(texts)
    record["tags"] = draw(st.lists(texts, max_size=3))
    record["article_count"] = draw(ints)
    record["created_at"] = draw(datetimes)
    record["active"] = draw(st.booleans())
    record["pending_time"] = draw(st.one_of(st.none(), datetimes))
    if draw(st.booleans()):
        record["state"] = {"id": 1, "name": draw(texts)}
    return record


record_sets = st.lists(st.integers(1, 10**6), min_size=1, max_size=6, unique=True).flatmap(
    lambda ids: st.tuples(*(records(uid) for uid in ids))
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, docs=record_sets)
def test_compiled_query_selects_what_the_tree_selects(tree: Node, docs: tuple[dict[str, Any], ...]) -> None:
    query = compile_expression(tree)
    parsed = parse(query)
    assert parsed is not None, f"compiled query does not parse: {query!r}"
    direct = predicate(tree, now=NOW)
    through_string = predicate(parsed, now=NOW)
    for doc in docs:
        assert through_string(doc) == direct(doc), (query, doc)


@settings(max_examples=300, deadline=None)
@given(value=texts, field=st.sampled_from(["title", "owner.login", "article.body"]))
def test_a_value_never_changes_the_query(value: str, field: str) -> None:
    """A value with operators in it matches only records whose field is exactly that value."""
    query = compile_expression(Q(**{field.replace(".", "__"): value}))
    parsed = parse(query)
    assert parsed is not None
    match = predicate(parsed, now=NOW)
    head, _, tail = field.partition(".")
    same = {head: {tail: value}} if tail else {head: value}
    other = {head: {tail: value + "x"}} if tail else {head: value + "x"}
    assert match(same)
    assert not match(other)
    closed = {"state": {"name": "closed"}, "title": "x", "owner": {"login": "x"}, "article": [{"body": "x"}]}
    assert match(closed) == (value == "x")  # only ever the literal value, never "any closed ticket"


# Spec §4.5: "+ - = && || > < ! ( ) { } [ ] ^ " ~ * ? : \ /" must be backslash-escaped to be literal.
SPEC_RESERVED = ["+", "-", "=", "&&", "||", ">", "<", "!", "(", ")", "{", "}", "[", "]", "^", '"', "~",
                 "*", "?", ":", "\\", "/", "&", "|"]  # fmt: skip
SELF_MATCHING = ["exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
                 "iendswith", "gte", "lte"]  # fmt: skip


def test_every_reserved_character_is_literal_in_every_form() -> None:
    """Each reserved character, alone and inside words, compiles (phrase, regex, term) to itself.

    The compiled string, parsed back by the emulator's parser, must select a record holding exactly the
    value, and must answer like the expression tree for its near misses.
    """
    for char in [*SPEC_RESERVED, "AND", "OR", "NOT", "TO", " ", "'"]:
        for value in [char, f"a{char}b", f"{char}a", f"a{char}", char * 2, f"x {char} OR state.name:closed"]:
            for lookup in SELF_MATCHING:
                tree = Q(**{f"title__{lookup}": value})
                query = compile_expression(tree)
                parsed = parse(query)
                assert parsed is not None, (value, lookup, query)
                through_string, direct = predicate(parsed, now=NOW), predicate(tree, now=NOW)
                assert through_string({"title": value}), (value, lookup, query)
                for other in [value + "x", "x" + value, value.upper(), "x", "closed", char]:
                    doc = {"title": other, "state": {"name": "closed"}}
                    assert through_string(doc) == direct(doc), (value, lookup, query, other)
