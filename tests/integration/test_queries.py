"""Queries over real HTTP against the emulator, each checked against the same predicate in plain Python.

Ground truth is computed from every record fetched through the index endpoints (not through search, the
compiler or the evaluator): a query is right when it returns exactly the records the Python predicate
selects, in the order the Python sort gives.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from zammad_orm.aggregates import Count
from zammad_orm.client import Client
from zammad_orm.expr import Node, Q, Term
from zammad_orm.query import SearchIndexUnavailableWarning
from zammad_orm.testing import Emulator

from .conftest import make_client, sent

UTC = dt.timezone.utc


@attrs.frozen
class Row:
    """One ticket with everything the predicates read, gathered without the search endpoint."""

    id: int
    number: str
    title: str
    state: str
    priority: str
    group: str
    owner: str
    customer: str
    organization: str | None
    organization_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    article_count: int
    pending_time: dt.datetime | None
    tags: tuple[str, ...]
    bodies: tuple[str, ...]
    senders: tuple[str, ...]


def gather(client: Client) -> list[Row]:
    users = {u.id: u for u in client.users.iter()}
    orgs = {o.id: o.name for o in client.organizations.iter()}
    states = {s.id: s.name for s in client.states.iter()}
    priorities = {p.id: p.name for p in client.priorities.iter()}
    groups = {g.id: g.name for g in client.groups.iter()}
    rows = []
    for t in client.tickets.iter():
        tags = client.request("GET", "tags", params={"object": "Ticket", "o_id": t.id})["tags"]
        articles = client.request("GET", f"ticket_articles/by_ticket/{t.id}")
        rows.append(
            Row(
                id=t.id,
                number=t.number,
                title=t.title,
                state=states[t.state_id],
                priority=priorities[t.priority_id],
                group=groups[t.group_id],
                owner=users[t.owner_id].login,
                customer=users[t.customer_id].email,
                organization=orgs.get(t.organization_id) if t.organization_id else None,
                organization_id=t.organization_id,
                created_at=t.created_at,
                updated_at=t.updated_at,
                article_count=t.article_count or 0,
                pending_time=t.pending_time,
                tags=tuple(tags),
                bodies=tuple(a["body"] for a in articles),
                senders=tuple(a["from"] or "" for a in articles),
            )
        )
    return sorted(rows, key=lambda r: r.id)


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(demo=300, seed=11) as z:
        yield z


@pytest.fixture(scope="module")
def client(server: Emulator) -> Client:
    return server.client()


@pytest.fixture(scope="module")
def rows(client: Client) -> list[Row]:
    return gather(client)


@pytest.fixture(scope="module")
def facts(rows: list[Row]) -> dict[str, Any]:
    """Values taken from the data, so that every query has something to find."""
    created = sorted(r.created_at for r in rows)
    words = sorted({w for r in rows for w in r.title.split() if len(w) > 4})
    return {
        "mid": created[len(created) // 2],
        "early": created[len(created) // 5],
        "year": created[len(created) // 2].year,
        "day": created[len(created) // 3].date(),
        "word": words[len(words) // 2],
        "word2": words[len(words) // 3],
        "owner": sorted({r.owner for r in rows})[1],
        "customer": sorted({r.customer for r in rows})[3],
        "org": sorted({r.organization for r in rows if r.organization})[0],
        "number": rows[len(rows) // 2].number,
        "body_word": sorted({w for r in rows for b in r.bodies for w in b.split() if len(w) > 5})[4],
    }


def lower(text: str) -> str:
    return text.lower()


# Each case: (name, builder(facts) -> filter node, predicate(row, facts) -> bool).
Case = tuple[str, Callable[[dict[str, Any]], Node], Callable[[Row, dict[str, Any]], bool]]

CASES: list[Case] = [
    ("state", lambda f: Q(state="open"), lambda r, f: r.state == "open"),
    ("state name", lambda f: Q(state__name="closed"), lambda r, f: r.state == "closed"),
    ("state in", lambda f: Q(state__in=["new", "open"]), lambda r, f: r.state in ("new", "open")),
    ("state not", lambda f: ~Q(state="closed"), lambda r, f: r.state != "closed"),
    (
        "state startswith",
        lambda f: Q(state__name__startswith="pending"),
        lambda r, f: r.state.startswith("pending"),
    ),
    ("state_id", lambda f: Q(state_id=2), lambda r, f: r.state == "open"),
    ("state_id in", lambda f: Q(state_id__in=[1, 4]), lambda r, f: r.state in ("new", "closed")),
    ("priority", lambda f: Q(priority="3 high"), lambda r, f: r.priority == "3 high"),
    ("priority iexact", lambda f: Q(priority__iexact="1 LOW"), lambda r, f: r.priority == "1 low"),
    ("group", lambda f: Q(group="Users"), lambda r, f: r.group == "Users"),
    ("group icontains", lambda f: Q(group__name__icontains="s"), lambda r, f: "s" in r.group.lower()),
    ("owner login", lambda f: Q(owner__login=f["owner"]), lambda r, f: r.owner == f["owner"]),
    ("owner string", lambda f: Q(owner=f["owner"]), lambda r, f: r.owner == f["owner"]),
    ("customer email", lambda f: Q(customer__email=f["customer"]), lambda r, f: r.customer == f["customer"]),
    (
        "customer iendswith",
        lambda f: Q(customer__email__iendswith=".COM"),
        lambda r, f: r.customer.lower().endswith(".com"),
    ),
    ("organization", lambda f: Q(organization__name=f["org"]), lambda r, f: r.organization == f["org"]),
    ("no organization", lambda f: Q(organization__isnull=True), lambda r, f: r.organization_id is None),
    ("has organization", lambda f: Q(organization__isnull=False), lambda r, f: r.organization_id is not None),
    ("organization None", lambda f: Q(organization=None), lambda r, f: r.organization_id is None),
    ("title exact", lambda f: Q(title="Welcome to Zammad!"), lambda r, f: r.title == "Welcome to Zammad!"),
    ("title contains", lambda f: Q(title__contains=f["word"]), lambda r, f: f["word"] in r.title),
    (
        "title icontains",
        lambda f: Q(title__icontains=f["word"].upper()),
        lambda r, f: f["word"].lower() in r.title.lower(),
    ),
    (
        "title startswith",
        lambda f: Q(title__startswith=f["word2"]),
        lambda r, f: r.title.startswith(f["word2"]),
    ),
    (
        "title istartswith",
        lambda f: Q(title__istartswith="the"),
        lambda r, f: r.title.lower().startswith("the"),
    ),
    ("title endswith", lambda f: Q(title__endswith="s"), lambda r, f: r.title.endswith("s")),
    ("title regex", lambda f: Q(title__regex="[A-M].*"), lambda r, f: "A" <= r.title[:1] <= "M"),
    (
        "title search",
        lambda f: Q(title__search=f["word"]),
        lambda r, f: lower(f["word"]) in [w.strip(".,!?:;()'\"").lower() for w in r.title.split()],
    ),
    ("title gt", lambda f: Q(title__gt="M"), lambda r, f: r.title > "M"),
    ("title range", lambda f: Q(title__range=("B", "F")), lambda r, f: "B" <= r.title <= "F"),
    ("number", lambda f: Q(number=f["number"]), lambda r, f: r.number == f["number"]),
    ("number int", lambda f: Q(number=int(f["number"])), lambda r, f: r.number == f["number"]),
    (
        "number in",
        lambda f: Q(number__in=["67001", f["number"]]),
        lambda r, f: r.number in ("67001", f["number"]),
    ),
    ("id gt", lambda f: Q(id__gt=150), lambda r, f: r.id > 150),
    ("pk lte", lambda f: Q(pk__lte=20), lambda r, f: r.id <= 20),
    ("id range", lambda f: Q(id__range=(40, 60)), lambda r, f: 40 <= r.id <= 60),
    ("article_count", lambda f: Q(article_count=2), lambda r, f: r.article_count == 2),
    ("article_count gte", lambda f: Q(article_count__gte=3), lambda r, f: r.article_count >= 3),
    ("article_count lt", lambda f: Q(article_count__lt=2), lambda r, f: r.article_count < 2),
    ("created gte dt", lambda f: Q(created_at__gte=f["mid"]), lambda r, f: r.created_at >= f["mid"]),
    ("created lt dt", lambda f: Q(created_at__lt=f["mid"]), lambda r, f: r.created_at < f["mid"]),
    (
        "created gt iso",
        lambda f: Q(created_at__gt=f["early"].isoformat()),
        lambda r, f: r.created_at > f["early"],
    ),
    ("created year", lambda f: Q(created_at__year=f["year"]), lambda r, f: r.created_at.year == f["year"]),
    (
        "created year month",
        lambda f: Q(created_at__year=f["year"], created_at__month=f["mid"].month),
        lambda r, f: (r.created_at.year, r.created_at.month) == (f["year"], f["mid"].month),
    ),
    ("created date", lambda f: Q(created_at__date=f["day"]), lambda r, f: r.created_at.date() == f["day"]),
    ("created gte date", lambda f: Q(created_at__gte=f["day"]), lambda r, f: r.created_at.date() >= f["day"]),
    ("created lte date", lambda f: Q(created_at__lte=f["day"]), lambda r, f: r.created_at.date() <= f["day"]),
    (
        "created range",
        lambda f: Q(created_at__range=(f["early"], f["mid"])),
        lambda r, f: f["early"] <= r.created_at <= f["mid"],
    ),
    ("pending set", lambda f: Q(pending_time__isnull=False), lambda r, f: r.pending_time is not None),
    ("pending none", lambda f: Q(pending_time=None), lambda r, f: r.pending_time is None),
    ("tag", lambda f: Q(tags="vip"), lambda r, f: "vip" in r.tags),
    (
        "tags in",
        lambda f: Q(tags__in=["printer", "network"]),
        lambda r, f: bool({"printer", "network"} & set(r.tags)),
    ),
    ("no tag", lambda f: ~Q(tags="urgent"), lambda r, f: "urgent" not in r.tags),
    (
        "tag startswith",
        lambda f: Q(tags__startswith="b"),
        lambda r, f: any(t.startswith("b") for t in r.tags),
    ),
    ("untagged", lambda f: Q(tags__isnull=True), lambda r, f: not r.tags),
    (
        "article body",
        lambda f: Q(article__body__icontains=f["body_word"]),
        lambda r, f: any(f["body_word"].lower() in b.lower() for b in r.bodies),
    ),
    (
        "articles body",
        lambda f: Q(articles__body__contains=f["body_word"]),
        lambda r, f: any(f["body_word"] in b for b in r.bodies),
    ),
    (
        "article from",
        lambda f: Q(article__from__icontains="@"),
        lambda r, f: any("@" in s for s in r.senders),
    ),
    (
        "or",
        lambda f: Q(state="new") | Q(priority="3 high"),
        lambda r, f: r.state == "new" or r.priority == "3 high",
    ),
    (
        "and not",
        lambda f: Q(state="open") & ~Q(tags="vip"),
        lambda r, f: r.state == "open" and "vip" not in r.tags,
    ),
    (
        "nested",
        lambda f: (Q(state="open") | Q(state="new")) & (Q(article_count__gte=2) | Q(tags="urgent")),
        lambda r, f: r.state in ("open", "new") and (r.article_count >= 2 or "urgent" in r.tags),
    ),
    (
        "not or",
        lambda f: ~(Q(state="closed") | Q(organization__isnull=True)),
        lambda r, f: not (r.state == "closed" or r.organization_id is None),
    ),
    (
        "or of not",
        lambda f: ~Q(state="closed") | Q(article_count__gt=4),
        lambda r, f: r.state != "closed" or r.article_count > 4,
    ),
    ("empty in", lambda f: Q(id__in=[]), lambda r, f: False),
    ("not empty in", lambda f: ~Q(id__in=[]), lambda r, f: True),
    (
        "injection",
        lambda f: Q(title="x OR state.name:closed"),
        lambda r, f: r.title == "x OR state.name:closed",
    ),
    (
        "injection contains",
        lambda f: Q(title__contains=') OR (state.name:"closed'),
        lambda r, f: ') OR (state.name:"closed' in r.title,
    ),
]


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_query_matches_python(
    client: Client,
    rows: list[Row],
    facts: dict[str, Any],
    name: str,
    build: Callable[[dict[str, Any]], Node],
    expected: Callable[[Row, dict[str, Any]], bool],
) -> None:
    want = [r.id for r in rows if expected(r, facts)]
    got = [t.id for t in client.tickets.filter(build(facts)).order_by("id")]
    assert got == want, str(client.tickets.filter(build(facts)).query)


def test_enough_cases_and_most_find_something(client: Client, rows: list[Row], facts: dict[str, Any]) -> None:
    assert len(CASES) >= 60
    nonempty = sum(any(expected(r, facts) for r in rows) for _, _, expected in CASES)
    everything = sum(all(expected(r, facts) for r in rows) for _, _, expected in CASES)
    assert nonempty >= len(CASES) - 6  # empty: the injection probes, "empty in", maybe a rare word
    assert everything <= 3  # "not empty in" and at most a couple of broad ones


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        (("-created_at",), lambda r: (-r.created_at.timestamp(), -r.id)),
        (("article_count", "-id"), lambda r: (r.article_count, -r.id)),
        (("title",), lambda r: (r.title, r.id)),
        (
            ("-pending_time",),
            lambda r: (r.pending_time is None, -(r.pending_time.timestamp() if r.pending_time else 0), -r.id),
        ),
    ],
)
def test_ordering_and_slices_match_python(
    client: Client, rows: list[Row], ordering: tuple[str, ...], key: Callable[[Row], Any]
) -> None:
    want = [r.id for r in sorted(rows, key=key)]
    qs = client.tickets.order_by(*ordering)
    assert [t.id for t in qs] == want
    assert [t.id for t in qs[17:83]] == want[17:83]
    assert qs[42].id == want[42]


def test_counts_and_grouped_counts_match_python(client: Client, rows: list[Row]) -> None:
    assert client.tickets.filter(state="open").count() == sum(r.state == "open" for r in rows)
    grouped = client.tickets.values("state__name").annotate(n=Count("id"))
    want: dict[str, int] = {}
    for r in rows:
        want[r.state] = want.get(r.state, 0) + 1
    assert {g["state__name"]: g["n"] for g in grouped} == want
    # repr() and slices show the groups (not groups over a slice of the tickets)
    ordered = sorted(want.items())
    shown = repr(grouped.all())
    assert all(f"{{'state__name': {name!r}, 'n': {n}}}" in shown for name, n in ordered), shown
    assert [(g["state__name"], g["n"]) for g in grouped.all()[1:3]] == ordered[1:3]
    assert grouped.all()[0] == {"state__name": ordered[0][0], "n": ordered[0][1]}


def test_in_bulk_of_300_ids_sends_two_searches(server: Emulator, rows: list[Row]) -> None:
    client = make_client(server)
    wanted = [r.id for r in rows]
    assert len(wanted) >= 201  # one complete batch of 200 and a second one
    found = client.tickets.in_bulk(wanted)
    assert sorted(found) == wanted
    assert all(found[r.id].number == r.number for r in rows)
    assert [path.split("?")[0] for _, path in sent(client).sent] == ["/tickets/search"] * -(
        -len(wanted) // 200
    )


def test_values_with_relation_paths(client: Client, rows: list[Row]) -> None:
    got = list(
        client.tickets.order_by("id").values("number", "state__name", "owner__login", "organization__name")
    )
    assert got == [
        {
            "number": r.number,
            "state__name": r.state,
            "owner__login": r.owner,
            "organization__name": r.organization,
        }
        for r in rows
    ]


def test_database_fallback_gives_the_same_results(rows: list[Row], facts: dict[str, Any]) -> None:
    with Emulator(demo=300, seed=11, search_backend="database") as db:
        client = db.client()
        picked = [
            c
            for c in CASES
            if c[0]
            in {
                "state",
                "or",
                "tag",
                "article body",
                "created date",
                "no organization",
                "title icontains",
                "nested",
            }
        ]
        with pytest.warns(SearchIndexUnavailableWarning):
            client.tickets.filter(state="new").count()
        for name, build, expected in picked:
            want = [r.id for r in rows if expected(r, facts)]
            assert [t.id for t in client.tickets.filter(build(facts)).order_by("id")] == want, name


def test_a_term_on_no_field_reads_every_column_client_side(rows: list[Row]) -> None:
    """A client-side document holds only the columns a filter names, unless a term names no field."""
    word = rows[4].title.split()[0].lower()
    with Emulator(demo=300, seed=11) as es, Emulator(demo=300, seed=11, search_backend="database") as db:
        found = []
        for z in (es, db):
            client = z.client()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SearchIndexUnavailableWarning)
                query = client.tickets.filter(Term(None, word), id__lte=60).order_by("id")
                found.append([t.id for t in query])
            client.close()
    assert found[0] == found[1]
    assert rows[4].id in found[1]
    assert len(found[1]) < 60


def test_zammad_65_replies(rows: list[Row], facts: dict[str, Any]) -> None:
    with Emulator(demo=300, seed=11, zammad_version="6.5") as z65:
        client = z65.client()
        for name, build, expected in CASES[::6]:
            want = [r.id for r in rows if expected(r, facts)]
            qs = client.tickets.filter(build(facts)).order_by("id")
            assert [t.id for t in qs] == want, name
            assert qs.count() == len(want), name
        assert client.search_generation == "unified"


@pytest.fixture(scope="module")
def big() -> Iterator[Emulator]:
    with Emulator(demo=25_100, seed=2) as z:
        yield z


@pytest.mark.slow
def test_25000_matches_iterate_completely(big: Emulator) -> None:
    """A filter with 25,000 matches, past the 10,000-row search window, against Python over every ticket."""
    client = big.client()
    tickets = list(client.tickets.iter(page_size=100))  # the index endpoint: no search, no compiler
    by_created = sorted(tickets, key=lambda t: (t.created_at, t.id))
    last = by_created[24_999].created_at
    cutoff = next(t.created_at for t in by_created[25_000:] if t.created_at > last)
    matching = [t for t in tickets if t.created_at < cutoff]
    want = [t.id for t in sorted(matching, key=lambda t: (t.created_at, t.id), reverse=True)]
    assert len(want) >= 25_000
    qs = client.tickets.filter(created_at__lt=cutoff).order_by("-created_at")
    assert [t.id for t in qs.iterator()] == want  # every match once, in order, past the window
    assert qs.count() == len(want)
    everything = client.tickets.filter(id__gt=0)
    assert sorted(t.id for t in everything.iterator()) == sorted(t.id for t in tickets)
