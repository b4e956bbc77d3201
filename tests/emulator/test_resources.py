"""Users, organizations, groups, roles, states, priorities; generic index pagination and sorting."""

from __future__ import annotations

import pytest

from .conftest import Api

USER_KEYS = [
    "id",
    "organization_id",
    "login",
    "firstname",
    "lastname",
    "email",
    "image",
    "image_source",
    "web",
    "phone",
    "fax",
    "mobile",
    "department",
    "street",
    "zip",
    "city",
    "country",
    "address",
    "vip",
    "verified",
    "active",
    "note",
    "last_login",
    "source",
    "login_failed",
    "out_of_office",
    "out_of_office_start_at",
    "out_of_office_end_at",
    "out_of_office_replacement_id",
    "preferences",
    "updated_by_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "role_ids",
    "two_factor_preference_ids",
    "organization_ids",
    "authorization_ids",
    "overview_sorting_ids",
    "group_ids",
]


def test_seed_users(admin: Api) -> None:
    users = {u["id"]: u for u in admin.get("/users").json()}
    assert users[1]["login"] == "-"
    assert users[1]["active"] is False
    assert users[2]["login"] == "nicole.braun@zammad.org"
    assert users[2]["organization_id"] == 1
    assert users[3]["role_ids"] == [1, 2]
    assert users[3]["group_ids"] == {"1": ["full"]}
    assert users[4]["login"] == "agent1@example.com"
    assert users[4]["role_ids"] == [2]
    assert list(users[3]) == USER_KEYS
    assert all("password" not in u and "token" not in u for u in users.values())


def test_create_user_like_the_recording(admin: Api) -> None:
    reply = admin.post(
        "/users", json={"firstname": "John", "lastname": "Pytest", "email": None, "phone": None}
    )
    assert reply.status_code == 201
    user = reply.json()
    assert list(user) == USER_KEYS
    assert user["login"].startswith("auto-")
    assert user["email"] is None
    assert user["phone"] is None
    assert user["web"] == ""
    assert user["department"] is None
    assert user["address"] is None
    assert user["role_ids"] == [3]
    assert user["group_ids"] == {}


#: The string columns of a user a real Zammad 6.2 fills with "" when the create leaves them out (user 26
#: of test_tickets/test_ticket_merge.log and user 27 of test_users/test_create_user.log), and those it
#: leaves null.
USER_EMPTY_DEFAULTS = ("firstname", "lastname", "email", "web", "phone", "fax", "mobile", "street", "zip")
USER_EMPTY_DEFAULTS += ("city", "country", "note")
USER_NULL_DEFAULTS = ("department", "address", "image", "image_source", "source")


@pytest.mark.parametrize(
    "given", [{"firstname": "Max"}, {"lastname": "Headroom"}, {"email": "max@example.com"}, {"mobile": "1"}]
)
def test_a_user_created_with_some_identifiers_gets_empty_strings_for_the_others(
    admin: Api, given: dict[str, str]
) -> None:
    reply = admin.post("/users", json=given)
    assert reply.status_code == 201
    user = reply.json()
    for key in USER_EMPTY_DEFAULTS:
        assert user[key] == given.get(key, ""), key
    for key in USER_NULL_DEFAULTS:
        assert user[key] is None, key


def test_user_validation(admin: Api) -> None:
    reply = admin.post("/users", json={"note": "nobody"})
    assert reply.status_code == 422
    assert reply.json()["error"] == (
        "At least one identifier (firstname, lastname, phone, mobile or email) for user is required."
    )
    admin.post("/users", json={"email": "dup@example.com"})
    reply = admin.post("/users", json={"email": "DUP@example.com"})
    assert reply.json()["error"] == "Email address 'dup@example.com' is already used for another user."


def test_user_roles_groups_and_expand(admin: Api) -> None:
    user = admin.post(
        "/users",
        json={
            "login": "roley",
            "firstname": "R",
            "roles": ["Agent"],
            "groups": {"Users": ["read", "change"]},
            "organization": "Zammad Foundation",
        },
    ).json()
    assert user["role_ids"] == [2]
    assert user["group_ids"] == {"1": ["read", "change"]}
    assert user["organization_id"] == 1
    expanded = admin.get(f"/users/{user['id']}", params={"expand": "true"}).json()
    assert expanded["roles"] == ["Agent"]
    assert expanded["groups"] == {"Users": ["read", "change"]}
    assert expanded["organization"] == "Zammad Foundation"
    assert expanded["created_by"] == "admin@example.com"
    updated = admin.put(f"/users/{user['id']}", json={"lastname": "Changed", "role_ids": [3]}).json()
    assert updated["lastname"] == "Changed"
    assert updated["role_ids"] == [3]


def test_agents_cannot_grant_roles(agent: Api) -> None:
    user = agent.post("/users", json={"firstname": "Via agent", "role_ids": [1]}).json()
    assert user["role_ids"] == [3]


def test_customer_view_of_users(customer: Api, admin: Api) -> None:
    me = customer.get("/users/me").json()
    assert "web" not in me
    assert "login" in me
    assert [u["id"] for u in customer.get("/users").json()] == [2]
    assert customer.get("/users/3").status_code == 403
    assert customer.post("/users", json={"firstname": "x"}).status_code == 403
    colleague = admin.post("/users", json={"firstname": "Coll", "organization_id": 1}).json()
    seen = customer.get(f"/users/{colleague['id']}").json()
    assert set(seen) == {"id", "firstname", "lastname", "image", "image_source", "active"}


def test_delete_user_with_references_is_422(admin: Api) -> None:
    assert admin.delete("/users/2").json()["error"] == "Can't delete, object has references."
    user = admin.post("/users", json={"firstname": "Temp"}).json()
    assert admin.delete(f"/users/{user['id']}").json() == {}
    assert admin.get(f"/users/{user['id']}").status_code == 404


def test_organizations(admin: Api, customer: Api) -> None:
    reply = admin.post("/organizations", json={"name": "pytest_organization"})
    assert reply.status_code == 201
    org = reply.json()
    assert list(org) == [
        "id",
        "name",
        "shared",
        "domain",
        "domain_assignment",
        "active",
        "vip",
        "note",
        "updated_by_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "member_ids",
        "secondary_member_ids",
    ]
    assert (org["shared"], org["domain"], org["note"], org["member_ids"]) == (True, "", "", [])
    member = admin.post("/users", json={"firstname": "Member", "email": "member@example.com"}).json()
    updated = admin.put(f"/organizations/{org['id']}", json={"members": ["member@example.com"]}).json()
    assert updated["member_ids"] == [member["id"]]
    assert admin.post("/organizations", json={"name": "pytest_organization"}).status_code == 422
    assert [o["id"] for o in customer.get("/organizations").json()] == [1]
    assert customer.get(f"/organizations/{org['id']}").status_code == 403
    assert admin.delete(f"/organizations/{org['id']}").status_code == 422
    admin.put(f"/users/{member['id']}", json={"organization_id": None})
    assert admin.delete(f"/organizations/{org['id']}").json() == {}


def test_groups(admin: Api, agent: Api, customer: Api) -> None:
    reply = admin.post("/groups", json={"name": "pytest_group"})
    assert reply.status_code == 201
    group = reply.json()
    assert (group["signature_id"], group["note"], group["name_last"], group["user_ids"]) == (
        None,
        None,
        "pytest_group",
        [],
    )
    child = admin.post("/groups", json={"name": "pytest_group::Europe"}).json()
    assert (child["name_last"], child["parent_id"]) == ("Europe", group["id"])
    assert agent.post("/groups", json={"name": "nope"}).status_code == 403
    reduced = customer.get("/groups/1").json()
    assert set(reduced) == {
        "id",
        "name",
        "name_last",
        "follow_up_possible",
        "reopen_time_in_days",
        "active",
        "parent_id",
    }
    assert admin.delete("/groups/1").json()["error"] == "Can't delete, object has references."
    assert admin.delete(f"/groups/{child['id']}").json() == {}


def test_roles_create_update_but_no_delete(admin: Api) -> None:
    reply = admin.post(
        "/roles",
        json={
            "name": "Clone: Customer",
            "id": 3,
            "default_at_signup": True,
            "permission_ids": [44, 47, 48, 50, 54, 58],
            "created_at": "2023-09-22T20:15:52.744Z",
        },
    )
    assert reply.status_code == 201
    role = reply.json()
    assert role["id"] > 3
    assert role["permission_ids"] == [44, 47, 48, 50, 54, 58]
    updated = admin.put(f"/roles/{role['id']}", json={"active": False}).json()
    assert updated["active"] is False
    expanded = admin.get("/roles/1", params={"expand": "true"}).json()
    assert expanded["permissions"] == ["admin", "user_preferences", "report", "knowledge_base.editor"]
    assert admin.delete(f"/roles/{role['id']}").status_code == 404


def test_states_crud(admin: Api) -> None:
    reply = admin.post("/ticket_states", json={"name": "pytest_state", "state_type_id": 5})
    assert reply.status_code == 201
    state = reply.json()
    assert (state["ignore_escalation"], state["default_create"], state["note"]) == (False, False, None)
    assert admin.put(f"/ticket_states/{state['id']}", json={"active": False}).json()["active"] is False
    assert admin.delete(f"/ticket_states/{state['id']}").json() == {}
    gone = admin.get(f"/ticket_states/{state['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"] == f"Couldn't find Ticket::State with 'id'={state['id']}"
    assert admin.delete("/ticket_states/1").status_code == 422
    assert admin.post("/ticket_states", json={"name": "no type"}).status_code == 422


def test_state_type_by_name_and_an_unknown_name_in_the_error(admin: Api) -> None:
    reply = admin.post("/ticket_states", json={"name": "pytest_named_type", "state_type": "open"})
    assert reply.status_code == 201
    assert reply.json()["state_type_id"] == 2
    unknown = admin.post("/ticket_states", json={"name": "pytest_bad_type", "state_type": "bogus"})
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "No lookup value found for 'state_type': \"bogus\""


def test_priorities_crud_and_default(admin: Api) -> None:
    prio = admin.post("/ticket_priorities", json={"name": "pytest_priority"}).json()
    assert (prio["ui_icon"], prio["ui_color"], prio["default_create"]) == (None, None, False)
    admin.put(f"/ticket_priorities/{prio['id']}", json={"default_create": True})
    defaults = [p["id"] for p in admin.get("/ticket_priorities").json() if p["default_create"]]
    assert defaults == [prio["id"]]
    ticket = admin.post("/tickets", json={"title": "d", "group": "Users", "customer_id": 2}).json()
    assert ticket["priority_id"] == prio["id"]
    admin.put("/ticket_priorities/2", json={"default_create": True})
    admin.delete(f"/tickets/{ticket['id']}")
    assert admin.delete(f"/ticket_priorities/{prio['id']}").json() == {}


def test_generic_index_pagination_and_sorting(admin: Api) -> None:
    assert [r["id"] for r in admin.get("/roles", params={"page": 2, "per_page": 1}).json()] == [2]
    assert admin.get("/roles", params={"page": 50, "per_page": 1}).json() == []
    names = [
        s["name"] for s in admin.get("/ticket_states", params={"sort_by": "name", "order_by": "desc"}).json()
    ]
    assert names == sorted(names, reverse=True)
    by_two = admin.get(
        "/ticket_states", params={"sort_by": "state_type_id,name", "order_by": "asc,asc"}
    ).json()
    assert [(s["state_type_id"], s["name"]) for s in by_two] == sorted(
        (s["state_type_id"], s["name"]) for s in by_two
    )
    full = admin.get("/ticket_priorities", params={"full": "true", "per_page": 1}).json()
    assert full["record_ids"] == [1]
    assert full["total_count"] >= 3
    assert "1" in full["assets"]["TicketPriority"]
    expanded = admin.get("/ticket_priorities", params={"expand": "true"}).json()
    assert expanded[0]["created_by"] == "-"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort_by": "nope", "order_by": "asc"}, "Found invalid column 'nope' for sorting."),
        (
            {"sort_by": "name", "order_by": "up"},
            "Found invalid order by value up. Please use 'asc' or 'desc'.",
        ),
    ],
)
def test_sort_errors_are_500_raw_for_admins_masked_for_agents(
    admin: Api, agent: Api, params: dict[str, str], message: str
) -> None:
    reply = admin.get("/ticket_states", params=params)
    assert reply.status_code == 500
    assert reply.json() == {"error": message}
    masked = agent.get("/ticket_states", params=params)
    assert masked.status_code == 500
    assert masked.json()["error"].startswith("Error ID ")
    assert masked.json()["error"].endswith(": Please contact your administrator.")


def test_user_and_organization_history(admin: Api) -> None:
    user = admin.post("/users", json={"firstname": "Hist"}).json()
    entries = admin.get(f"/users/history/{user['id']}").json()
    assert [(e["object"], e["type"]) for e in entries["history"]] == [("User", "created")]
    assert str(user["id"]) in entries["assets"]["User"]
    org = admin.post("/organizations", json={"name": "Hist Org"}).json()
    assert admin.get(f"/organizations/history/{org['id']}").json()["history"][0]["type"] == "created"


def test_unchanged_update_keeps_updated_at(admin: Api) -> None:
    prio = admin.post("/ticket_priorities", json={"name": "steady"}).json()
    same = admin.put(f"/ticket_priorities/{prio['id']}", json={"name": "steady", "active": True}).json()
    assert same["updated_at"] == prio["updated_at"]
    changed = admin.put(f"/ticket_priorities/{prio['id']}", json={"active": False}).json()
    assert changed["updated_at"] > prio["updated_at"]
