"""Checklists (Zammad 6.4+, spec §5.15): routes, ticket fields, references, templates, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api


class Server:
    """A 6.5 emulator with admin, agent and customer sessions."""

    def __init__(self, z: Emulator) -> None:
        self.admin = Api.of(z)
        self.agent = Api.of(z, z.user_tokens["agent1@example.com"])
        self.customer = Api.of(z, z.user_tokens["nicole.braun@zammad.org"])

    def ticket(self, title: str = "with checklist", **extra: Any) -> dict[str, Any]:
        reply = self.admin.post(
            "/tickets", json={"title": title, "group": "Users", "customer_id": 2, **extra}
        )
        assert reply.status_code == 201, reply.text
        return reply.json()  # type: ignore[no-any-return]

    def checklist(self, ticket_id: int, **extra: Any) -> dict[str, Any]:
        reply = self.admin.post("/checklists", json={"ticket_id": ticket_id, **extra})
        assert reply.status_code == 201, reply.text
        return reply.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Emulator(zammad_version="6.5") as z:
        data = Server(z)
        yield data
        for api in (data.admin, data.agent, data.customer):
            api.close()


def test_a_62_server_has_no_checklists(admin: Api) -> None:
    reply = admin.post("/checklists", json={"ticket_id": 1})
    assert reply.status_code == 404
    assert reply.json()["error"] == "No route matches [POST] /api/v1/checklists"
    assert "checklist_id" not in admin.get("/tickets/1").json()
    assert "referencing_checklist_ids" not in admin.put("/tickets/1", json={}).json()


def test_tickets_carry_checklist_fields_from_64(server: Server) -> None:
    ticket = server.ticket()
    assert ticket["checklist_id"] is None
    assert ticket["referencing_checklist_ids"] == []
    assert server.admin.get(f"/tickets/{ticket['id']}").json()["checklist_id"] is None


def test_create_a_fresh_checklist(server: Server) -> None:
    ticket = server.ticket()
    created = server.checklist(ticket["id"])
    checklist = created["assets"]["Checklist"][str(created["id"])]
    assert checklist["name"] == ""
    assert len(checklist["item_ids"]) == 1
    assert checklist["sorted_item_ids"] == [str(checklist["item_ids"][0])]
    item = created["assets"]["ChecklistItem"][str(checklist["item_ids"][0])]
    assert set(item) == {
        "id", "text", "checked", "checklist_id", "ticket_id",
        "updated_by_id", "created_by_id", "created_at", "updated_at",
    }  # fmt: skip
    assert (item["text"], item["checked"], item["ticket_id"]) == ("", False, None)
    after = server.admin.get(f"/tickets/{ticket['id']}").json()
    assert after["checklist_id"] == created["id"]
    assert after["updated_at"] > ticket["updated_at"]
    shown = server.admin.get(f"/checklists/{created['id']}").json()
    assert shown == checklist
    full = server.admin.get(f"/checklists/{created['id']}", params={"full": "true"}).json()
    assert full["id"] == created["id"]
    assert set(full["assets"]) == {"Checklist", "ChecklistItem"}


def test_items_crud_keeps_the_order_and_touches_the_ticket(server: Server) -> None:
    ticket = server.ticket()
    checklist_id = server.checklist(ticket["id"])["id"]
    added = server.admin.post("/checklist_items", json={"checklist_id": checklist_id, "text": "call back"})
    assert added.status_code == 201
    item = added.json()
    assert item["checklist_id"] == checklist_id
    before = server.admin.get(f"/tickets/{ticket['id']}").json()["updated_at"]
    checked = server.admin.request("PATCH", f"/checklist_items/{item['id']}", json={"checked": True}).json()
    assert checked["checked"] is True
    assert server.admin.get(f"/tickets/{ticket['id']}").json()["updated_at"] > before
    assert server.admin.get(f"/checklist_items/{item['id']}").json()["checked"] is True
    checklist = server.admin.get(f"/checklists/{checklist_id}").json()
    first = checklist["item_ids"][0]
    assert checklist["sorted_item_ids"] == [str(first), str(item["id"])]
    reordered = server.admin.put(
        f"/checklists/{checklist_id}", json={"name": "Steps", "sorted_item_ids": [item["id"], first]}
    ).json()
    assert (reordered["name"], reordered["sorted_item_ids"]) == ("Steps", [str(item["id"]), str(first)])
    assert server.admin.delete(f"/checklist_items/{item['id']}").json() == {}
    assert server.admin.get(f"/checklist_items/{item['id']}").status_code == 404
    assert server.admin.get(f"/checklists/{checklist_id}").json()["sorted_item_ids"] == [str(first)]


def test_an_item_naming_a_ticket_references_it(server: Server) -> None:
    owner = server.ticket("owner")
    other = server.ticket("referenced", state="closed")
    checklist_id = server.checklist(owner["id"])["id"]
    item = server.admin.post(
        "/checklist_items", json={"checklist_id": checklist_id, "text": f"Ticket#{other['number']}"}
    ).json()
    assert item["ticket_id"] == other["id"]
    assert item["checked"] is True  # the referenced ticket is closed
    assert server.admin.put(f"/tickets/{other['id']}", json={}).json()["referencing_checklist_ids"] == [
        checklist_id
    ]
    loop = server.admin.post("/checklist_items", json={"checklist_id": checklist_id, "text": owner["number"]})
    assert loop.status_code == 422
    assert loop.json()["error"] == "Ticket reference must not be the checklist ticket."
    # Deleting the referenced ticket drops the reference; deleting the owner drops the checklist.
    server.admin.delete(f"/tickets/{other['id']}")
    assert server.admin.get(f"/checklist_items/{item['id']}").json()["ticket_id"] is None
    server.admin.delete(f"/tickets/{owner['id']}")
    assert server.admin.get(f"/checklists/{checklist_id}").status_code == 404


def test_templates(server: Server) -> None:
    created = server.admin.post(
        "/checklist_templates", json={"name": "Onboarding", "items": ["account", "", "laptop"]}
    )
    assert created.status_code == 201
    template = created.json()
    assert (template["name"], template["active"], len(template["item_ids"])) == ("Onboarding", True, 2)
    assert [t["id"] for t in server.agent.get("/checklist_templates").json()] == [template["id"]]
    ticket = server.ticket()
    made = server.checklist(ticket["id"], template_id=template["id"])
    checklist = made["assets"]["Checklist"][str(made["id"])]
    assert checklist["name"] == "Onboarding"
    texts = [made["assets"]["ChecklistItem"][i]["text"] for i in checklist["sorted_item_ids"]]
    assert texts == ["account", "laptop"]
    server.admin.put(f"/checklist_templates/{template['id']}", json={"active": False})
    inactive = server.admin.post(
        "/checklists", json={"ticket_id": ticket["id"], "template_id": template["id"]}
    )
    assert inactive.status_code == 422
    assert server.agent.post("/checklist_templates", json={"name": "x"}).status_code == 403
    assert server.admin.delete(f"/checklist_templates/{template['id']}").json() == {}
    assert server.admin.get(f"/checklist_templates/{template['id']}").status_code == 404


def test_permissions_and_bad_input(server: Server) -> None:
    ticket = server.ticket()
    checklist_id = server.checklist(ticket["id"])["id"]
    assert server.customer.get(f"/checklists/{checklist_id}").status_code == 403
    assert server.customer.post("/checklists", json={"ticket_id": 1}).status_code == 403
    assert server.agent.get(f"/checklists/{checklist_id}").status_code == 200  # agent1 works in Users
    assert server.admin.post("/checklists", json={"ticket_id": 999999}).status_code == 404
    assert (
        server.admin.get("/checklists/999999").json()["error"] == "Couldn't find Checklist with 'id'=999999"
    )
    bad = server.admin.put(f"/checklists/{checklist_id}", json={"sorted_item_ids": "nope"})
    assert bad.status_code == 422
    assert server.admin.post("/checklist_items", json={"text": "orphan"}).status_code == 422
    assert (
        server.admin.post("/checklist_items", json={"checklist_id": checklist_id, "text": 5}).status_code
        == 422
    )
    assert server.admin.delete(f"/checklists/{checklist_id}").json() == {}
    assert server.admin.get(f"/tickets/{ticket['id']}").json()["checklist_id"] is None
