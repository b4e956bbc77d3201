"""Tickets, articles, attachments, history and merge in the emulator (spec §5.1–§5.3, §6.1, §6.8, §6.10)."""

from __future__ import annotations

import base64
from typing import Any

from zammad_orm.testing import Emulator

from .conftest import Api

TICKET_KEYS = [
    "id",
    "group_id",
    "priority_id",
    "state_id",
    "organization_id",
    "number",
    "title",
    "owner_id",
    "customer_id",
    "note",
    "first_response_at",
    "first_response_escalation_at",
    "first_response_in_min",
    "first_response_diff_in_min",
    "close_at",
    "close_escalation_at",
    "close_in_min",
    "close_diff_in_min",
    "update_escalation_at",
    "update_in_min",
    "update_diff_in_min",
    "last_close_at",
    "last_contact_at",
    "last_contact_agent_at",
    "last_contact_customer_at",
    "last_owner_update_at",
    "create_article_type_id",
    "create_article_sender_id",
    "article_count",
    "escalation_at",
    "pending_time",
    "type",
    "time_unit",
    "preferences",
    "updated_by_id",
    "created_by_id",
    "created_at",
    "updated_at",
]
ARTICLE_KEYS = [
    "id",
    "ticket_id",
    "type_id",
    "sender_id",
    "from",
    "to",
    "cc",
    "subject",
    "reply_to",
    "message_id",
    "message_id_md5",
    "in_reply_to",
    "content_type",
    "references",
    "body",
    "internal",
    "preferences",
    "updated_by_id",
    "created_by_id",
    "origin_by_id",
    "created_at",
    "updated_at",
    "attachments",
    "created_by",
    "updated_by",
    "type",
    "sender",
    "time_unit",
]


def test_welcome_ticket_of_a_fresh_system(admin: Api) -> None:
    ticket = admin.get("/tickets/1").json()
    assert list(ticket) == TICKET_KEYS
    assert ticket["number"] == "67001"
    assert ticket["title"] == "Welcome to Zammad!"
    assert (ticket["customer_id"], ticket["organization_id"], ticket["group_id"]) == (2, 1, 1)
    assert (ticket["create_article_type_id"], ticket["create_article_sender_id"]) == (5, 2)
    assert ticket["created_at"].endswith("Z")
    assert len(ticket["created_at"]) == 24


def test_create_reply_shape_and_defaults(ticket: dict[str, Any], admin: Api) -> None:
    assert list(ticket) == [*TICKET_KEYS, "article_ids", "ticket_time_accounting_ids"]
    assert ticket["state_id"] == 1
    assert ticket["priority_id"] == 2
    assert ticket["owner_id"] == 1
    assert ticket["article_count"] == 1
    assert len(ticket["article_ids"]) == 1
    assert (ticket["create_article_type_id"], ticket["create_article_sender_id"]) == (10, 1)
    assert ticket["updated_at"] > ticket["created_at"]
    assert ticket["time_unit"] is None
    assert ticket["preferences"] == {}
    assert ticket["number"].startswith("67")
    assert ticket["number"] != "67001"
    customer = admin.get(f"/users/{ticket['customer_id']}").json()
    assert customer["login"] == "pytest@localhost.local"
    assert customer["firstname"] == ""
    assert customer["department"] is None
    assert customer["web"] == ""
    assert customer["role_ids"] == [3]


def test_numbers_increase_and_are_never_reused(admin: Api) -> None:
    body = {"title": "n", "group": "Users", "customer_id": 2}
    first = admin.post("/tickets", json=body).json()
    admin.delete(f"/tickets/{first['id']}")
    second = admin.post("/tickets", json=body).json()
    assert int(second["number"]) == int(first["number"]) + 1


def test_plain_get_lacks_id_lists_expand_adds_names(ticket: dict[str, Any], admin: Api) -> None:
    plain = admin.get(f"/tickets/{ticket['id']}").json()
    assert "article_ids" not in plain
    expanded = admin.get(f"/tickets/{ticket['id']}", params={"expand": "true"}).json()
    assert expanded["article_ids"] == ticket["article_ids"]
    assert expanded["group"] == "Users"
    assert expanded["state"] == "new"
    assert expanded["owner"] == "-"
    assert expanded["customer"] == "pytest@localhost.local"
    assert expanded["ticket_time_accounting"] == []
    assert "organization" not in expanded  # null belongs_to is omitted
    assert expanded["create_article_type"] == "note"
    assert expanded["create_article_sender"] == "Agent"


def test_full_form(ticket: dict[str, Any], admin: Api) -> None:
    full = admin.get(f"/tickets/{ticket['id']}", params={"full": "true"}).json()
    assert full["id"] == ticket["id"]
    assert str(ticket["id"]) in full["assets"]["Ticket"]
    assert str(ticket["customer_id"]) in full["assets"]["User"]
    assert "1" in full["assets"]["Group"]


def test_guess_with_invalid_email(admin: Api) -> None:
    reply = admin.post("/tickets", json={"title": "x", "group": "Users", "customer_id": "guess:not-an-email"})
    assert reply.status_code == 422
    assert reply.json() == {"error": "Invalid email 'not-an-email' of customer"}


def test_missing_group_is_422(admin: Api, agent: Api) -> None:
    reply = admin.post("/tickets", json={"title": "x", "customer_id": 2})
    assert reply.status_code == 422
    assert reply.json() == {"error": "Missing required value for field 'group_id'!"}
    masked = agent.post("/tickets", json={"title": "x", "customer_id": 2}).json()
    assert masked["error"].startswith("Error ID ")
    assert "error_human" not in masked


def test_update_with_article(ticket: dict[str, Any], admin: Api) -> None:
    reply = admin.put(f"/tickets/{ticket['id']}", json={"article": {"body": "new article", "internal": True}})
    assert reply.status_code == 200
    updated = reply.json()
    assert updated["article_count"] == 2
    assert len(updated["article_ids"]) == 2
    assert updated["updated_at"] > ticket["updated_at"]


def test_update_by_name_and_state_side_effects(ticket: dict[str, Any], admin: Api) -> None:
    tid = ticket["id"]
    updated = admin.put(
        f"/tickets/{tid}", json={"state": "closed", "priority": "3 high", "title": "a\tb"}
    ).json()
    assert (updated["state_id"], updated["priority_id"], updated["title"]) == (4, 3, "a b")
    assert updated["close_at"] is not None
    assert updated["last_close_at"] is not None
    pending = admin.put(f"/tickets/{tid}", json={"state": "pending reminder"})
    assert pending.status_code == 422
    pending = admin.put(
        f"/tickets/{tid}", json={"state": "pending reminder", "pending_time": "2030-01-01T00:00:00Z"}
    )
    assert pending.json()["pending_time"] == "2030-01-01T00:00:00Z"
    reopened = admin.put(f"/tickets/{tid}", json={"state": "open"}).json()
    assert reopened["pending_time"] is None


def test_owner_and_preferences_merge(ticket: dict[str, Any], admin: Api) -> None:
    tid = ticket["id"]
    updated = admin.put(
        f"/tickets/{tid}", json={"owner": "agent1@example.com", "preferences": {"a": 1}}
    ).json()
    assert updated["owner_id"] == 4
    assert updated["last_owner_update_at"] is not None
    updated = admin.put(f"/tickets/{tid}", json={"preferences": {"b": 2}}).json()
    assert updated["preferences"] == {"a": 1, "b": 2}
    # A customer (not an agent) is no valid owner: Zammad falls back to user 1.
    updated = admin.put(f"/tickets/{tid}", json={"owner_id": 2}).json()
    assert updated["owner_id"] == 1


def test_customer_counters_and_touch(admin: Api) -> None:
    user = admin.post("/users", json={"firstname": "Counter", "email": "counter@example.com"}).json()
    ticket = admin.post("/tickets", json={"title": "c", "group": "Users", "customer_id": user["id"]}).json()
    after = admin.get(f"/users/{user['id']}").json()
    assert after["preferences"]["tickets_open"] == 1
    assert after["updated_at"] > user["updated_at"]
    admin.put(f"/tickets/{ticket['id']}", json={"state": "closed"})
    closed = admin.get(f"/users/{user['id']}").json()["preferences"]
    assert (closed["tickets_open"], closed["tickets_closed"]) == (0, 1)


def test_delete_is_admin_only_and_answers_empty_html(ticket: dict[str, Any], admin: Api, agent: Api) -> None:
    assert agent.delete(f"/tickets/{ticket['id']}").status_code == 403
    reply = admin.delete(f"/tickets/{ticket['id']}")
    assert reply.status_code == 200
    assert reply.content == b""
    assert reply.headers["Content-Type"].startswith("text/html")
    assert admin.get(f"/tickets/{ticket['id']}").status_code == 404
    assert admin.get(f"/ticket_articles/{ticket['article_ids'][0]}").status_code == 404


def test_index_pagination(admin: Api) -> None:
    page = admin.get("/tickets", params={"page": 1, "per_page": 2}).json()
    assert [t["id"] for t in page] == sorted(t["id"] for t in page)
    assert len(page) == 2
    assert "article_ids" not in page[0]
    assert admin.get("/tickets", params={"page": 1000, "per_page": 10}).json() == []
    assert admin.get("/tickets", params={"per_page": 0}).json() == []
    for _ in range(3):
        admin.post("/tickets", json={"title": "p", "group": "Users", "customer_id": 2})
    total = len(admin.get("/tickets", params={"per_page": 100}).json())
    assert len(admin.get("/tickets", params={"per_page": 500}).json()) == total <= 100
    negative = admin.get("/tickets", params={"page": 0})
    assert negative.status_code == 422


def test_customer_sees_only_own_and_shared_org_tickets(admin: Api, customer: Api) -> None:
    own = admin.post("/tickets", json={"title": "nicole", "group": "Users", "customer_id": 2}).json()
    other = admin.post(
        "/tickets", json={"title": "else", "group": "Users", "customer_id": "guess:else@example.com"}
    ).json()
    ids = {t["id"] for t in customer.get("/tickets", params={"per_page": 100}).json()}
    assert own["id"] in ids
    assert 1 in ids
    assert other["id"] not in ids
    assert customer.get(f"/tickets/{other['id']}").status_code == 403
    assert customer.get(f"/tickets/{other['id']}").json()["error"] == "Not authorized"
    # A colleague of the same shared organization sees Nicole's ticket.
    colleague = admin.post(
        "/users",
        json={"firstname": "Col", "email": "col@example.com", "organization_id": 1, "password": "pw"},
    ).json()
    seen = admin.get(f"/tickets/{own['id']}", headers={"From": str(colleague["id"])})
    assert seen.status_code == 200


def test_customer_creates_tickets_for_themselves(customer: Api) -> None:
    reply = customer.post(
        "/tickets",
        json={
            "title": "mine",
            "group": "Users",
            "customer_id": 3,
            "article": {"body": "x", "internal": True},
        },
    )
    assert reply.status_code == 201
    created = reply.json()
    assert created["customer_id"] == 2
    assert created["create_article_sender_id"] == 2
    article = customer.get(f"/ticket_articles/{created['article_ids'][0]}").json()
    assert article["internal"] is False
    assert article["sender"] == "Customer"


def test_agent_without_group_access_is_denied(emulator: Emulator, admin: Api, agent: Api) -> None:
    group = admin.post("/groups", json={"name": "Secret group"}).json()
    created = admin.post(
        "/users",
        json={
            "firstname": "A",
            "email": "a2@example.com",
            "role_ids": [2],
            "group_ids": {str(group["id"]): ["full"]},
        },
    ).json()
    # The admin has no access to the new group either; the new agent creates the ticket.
    denied = admin.post("/tickets", json={"title": "secret", "group_id": group["id"], "customer_id": 2})
    assert denied.status_code == 403
    ticket = admin.post(
        "/tickets",
        headers={"From": str(created["id"])},
        json={"title": "secret", "group_id": group["id"], "customer_id": 2, "owner_id": created["id"]},
    ).json()
    assert ticket["owner_id"] == created["id"]
    assert agent.get(f"/tickets/{ticket['id']}").status_code == 403
    assert ticket["id"] not in {t["id"] for t in agent.get("/tickets", params={"per_page": 100}).json()}


def test_articles(ticket: dict[str, Any], admin: Api, customer: Api) -> None:
    data = base64.b64encode("Mogę jeść szkło, i mi nie szkodzi.".encode()).decode()
    reply = admin.post(
        "/ticket_articles",
        json={
            "ticket_id": ticket["id"],
            "body": "pytest article",
            "type": "note",
            "internal": True,
            "attachments": [
                {"filename": "attachment.txt", "data": data, "mime-type": "text/plain"},
                {
                    "filename": "b.bin",
                    "data": base64.b64encode(bytes(range(256))).decode(),
                    "mime-type": "application/octet-stream",
                },
            ],
        },
    )
    assert reply.status_code == 201
    article = reply.json()
    assert list(article) == ARTICLE_KEYS
    assert article["from"] == "Admin Example"
    assert article["type"] == "note"
    assert article["sender"] == "Agent"
    assert article["attachments"][0]["size"] == "38"
    assert article["attachments"][0]["preferences"] == {"Mime-Type": "text/plain"}
    listed = admin.get(f"/ticket_articles/by_ticket/{ticket['id']}").json()
    assert [a["id"] for a in listed] == [*ticket["article_ids"], article["id"]]
    binary = admin.get(f"/ticket_attachment/{ticket['id']}/{article['id']}/{article['attachments'][1]['id']}")
    assert binary.content == bytes(range(256))
    assert binary.headers["Content-Type"] == "application/octet-stream"
    assert 'filename="b.bin"' in binary.headers["Content-Disposition"]
    wrong = admin.get(f"/ticket_attachment/1/{article['id']}/{article['attachments'][1]['id']}")
    assert wrong.status_code == 403


def test_identical_attachments_share_a_store_file(ticket: dict[str, Any], admin: Api) -> None:
    att = {"filename": "same.txt", "data": base64.b64encode(b"same").decode(), "mime-type": "text/plain"}
    one = admin.post(
        "/ticket_articles", json={"ticket_id": ticket["id"], "body": "1", "attachments": [att]}
    ).json()
    two = admin.post(
        "/ticket_articles", json={"ticket_id": ticket["id"], "body": "2", "attachments": [att]}
    ).json()
    assert one["attachments"][0]["store_file_id"] == two["attachments"][0]["store_file_id"]
    assert one["attachments"][0]["id"] != two["attachments"][0]["id"]


def test_article_validation(ticket: dict[str, Any], admin: Api) -> None:
    reply = admin.post("/ticket_articles", json={"ticket_id": ticket["id"]})
    assert reply.json()["error"] == "Need at least an 'article body' field."
    reply = admin.post(
        "/ticket_articles", json={"ticket_id": ticket["id"], "body": "x", "attachments": [{"data": "AA=="}]}
    )
    assert reply.status_code == 422
    assert reply.json()["error"] == "Attachment needs 'filename' param for attachment with index '0'"
    reply = admin.post(
        "/ticket_articles",
        json={
            "ticket_id": ticket["id"],
            "body": "x",
            "attachments": [{"filename": "a", "data": "***", "mime-type": "text/plain"}],
        },
    )
    assert reply.json()["error"] == "Invalid base64 for attachment with index '0'"


def test_article_update_changes_only_internal(ticket: dict[str, Any], admin: Api) -> None:
    aid = ticket["article_ids"][0]
    updated = admin.put(f"/ticket_articles/{aid}", json={"internal": True, "body": "ignored"}).json()
    assert updated["internal"] is True
    assert updated["body"] == "..."


def test_internal_articles_are_hidden_from_customers(admin: Api, customer: Api) -> None:
    ticket = admin.post(
        "/tickets", json={"title": "t", "group": "Users", "customer_id": 2, "article": {"body": "public"}}
    ).json()
    admin.post("/ticket_articles", json={"ticket_id": ticket["id"], "body": "secret", "internal": True})
    bodies = [a["body"] for a in customer.get(f"/ticket_articles/by_ticket/{ticket['id']}").json()]
    assert bodies == ["public"]


def test_history(ticket: dict[str, Any], admin: Api) -> None:
    reply = admin.get(f"/ticket_history/{ticket['id']}").json()
    entries = reply["history"]
    assert [(e["object"], e["type"]) for e in entries] == [
        ("Ticket", "created"),
        ("Ticket::Article", "created"),
    ]
    assert "related_history_object_id" in entries[0]
    assert "related_o_id" not in entries[0]
    assert entries[1]["related_o_id"] == ticket["id"]
    assert entries[1]["related_object"] == "Ticket"
    assert str(ticket["id"]) in reply["assets"]["Ticket"]
    assert "type" not in reply["assets"]["TicketArticle"][str(ticket["article_ids"][0])]


def test_merge(admin: Api) -> None:
    body = {"title": "m", "group": "Users", "customer_id": 2, "article": {"body": "b"}}
    target = admin.post("/tickets", json=body).json()
    source = admin.post("/tickets", json=body).json()
    reply = admin.put(f"/ticket_merge/{source['id']}/{target['number']}").json()
    assert reply["result"] == "success"
    assert reply["source_ticket"]["state_id"] == 5
    assert "article_ids" not in reply["source_ticket"]
    after_source = admin.get(f"/tickets/{source['id']}", params={"expand": "true"}).json()
    after_target = admin.get(f"/tickets/{target['id']}", params={"expand": "true"}).json()
    assert after_source["state"] == "merged"
    assert after_source["owner_id"] == 1
    assert after_source["preferences"] == {"escalation_calculation": {"escalation_disabled": True}}
    assert source["article_ids"][0] in after_target["article_ids"]
    merged_note = admin.get(f"/ticket_articles/{after_source['article_ids'][0]}").json()
    assert merged_note["body"] == "merged"
    links_target = admin.get(
        "/links", params={"link_object": "Ticket", "link_object_value": target["id"]}
    ).json()
    assert links_target["links"] == [
        {"link_type": "child", "link_object": "Ticket", "link_object_value": source["id"]}
    ]
    links_source = admin.get(
        "/links", params={"link_object": "Ticket", "link_object_value": source["id"]}
    ).json()
    assert links_source["links"][0]["link_type"] == "parent"
    assert after_target["updated_by_id"] == 1


def test_merge_errors(admin: Api) -> None:
    body = {"title": "m", "group": "Users", "customer_id": 2}
    one = admin.post("/tickets", json=body).json()
    two = admin.post("/tickets", json=body).json()
    assert admin.put(f"/ticket_merge/{one['id']}/00000").json() == {
        "result": "failed",
        "message": "The target ticket number could not be found.",
    }
    assert admin.put(f"/ticket_merge/99999999/{one['number']}").json()["message"] == (
        "The source ticket could not be found."
    )
    same = admin.put(f"/ticket_merge/{one['id']}/{one['number']}")
    assert same.status_code == 422
    assert same.json()["error"] == "A ticket cannot be merged into itself."
    admin.put(f"/ticket_merge/{one['id']}/{two['number']}")
    into_merged = admin.put(f"/ticket_merge/{two['id']}/{one['number']}")
    assert into_merged.json()["error"] == "It is not possible to merge into an already merged ticket."


def test_customer_cannot_follow_up_closed_ticket_of_new_ticket_group(admin: Api, customer: Api) -> None:
    group = admin.post("/groups", json={"name": "No follow-ups", "follow_up_possible": "new_ticket"}).json()
    worker = admin.post(
        "/users", json={"firstname": "W", "role_ids": [2], "group_ids": {str(group["id"]): ["full"]}}
    ).json()
    as_worker = {"From": str(worker["id"])}
    ticket = admin.post(
        "/tickets", headers=as_worker, json={"title": "f", "group_id": group["id"], "customer_id": 2}
    ).json()
    assert customer.put(f"/tickets/{ticket['id']}", json={"title": "still open"}).status_code == 200
    admin.put(f"/tickets/{ticket['id']}", headers=as_worker, json={"state": "closed"})
    reply = customer.post("/ticket_articles", json={"ticket_id": ticket["id"], "body": "again"})
    assert reply.status_code == 422
    assert reply.json()["error"] == "Cannot follow-up on a closed ticket. Please create a new ticket."
    agent_reply = admin.post(
        "/ticket_articles", headers=as_worker, json={"ticket_id": ticket["id"], "body": "agent"}
    )
    assert agent_reply.status_code == 201


def test_all_bundle_and_plain_email(ticket: dict[str, Any], admin: Api) -> None:
    tid = ticket["id"]
    admin.post("/tags/add", json={"item": "bundle", "object": "Ticket", "o_id": tid})
    email = admin.post(
        "/ticket_articles",
        json={"ticket_id": tid, "body": "Hello", "type": "email", "to": "c@example.com", "subject": "Re"},
    ).json()
    bundle = admin.get(f"/tickets/{tid}", params={"all": "true"}).json()
    assert bundle["ticket_id"] == tid
    assert bundle["ticket_article_ids"] == [*ticket["article_ids"], email["id"]]
    assert bundle["tags"] == ["bundle"]
    assert bundle["links"] == []
    assert bundle["mentions"] == []
    assert str(email["id"]) in bundle["assets"]["TicketArticle"]
    raw = admin.get(f"/ticket_article_plain/{email['id']}")
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert b"Subject: Re" in raw.content
    assert raw.content.endswith(b"Hello")
    assert admin.get(f"/ticket_article_plain/{ticket['article_ids'][0]}").status_code == 404


def test_ids_are_never_reused(admin: Api) -> None:
    body = {"title": "reuse", "group": "Users", "customer_id": 2, "article": {"body": "b"}}
    first = admin.post("/tickets", json=body).json()
    admin.delete(f"/tickets/{first['id']}")
    second = admin.post("/tickets", json=body).json()
    assert second["id"] > first["id"]
    assert second["article_ids"][0] > first["article_ids"][0]


def test_changing_the_customer_changes_the_organization(admin: Api) -> None:
    ticket = admin.post("/tickets", json={"title": "o", "group": "Users", "customer_id": 2}).json()
    assert ticket["organization_id"] == 1
    loner = admin.post("/users", json={"firstname": "Loner"}).json()
    moved = admin.put(f"/tickets/{ticket['id']}", json={"customer_id": loner["id"]}).json()
    assert (moved["customer_id"], moved["organization_id"]) == (loner["id"], None)


def test_update_history_and_no_op_updates(ticket: dict[str, Any], admin: Api) -> None:
    tid = ticket["id"]
    unchanged = admin.put(f"/tickets/{tid}", json={"title": ticket["title"]}).json()
    assert unchanged["updated_at"] == ticket["updated_at"]
    admin.put(f"/tickets/{tid}", json={"state": "open"})
    entries = admin.get(f"/ticket_history/{tid}").json()["history"]
    change = [e for e in entries if e["type"] == "updated"][-1]
    assert (change["attribute"], change["value_from"], change["value_to"]) == ("state", "new", "open")
    assert (change["id_from"], change["id_to"]) == (1, 2)
