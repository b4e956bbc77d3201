"""Emulator speed over real loopback HTTP: a deep search page with assets, a ticket create, the start-up.

Measured with ``requests`` against ``zammad_orm.testing.Emulator`` (threaded werkzeug server, SQLite in
memory). Search: ``GET /api/v1/tickets/search`` pages 2–11 of 200 tickets each with the 6.2 ``assets``
answer, on 100,000 demo tickets (timed until the body is read; decoding it is excluded). Create:
``POST /api/v1/tickets`` with a first article. Start-up: ``Emulator(demo=10_000)`` from construction until
it answers HTTP. Figures are medians.

Peer: there is no other Zammad emulator to compare with (the alternatives are recorded cassettes and
hand-written mocks, which answer no search and create nothing), so no peer figures are given.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import requests

SEARCH_TICKETS = 100_000
STARTUP_TICKETS = 10_000
SEARCH_QUERY = "state.name:(new OR open OR closed)"


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms (median of {len(samples)})"


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _startup() -> list[float]:
    from zammad_orm.testing import Emulator

    samples = []
    for _ in range(3):
        start = time.perf_counter()
        emulator = Emulator(demo=STARTUP_TICKETS)
        emulator.start()
        try:
            requests.get(
                f"{emulator.url}/api/v1/version",
                headers={"Authorization": f"Token token={emulator.token}"},
                timeout=60,
            ).raise_for_status()
            samples.append(time.perf_counter() - start)
        finally:
            emulator.close()
    return samples


def _search_and_create() -> tuple[list[float], list[float], int, float]:
    from zammad_orm.testing import Emulator

    start = time.perf_counter()
    with Emulator(demo=SEARCH_TICKETS) as emulator, requests.Session() as session:
        built = time.perf_counter() - start
        session.headers["Authorization"] = f"Token token={emulator.token}"
        api = f"{emulator.url}/api/v1"
        total = 0

        def page(number: int) -> float:
            # Timed: the HTTP round trip until the whole body is read; checking the answer is not.
            start = time.perf_counter()
            reply = session.get(
                f"{api}/tickets/search",
                params={"query": SEARCH_QUERY, "page": number, "per_page": 200},
                timeout=60,
            )
            elapsed = time.perf_counter() - start
            reply.raise_for_status()
            body = reply.json()
            if len(body["tickets"]) != 200 or not body["assets"].get("Ticket"):
                raise RuntimeError(
                    f"page {number} is not a full page with assets: {len(body['tickets'])} ids"
                )
            nonlocal total
            total += len(body["tickets"])
            return elapsed

        page(1)  # warm-up, not measured
        search = [page(n) for n in range(2, 12)]

        def create(number: int) -> None:
            reply = session.post(
                f"{api}/tickets",
                json={
                    "title": f"benchmark ticket {number}",
                    "group": "Users",
                    "customer": "nicole.braun@zammad.org",
                    "article": {"body": "created by benchmarks/bench_emulator.py"},
                },
                timeout=60,
            )
            if reply.status_code != 201:
                raise RuntimeError(f"create answered {reply.status_code}: {reply.text[:200]}")

        create(0)
        creates = [_timed(lambda n=n: create(n)) for n in range(1, 201)]
    return search, creates, total, built


def run() -> list[tuple[str, str, str]]:
    startup = _startup()
    search, creates, total, built = _search_and_create()
    return [
        (
            f"search page >= 2 of 200 tickets with assets, {SEARCH_TICKETS:,} demo tickets",
            _median_ms(search) + f"; {total} ids read",
            "<= 30 ms",
        ),
        ("ticket create (POST /tickets with article)", _median_ms(creates), "<= 10 ms"),
        (
            f"start-up with {STARTUP_TICKETS:,} demo tickets",
            f"{statistics.median(startup):.2f} s (median of 3)",
            "<= 5 s",
        ),
        (f"start-up with {SEARCH_TICKETS:,} demo tickets (for reference)", f"{built:.1f} s (one run)", "-"),
        ("peer (another Zammad emulator)", "none exists", "-"),
    ]


if __name__ == "__main__":
    for measure, figure, target in run():
        print(f"{measure}: {figure} (target {target})")
