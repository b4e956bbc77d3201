"""Spec §5 endpoints not exercised by the other emulator tests, each with its status and body shape."""

from __future__ import annotations

import base64
from typing import Any

from zammad_orm.testing import Emulator

from .conftest import Api


def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def _ticket(admin: Api, **extra: Any) -> dict[str, Any]:
    body = {"title": "endpoints", "group": "Users", "customer_id": 2, "article": {"body": "b"}, **extra}
    return _ok(admin.post("/tickets", json=body), 201)  # type: ignore[no-any-return]


def test_groups_read_update_and_delete(admin: Api, agent: Api, customer: Api) -> None:
    groups = _ok(agent.get("/groups"))
    assert [g["name"] for g in groups][:1] == ["Users"]
    assert "user_ids" in groups[0]
    reduced = _ok(customer.get("/groups"))[0]
    assert set(reduced) == {
        "id",
        "name",
        "name_last",
        "follow_up_possible",
        "reopen_time_in_days",
        "active",
        "parent_id",
    }
    # A sub-group needs its parent.
    assert admin.post("/groups", json={"name": "Endpoints::Sub"}).status_code == 422
    parent = _ok(admin.post("/groups", json={"name": "Endpoints"}), 201)
    group = _ok(admin.post("/groups", json={"name": "Endpoints::Sub"}), 201)
    assert group["parent_id"] == parent["id"]
    renamed = _ok(
        admin.put(f"/groups/{group['id']}", json={"note": "changed", "follow_up_possible": "new_ticket"})
    )
    assert (renamed["note"], renamed["follow_up_possible"], renamed["name_last"]) == (
        "changed",
        "new_ticket",
        "Sub",
    )
    assert agent.put(f"/groups/{group['id']}", json={"note": "x"}).status_code == 403
    assert _ok(admin.delete(f"/groups/{group['id']}")) == {}
    assert admin.get(f"/groups/{group['id']}").status_code == 404
    referenced = admin.delete("/groups/1")
    assert referenced.status_code == 422
    assert referenced.json()["error"] == "Can't delete, object has references."


def test_object_manager_attribute_index_show_update_and_discard(admin: Api, agent: Api) -> None:
    created = _ok(
        admin.post(
            "/object_manager_attributes",
            json={"name": "ep_flag", "object": "User", "display": "Flag", "data_type": "boolean",
                  "data_option": {"default": False}, "screens": {}},
        ),
        201,
    )  # fmt: skip
    listed = _ok(admin.get("/object_manager_attributes"))
    assert created["id"] in [a["id"] for a in listed]
    shown = _ok(admin.get(f"/object_manager_attributes/{created['id']}"))
    assert (shown["name"], shown["object"], shown["to_create"]) == ("ep_flag", "User", True)
    changed = _ok(admin.put(f"/object_manager_attributes/{created['id']}", json={"display": "Flagged"}))
    assert changed["display"] == "Flagged"
    assert agent.get("/object_manager_attributes").status_code == 403
    # Discarding the pending change drops the never-migrated attribute.
    assert _ok(admin.post("/object_manager_attributes_discard_changes")) == {}
    assert admin.get(f"/object_manager_attributes/{created['id']}").status_code == 404
    assert "ep_flag" not in _ok(admin.get("/users/3"))


def test_article_delete(admin: Api, customer: Api) -> None:
    ticket = _ticket(admin)
    note = _ok(admin.post("/ticket_articles", json={"ticket_id": ticket["id"], "body": "gone soon"}), 201)
    assert customer.delete(f"/ticket_articles/{note['id']}").status_code == 403
    assert _ok(admin.delete(f"/ticket_articles/{note['id']}")) == {}
    assert admin.get(f"/ticket_articles/{note['id']}").status_code == 404
    assert note["id"] not in [a["id"] for a in _ok(admin.get(f"/ticket_articles/by_ticket/{ticket['id']}"))]


def test_attachment_must_belong_to_the_article_and_ticket(admin: Api) -> None:
    data = base64.b64encode(b"hello").decode()
    first = _ticket(
        admin,
        article={
            "body": "a",
            "attachments": [{"filename": "a.txt", "data": data, "mime-type": "text/plain"}],
        },
    )
    second = _ticket(admin)
    article = _ok(admin.get(f"/ticket_articles/by_ticket/{first['id']}"))[0]
    other_article = _ok(admin.get(f"/ticket_articles/by_ticket/{second['id']}"))[0]
    att = article["attachments"][0]["id"]
    raw = admin.get(f"/ticket_attachment/{first['id']}/{article['id']}/{att}")
    assert (raw.status_code, raw.content, raw.headers["Content-Type"]) == (200, b"hello", "text/plain")
    wrong_ticket = admin.get(f"/ticket_attachment/{second['id']}/{article['id']}/{att}")
    assert wrong_ticket.status_code == 403
    assert wrong_ticket.json()["error"] == "The article does not belong to the specified ticket."
    wrong_article = admin.get(f"/ticket_attachment/{second['id']}/{other_article['id']}/{att}")
    assert wrong_article.json()["error"] == "The file does not belong to the specified article."
    assert admin.get(f"/ticket_attachment/{first['id']}/{article['id']}/999999").status_code == 404


def test_nested_time_accounting_routes(admin: Api) -> None:
    ticket = _ticket(admin)
    other = _ticket(admin)
    base = f"/tickets/{ticket['id']}/time_accountings"
    made = _ok(admin.post(base, json={"time_unit": "2.5"}), 201)
    assert made["ticket_id"] == ticket["id"]
    assert _ok(admin.get(f"{base}/{made['id']}"))["time_unit"] == "2.5"
    assert _ok(admin.put(f"{base}/{made['id']}", json={"time_unit": 4}))["time_unit"] == "4.0"
    assert _ok(admin.get(f"/tickets/{ticket['id']}"))["time_unit"] == "4.0"
    # Under another ticket the record does not exist.
    assert admin.get(f"/tickets/{other['id']}/time_accountings/{made['id']}").status_code == 404
    assert _ok(admin.delete(f"{base}/{made['id']}")) == {}
    assert _ok(admin.get(base)) == []
    assert _ok(admin.get(f"/tickets/{ticket['id']}"))["time_unit"] == "0.0"


def test_time_accounting_type_update(admin: Api, agent: Api) -> None:
    kind = _ok(admin.post("/time_accounting/types", json={"name": "ep-type"}), 201)
    assert _ok(admin.put(f"/time_accounting/types/{kind['id']}", json={"active": False}))["active"] is False
    assert _ok(agent.get(f"/time_accounting/types/{kind['id']}"))["name"] == "ep-type"
    assert agent.put(f"/time_accounting/types/{kind['id']}", json={"name": "x"}).status_code == 403
    assert admin.delete(f"/time_accounting/types/{kind['id']}").status_code == 404  # no delete route


def test_online_notification_show_update_delete(emulator: Emulator, admin: Api) -> None:
    # A new ticket in agent1's group notifies agent1 (unassigned tickets are in the default matrix).
    agent = Api.of(emulator, emulator.user_tokens["agent1@example.com"])
    try:
        _ticket(admin)
        note = _ok(agent.get("/online_notifications"))[0]
        assert _ok(agent.get(f"/online_notifications/{note['id']}"))["id"] == note["id"]
        assert _ok(agent.put(f"/online_notifications/{note['id']}", json={"seen": True}))["seen"] is True
        assert admin.get(f"/online_notifications/{note['id']}").status_code == 403  # not the admin's
        assert _ok(agent.delete(f"/online_notifications/{note['id']}")) == {}
        assert agent.get(f"/online_notifications/{note['id']}").status_code == 404
    finally:
        agent.close()


def test_mention_delete_only_own(admin: Api, agent: Api) -> None:
    ticket = _ticket(admin)
    mine = _ok(
        admin.post("/mentions", json={"mentionable_type": "Ticket", "mentionable_id": ticket["id"]}), 201
    )
    assert agent.delete(f"/mentions/{mine['id']}").status_code == 403
    deleted = _ok(admin.delete(f"/mentions/{mine['id']}"))
    assert deleted["id"] == mine["id"]
    listed = _ok(
        admin.get("/mentions", params={"mentionable_type": "Ticket", "mentionable_id": ticket["id"]})
    )
    assert listed == {"mentions": []}
    bad = admin.get("/mentions", params={"mentionable_type": "User", "mentionable_id": 1})
    assert bad.status_code == 500


def test_user_unlock(admin: Api, agent: Api) -> None:
    user = _ok(
        admin.post("/users", json={"firstname": "Locked", "login": "locked@x.test", "password": "pw"}), 201
    )
    assert agent.put(f"/users/unlock/{user['id']}").status_code == 403
    assert _ok(admin.put(f"/users/unlock/{user['id']}")) == {"message": "ok"}
    assert _ok(admin.get(f"/users/{user['id']}"))["login_failed"] == 0


def test_organization_reads_by_role(admin: Api, agent: Api, customer: Api, emulator: Emulator) -> None:
    foreign = _ok(admin.post("/organizations", json={"name": "Foreign Ltd"}), 201)
    assert foreign["id"] in [o["id"] for o in _ok(agent.get("/organizations", params={"per_page": 1000}))]
    assert [o["id"] for o in _ok(customer.get("/organizations"))] == [1]
    assert customer.get(f"/organizations/{foreign['id']}").status_code == 403
    loner = _ok(admin.post("/users", json={"firstname": "Loner", "login": "loner@x.test"}), 201)
    as_loner = {"From": str(loner["id"])}
    assert _ok(admin.get("/organizations", headers=as_loner)) == []
    assert _ok(admin.get(f"/organizations/{foreign['id']}", headers=as_loner)) == {}


def test_user_search_filters(admin: Api) -> None:
    agents = _ok(admin.get("/users/search", params={"query": "*", "role_ids[]": ["2"], "per_page": 500}))
    assert agents
    assert all(2 in u["role_ids"] for u in agents)
    only = _ok(admin.get("/users/search", params={"query": "*", "ids": "2,3"}))
    assert sorted(u["id"] for u in only) == [2, 3]
    full = _ok(
        admin.post("/users/search", json={"query": "*", "group_ids": {"1": ["full"]}, "per_page": 500})
    )
    assert {3, 4} <= {u["id"] for u in full}
    assert all("1" in u["group_ids"] for u in full)
    labels = _ok(admin.get("/organizations/search", params={"query": "Zammad", "label": "true"}))
    assert labels == [{"id": 1, "label": "Zammad Foundation", "value": "Zammad Foundation"}]


def test_global_search_with_the_database_backend() -> None:
    with Emulator(search_backend="database") as z:
        api = Api.of(z)
        try:
            found = _ok(api.get("/search", params={"query": "Welcome"}))
            assert {"type": "Ticket", "id": 1} in found["result"]
            assert "1" in found["assets"]["Ticket"]
            assert _ok(api.get("/search", params={"query": ""})) == {"assets": {}, "result": []}
        finally:
            api.close()
