"""Search in the emulator: query language, reply generations (6.2 / 6.5), database backend, sorting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api


def _make(api: Api, title: str, **extra: Any) -> dict[str, Any]:
    body = {
        "title": title,
        "group": "Users",
        "customer_id": 2,
        "article": {"body": f"body of {title}"},
        **extra,
    }
    reply = api.post("/tickets", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def searchable(admin: Api) -> list[dict[str, Any]]:
    """Three tickets with distinctive titles, created in order (so updated_at ascends)."""
    return [
        _make(admin, "zebra printer jam", tags="hardware"),
        _make(admin, "zebra login broken", priority="3 high"),
        _make(admin, "zebra invoice wrong", state="open"),
    ]


def _ids(reply: Any) -> list[int]:
    return reply["tickets"]  # type: ignore[no-any-return]


def test_pre65_reply_shape(admin: Api, searchable: list[dict[str, Any]]) -> None:
    reply = admin.get(
        "/tickets/search", params={"query": "title:zebra", "page": 1, "per_page": 10, "expand": "false"}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"tickets", "tickets_count", "assets"}
    # Default order: updated_at DESC.
    assert _ids(body) == [t["id"] for t in reversed(searchable)]
    assert body["tickets_count"] == 3
    ticket = body["assets"]["Ticket"][str(searchable[0]["id"])]
    assert "article_ids" in ticket
    assert "ticket_time_accounting_ids" in ticket
    assert {"User", "Group", "Role", "Organization"} <= set(body["assets"])
    assert "2" in body["assets"]["User"]
    assert "1" in body["assets"]["Organization"]


def test_tickets_count_is_the_page_size(admin: Api, searchable: list[dict[str, Any]]) -> None:
    body = admin.get("/tickets/search", params={"query": "title:zebra", "per_page": 2}).json()
    assert body["tickets_count"] == 2
    second = admin.get("/tickets/search", params={"query": "title:zebra", "per_page": 2, "page": 2}).json()
    assert second["tickets"] == [searchable[0]["id"]]


def test_expand_gives_a_list(admin: Api, searchable: list[dict[str, Any]]) -> None:
    body = admin.get("/tickets/search", params={"query": "title:zebra", "expand": "true"}).json()
    assert isinstance(body, list)
    assert body[0]["state"] == "open"
    assert body[0]["group"] == "Users"


@pytest.mark.parametrize(
    ("query", "which"),
    [
        ("zebra", [0, 1, 2]),  # bare term gets a trailing * and searches every field
        ("zeb", [0, 1, 2]),
        ("title:zebra AND tags:hardware", [0]),
        ('title:zebra AND priority.name:"3 high"', [1]),
        ("title:zebra AND NOT state.name:new", [2]),
        ("title:zebra AND (state.name:open OR tags:hardware)", [0, 2]),
        ("article.body:invoice", [2]),
        ("title:zebra AND customer.login:nicole.braun@zammad.org", [0, 1, 2]),
        ("title:zebra AND created_at:>now-1h", [0, 1, 2]),
    ],
)
def test_query_language(admin: Api, searchable: list[dict[str, Any]], query: str, which: list[int]) -> None:
    ids = _ids(admin.get("/tickets/search", params={"query": query, "per_page": 50}).json())
    assert sorted(ids) == sorted(searchable[i]["id"] for i in which)


def test_parse_error_is_an_empty_200(admin: Api) -> None:
    reply = admin.get("/tickets/search", params={"query": "title:(zebra"})
    assert reply.status_code == 200
    assert reply.json() == {"tickets": [], "tickets_count": 0, "assets": {}}


def test_sorting_and_its_errors(admin: Api, searchable: list[dict[str, Any]]) -> None:
    body = admin.get(
        "/tickets/search", params={"query": "title:zebra", "sort_by": "title", "order_by": "asc"}
    ).json()
    assert _ids(body) == [searchable[2]["id"], searchable[1]["id"], searchable[0]["id"]]
    bad = admin.get("/tickets/search", params={"query": "title:zebra", "sort_by": "nope", "order_by": "asc"})
    assert bad.status_code == 500
    assert bad.json() == {"error": "Found invalid column 'nope' for sorting."}


def test_customer_search_sees_only_readable(
    admin: Api, customer: Api, searchable: list[dict[str, Any]]
) -> None:
    other = _make(admin, "zebra foreign", customer_id="guess:foreign@example.com")
    ids = _ids(customer.get("/tickets/search", params={"query": "title:zebra"}).json())
    assert other["id"] not in ids
    assert set(ids) >= {t["id"] for t in searchable}


def test_write_invalidates_cached_results(admin: Api, searchable: list[dict[str, Any]]) -> None:
    first = _ids(admin.get("/tickets/search", params={"query": "title:quokka"}).json())
    assert first == []
    made = _make(admin, "quokka")
    assert _ids(admin.get("/tickets/search", params={"query": "title:quokka"}).json()) == [made["id"]]
    admin.put(f"/tickets/{made['id']}", json={"title": "renamed"})
    assert _ids(admin.get("/tickets/search", params={"query": "title:quokka"}).json()) == []


def test_users_and_organizations_search(admin: Api, customer: Api) -> None:
    users = admin.get("/users/search", params={"query": "nicole"}).json()
    assert [u["id"] for u in users] == [2]
    assert "role_ids" in users[0]
    labels = admin.get("/users/search", params={"term": "nicole"}).json()
    assert labels == [
        {
            "id": 2,
            "label": "Nicole Braun <nicole.braun@zammad.org>",
            "value": "nicole.braun@zammad.org",
            "inactive": False,
        }
    ]
    full = admin.get("/users/search", params={"query": "nicole", "full": "true"}).json()
    assert full["user_ids"] == [2]
    assert "2" in full["assets"]["User"]
    assert admin.get("/users/search", params={"query": "role_ids:1"}).json()[0]["id"] == 3
    orgs = admin.get("/organizations/search", params={"query": "Zammad"}).json()
    assert [o["name"] for o in orgs] == ["Zammad Foundation"]
    assert customer.get("/users/search", params={"query": "admin"}).status_code == 403
    assert [o["id"] for o in customer.get("/organizations/search", params={"query": "*"}).json()] == [1]


def test_global_search(admin: Api, searchable: list[dict[str, Any]]) -> None:
    body = admin.get("/search", params={"query": "zebra", "limit": 2}).json()
    tickets = [r for r in body["result"] if r["type"] == "Ticket"]
    assert len(tickets) == 2
    assert str(tickets[0]["id"]) in body["assets"]["Ticket"]
    people = admin.get("/search", params={"query": "nicole"}).json()["result"]
    assert {"type": "User", "id": 2} in people


@pytest.fixture(scope="module")
def unified() -> Iterator[Api]:
    with Emulator(zammad_version="6.5") as z:
        api = Api.of(z)
        yield api
        api.close()


def test_unified_generation(unified: Api) -> None:
    made = [_make(unified, "yak one"), _make(unified, "yak two")]
    assert unified.get("/version").json()["version"].startswith("6.5")
    plain = unified.get("/tickets/search", params={"query": "title:yak"}).json()
    assert [t["id"] for t in plain] == [made[1]["id"], made[0]["id"]]
    assert "article_ids" in plain[0]
    full = unified.get("/tickets/search", params={"query": "title:yak", "full": "true", "per_page": 1}).json()
    assert full["record_ids"] == [made[1]["id"]]
    assert full["total_count"] == 2
    assert "Ticket" in full["assets"]
    assert unified.get(
        "/tickets/search", params={"query": "title:yak", "only_total_count": "true"}
    ).json() == {"total_count": 2}
    # 6.5 deletes every * before searching.
    assert unified.get(
        "/tickets/search", params={"query": "title:ya*", "only_total_count": "true"}
    ).json() == {"total_count": 0}
    users = unified.get("/users/search", params={"query": "nicole", "full": "true"}).json()
    assert set(users) == {"record_ids", "assets", "total_count"}


@pytest.fixture(scope="module")
def database() -> Iterator[Api]:
    with Emulator(search_backend="database") as z:
        api = Api.of(z)
        yield api
        api.close()


def test_database_backend(database: Api) -> None:
    with_article = _make(database, "Walrus in the server room")
    without = database.post(
        "/tickets", json={"title": "Walrus alone", "group": "Users", "customer_id": 2}
    ).json()
    ids = _ids(database.get("/tickets/search", params={"query": "Walrus"}).json())
    assert ids == [with_article["id"]]  # tickets without articles never match
    assert (
        _ids(database.get("/tickets/search", params={"query": "walrus"}).json()) == []
    )  # case-sensitive (PostgreSQL)
    assert (
        _ids(database.get("/tickets/search", params={"query": "title:Walrus"}).json()) == []
    )  # no query syntax
    assert _ids(database.get("/tickets/search", params={"query": "body of Walrus"}).json()) == [
        with_article["id"]
    ]
    condition = {"ticket.title": {"operator": "contains", "value": "alone"}}
    found = database.post("/tickets/search", json={"condition": condition}).json()
    assert _ids(found) == [without["id"]]
    everything = _ids(database.get("/tickets/search").json())
    assert without["id"] in everything
    assert 1 in everything


def test_empty_query_before_65_with_elasticsearch_finds_nothing(admin: Api, unified: Api) -> None:
    assert admin.get("/tickets/search").json() == {"tickets": [], "tickets_count": 0, "assets": {}}
    # 6.5 searches the database for an empty query: every readable ticket.
    assert 1 in [t["id"] for t in unified.get("/tickets/search").json()]


def test_condition_with_query_before_65_uses_the_database(
    admin: Api, searchable: list[dict[str, Any]]
) -> None:
    condition = {"ticket.priority_id": {"operator": "is", "value": ["3"]}}
    found = admin.post("/tickets/search", json={"query": "zebra", "condition": condition}).json()
    assert found["tickets"] == [searchable[1]["id"]]


def test_group_and_role_search_exist_from_65(admin: Api, unified: Api) -> None:
    assert admin.get("/groups/search", params={"query": "Users"}).json()["error"] == (
        "Couldn't find Group with 'id'=search"
    )
    groups = unified.get("/groups/search", params={"query": "Users"}).json()
    assert [g["name"] for g in groups] == ["Users"]
    roles = unified.get("/roles/search", params={"query": "name:Agent", "full": "true"}).json()
    assert roles["record_ids"] == [2]
    assert roles["total_count"] == 1


def test_unified_labels_and_with_total_count(unified: Api) -> None:
    made = _make(unified, "label me")
    # Zammad 6.5 labels a record by its full name, else its name, else its id (a ticket has neither).
    labels = unified.get("/tickets/search", params={"query": "title:label", "label": "true"}).json()
    assert labels == [{"id": made["id"], "label": made["id"], "value": made["id"]}]
    assert unified.get("/users/search", params={"query": "nicole", "label": "true"}).json() == [
        {
            "id": 2,
            "label": "Nicole Braun <nicole.braun@zammad.org>",
            "value": "Nicole Braun <nicole.braun@zammad.org>",
        }
    ]
    assert unified.get("/users/search", params={"term": "nicole"}).json() == [
        {
            "id": 2,
            "label": "Nicole Braun <nicole.braun@zammad.org>",
            "value": "nicole.braun@zammad.org",
            "inactive": False,
        }
    ]
    assert unified.get("/organizations/search", params={"term": "zammad"}).json() == [
        {"id": 1, "label": "Zammad Foundation", "value": "Zammad Foundation", "inactive": False}
    ]
    wrapped = unified.get(
        "/tickets/search", params={"query": "title:label", "with_total_count": "true", "per_page": 1}
    ).json()
    assert set(wrapped) == {"records", "total_count"}
    assert ([r["id"] for r in wrapped["records"]], wrapped["total_count"]) == ([made["id"]], 1)
    expanded = unified.get(
        "/users/search", params={"query": "nicole", "with_total_count": "true", "expand": "true"}
    ).json()
    assert (expanded["records"][0]["roles"], expanded["total_count"]) == (["Customer"], 1)
    # full wins over label, as in Zammad's model_search_render.
    full = unified.get("/users/search", params={"query": "nicole", "full": "true", "label": "true"}).json()
    assert set(full) == {"record_ids", "assets", "total_count"}


def test_database_backend_of_65_is_case_insensitive_and_ignores_stars() -> None:
    with Emulator(zammad_version="6.5", search_backend="database") as z:
        api = Api.of(z)
        try:

            def ids(path: str, query: str) -> list[int]:
                return [r["id"] for r in api.get(path, params={"query": query}).json()]

            assert ids("/tickets/search", "welcome") == [1]  # ILIKE on the title
            assert ids("/tickets/search", "WELC*ome") == [1]  # every * is deleted first
            assert ids("/tickets/search", "67001") == [1]  # the number
            assert ids("/tickets/search", "title:welcome") == []  # no query language
            assert ids("/users/search", "BRAUN") == [2]
            assert ids("/users/search", "zammad.org") == [2]  # any string column
            assert ids("/organizations/search", "foundation") == [1]
        finally:
            api.close()
