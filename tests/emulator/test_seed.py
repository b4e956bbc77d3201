"""The data of a freshly installed Zammad (spec §7.1), as a fresh emulator serves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api


@pytest.fixture(scope="module")
def fresh() -> Iterator[Api]:
    with Emulator() as z:
        api = Api.of(z)
        yield api
        api.close()


def test_states(fresh: Api) -> None:
    states = {s["id"]: s for s in fresh.get("/ticket_states").json()}
    assert {i: (s["name"], s["state_type_id"]) for i, s in states.items()} == {
        1: ("new", 1),
        2: ("open", 2),
        3: ("pending reminder", 3),
        4: ("closed", 5),
        5: ("merged", 6),
        6: ("removed", 7),
        7: ("pending close", 4),
    }
    assert [i for i, s in states.items() if s["default_create"]] == [1]
    assert [i for i, s in states.items() if s["default_follow_up"]] == [2]
    assert [i for i, s in states.items() if not s["active"]] == [6]
    assert [i for i, s in states.items() if s["ignore_escalation"]] == [3, 4, 5, 6, 7]
    assert states[7]["next_state_id"] == 4


def test_priorities_roles_group_and_organization(fresh: Api) -> None:
    priorities = fresh.get("/ticket_priorities").json()
    assert [(p["id"], p["name"], p["default_create"]) for p in priorities] == [
        (1, "1 low", False),
        (2, "2 normal", True),
        (3, "3 high", False),
    ]
    assert (priorities[0]["ui_icon"], priorities[0]["ui_color"]) == ("low-priority", "low-priority")
    assert (priorities[2]["ui_icon"], priorities[2]["ui_color"]) == ("important", "high-priority")
    roles = fresh.get("/roles").json()
    assert [(r["id"], r["name"], r["default_at_signup"]) for r in roles] == [
        (1, "Admin", False),
        (2, "Agent", False),
        (3, "Customer", True),
    ]
    group = fresh.get("/groups/1").json()
    assert (group["name"], group["note"], group["signature_id"]) == (
        "Users",
        "Standard Group/Pool for Tickets.",
        1,
    )
    assert fresh.get("/organizations/1").json()["name"] == "Zammad Foundation"


def test_article_types_senders_and_the_welcome_article(fresh: Api) -> None:
    article = fresh.get("/ticket_articles/by_ticket/1").json()
    assert [(a["type"], a["sender"]) for a in article] == [("phone", "Customer")]
    made = fresh.post(
        "/tickets",
        json={"title": "types", "group": "Users", "customer_id": 2, "article": {"body": "x", "type": "web"}},
    ).json()
    assert made["create_article_type_id"] == 11
    assert made["create_article_sender_id"] == 1
    for type_id, name in ((1, "email"), (10, "note"), (14, "whatsapp message")):
        reply = fresh.post(
            "/ticket_articles", json={"ticket_id": made["id"], "body": "y", "type_id": type_id}
        )
        assert reply.json()["type"] == name
    system = fresh.post("/ticket_articles", json={"ticket_id": made["id"], "body": "z", "sender": "System"})
    assert system.json()["sender_id"] == 3
