"""The compiled query string of every lookup and combination, escaping, ordering."""

from __future__ import annotations

import datetime as dt

import pytest

from zammad_orm.compiler import compile_expression, compile_ordering, escape_term, quote_phrase
from zammad_orm.errors import QueryError
from zammad_orm.expr import DateMath, Exists, Lookup, MatchAll, Phrase, Q, Range, Regex, Term, Wildcard
from zammad_orm.resolver import related_model, resolve
from zammad_orm.resources.organization import Organization
from zammad_orm.resources.ticket import Ticket
from zammad_orm.resources.user import User

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Q(title="Printer on fire"), 'title.keyword:"Printer on fire"'),
        (Q(title__exact='say "hi" \\o/'), 'title.keyword:"say \\"hi\\" \\\\o/"'),
        (Q(title__iexact="Ab1"), "title.keyword:/[Aa][Bb]1/"),
        (Q(title__contains="on f"), "title.keyword:/.{0,}on\\ f.{0,}/"),
        (Q(title__icontains="x"), "title.keyword:/.{0,}[Xx].{0,}/"),
        (Q(title__startswith="Pr"), "title.keyword:/Pr.{0,}/"),
        (Q(title__istartswith="p"), "title.keyword:/[Pp].{0,}/"),
        (Q(title__endswith="re"), "title.keyword:/.{0,}re/"),
        (Q(title__iendswith="E"), "title.keyword:/.{0,}[Ee]/"),
        (Q(title__contains="a/b\\"), "title.keyword:/.{0,}a\\/b[\\\\].{0,}/"),
        (Q(state__name__in=["open", "new"]), 'state.name.keyword:"open" OR state.name.keyword:"new"'),
        (Q(state_id__in=[1, 2]), "state_id:1 OR state_id:2"),
        (Q(id__in=[]), "NOT id:>0"),
        (Q(article_count__gt=5), "article_count:>5"),
        (Q(article_count__gte=5), "article_count:>=5"),
        (Q(article_count__lt=-5), "article_count:<\\-5"),
        (Q(article_count__lte=5), "article_count:<=5"),
        (Q(article_count__range=(5, 10)), "article_count:[5 TO 10]"),
        (Q(title__gte="m n"), "title.keyword:>=m\\ n"),
        (Q(title__range=("a", "b c")), 'title.keyword:["a" TO "b c"]'),
        (Q(tags__range=("x OR y", "z")), 'tags.keyword:["x OR y" TO "z"]'),
        (Q(title__gt=""), "_exists_:title.keyword"),
        (Q(title__lt=""), "NOT id:>0"),
        (Q(pending_time__isnull=True), "NOT _exists_:pending_time"),
        (Q(pending_time__isnull=False), "_exists_:pending_time"),
        (Q(pending_time=None), "NOT _exists_:pending_time"),
        (Q(created_at__year=2024), "created_at:[2024-01-01T00:00:00.000Z TO 2025-01-01T00:00:00.000Z}"),
        (
            Q(created_at__year=2024, created_at__month=2),
            "created_at:[2024-02-01T00:00:00.000Z TO 2024-03-01T00:00:00.000Z}",
        ),
        (
            Q(created_at__year=2024, created_at__month=2, created_at__day=29),
            "created_at:[2024-02-29T00:00:00.000Z TO 2024-03-01T00:00:00.000Z}",
        ),
        (
            Q(created_at__date=dt.date(2024, 3, 18)),
            "created_at:[2024-03-18T00:00:00.000Z TO 2024-03-19T00:00:00.000Z}",
        ),
        (
            Q(created_at=dt.datetime(2024, 3, 18, 22, 50, 3, 732000, tzinfo=UTC)),
            "created_at:2024-03-18T22\\:50\\:03.732Z",
        ),
        (
            Q(created_at__gte=dt.datetime(2024, 3, 18, 23, 50, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
            "created_at:>=2024-03-18T22\\:50\\:00.000Z",
        ),
        (Q(created_at__gte=dt.date(2024, 1, 1)), "created_at:>=2024-01-01T00\\:00\\:00.000Z"),
        (Q(created_at__gt=dt.date(2024, 1, 1)), "created_at:>=2024-01-02T00\\:00\\:00.000Z"),
        (Q(created_at__lte=dt.date(2024, 1, 1)), "created_at:<2024-01-02T00\\:00\\:00.000Z"),
        (Q(created_at__gte=DateMath("now-7d")), "created_at:>=now-7d"),
        (Q(created_at__lt=DateMath("now-1M/d")), "created_at:<now-1M\\/d"),
        # Without DateMath (which the resolver adds for date fields only) "now-7d" is text.
        (Q(created_at__gte="now-7d"), "created_at.keyword:>=now-7d"),
        (Q(created_at__gte=dt.timedelta(days=7)), "created_at:>=now-7d"),
        (Q(created_at__gte=dt.timedelta(hours=3)), "created_at:>=now-3h"),
        (Q(created_at__gte=dt.timedelta(seconds=90)), "created_at:>=now-90s"),
        (Q(article_count=3), "article_count:3"),
        (Q(active=True), "active:true"),
        (Q(title__regex="Pr[a-z]+/x"), "title.keyword:/Pr[a-z]+\\/x/"),
        (Q(title__search="printer  fire"), 'title:"printer" AND title:"fire"'),
        (Q(tags="needs review"), 'tags.keyword:"needs review"'),
        (Q(custom_level="gold"), 'custom_level.keyword:"gold"'),
        (Q(), "id:>0"),
    ],
)
def test_lookup_compiles_to(node: object, expected: str) -> None:
    assert compile_expression(node) == expected  # type: ignore[arg-type]


def test_combinations_parenthesise_and_inline_negations() -> None:
    a, b, c = Q(article_count=1), Q(article_count=2), Q(active=True)
    assert compile_expression(a & b) == "article_count:1 AND article_count:2"
    assert compile_expression(a | b) == "article_count:1 OR article_count:2"
    assert compile_expression(~a) == "NOT article_count:1"
    assert compile_expression(a & ~b) == "article_count:1 AND NOT article_count:2"
    assert compile_expression((a | b) & c) == "(article_count:1 OR article_count:2) AND active:true"
    assert compile_expression(a | (b & c)) == "article_count:1 OR (article_count:2 AND active:true)"
    assert compile_expression(a | ~b) == "article_count:1 OR (NOT article_count:2)"
    assert compile_expression(~(a | b)) == "NOT (article_count:1 OR article_count:2)"
    assert compile_expression(~~a) == "article_count:1"
    assert compile_expression(Q(a, b, active=False)) == "article_count:1 AND article_count:2 AND active:false"


def test_search_nodes_compile() -> None:
    assert compile_expression(Term(None, "printer")) == "printer"
    assert compile_expression(Term("title", "AND")) == "title:\\AND"
    assert compile_expression(Phrase("title", "a b", slop=2)) == 'title:"a b"~2'
    assert compile_expression(Wildcard("title", "pr?nt*")) == "title:pr?nt*"
    assert compile_expression(Wildcard("title", "a\\*b:c*")) == "title:a\\*b\\:c*"
    assert compile_expression(Regex("body", "a\\\\")) == "body:/a\\\\()/"
    assert compile_expression(Exists("owner.login")) == "_exists_:owner.login"
    assert compile_expression(Range("x", "1", None, False)) == "x:>1"
    assert compile_expression(Range("x", None, None)) == "_exists_:x"
    assert compile_expression(MatchAll()) == "id:>0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("a-b", "a-b"),
        ("-5", "\\-5"),
        ("a b", "a\\ b"),
        ("x:y", "x\\:y"),
        ("(a)", "\\(a\\)"),
        ("a&&b||c", "a\\&\\&b\\|\\|c"),
        ("<x>", "\\<x\\>"),
        ("OR", "\\OR"),
        ("ORx", "ORx"),
        ("a\nb", "a\\\nb"),
        ("it's", "it\\'s"),
    ],
)
def test_escape_term(text: str, expected: str) -> None:
    assert escape_term(text) == expected


def test_quote_phrase() -> None:
    assert quote_phrase('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert quote_phrase("<x> OR y") == '"<x> OR y"'


def test_user_value_cannot_inject_operators() -> None:
    query = compile_expression(Q(title="x OR state.name:closed"))
    assert query == 'title.keyword:"x OR state.name:closed"'
    query = compile_expression(Q(title__contains=") OR (state.name:closed"))
    assert " OR " not in query.replace("\\ OR\\ ", "")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Q(title__contains=5), "title__contains"),
        (lambda: Q(title=["a"]), "title__in"),
        (lambda: Q(state__in="open"), "state__in"),
        (lambda: Q(created_at__month=3), "created_at__month"),
        (lambda: Q(created_at__day=3), "created_at__day"),
        (lambda: Q(created_at__year=2024, created_at__day=3), "created_at__day"),
        (lambda: Q(created_at__year="2024"), "created_at__year"),
        (lambda: Q(created_at__date="2024-01-01"), "created_at__date"),
        (lambda: Q(pending_time__isnull="yes"), "pending_time__isnull"),
        (lambda: Q(article_count__range=(1,)), "article_count__range"),
        (lambda: Q(title__search="  "), "title__search"),
        (lambda: Q(title__regex=""), "title__regex"),
        (lambda: Q(**{"bad field": 1}), "bad field"),
        (lambda: Q(score=float("nan")), "score"),
        (lambda: Q(title=object()), "title"),
        (lambda: Lookup("title", "like", "x"), "like"),
        (lambda: Q(title__=1), "title__"),
    ],
)
def test_inexpressible_lookups_raise_query_error_naming_the_field(make: object, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", "\\(")):
        compile_expression(make())  # type: ignore[operator]


def test_stars_refused_for_zammad_65() -> None:
    assert compile_expression(Q(title__contains="x"), allow_stars=False) == "title.keyword:/.{0,}x.{0,}/"
    with pytest.raises(QueryError, match="deletes"):
        compile_expression(Q(title="a*b"), allow_stars=False)


def test_ordering() -> None:
    assert compile_ordering(["-created_at", "title"]) == (
        ["created_at", "title", "id"],
        ["desc", "asc", "asc"],
    )
    assert compile_ordering(["-created_at"]) == (["created_at", "id"], ["desc", "desc"])
    assert compile_ordering([]) == (["id"], ["asc"])
    assert compile_ordering(["-id", "id"]) == (["id"], ["desc"])
    assert compile_ordering(["number"], tie_break="") == (["number"], ["asc"])
    with pytest.raises(QueryError, match="state__name"):
        compile_ordering(["state__name"])
    with pytest.raises(QueryError, match="not a column"):
        compile_ordering(["?"])


# --- resolution of model paths (no server needed) ---------------------------------------------------------


def compiled(model: type, *nodes: object, **lookups: object) -> str:
    return compile_expression(resolve(model, Q(*nodes, **lookups)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"state": "open"}, 'state.name.keyword:"open"'),
        ({"state": 2}, "state_id:2"),
        ({"state": None}, "NOT _exists_:state_id"),
        ({"state__isnull": False}, "_exists_:state_id"),
        ({"state__in": ["open", 4]}, 'state_id:4 OR state.name.keyword:"open"'),
        ({"state__name__startswith": "pend"}, "state.name.keyword:/pend.{0,}/"),
        ({"owner": "bob@example.com"}, 'owner.login.keyword:"bob@example.com"'),
        (
            {"customer__email__iexact": "A@B.C"},
            "customer.email.keyword:/[Aa]\\@[Bb]\\.[Cc]/",
        ),  # "@" is "any string" in Lucene
        ({"customer__organization": 5}, "customer.organization_id:5"),
        ({"organization__name": "Zammad Foundation"}, 'organization.name.keyword:"Zammad Foundation"'),
        ({"group__name": "Users"}, 'group.name.keyword:"Users"'),
        ({"tags": "vip"}, 'tags.keyword:"vip"'),
        ({"tags__in": ["a", "b"]}, 'tags.keyword:"a" OR tags.keyword:"b"'),
        ({"article__body__contains": "smoke"}, "article.body.keyword:/.{0,}smoke.{0,}/"),
        ({"articles__body__contains": "smoke"}, "article.body.keyword:/.{0,}smoke.{0,}/"),
        ({"number": 67001}, 'number.keyword:"67001"'),
        ({"article_count": "3"}, "article_count:3"),
        ({"pk": 7}, "id:7"),
        ({"created_at__gte": "2024-03-18T10:00:00Z"}, "created_at:>=2024-03-18T10\\:00\\:00.000Z"),
        ({"created_at__gte": "2024-03-18"}, "created_at:>=2024-03-18T00\\:00\\:00.000Z"),
        ({"created_at__lt": "now-1d/d"}, "created_at:<now-1d\\/d"),
    ],
)
def test_resolve_ticket_paths(lookups: dict[str, object], expected: str) -> None:
    assert compiled(Ticket, **lookups) == expected


def test_resolve_model_instances_to_ids() -> None:
    org = Organization(id=9, name="ACME")
    assert compiled(Ticket, organization=org) == "organization_id:9"
    assert compiled(User, organization=org) == "organization_id:9"
    assert compiled(User, organization__name="ACME") == 'organization.name.keyword:"ACME"'
    assert compiled(Ticket, owner__in=[User(id=3), 4]) == "owner_id:3 OR owner_id:4"


def test_resolve_errors_name_the_path() -> None:
    with pytest.raises(QueryError, match="no_such"):
        compiled(Ticket, no_such=1)
    with pytest.raises(QueryError, match="state__nope"):
        compiled(Ticket, state__nope="x")
    with pytest.raises(QueryError, match=r"title__x: 'x' is not a lookup of Ticket.title; its lookups are"):
        compiled(Ticket, title__x="y")
    with pytest.raises(QueryError, match=r"title__x__y: Ticket.title has no field 'x'"):
        compiled(Ticket, title__x__y="z")
    with pytest.raises(QueryError, match="needs their rows"):  # matched on the roles: needs a client
        compiled(User, roles="Agent")
    with pytest.raises(QueryError, match=r"the customer in Zammad's search index holds only customer\."):
        compiled(Ticket, customer__organization__name="ACME")
    with pytest.raises(QueryError, match="articles"):
        compiled(Ticket, articles="x")
    with pytest.raises(QueryError, match="created_at"):
        compiled(Ticket, created_at__gte="yesterday")
    with pytest.raises(QueryError, match="owner"):
        compiled(Ticket, owner=3.5)


def test_custom_attributes_from_the_server_list() -> None:
    node = resolve(
        Ticket, Q(my_level="gold"), attributes=lambda model: {"my_level"} if model == "Ticket" else set()
    )
    assert compile_expression(node) == 'my_level.keyword:"gold"'
    with pytest.raises(QueryError, match="my_level"):
        resolve(Ticket, Q(my_level="gold"), attributes=lambda model: set())


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"title": "now-7d"}, 'title.keyword:"now-7d"'),
        ({"title__in": ["now", "now-1d/d"]}, 'title.keyword:"now" OR title.keyword:"now-1d/d"'),
        ({"title__gte": "now-7d"}, "title.keyword:>=now-7d"),
        ({"number": "now"}, 'number.keyword:"now"'),
        ({"owner__login": "now+1h"}, 'owner.login.keyword:"now+1h"'),
        ({"tags": "now-7d"}, 'tags.keyword:"now-7d"'),
        ({"created_at__gte": "now-7d"}, "created_at:>=now-7d"),
        ({"created_at__range": ("now-7d", "now")}, "created_at:[now-7d TO now]"),
        ({"pending_time": "now"}, "pending_time:now"),
    ],
)
def test_date_math_only_for_date_fields(lookups: dict[str, object], expected: str) -> None:
    # A text value that looks like date math is a literal string on text fields.
    assert compiled(Ticket, **lookups) == expected


def test_date_math_on_custom_attributes_only_when_the_server_says_date() -> None:
    names = {"Ticket": {"due_on", "code"}, "Ticket:dates": {"due_on"}}

    def attributes(model: str) -> set[str]:
        return names.get(model, set())

    assert compile_expression(resolve(Ticket, Q(due_on__gte="now-7d"), attributes=attributes)) == (
        "due_on:>=now-7d"
    )
    assert compile_expression(resolve(Ticket, Q(code="now-7d"), attributes=attributes)) == (
        'code.keyword:"now-7d"'
    )
    with pytest.raises(QueryError, match=r"due_on.*'now-7x' is not Zammad date math"):
        resolve(Ticket, Q(due_on__gte="now-7x"), attributes=attributes)


def test_date_math_values_are_checked() -> None:
    with pytest.raises(QueryError, match="'now-7x' is not Zammad date math"):
        DateMath("now-7x")
    assert isinstance(resolve(Ticket, Q(created_at__lt="now-1d")), Lookup)


def test_related_model_finds_registered_classes() -> None:
    assert related_model(Ticket, "User") is User
    assert related_model(Ticket, "NoSuchModel") is None


@pytest.mark.parametrize(
    ("lookups", "message"),
    [
        ({"article_count": "abc"}, "article_count holds integer values; cannot compare it with 'abc'"),
        ({"article_count__gt": "x"}, "article_count holds integer"),
        ({"article_count__in": [1, "x"]}, "article_count holds integer"),
        ({"article_count__range": (1, "z")}, "article_count holds integer"),
        ({"state_id": "open"}, "state_id holds integer"),
        ({"created_at": 5}, "created_at holds date/time values"),
        ({"created_at__gt": 3.5}, "created_at holds date/time"),
        ({"created_at__gte": "now-7x"}, "'now-7x' is not Zammad date math"),
        ({"title": True}, "title holds text values"),
        ({"title": dt.date(2024, 1, 1)}, "title holds text"),
        ({"number": 3.5}, "number holds text"),
    ],
)
def test_wrong_value_types_raise_query_error_naming_the_field(
    lookups: dict[str, object], message: str
) -> None:
    with pytest.raises(QueryError, match=message.replace("(", "\\(")):
        compiled(Ticket, **lookups)


def test_datetimes_before_the_year_1000_are_written_with_four_digit_years() -> None:
    from zammad_orm.expr import format_value

    early = dt.datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone.utc)
    assert format_value(early, "created_at") == "0999-01-02T03:04:05.006Z"
    assert format_value(dt.datetime(5, 1, 1), "created_at") == "0005-01-01T00:00:00.000Z"  # naive: UTC
