"""HTTP-level behaviour of the emulator: routing, authentication, impersonation, errors, ETags, bad input."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest
import requests

from zammad_orm import errors
from zammad_orm.testing import Emulator

from .conftest import Api


def _get(emulator: Emulator, path: str, **headers: str) -> requests.Response:
    return requests.get(emulator.url + "/api/v1" + path, headers=headers, timeout=30)


def test_root_is_not_a_route(emulator: Emulator) -> None:
    reply = _get(emulator, "", Authorization=f"Token token={emulator.token}")
    assert reply.status_code == 404
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.json() == {
        "error": "No route matches [GET] /api/v1",
        "error_human": "No route matches [GET] /api/v1",
    }


def test_error_replies_have_no_content_length_and_clients_read_them(emulator: Emulator) -> None:
    # Zammad's error replies carry no Content-Length (recording test_client/test_logging), its successful
    # ones do; over HTTP/1.1 the emulator then sends the error body chunked.
    token = f"Token token={emulator.token}"
    missing = _get(emulator, "/ticket_priorities/999999", Authorization=token)
    assert missing.status_code == 404
    assert "Content-Length" not in missing.headers
    assert missing.headers.get("Transfer-Encoding") == "chunked"
    assert missing.json()["error"] == "Couldn't find Ticket::Priority with 'id'=999999"
    unauthorized = _get(emulator, "/tickets/1", Authorization="Token token=wrong")
    assert unauthorized.status_code == 401
    assert "Content-Length" not in unauthorized.headers
    assert unauthorized.json()["error"] == "Can't find User for Token"
    found = _get(emulator, "/ticket_priorities/1", Authorization=token)
    assert found.headers["Content-Length"] == str(len(found.content))
    # The library's transport reads the chunked error body too, message and all.
    client = emulator.client()
    try:
        with pytest.raises(errors.NotFound, match="Couldn't find Ticket::Priority"):
            client.priorities.get(999999)
        with pytest.raises(errors.NotFound, match="No route matches"):
            client.get("")
        assert client.priorities.get(1).name == "1 low"
    finally:
        client.close()


def test_unknown_method_on_known_path_is_a_missing_route(admin: Api) -> None:
    reply = admin.delete("/roles/1")
    assert reply.status_code == 404
    assert reply.json()["error"] == "No route matches [DELETE] /api/v1/roles/1"


def test_version(admin: Api) -> None:
    assert admin.get("/version").json() == {"version": "6.2.0-1709189301.4a2dd7d0.focal"}


def test_no_credentials_is_403(emulator: Emulator) -> None:
    reply = _get(emulator, "/tickets")
    assert reply.status_code == 403
    assert reply.json() == {"error": "Authentication required", "error_human": "Authentication required"}
    assert reply.headers["X-Failure"] == "Authentication required"


def test_unknown_token_is_401(emulator: Emulator) -> None:
    reply = _get(emulator, "/users/me", Authorization="Token token=nope")
    assert reply.status_code == 401
    assert reply.json()["error"] == "Can't find User for Token"


def test_unknown_bearer_is_401(emulator: Emulator) -> None:
    reply = _get(emulator, "/users/me", Authorization="Bearer nope")
    assert reply.status_code == 401
    assert reply.json()["error"] == "The provided token is invalid."


def test_bearer_token_and_basic_auth_work(emulator: Emulator) -> None:
    assert _get(emulator, "/users/me", Authorization=f"Bearer {emulator.token}").json()["id"] == 3
    basic = base64.b64encode(b"admin@example.com:admin").decode()
    assert _get(emulator, "/users/me", Authorization=f"Basic {basic}").json()["login"] == "admin@example.com"
    basic = base64.b64encode(b"agent1@example.com:agent").decode()
    assert _get(emulator, "/users/me", Authorization=f"Basic {basic}").json()["login"] == "agent1@example.com"


def test_wrong_basic_password_is_401(emulator: Emulator) -> None:
    basic = base64.b64encode(b"admin@example.com:wrong").decode()
    reply = _get(emulator, "/users/me", Authorization=f"Basic {basic}")
    assert reply.status_code == 401
    assert reply.json() == {
        "error": "Invalid BasicAuth credentials",
        "error_human": "Invalid BasicAuth credentials",
    }


def test_impersonation_with_from_and_x_on_behalf_of(emulator: Emulator, admin: Api) -> None:
    me = admin.get("/users/me", headers={"From": "2"}).json()
    assert me["id"] == 2
    # Nicole is a customer: her own record lacks the contact fields (spec §6.2).
    assert "web" not in me
    assert "note" not in me
    assert "phone" not in me
    me = admin.get("/users/me", headers={"X-On-Behalf-Of": "1"}).json()
    assert me["id"] == 1
    assert me["active"] is False
    me = admin.get("/users/me", headers={"From": "agent1@example.com"}).json()
    assert me["login"] == "agent1@example.com"


def test_impersonation_of_unknown_user_is_403(admin: Api) -> None:
    reply = admin.get("/users/me", headers={"From": "99449494949"})
    assert reply.status_code == 403
    assert reply.json()["error"] == "No such user '99449494949'"


def test_impersonation_needs_admin_user_permission(agent: Api) -> None:
    reply = agent.get("/users/me", headers={"From": "2"})
    assert reply.status_code == 403
    assert reply.json()["error"] == "Current user has no permission to use 'From'/'X-On-Behalf-Of'!"


def test_impersonated_writes_are_attributed_to_the_impersonated_user(admin: Api) -> None:
    reply = admin.post(
        "/tickets",
        headers={"From": "agent1@example.com"},
        json={"title": "by agent", "group": "Users", "customer_id": 2, "article": {"body": "hi"}},
    )
    assert reply.status_code == 201
    assert reply.json()["created_by_id"] == 4


def test_etag_and_conditional_get(admin: Api) -> None:
    first = admin.get("/ticket_priorities/1")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert etag.endswith('"')
    again = admin.get("/ticket_priorities/1", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = admin.get("/ticket_priorities/1", headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200
    assert other.json()["name"] == "1 low"


def test_etag_changes_when_the_object_changes(admin: Api) -> None:
    created = admin.post("/ticket_priorities", json={"name": "etag prio"}).json()
    etag = admin.get(f"/ticket_priorities/{created['id']}").headers["ETag"]
    admin.put(f"/ticket_priorities/{created['id']}", json={"note": "changed"})
    reply = admin.get(f"/ticket_priorities/{created['id']}", headers={"If-None-Match": etag})
    assert reply.status_code == 200
    assert reply.json()["note"] == "changed"
    assert reply.headers["ETag"] != etag


def test_malformed_json_is_400_and_writes_nothing(admin: Api) -> None:
    before = len(admin.get("/ticket_priorities").json())
    reply = admin.post(
        "/ticket_priorities", data=b'{"name": "broken', headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 400
    assert "error" in reply.json()
    assert len(admin.get("/ticket_priorities").json()) == before


def test_not_found_messages_follow_active_record(admin: Api) -> None:
    assert admin.get("/ticket_priorities/999").json() == {
        "error": "Couldn't find Ticket::Priority with 'id'=999",
        "error_human": "Couldn't find Ticket::Priority with 'id'=999",
    }
    assert admin.get("/ticket_states/999").json()["error"] == "Couldn't find Ticket::State with 'id'=999"
    assert admin.get("/tickets/999999").json()["error"] == "Couldn't find Ticket with 'id'=999999"
    assert admin.get("/users/abc").status_code == 404


def test_unknown_lookup_name_is_422(admin: Api) -> None:
    reply = admin.post("/tickets", json={"title": "x", "group": "secret1234", "customer_id": 2})
    assert reply.status_code == 422
    assert reply.json()["error"] == "No lookup value found for 'group': \"secret1234\""


def test_failed_request_rolls_back_everything(admin: Api) -> None:
    count = len(admin.get("/users", params={"per_page": 1000}).json())
    # The customer is created first, then the bad group makes the request fail: nothing may remain.
    reply = admin.post(
        "/tickets",
        json={
            "title": "x",
            "customer_id": "guess:rollback@example.com",
            "group": "nope",
            "article": {"body": "b"},
        },
    )
    assert reply.status_code == 422
    assert len(admin.get("/users", params={"per_page": 1000}).json()) == count


def test_wrong_types_are_rejected(admin: Api) -> None:
    reply = admin.post(
        "/tickets", json={"title": "x", "group": "Users", "customer_id": 2, "priority_id": "high"}
    )
    assert reply.status_code == 422
    reply = admin.post("/ticket_priorities", json={"name": {"nested": True}})
    assert reply.status_code == 422


def test_server_keeps_serving_concurrent_requests(emulator: Emulator, admin: Api) -> None:
    results: list[int] = []

    def work() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Token token={emulator.token}"
            for _ in range(10):
                results.append(session.get(emulator.url + "/api/v1/tickets/1", timeout=30).status_code)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 60
    assert admin.get("/version").status_code == 200


def test_inactive_user_cannot_log_in(emulator: Emulator, admin: Api) -> None:
    user = admin.post(
        "/users", json={"firstname": "Gone", "email": "gone@example.com", "password": "pw", "active": False}
    ).json()
    basic = base64.b64encode(b"gone@example.com:pw").decode()
    reply = _get(emulator, "/users/me", Authorization=f"Basic {basic}")
    assert reply.status_code == 401
    assert reply.json()["error"].startswith("Login failed.")
    assert user["active"] is False


def test_in_process_app_answers_like_the_server(emulator: Emulator) -> None:
    from werkzeug.test import Client

    reply = Client(emulator.app).get(
        "/api/v1/ticket_states/5", headers={"Authorization": f"Token token={emulator.token}"}
    )
    assert reply.status_code == 200
    assert reply.get_json()["name"] == "merged"


_BAD_VALUES = [
    None,
    1,
    -5,
    "x",
    "",
    [],
    [1],
    [[1]],
    ["x"],
    {},
    {"a": 1},
    {"1": ["full"]},
    True,
    3.5,
    "guess:",
    "Users",
    99999,
]
_WRITES = [
    ("POST", "/tickets"),
    ("PUT", "/tickets/1"),
    ("POST", "/ticket_articles"),
    ("POST", "/users"),
    ("PUT", "/users/2"),
    ("POST", "/organizations"),
    ("POST", "/groups"),
    ("PUT", "/roles/3"),
    ("POST", "/ticket_states"),
    ("POST", "/ticket_priorities"),
    ("POST", "/time_accountings"),
    ("POST", "/tags/add"),
    ("POST", "/links/add"),
    ("DELETE", "/links/remove"),
    ("POST", "/tag_list"),
    ("POST", "/object_manager_attributes"),
    ("PUT", "/time_accounting/types/1"),
]
_KEYS = [
    "title",
    "group",
    "group_id",
    "customer_id",
    "state",
    "priority_id",
    "owner",
    "article",
    "tags",
    "links",
    "body",
    "ticket_id",
    "type",
    "internal",
    "attachments",
    "time_unit",
    "name",
    "email",
    "firstname",
    "role_ids",
    "group_ids",
    "organization_id",
    "members",
    "item",
    "o_id",
    "link_type",
    "link_object_source_number",
    "link_object_target_value",
    "data_type",
    "object",
    "preferences",
    "state_type_id",
    "permission_ids",
    "active",
]


def test_wrong_types_never_crash_the_server() -> None:
    import random

    rng = random.Random(11)
    statuses = set()
    # A private emulator: random writes would otherwise change the shared seed users.
    with Emulator() as z:
        admin = Api.of(z)
        _fuzz(admin, rng, statuses)
        admin.close()
    assert {404, 422} <= statuses


def _fuzz(admin: Api, rng: Any, statuses: set[int]) -> None:
    for _ in range(400):
        method, path = rng.choice(_WRITES)
        body = {key: rng.choice(_BAD_VALUES) for key in rng.sample(_KEYS, rng.randint(1, 5))}
        reply = admin.request(method, path, json=body)
        assert reply.status_code < 500, (method, path, body, reply.text)
        assert isinstance(reply.json(), (dict, list, bool))
        statuses.add(reply.status_code)
    assert admin.get("/version").status_code == 200


def test_search_replies_carry_etags_too(admin: Api) -> None:
    first = admin.get("/tickets/search", params={"query": "number:67001"})
    assert first.json()["tickets"] == [1]
    again = admin.get(
        "/tickets/search", params={"query": "number:67001"}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    attachment_like = admin.get("/tickets/1", headers={"If-None-Match": first.headers["ETag"]})
    assert attachment_like.status_code == 200


def test_cors_preflight_and_headers(emulator: Emulator, admin: Api) -> None:
    preflight = requests.options(emulator.url + "/api/v1/users/search", timeout=30)
    assert preflight.status_code == 200
    assert preflight.content == b""
    assert preflight.headers["Content-Type"].startswith("text/plain")
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST, GET, PUT, DELETE, PATCH, OPTIONS"
    assert preflight.headers["Access-Control-Max-Age"] == "1728000"
    assert requests.options(emulator.url + "/api/v1/nothing/here", timeout=30).status_code == 404
    # Successful token (also as Bearer) and basic auth replies carry the CORS headers; anonymous requests,
    # failed logins and errors do not (Zammad sets them in an after_action an exception skips).
    assert admin.get("/tickets/1").headers["Access-Control-Allow-Origin"] == "*"
    basic = base64.b64encode(b"admin@example.com:admin").decode()
    assert (
        _get(emulator, "/users/me", Authorization=f"Basic {basic}").headers["Access-Control-Max-Age"]
        == "1728000"
    )
    assert _get(emulator, "/users/me", Authorization=f"Bearer {emulator.token}").headers[
        "Access-Control-Max-Age"
    ]
    assert "Access-Control-Allow-Origin" not in _get(emulator, "/users/me").headers
    assert (
        "Access-Control-Allow-Origin"
        not in _get(emulator, "/users/me", Authorization="Token token=x").headers
    )
    assert "Access-Control-Allow-Origin" not in admin.get("/tickets/999999").headers
