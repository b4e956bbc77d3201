"""Tags, links, time accounting, online notifications, mentions and custom object attributes."""

from __future__ import annotations

from typing import Any

from .conftest import Api


def _new_ticket(admin: Api, **extra: Any) -> dict[str, Any]:
    body = {"title": "rel", "group": "Users", "customer_id": 2, "article": {"body": "b"}, **extra}
    reply = admin.post("/tickets", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def _tags(admin: Api, ticket_id: int) -> list[str]:
    return admin.get("/tags", params={"object": "Ticket", "o_id": ticket_id}).json()["tags"]  # type: ignore[no-any-return]


def test_ticket_tags(admin: Api) -> None:
    ticket = _new_ticket(admin)
    tid = ticket["id"]
    assert _tags(admin, tid) == []
    add = admin.post("/tags/add", json={"item": "__pytest__", "object": "Ticket", "o_id": tid})
    assert add.status_code == 201
    assert add.json() is True
    admin.post("/tags/add", json={"item": "__tag__", "object": "Ticket", "o_id": tid})
    admin.post("/tags/add", json={"item": "__PYTEST__", "object": "Ticket", "o_id": tid})  # no-op
    assert _tags(admin, tid) == ["__pytest__", "__tag__"]
    touched = admin.get(f"/tickets/{tid}").json()["updated_at"]
    assert touched > ticket["updated_at"]
    remove = admin.delete("/tags/remove", json={"item": "__tag__", "object": "Ticket", "o_id": tid})
    assert remove.status_code == 200
    assert remove.json() is True
    assert (
        admin.delete("/tags/remove", json={"item": "unknown", "object": "Ticket", "o_id": tid}).json() is True
    )
    assert _tags(admin, tid) == ["__pytest__"]


def test_tags_on_create(admin: Api) -> None:
    ticket = _new_ticket(admin, tags="alpha, beta")
    assert _tags(admin, ticket["id"]) == ["alpha", "beta"]


def test_tag_list_and_search(admin: Api) -> None:
    assert admin.post("/tag_list?name=footag").json() == {}
    assert admin.post("/tag_list", json={"name": "baztag"}).json() == {}
    admin.post("/tag_list", json={"name": "footag"})  # idempotent
    listing = admin.get("/tag_list").json()
    names = [t["name"] for t in listing]
    assert names == sorted(names)
    assert names.count("footag") == 1
    assert {"id", "name", "count"} == set(listing[0])
    found = admin.get("/tag_search", params={"term": "tag"}).json()
    values = [t["value"] for t in found]
    assert values == sorted(values)
    assert [v for v in values if v in ("baztag", "footag")] == ["baztag", "footag"]
    assert set(found[0]) == {"id", "value"}


def test_tag_rename_merge_and_delete(admin: Api) -> None:
    ticket = _new_ticket(admin, tags="old-name,keep")
    items = {t["name"]: t for t in admin.get("/tag_list").json()}
    assert items["old-name"]["count"] >= 1
    assert admin.put(f"/tag_list/{items['old-name']['id']}", json={"name": "keep"}).json() == {}
    assert _tags(admin, ticket["id"]) == ["keep"]
    keep = {t["name"]: t for t in admin.get("/tag_list").json()}["keep"]
    assert admin.delete(f"/tag_list/{keep['id']}").json() == {}
    assert _tags(admin, ticket["id"]) == []
    assert admin.get("/tag_search", params={"term": "keep"}).json() == []
    assert admin.delete("/tag_list/999999").status_code == 404


def test_links_normal(admin: Api) -> None:
    one, two = _new_ticket(admin), _new_ticket(admin)
    reply = admin.post(
        "/links/add",
        json={
            "link_type": "normal",
            "link_object_target": "Ticket",
            "link_object_target_value": two["id"],
            "link_object_source": "Ticket",
            "link_object_source_number": one["number"],
        },
    )
    assert reply.status_code == 201
    link = reply.json()
    assert (link["link_type_id"], link["link_object_source_value"], link["link_object_target_value"]) == (
        1,
        one["id"],
        two["id"],
    )
    listed = admin.get("/links", params={"link_object": "Ticket", "link_object_value": one["id"]}).json()
    assert listed["links"] == [
        {"link_type": "normal", "link_object": "Ticket", "link_object_value": two["id"]}
    ]
    assert str(two["id"]) in listed["assets"]["Ticket"]
    assert admin.get(f"/tickets/{two['id']}").json()["updated_at"] > two["updated_at"]
    removed = admin.delete(
        "/links/remove",
        json={
            "link_type": "normal",
            "link_object_target": "Ticket",
            "link_object_target_value": one["id"],
            "link_object_source": "Ticket",
            "link_object_source_value": two["id"],
        },
    )
    assert removed.status_code == 201
    assert [r["id"] for r in removed.json()] == [link["id"]]
    assert admin.get("/links", params={"link_object": "Ticket", "link_object_value": one["id"]}).json() == {
        "links": [],
        "assets": {},
    }


def test_links_parent_child_mirroring(admin: Api) -> None:
    parent, child = _new_ticket(admin), _new_ticket(admin)
    admin.post(
        "/links/add",
        json={
            "link_type": "parent",
            "link_object_target": "Ticket",
            "link_object_target_value": child["id"],
            "link_object_source": "Ticket",
            "link_object_source_number": parent["number"],
        },
    )
    of_parent = admin.get(
        "/links", params={"link_object": "Ticket", "link_object_value": parent["id"]}
    ).json()
    of_child = admin.get("/links", params={"link_object": "Ticket", "link_object_value": child["id"]}).json()
    assert of_parent["links"][0]["link_type"] == "child"
    assert of_child["links"][0] == {
        "link_type": "parent",
        "link_object": "Ticket",
        "link_object_value": parent["id"],
    }
    removed = admin.delete(
        "/links/remove",
        json={
            "link_type": "child",
            "link_object_target": "Ticket",
            "link_object_target_value": parent["id"],
            "link_object_source": "Ticket",
            "link_object_source_value": child["id"],
        },
    ).json()
    assert len(removed) == 1
    assert (
        admin.get("/links", params={"link_object": "Ticket", "link_object_value": child["id"]}).json()[
            "links"
        ]
        == []
    )


def test_link_with_unknown_source(admin: Api) -> None:
    reply = admin.post(
        "/links/add",
        json={
            "link_type": "normal",
            "link_object_target": "Ticket",
            "link_object_target_value": 1,
            "link_object_source": "Ticket",
            "link_object_source_number": "00000",
        },
    )
    assert reply.status_code == 422
    assert reply.json() == {"error": "No such object!"}


def test_time_accounting_recompute(admin: Api) -> None:
    ticket = _new_ticket(admin)
    tid = ticket["id"]
    assert admin.get(f"/tickets/{tid}/time_accountings").json() == []
    reply = admin.post("/time_accountings", json={"ticket_id": tid, "time_unit": "12.3"})
    assert reply.status_code == 201
    entry = reply.json()
    assert list(entry) == [
        "id",
        "ticket_id",
        "ticket_article_id",
        "time_unit",
        "type_id",
        "created_by_id",
        "created_at",
        "updated_at",
    ]
    assert (entry["time_unit"], entry["type_id"], entry["ticket_article_id"]) == ("12.3", None, None)
    after = admin.get(f"/tickets/{tid}").json()
    assert after["time_unit"] == "12.3"
    assert after["updated_at"] > ticket["updated_at"]
    nested = admin.post(f"/tickets/{tid}/time_accountings", json={"time_unit": 1}).json()
    assert nested["time_unit"] == "1.0"
    assert admin.get(f"/tickets/{tid}").json()["time_unit"] == "13.3"
    assert (
        admin.put(f"/time_accountings/{entry['id']}", json={"time_unit": "2.34"}).json()["time_unit"]
        == "2.34"
    )
    assert admin.get(f"/tickets/{tid}").json()["time_unit"] == "3.34"
    assert admin.delete(f"/time_accountings/{entry['id']}").json() == {}
    assert admin.delete(f"/tickets/{tid}/time_accountings/{nested['id']}").json() == {}
    assert admin.get(f"/tickets/{tid}").json()["time_unit"] == "0.0"
    assert admin.get(f"/tickets/{tid}?expand=true").json()["ticket_time_accounting_ids"] == []


def test_time_accounting_via_article_and_types(admin: Api) -> None:
    ticket = _new_ticket(admin)
    kind = admin.post(
        "/time_accounting/types", json={"name": "_accounting_type_test", "note": None, "active": True}
    )
    assert kind.status_code == 201
    type_id = kind.json()["id"]
    article = admin.post(
        "/ticket_articles",
        json={"ticket_id": ticket["id"], "body": "x", "internal": True, "time_unit": "1.23"},
    ).json()
    assert article["time_unit"] == "1.23"
    entries = admin.get(f"/tickets/{ticket['id']}/time_accountings").json()
    assert [(e["ticket_article_id"], e["time_unit"]) for e in entries] == [(article["id"], "1.23")]
    updated = admin.put(
        f"/time_accountings/{entries[0]['id']}", json={"type": "_accounting_type_test"}
    ).json()
    assert updated["type_id"] == type_id
    assert admin.get(f"/ticket_articles/{article['id']}").json()["time_unit"] == "1.23"
    bad = admin.put(f"/time_accountings/{entries[0]['id']}", json={"type": "nope"})
    assert bad.json()["error"] == "No lookup value found for 'type': \"nope\""
    types = admin.get("/time_accounting/types", params={"page": 1, "per_page": 10}).json()
    assert "_accounting_type_test" in [t["name"] for t in types]


def test_online_notifications(admin: Api, agent: Api) -> None:
    # The agent updates a ticket the admin owns: the admin gets a notification.
    ticket = _new_ticket(admin, owner="admin@example.com")
    agent.put(f"/tickets/{ticket['id']}", json={"title": "changed by agent"})
    notes = admin.get("/online_notifications", params={"expand": "true"}).json()
    mine = [n for n in notes if n["o_id"] == ticket["id"]]
    assert mine
    assert mine[0]["type"] == "update"
    assert mine[0]["object"] == "Ticket"
    assert mine[0]["user"] == "admin@example.com"
    assert mine[0]["created_by"] == "agent1@example.com"
    assert admin.put(f"/online_notifications/{mine[0]['id']}", json={"seen": True}).json()["seen"] is True
    assert agent.get(f"/online_notifications/{mine[0]['id']}").status_code == 403
    assert admin.post("/online_notifications/mark_all_as_read").json() == {}
    assert all(n["seen"] for n in admin.get("/online_notifications").json())
    assert admin.delete(f"/online_notifications/{mine[0]['id']}").json() == {}


def test_mentions(admin: Api) -> None:
    ticket = _new_ticket(admin)
    params = {"mentionable_type": "Ticket", "mentionable_id": ticket["id"]}
    created = admin.post("/mentions", json=params)
    assert created.status_code == 201
    mention = created.json()
    assert mention["user_id"] == 3
    listed = admin.get("/mentions", params=params).json()
    assert [m["id"] for m in listed["mentions"]] == [mention["id"]]
    assert admin.post("/mentions", json=params).status_code == 422
    assert admin.delete(f"/mentions/{mention['id']}").json()["id"] == mention["id"]
    assert admin.get("/mentions", params=params).json() == {"mentions": []}
    invalid = admin.get("/mentions", params={"mentionable_type": "User", "mentionable_id": 1})
    assert invalid.status_code == 500


def test_custom_object_attributes(admin: Api) -> None:
    reply = admin.post(
        "/object_manager_attributes",
        json={
            "name": "customer_tier",
            "object": "Ticket",
            "display": "Tier",
            "data_type": "select",
            "data_option": {"options": {"gold": "Gold", "silver": "Silver"}, "default": ""},
            "screens": {},
        },
    )
    assert reply.status_code == 201
    attribute = reply.json()
    assert attribute["to_create"] is True
    assert "customer_tier" not in admin.get("/tickets/1").json()  # not before the migration
    assert admin.post("/object_manager_attributes_execute_migrations").json() == {}
    assert admin.get("/tickets/1").json()["customer_tier"] is None
    ticket = _new_ticket(admin, customer_tier="gold")
    assert ticket["customer_tier"] == "gold"
    assert (
        admin.put(f"/tickets/{ticket['id']}", json={"customer_tier": "silver"}).json()["customer_tier"]
        == "silver"
    )
    found = admin.get("/tickets/search", params={"query": "customer_tier:silver"}).json()
    assert found["tickets"] == [ticket["id"]]
    admin.delete(f"/object_manager_attributes/{attribute['id']}")
    admin.post("/object_manager_attributes_execute_migrations")
    assert "customer_tier" not in admin.get("/tickets/1").json()


def test_links_and_mentions_given_on_create(admin: Api) -> None:
    parent = _new_ticket(admin)
    child = _new_ticket(admin, links={"Ticket": {"parent": [parent["id"]]}}, mentions=[4])
    of_child = admin.get("/links", params={"link_object": "Ticket", "link_object_value": child["id"]}).json()
    assert of_child["links"] == [
        {"link_type": "parent", "link_object": "Ticket", "link_object_value": parent["id"]}
    ]
    mentions = admin.get(
        "/mentions", params={"mentionable_type": "Ticket", "mentionable_id": child["id"]}
    ).json()
    assert [m["user_id"] for m in mentions["mentions"]] == [4]
