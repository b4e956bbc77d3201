"""Every construct of the query language (spec §4.5), each with the tickets it must find, and search access.

A dedicated emulator holds four tickets besides the seed ticket ``welcome`` (ticket 1): their titles,
groups, owners, customers, organizations, states, priorities, tags, article counts and article bodies are
chosen so that each query below has a small, known answer. Expected hits are named, not numbered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api

PENDING = "2030-05-17T10:00:00.000Z"


class World:
    """The named tickets of the module's emulator and an admin session."""

    def __init__(self, api: Api, tickets: dict[str, dict[str, Any]]) -> None:
        self.api = api
        self.tickets = tickets
        self.names = {t["id"]: name for name, t in tickets.items()}

    def hits(self, query: str, **headers: str) -> set[str]:
        reply = self.api.get("/tickets/search", params={"query": query, "per_page": 200}, headers=headers)
        assert reply.status_code == 200, reply.text
        return {self.names.get(i, str(i)) for i in reply.json()["tickets"]}


def _ok(reply: Any) -> dict[str, Any]:
    assert reply.status_code in (200, 201), reply.text
    return reply.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with Emulator(seed=3) as z:
        api = Api.of(z)
        sales = _ok(api.post("/groups", json={"name": "Sales"}))
        # The admin works in Sales too, so the admin sees (and may create) every ticket.
        _ok(api.put("/users/3", json={"group_ids": {"1": ["full"], str(sales["id"]): ["full"]}}))
        acme = _ok(api.post("/organizations", json={"name": "Acme Corp", "shared": True}))
        _ok(
            api.post(
                "/users",
                json={
                    "login": "bob@x.org",
                    "firstname": "Bob",
                    "email": "bob@x.org",
                    "roles": ["Agent"],
                    "group_ids": {str(sales["id"]): ["full"]},
                },
            )
        )
        for login, org in (
            ("c1@acme.test", acme["id"]),
            ("c2@solo.test", None),
            ("c3@acme.test", acme["id"]),
        ):
            _ok(
                api.post(
                    "/users",
                    json={"login": login, "email": login, "firstname": login[:2], "organization_id": org},
                )
            )

        def ticket(title: str, articles: list[str], **fields: Any) -> dict[str, Any]:
            made = _ok(
                api.post("/tickets", json={"title": title, "article": {"body": articles[0]}, **fields})
            )
            for body in articles[1:]:
                _ok(api.post("/ticket_articles", json={"ticket_id": made["id"], "body": body}))
            return made

        tickets = {
            "welcome": _ok(api.get("/tickets/1")),
            "printer": ticket(
                "Printer on fire",
                ["john called about the printer"],
                group="Users",
                customer="c1@acme.test",
                owner="admin@example.com",
                tags="feedback,hardware",
            ),
            "invoice": ticket(
                "Invoice missing",
                ["where is it", "still waiting", "found it"],
                group="Sales",
                customer="c2@solo.test",
                owner="bob@x.org",
                state="open",
                priority="3 high",
                tags="billing",
            ),
            "heater": ticket(
                "Test the heater",
                ["johnathan says the heat is off"],
                group="Users",
                customer="c1@acme.test",
                state="pending reminder",
                pending_time=PENDING,
                priority="1 low",
            ),
            "closed": ticket(
                "some title here",
                ["jonathon wrote", "closing"],
                group="Sales",
                customer="c2@solo.test",
                state="closed",
            ),
        }
        yield World(api, tickets)
        api.close()


EVERYTHING = {"welcome", "printer", "invoice", "heater", "closed"}
#: The tickets made by the fixture; the seed ticket was created a year ago, when the system was installed.
RECENT = EVERYTHING - {"welcome"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # bare terms: a trailing * is added (no ':' in the query) and every field is searched
        ("printer", {"printer"}),
        ("invo", {"invoice"}),
        ("JOHNATHAN", {"heater"}),
        ("welcome", {"welcome"}),
        # field terms on columns (text fields are case-insensitive token matches)
        ("title:Printer", {"printer"}),
        ("title:PRINTER", {"printer"}),
        ("title:invo", set()),  # no automatic * once the query has a ':'
        ("state_id:2", {"invoice"}),
        # ... and on relation paths
        ("state.name:open", {"invoice"}),
        ("owner.login:bob@x.org", {"invoice"}),
        ("customer.email:c1@acme.test", {"printer", "heater"}),
        ('organization.name:"Acme Corp"', {"printer", "heater"}),
        ("organization.name:acme", {"printer", "heater"}),
        ("group.name:Sales", {"invoice", "closed"}),
        ("priority.name:low", {"heater"}),
        ("tags:feedback", {"printer"}),
        ("tags:billing", {"invoice"}),
        ("article.body:johnathan", {"heater"}),
        ("article.body:waiting", {"invoice"}),
        # phrases: consecutive tokens, in order
        ('title:"the heater"', {"heater"}),
        ('title:"heater the"', set()),
        ('article.body:"called about"', {"printer"}),
        # wildcards: * any characters, ? exactly one, leading wildcards allowed
        ("state.name:pending*", {"heater"}),
        ("title:te?t", {"heater"}),
        ("title:t?t", set()),
        ("title:*voice", {"invoice"}),
        ("article.body:jo*n", {"printer", "heater", "closed"}),
        # ranges: [] inclusive, {} exclusive, mixed, open ends
        ("article_count:[2 TO 3]", {"invoice", "closed"}),
        ("article_count:{1 TO 3}", {"closed"}),
        ("article_count:[2 TO 3}", {"closed"}),
        ("article_count:{2 TO 3]", {"invoice"}),
        ("article_count:[3 TO *]", {"invoice"}),
        ("article_count:[* TO 1]", {"welcome", "printer", "heater"}),
        ("pending_time:[2030-05-01 TO 2030-05-31]", {"heater"}),
        ("created_at:[2000-01-01 TO 2001-01-01]", set()),
        # comparisons (single-sided ranges)
        ("article_count:>2", {"invoice"}),
        ("article_count:>=2", {"invoice", "closed"}),
        ("article_count:<2", {"welcome", "printer", "heater"}),
        ("article_count:<=1", {"welcome", "printer", "heater"}),
        ("created_at:>=2000-01-01", EVERYTHING),
        ("pending_time:<2030-06-01", {"heater"}),
        # date math with now (units y M w d h m s, /d rounding)
        ("created_at:>now-7d", RECENT),
        ("created_at:<now-7d", {"welcome"}),
        ("created_at:<now-11M", {"welcome"}),
        ("created_at:>=now-1M/d", RECENT),
        ("created_at:[now-1h TO now+1h]", RECENT),
        ("pending_time:>now+1y", {"heater"}),
        ("pending_time:<now", set()),
        # _exists_
        ("_exists_:pending_time", {"heater"}),
        ("NOT _exists_:organization_id", {"invoice", "closed"}),
        # boolean operators; the default operator is AND
        ("title:printer OR title:invoice", {"printer", "invoice"}),
        ("title:printer AND tags:feedback", {"printer"}),
        ("title:printer AND tags:billing", set()),
        ("NOT state.name:new", {"invoice", "heater", "closed"}),
        ("!state.name:new", {"invoice", "heater", "closed"}),
        ("title:printer && tags:hardware", {"printer"}),
        ("title:printer || title:heater", {"printer", "heater"}),
        ("+group.name:Sales -state.name:closed", {"invoice"}),
        ("title:invoice group.name:Sales", {"invoice"}),
        ("title:invoice group.name:Users", set()),
        # grouping, also field-scoped
        ("state.name:(closed OR open)", {"invoice", "closed"}),
        ('state.name:(closed OR open) AND (priority.name:"3 high" OR tags:billing)', {"invoice"}),
        ("(title:printer OR title:heater) AND NOT customer.email:c2@solo.test", {"printer", "heater"}),
        # fuzzy (approximated: the term itself must match), proximity, regex, boost
        ("title:heater~", {"heater"}),
        ("title:heater~1", {"heater"}),
        ('title:"test heater"~2', {"heater"}),
        ("article.body:/joh?n(ath[oa]n)/", {"heater", "closed"}),
        ("title:printer^2", {"printer"}),
        # escaped reserved characters are literal
        ("customer.email:c1\\@acme.test", {"printer", "heater"}),
    ],
)
def test_construct_finds_the_expected_tickets(world: World, query: str, expected: set[str]) -> None:
    assert world.hits(query) == expected


@pytest.mark.parametrize(
    "query", ["title:(printer", 'title:"open', "title:[1 TO", "title:printer AND", "title:printer)"]
)
def test_queries_that_do_not_parse_answer_an_empty_200(world: World, query: str) -> None:
    assert world.hits(query) == set()


def test_default_order_is_updated_at_descending(world: World) -> None:
    reply = world.api.get("/tickets/search", params={"query": "number:*"}).json()
    stamps = [reply["assets"]["Ticket"][str(i)]["updated_at"] for i in reply["tickets"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len(stamps) == len(EVERYTHING)


def test_sort_by_several_columns_with_their_own_directions(world: World) -> None:
    reply = world.api.get(
        "/tickets/search",
        params={"query": "number:*", "sort_by": "group_id,title", "order_by": "desc,asc"},
    ).json()
    rows = [reply["assets"]["Ticket"][str(i)] for i in reply["tickets"]]
    assert [(r["group_id"], r["title"]) for r in rows] == sorted(
        ((r["group_id"], r["title"]) for r in rows), key=lambda p: (-p[0], p[1])
    )
    bad = world.api.get("/tickets/search", params={"query": "number:*", "sort_by": "title", "order_by": "up"})
    assert bad.status_code == 500
    assert bad.json() == {"error": "Found invalid order by value up. Please use 'asc' or 'desc'."}


def test_search_pages_and_limits(world: World) -> None:
    def page(**params: Any) -> list[int]:
        return world.api.get("/tickets/search", params={"query": "number:*", **params}).json()["tickets"]  # type: ignore[no-any-return]

    everything = page()
    assert len(everything) == 5
    assert page(per_page=2, page=1) + page(per_page=2, page=2) + page(per_page=2, page=3) == everything
    assert page(per_page=2, page=4) == []
    assert page(limit=3) == everything[:3]
    assert page(per_page=0) == []
    # Elasticsearch's result window: from + size > 10000 is an empty page, not an error.
    assert page(per_page=200, page=50) == []
    assert page(per_page=200, page=51) == []


def test_agents_find_only_tickets_of_their_groups(world: World) -> None:
    assert world.hits("number:*", From="bob@x.org") == {"invoice", "closed"}
    assert world.hits("printer", From="bob@x.org") == set()


def test_customers_find_own_and_shared_organization_tickets(world: World) -> None:
    assert world.hits("number:*", From="c1@acme.test") == {"printer", "heater"}
    # c3 has no ticket of their own but shares Acme's.
    assert world.hits("number:*", From="c3@acme.test") == {"printer", "heater"}
    assert world.hits("number:*", From="c2@solo.test") == {"invoice", "closed"}
    _ok(world.api.put("/organizations/2", json={"shared": False}))
    try:
        assert world.hits("number:*", From="c3@acme.test") == set()
        assert world.hits("number:*", From="c1@acme.test") == {"printer", "heater"}
    finally:
        _ok(world.api.put("/organizations/2", json={"shared": True}))


def test_customers_see_other_users_reduced_in_search_assets(world: World) -> None:
    reply = world.api.get("/tickets/search", params={"query": "number:*"}, headers={"From": "c1@acme.test"})
    users = reply.json()["assets"]["User"]
    owner = users["3"]  # the admin owns the printer ticket
    assert set(owner) == {"id", "firstname", "lastname", "image", "image_source", "active"}
    me = next(u for u in users.values() if u.get("login") == "c1@acme.test")
    assert "web" not in me
    assert "email" in me
