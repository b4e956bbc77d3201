"""Demo data: deterministic, realistic distributions, consistent with the API; the search result window."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Emulator, Api]]:
    with Emulator(demo=400, seed=7) as z:
        api = Api.of(z)
        yield z, api
        api.close()


def _all_tickets(api: Api) -> list[dict]:
    out: list[dict] = []
    page = 1
    while True:
        batch = api.get("/tickets", params={"page": page, "per_page": 100, "expand": "true"}).json()
        out += batch
        if len(batch) < 100:
            return out
        page += 1


def test_same_seed_same_data() -> None:
    def snapshot(seed: int) -> list[tuple]:
        with Emulator(demo=30, seed=seed) as z:
            rows = z.store.conn.execute(
                "SELECT number, title, state_id, priority_id, group_id, customer_id, article_count FROM"
                " tickets"
                " ORDER BY id"
            ).fetchall()
            return [tuple(row) for row in rows]

    assert snapshot(3) == snapshot(3)
    assert snapshot(3) != snapshot(4)


def test_distributions(demo: tuple[Emulator, Api]) -> None:
    _, api = demo
    tickets = [t for t in _all_tickets(api) if t["id"] != 1]
    assert len(tickets) == 400
    states = Counter(t["state"] for t in tickets)
    assert {"new", "open", "closed"} <= set(states)
    assert states["closed"] == max(states.values())
    assert len({t["group"] for t in tickets}) >= 4
    assert len({t["priority"] for t in tickets}) == 3
    owners = {t["owner"] for t in tickets}
    assert len(owners - {"-"}) >= 3
    assert any(t.get("organization") for t in tickets)
    assert all(1 <= t["article_count"] <= 5 for t in tickets)
    assert len({t["number"] for t in tickets}) == 400
    year_ago = datetime.now(timezone.utc) - timedelta(days=366)
    created = [datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) for t in tickets]
    assert min(created) > year_ago
    assert max(created) <= datetime.now(timezone.utc)
    assert max(created) - min(created) > timedelta(days=150)


def test_demo_objects_are_consistent_over_the_api(demo: tuple[Emulator, Api]) -> None:
    z, api = demo
    conn = z.store.conn
    with_attachment = conn.execute(
        "SELECT a.ticket_id, a.id, t.id FROM attachments t JOIN ticket_articles a ON a.id = t.article_id"
        " LIMIT 1"
    ).fetchone()
    ticket_id, article_id, attachment_id = with_attachment
    article = api.get(f"/ticket_articles/{article_id}").json()
    assert article["attachments"][0]["id"] == attachment_id
    raw = api.get(f"/ticket_attachment/{ticket_id}/{article_id}/{attachment_id}")
    assert raw.status_code == 200
    assert len(raw.content) == int(article["attachments"][0]["size"])
    tagged = conn.execute("SELECT o_id FROM tags LIMIT 1").fetchone()[0]
    assert api.get("/tags", params={"object": "Ticket", "o_id": tagged}).json()["tags"]
    linked = conn.execute("SELECT link_object_target_value FROM links LIMIT 1").fetchone()[0]
    assert api.get("/links", params={"link_object": "Ticket", "link_object_value": linked}).json()["links"]
    accounted = conn.execute("SELECT ticket_id FROM time_accountings LIMIT 1").fetchone()[0]
    ticket = api.get(f"/tickets/{accounted}").json()
    entries = api.get(f"/tickets/{accounted}/time_accountings").json()
    assert float(ticket["time_unit"]) == pytest.approx(sum(float(e["time_unit"]) for e in entries))
    history = api.get(f"/ticket_history/{accounted}").json()["history"]
    assert history[0]["type"] == "created"
    customer = api.get(f"/users/{ticket['customer_id']}").json()
    assert customer["role_ids"] == [3]
    open_count = conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE customer_id = ? AND state_id IN (1, 2, 3, 7)", (customer["id"],)
    ).fetchone()[0]
    assert customer["preferences"]["tickets_open"] == open_count


def test_demo_agents_log_in(demo: tuple[Emulator, Api]) -> None:
    z, api = demo
    login = z.store.conn.execute(
        "SELECT u.login FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role_id = 2 AND u.id >"
        " 4 LIMIT 1"
    ).fetchone()[0]
    me = api.get("/users/me", headers={"From": login}).json()
    assert me["login"] == login
    assert me["group_ids"]


@pytest.mark.slow
def test_search_result_window_of_ten_thousand() -> None:
    with Emulator(demo=10_050, seed=1) as z:
        api = Api.of(z)
        try:
            params = {"query": "number:67*", "per_page": 200}
            last_allowed = api.get("/tickets/search", params={**params, "page": 50}).json()
            assert len(last_allowed["tickets"]) == 200
            beyond = api.get("/tickets/search", params={**params, "page": 51}).json()
            assert beyond == {"tickets": [], "tickets_count": 0, "assets": {}}
            # The hits exist: sorted the other way round, the same tickets are within the window.
            asc = api.get(
                "/tickets/search", params={**params, "page": 1, "sort_by": "id", "order_by": "asc"}
            ).json()
            assert asc["tickets"][0] == 1
        finally:
            api.close()


def test_demo_agents_have_online_notifications(demo: tuple[Emulator, Api]) -> None:
    z, api = demo
    owner = z.store.conn.execute("SELECT user_id FROM online_notifications LIMIT 1").fetchone()[0]
    login = z.store.conn.execute("SELECT login FROM users WHERE id = ?", (owner,)).fetchone()[0]
    notes = api.get("/online_notifications", params={"expand": "true"}, headers={"From": login}).json()
    assert notes
    assert all(n["user"] == login and n["object"] == "Ticket" for n in notes)
    assert all(api.get(f"/tickets/{n['o_id']}").json()["owner_id"] == owner for n in notes)
