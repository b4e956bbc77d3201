"""Load every ticket into a pandas DataFrame with ``QuerySet.to_dataframe()`` and print a few aggregates.

Connects with ``zammad_orm.connect()``, which reads ``ZAMMAD_URL`` and ``ZAMMAD_HTTP_TOKEN``::

    ZAMMAD_URL=https://zammad.example.com ZAMMAD_HTTP_TOKEN=... python examples/sync_to_pandas.py

``values()`` names the columns; relation paths such as ``state__name`` are read through the related
objects, which the QuerySet loads in batches (not one request per ticket). Needs pandas
(``pip install 'zammad-orm[examples]'``). ``--pickle FILE`` also keeps the DataFrame for later sessions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import zammad_orm
from zammad_orm import Ticket

COLUMNS = (
    "number",
    "title",
    "state__name",
    "priority__name",
    "group__name",
    "organization__name",
    "created_at",
    "close_at",
)


def load_tickets() -> object:
    """Return every ticket as a DataFrame with the columns :data:`COLUMNS`."""
    return Ticket.objects.order_by("id").values(*COLUMNS).to_dataframe()


def main(argv: Sequence[str] | None = None) -> int:
    """Load the tickets and print the aggregates."""
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pickle", default=None, metavar="FILE", help="also save the DataFrame here")
    args = parser.parse_args(argv)
    zammad_orm.connect()
    df = load_tickets()
    assert isinstance(df, pd.DataFrame)
    print(f"tickets: {len(df)}")

    print("\nTickets by state")
    print(df.groupby("state__name").size().sort_values(ascending=False).to_string())

    print("\nTickets by group and priority")
    print(pd.crosstab(df["group__name"], df["priority__name"]).to_string())

    closed = df.dropna(subset=["close_at"])
    hours = (closed["close_at"] - closed["created_at"]).dt.total_seconds() / 3600
    print(f"\nHours from creation to close (of {len(closed)} closed tickets)")
    print(hours.describe().round(1).to_string())

    created = df["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    print("\nTickets created per month")
    print(df.groupby(created).size().to_string())

    if args.pickle:
        df.to_pickle(args.pickle)
        print(f"\nsaved {len(df)} rows to {args.pickle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
