"""The example report of `make demo` on demo data, checked against counts from the raw REST index."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from zammad_orm.testing import Emulator
from zammad_orm.testing.report import OPEN_STATES, build, chart

from .conftest import make_client, sent


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    with Emulator(demo=300, seed=11) as server:
        yield server


def _all_tickets(server: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        reply = requests.get(
            f"{server.url}/api/v1/tickets",
            params={"expand": "true", "per_page": 100, "page": page},
            headers={"Authorization": f"Token token={server.token}"},
            timeout=30,
        )
        reply.raise_for_status()
        batch = reply.json()
        if not batch:
            return rows
        rows += batch
        page += 1


def _section(text: str, title: str) -> dict[str, int]:
    """The rows of one report table as ``{first column: second column}``."""
    lines = text.split(title + "\n", 1)[1].splitlines()[3:]
    table: dict[str, int] = {}
    for line in lines:
        if not line.strip():
            break
        cells = [c for c in line.split("  ") if c.strip()]
        table[cells[0].strip()] = int(cells[1])
    return table


def test_report_counts_match_the_raw_records(demo: Any) -> None:
    rows = _all_tickets(demo)
    client = make_client(demo)
    today = dt.datetime.now(dt.timezone.utc).date()
    text = build(client, today=today)
    still_open = [r for r in rows if r["state"] in OPEN_STATES]

    assert f"{len(rows)} tickets, {len(still_open)} not closed." in text
    assert _section(text, "Tickets by state") == dict(Counter(r["state"] for r in rows))
    assert _section(text, "Open tickets by priority") == dict(Counter(r["priority"] for r in still_open))
    backlog = _section(text, "Backlog by group")
    assert backlog == dict(Counter(r["group"] for r in still_open))
    agents = _section(text, "Open tickets per agent")
    assert agents.pop("(unassigned)") == sum(1 for r in still_open if r["owner_id"] == 1)
    assert agents == dict(Counter(r["owner"] for r in still_open if r["owner_id"] != 1))
    orgs = Counter(r["organization"] for r in rows if r.get("organization"))
    top = _section(text, "Top organizations")
    assert len(top) == min(5, len(orgs))
    assert all(orgs[name] == n for name, n in top.items())
    assert min(top.values()) >= sorted(orgs.values(), reverse=True)[len(top) - 1]
    month = today.strftime("%Y-%m")
    created = [r for r in rows if r["created_at"].startswith(month)]
    assert _section(text, "Created per month (last 6)")[month] == len(created)
    assert sent(client).count > 0


def test_a_second_report_reuses_the_loaded_relations(demo: Any) -> None:
    client = make_client(demo, max_age={"Ticket": 0})  # the ticket searches' replies kept, but revalidated
    build(client)
    first = sent(client).count
    sent(client).reset()
    build(client)
    # Searches and counts are asked again (they may have changed); relations come from the identity map.
    assert 0 < sent(client).count <= first
    assert not any(
        path.startswith("/users/") or path.startswith("/organizations/") for _, path in sent(client).sent
    )


def test_chart_is_a_png_of_the_last_twelve_months(demo: Any, tmp_path: Any) -> None:
    client = make_client(demo)
    path = tmp_path / "tickets.png"
    chart(client, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
