"""Tickets created and closed per week over the last 8 weeks, written to a CSV file and a PNG chart.

Connects with ``zammad_orm.connect()``, which reads ``ZAMMAD_URL`` and ``ZAMMAD_HTTP_TOKEN``::

    export ZAMMAD_URL=https://zammad.example.com ZAMMAD_HTTP_TOKEN=...
    python examples/weekly_report.py --csv weekly.csv --png weekly.png

Weeks are ISO weeks (Monday to Sunday, UTC); the last row is the current week, so far. A ticket counts as
closed in the week of its ``close_at`` (Zammad sets it when the ticket is first closed). Two grouped
counts do the work: ``TruncWeek`` names each ticket's week, ``values("week").annotate(n=Count("id"))``
counts per week. The chart needs matplotlib (``pip install 'zammad-orm[examples]'``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Sequence

import zammad_orm
from zammad_orm import Count, Ticket, TruncWeek

WEEKS = 8
HEADER = ("week", "week_start", "created", "closed")


def week_starts(today: dt.date, weeks: int = WEEKS) -> list[dt.date]:
    """Return the Mondays of the last ``weeks`` weeks, oldest first; the last is this week's."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _per_week(field: str, since: dt.datetime) -> dict[dt.date, int]:
    """Tickets whose ``field`` is at or after ``since``, counted per week (Monday, UTC) of ``field``."""
    rows = (
        Ticket.objects.filter(**{f"{field}__gte": since})
        .annotate(week=TruncWeek(field, tzinfo=dt.timezone.utc))
        .values("week")
        .annotate(n=Count("id"))
    )
    return {row["week"].date(): row["n"] for row in rows}


def weekly_counts(today: dt.date, weeks: int = WEEKS) -> list[tuple[str, str, int, int]]:
    """Return ``(ISO week, Monday, created, closed)`` for each of the last ``weeks`` weeks."""
    starts = week_starts(today, weeks)
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.timezone.utc)
    created = _per_week("created_at", since)
    closed = _per_week("close_at", since)
    rows = []
    for start in starts:
        year, week, _ = start.isocalendar()
        rows.append((f"{year}-W{week:02d}", start.isoformat(), created.get(start, 0), closed.get(start, 0)))
    return rows


def write_csv(rows: Sequence[tuple[str, str, int, int]], path: str) -> None:
    """Write the rows with a header line to the CSV file ``path``."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)


def draw_chart(rows: Sequence[tuple[str, str, int, int]], path: str) -> None:
    """Draw created and closed tickets per week side by side into the PNG file ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    weeks = [row[0] for row in rows]
    positions = range(len(rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar([p - 0.2 for p in positions], [row[2] for row in rows], width=0.4, label="created")
    ax.bar([p + 0.2 for p in positions], [row[3] for row in rows], width=0.4, label="closed")
    ax.set_xticks(list(positions), weeks, rotation=30)
    ax.set_ylabel("tickets")
    ax.set_title(f"Tickets created and closed per week (last {len(rows)} weeks)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the weekly counts to ``--csv`` and the chart to ``--png``; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default="weekly_report.csv", help="CSV file to write (default %(default)s)")
    parser.add_argument("--png", default="weekly_report.png", help="PNG chart to write (default %(default)s)")
    args = parser.parse_args(argv)
    zammad_orm.connect()
    rows = weekly_counts(dt.datetime.now(dt.timezone.utc).date())
    write_csv(rows, args.csv)
    draw_chart(rows, args.png)
    print(f"{'week':<10} {'created':>8} {'closed':>8}")
    for week, _, created, closed in rows:
        print(f"{week:<10} {created:>8} {closed:>8}")
    print(f"wrote {args.csv} and {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
