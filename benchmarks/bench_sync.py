"""``client.sync(Ticket)`` over 10,000 tickets, and ``Ticket.objects.local()`` against the search.

``Emulator(demo=10_000)`` on loopback (real HTTP; requests counted by the server). One client syncs:
the first sync (everything, pages of 200 sorted by ``updated_at, id``, four in flight), then syncs with
no change, then a sync after 1% of the tickets (100) were changed by another client (target
``ceil(100 / 200) + 2`` = 3 requests), then a reconciliation (ids only, ``expand=true`` pages of 200).
Local queries: ``filter(state="open").order_by("-created_at")`` and ``filter(title__icontains=...)``
listed from the copy and from the server's search. Disk: a client with ``cache="disk:<dir>"`` syncs;
a new client on the same directory reads the copy (cold: 10,000 objects built from SQLite) and syncs
with no change. Medians of 3 runs where repeated.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _measure import counted_emulator, duration, figure
from zammad_orm import Ticket

TICKETS = 10_000
CHANGED = TICKETS // 100

Row = tuple[str, str, str]


def _timed(counter: Any, call: Callable[[], Any], rounds: int = 3) -> tuple[list[float], list[int]]:
    seconds, requests = [], []
    for _ in range(rounds):
        elapsed, sent, _ = counter.timed(call)
        seconds.append(elapsed)
        requests.append(sent)
    return seconds, requests


def run() -> list[Row]:
    rows: list[Row] = []
    with counted_emulator(TICKETS) as (emulator, counter):
        client = emulator.client()
        elapsed, sent, report = counter.timed(lambda: client.sync(Ticket))
        rows.append(
            (f"first sync of {report.total:,} tickets", f"{elapsed:.2f} s, {sent} requests", "one pass")
        )
        seconds, requests = _timed(counter, lambda: client.sync(Ticket))
        rows.append(("sync with no change", figure(seconds, requests), "exactly 1 request"))

        other = emulator.client()
        ids = sorted(t.id for t in client.local_copy(Ticket))[:: TICKETS // CHANGED][:CHANGED]
        other.tickets.filter(id__in=ids)[: len(ids)].update(title="changed for the benchmark")
        other.close()
        elapsed, sent, report = counter.timed(lambda: client.sync(Ticket))
        target = math.ceil(CHANGED / 200) + 2
        rows.append(
            (
                f"sync after {CHANGED} changes (1%)",
                f"{duration(elapsed)}, {sent} request{'s' * (sent != 1)}, {report.fetched} records",
                f"<= {target} requests",
            )
        )
        elapsed, sent, report = counter.timed(lambda: client.sync(Ticket, reconcile=True))
        rows.append(
            (
                "sync with reconciliation (ids)",
                f"{elapsed:.2f} s, {sent} requests",
                f"{math.ceil(report.total / 200)} id pages + the changes",
            )
        )

        for label, qs in (
            ("open tickets, newest first", client.tickets.filter(state="open").order_by("-created_at")),
            ("title__icontains", client.tickets.filter(title__icontains="printer")),
        ):
            server_s, server_n = _timed(counter, lambda qs=qs: [t.id for t in qs.all()])
            local_s, local_n = _timed(counter, lambda qs=qs: [t.id for t in qs.all().local()])
            rows.append((f"{label}: server search", figure(server_s, server_n), "-"))
            rows.append((f"{label}: local()", figure(local_s, local_n), "0 requests"))
        client.close()

        with tempfile.TemporaryDirectory() as tmp:
            first = emulator.client(cache=f"disk:{tmp}")
            first.sync(Ticket)
            first.close()
            second = emulator.client(cache=f"disk:{tmp}")
            start = time.perf_counter()
            count = len(second.local_copy(Ticket))
            cold = time.perf_counter() - start
            label = f"disk copy: a new client's first local read ({count:,} objects)"
            rows.append((label, duration(cold), "-"))
            seconds, requests = _timed(counter, lambda: second.sync(Ticket))
            label = "disk copy: a new client's sync with no change"
            rows.append((label, figure(seconds, requests), "1 request"))
            second.close()
    return rows


if __name__ == "__main__":
    for measure, fig, target in run():
        print(f"{measure}: {fig} (target {target})")
