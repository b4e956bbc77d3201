"""A helpdesk report in a few QuerySet expressions (see docs/analysis.md).

Open tickets per group and priority, the 10 oldest open tickets, tickets created (and closed since) per
week for 8 weeks, time accounted per organization. Run it against your Zammad::

    ZAMMAD_URL=https://zammad.example.com ZAMMAD_HTTP_TOKEN=... python examples/report.py

``REPORT_TZ`` (default ``UTC``) is the time zone whose Mondays start the weeks; ``--json`` prints the
numbers as JSON instead of tables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any
from zoneinfo import ZoneInfo

import zammad_orm
from zammad_orm import Count, Sum, Ticket, TimeAccounting, TruncWeek


def report(tz: ZoneInfo) -> dict[str, list[dict[str, Any]]]:
    """Return the four sections of the report, each a list of rows."""
    open_tickets = Ticket.objects.open()
    return {
        "open per group and priority": list(
            open_tickets.values("group__name", "priority__name")
            .annotate(n=Count("id"))
            .order_by("group__name", "priority__name")
        ),
        "oldest open tickets": list(
            open_tickets.order_by("created_at").values("number", "title", "created_at", "group__name")[:10]
        ),
        "created per week": list(
            Ticket.objects.filter(created_at__gte="now-8w/w")
            .annotate(week=TruncWeek("created_at", tzinfo=tz))
            .values("week")
            .annotate(created=Count("id"), closed=Count("close_at"))
            .order_by("week")
        ),
        "time per organization": list(
            TimeAccounting.objects.values("ticket__organization__name")
            .annotate(units=Sum("time_unit"), entries=Count("id"))
            .order_by("-units")
        ),
    }


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return "-" if value is None else str(value)


def main(argv: list[str]) -> int:
    """Print the report of the server ``ZAMMAD_URL`` (tables, or JSON with ``--json``)."""
    zammad_orm.connect()
    sections = report(ZoneInfo(os.environ.get("REPORT_TZ", "UTC")))
    if "--json" in argv:
        print(json.dumps(sections, default=_text, indent=1))
        return 0
    for title, rows in sections.items():
        print(f"\n{title}\n{'=' * len(title)}")
        for row in rows:
            print("  ".join(f"{key}={_text(value)}" for key, value in row.items()))
        if not rows:
            print("(none)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
