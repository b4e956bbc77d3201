"""``examples/report.py`` run as a user runs it, in a subprocess against an emulator with demo data.

Its numbers are checked against direct queries and the objects themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import zammad_orm as zo

from .conftest import make_client

Emulator: Any = pytest.importorskip("zammad_orm.testing").Emulator

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "report.py"
TZ = "Europe/Berlin"


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with Emulator(demo=80, seed=3) as emulator:
        yield emulator


def _run(server: Any, *args: str) -> str:
    env = {
        **os.environ,
        "ZAMMAD_URL": server.url,
        "ZAMMAD_HTTP_TOKEN": server.token,
        "REPORT_TZ": TZ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_report_prints_its_four_sections(server: Any) -> None:
    out = _run(server)
    for title in (
        "open per group and priority",
        "oldest open tickets",
        "created per week",
        "time per organization",
    ):
        assert f"{title}\n{'=' * len(title)}\n" in out
    assert "(none)" not in out  # the demo data has rows for every section


def test_the_reports_numbers_agree_with_direct_queries(server: Any) -> None:
    sections = json.loads(_run(server, "--json"))
    client = make_client(server)
    tickets = zo.Ticket.objects.using(client)
    open_tickets = list(tickets.open().select_related("group", "priority"))

    per_pair = Counter((t.group.name, t.priority.name) for t in open_tickets)
    shown = {(r["group__name"], r["priority__name"]): r["n"] for r in sections["open per group and priority"]}
    assert shown == dict(per_pair)
    assert sum(shown.values()) == tickets.open().count()

    oldest = sorted(open_tickets, key=lambda t: (t.created_at, t.id))[:10]
    assert [r["number"] for r in sections["oldest open tickets"]] == [t.number for t in oldest]

    tz = ZoneInfo(TZ)
    recent = list(tickets.filter(created_at__gte="now-8w/w"))
    created: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    for t in recent:
        local = t.created_at.astimezone(tz)
        day = local.date() - dt.timedelta(days=local.weekday())
        week = dt.datetime(day.year, day.month, day.day, tzinfo=tz).isoformat()
        created[week] += 1
        closed[week] += t.close_at is not None
    weeks = sections["created per week"]
    assert {r["week"]: r["created"] for r in weeks} == dict(created)
    assert {r["week"]: r["closed"] for r in weeks} == dict(closed)
    assert [r["week"] for r in weeks] == sorted(created, key=dt.datetime.fromisoformat)
    assert 8 <= len(weeks) <= 9

    units: dict[str | None, Decimal] = defaultdict(Decimal)
    entries: Counter[str | None] = Counter()
    for ta in zo.TimeAccounting.objects.using(client).select_related("ticket__organization"):
        org = ta.ticket.organization.name if ta.ticket.organization else None
        units[org] += ta.time_unit
        entries[org] += 1
    per_org = sections["time per organization"]
    assert {r["ticket__organization__name"]: Decimal(r["units"]) for r in per_org} == dict(units)
    assert {r["ticket__organization__name"]: r["entries"] for r in per_org} == dict(entries)
    assert [Decimal(r["units"]) for r in per_org] == sorted(units.values(), reverse=True)
