"""The example report of ``make demo``: a helpdesk overview written with the public API only.

``zammad-orm demo`` starts the bundled emulator with demo data and calls :func:`main` with a client
for it. Against a real server::

    ZAMMAD_URL=https://zammad.example.com ZAMMAD_HTTP_TOKEN=... python -m zammad_orm.testing.report [PNG]

With a file name (and the ``[report]`` extra, matplotlib), it also draws the tickets created per month.
``--stats FILE`` writes the client's counters (``client.stats()``) to ``FILE`` as JSON. Run it twice: the
second run reads the related objects from the persistent record cache the first one filled.

The report shows the QuerySet API at work: grouped counts computed by the server (``values().annotate``),
relation paths (``state__name``), date lookups, ``select_related`` batches and the identity map, which
lets the later sections reuse what the earlier ones loaded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from zammad_orm import Client, ConfigurationError, Count, Q, Ticket, TimeAccounting, connect

__all__ = ["build", "chart", "main"]

OPEN_STATES = ("new", "open", "pending reminder", "pending close")


def _table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Format ``rows`` as a plain-text table under ``title``."""
    body = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    rule = "  ".join("-" * w for w in widths)
    heading = [title, "=" * len(title), _row(header, widths), rule]
    out = heading + [_row(row, widths) for row in body]
    if not body:
        out.append("(none)")
    return "\n".join(out) + "\n"


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _counts(rows: Iterable[dict[str, Any]], key: str) -> list[tuple[Any, int]]:
    pairs = [(row[key] if row[key] is not None else "-", int(row["n"])) for row in rows]
    return sorted(pairs, key=lambda p: (-p[1], str(p[0])))


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def _monthly(client: Client, today: dt.date, months: int) -> list[tuple[str, int, int]]:
    """(month, tickets created, of those closed by now) for the last ``months`` months."""
    rows = []
    for start in _month_starts(today, months):
        qs = Ticket.objects.using(client).filter(created_at__year=start.year, created_at__month=start.month)
        rows.append((start.strftime("%Y-%m"), qs.count(), qs.filter(state="closed").count()))
    return rows


def chart(client: Client, path: str, *, today: dt.date | None = None) -> None:
    """Draw the tickets created per month over the last year (closed and not) into the image ``path``.

    Raises:
        ConfigurationError: matplotlib (the ``[report]`` extra) is not installed.

    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigurationError(
            f"the chart needs matplotlib: pip install 'zammad-orm[report]' ({exc})"
        ) from exc
    rows = _monthly(client, today or dt.datetime.now(dt.timezone.utc).date(), 12)
    months = [m for m, _, _ in rows]
    closed = [c for _, _, c in rows]
    not_closed = [n - c for _, n, c in rows]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.bar(months, closed, label="closed")
    ax.bar(months, not_closed, bottom=closed, label="not closed")
    ax.set_title("Tickets created per month")
    ax.set_ylabel("tickets")
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def build(client: Client, *, today: dt.date | None = None) -> str:
    """Return the report text for the server behind ``client``."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    tickets = Ticket.objects.using(client)
    parts: list[str] = []
    total = tickets.count()
    still_open = tickets.filter(state__in=OPEN_STATES)
    parts.append(
        f"Helpdesk report for {client.url} (Zammad {client.server_version}), {today.isoformat()}\n"
        f"{total} tickets, {still_open.count()} not closed.\n"
    )

    by_state = _counts(tickets.values("state__name").annotate(n=Count("id")), "state__name")
    parts.append(_table("Tickets by state", ["state", "tickets"], by_state))

    by_prio = _counts(still_open.values("priority__name").annotate(n=Count("id")), "priority__name")
    parts.append(_table("Open tickets by priority", ["priority", "tickets"], by_prio))

    backlog = []
    for group, n in _counts(still_open.values("group__name").annotate(n=Count("id")), "group__name"):
        oldest = still_open.filter(group__name=group).order_by("created_at").first()
        age = "-" if oldest is None else f"#{oldest.number} ({(today - oldest.created_at.date()).days} days)"
        backlog.append((group, n, age))
    parts.append(_table("Backlog by group", ["group", "open", "oldest open ticket"], backlog))

    monthly = _monthly(client, today, 6)
    parts.append(_table("Created per month (last 6)", ["month", "created", "closed by now"], monthly))

    agents = _counts(
        still_open.filter(owner_id__gt=1).values("owner__login").annotate(n=Count("id")), "owner__login"
    )
    unassigned = still_open.filter(owner_id=1).count()
    parts.append(
        _table("Open tickets per agent", ["agent", "tickets"], [*agents, ("(unassigned)", unassigned)])
    )

    orgs = _counts(
        tickets.exclude(organization=None).values("organization__name").annotate(n=Count("id")),
        "organization__name",
    )
    parts.append(_table("Top organizations", ["organization", "tickets"], orgs[:5]))

    urgent = (
        still_open.filter(Q(priority="3 high") | Q(tags="urgent"))
        .select_related("customer", "organization", "owner")
        .order_by("-created_at")[:10]
    )
    parts.append(
        _table(
            "Latest urgent open tickets",
            ["number", "title", "customer", "organization", "owner"],
            [
                (
                    t.number,
                    t.title[:40],
                    t.customer.email if t.customer else "-",
                    t.organization.name if t.organization else "-",
                    "-" if t.owner is None or t.owner.is_unassigned else t.owner.login,
                )
                for t in urgent
            ],
        )
    )

    minutes = sum(
        (ta.time_unit or Decimal(0) for ta in TimeAccounting.objects.using(client).all()), Decimal(0)
    )
    parts.append(f"Time accounted: {minutes} units in total.\n")
    return "\n".join(parts)


def main(
    client: Client | None = None, *, chart_path: str | None = None, stats_path: str | None = None
) -> int:
    """Print the report for ``client`` (default: :func:`zammad_orm.connect` from the environment).

    With ``chart_path``, also draw :func:`chart` into that image file; with ``stats_path``, write the
    client's counters there as JSON (:meth:`~zammad_orm.accounting.ClientStats.as_dict`).
    """
    client = client if client is not None else connect()
    started = time.perf_counter()
    print(build(client))
    if chart_path:
        chart(client, chart_path)
        print(f"chart written to {chart_path}")
    print(f"(report built in {time.perf_counter() - started:.2f} s)")
    if stats_path:
        with open(stats_path, "w", encoding="utf-8") as out:
            json.dump(client.stats().as_dict(), out, indent=1, sort_keys=True)
    return 0


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m zammad_orm.testing.report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("chart", nargs="?", help="draw the tickets created per month into this image file")
    parser.add_argument("--stats", metavar="FILE", help="write client.stats() to FILE as JSON")
    return parser.parse_args(argv)


if __name__ == "__main__":  # pragma: no cover
    _args = _arguments(sys.argv[1:])
    sys.exit(main(chart_path=_args.chart, stats_path=_args.stats))
