"""Request accounting over real HTTP: stats and captures see the pages sent from worker threads too.

The counts of ``client.stats()`` and ``client.capture()`` are compared with what the transport sent; the
N+1 warning is checked on the plain loop (no warning: assets are attached, reference tables load whole)
and on a loop that reads a relation one request at a time. No times are asserted.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm.accounting import CacheCounts

from .conftest import CountingTransport, Emulator

DEMO = 450


@pytest.fixture(scope="module", params=["6.2", "6.5"])
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    with Emulator(demo=DEMO, seed=9, zammad_version=request.param) as emulator:
        yield emulator


def make_client(server: Any, **kwargs: Any) -> tuple[zo.Client, CountingTransport]:
    transport = CountingTransport(retries=0)
    return zo.Client(server.url, http_token=server.token, transport=transport, **kwargs), transport


def test_pages_in_flight_are_counted_and_captured(server: Any) -> None:
    client, transport = make_client(server, page_concurrency=4)
    with client.capture() as log:
        rows = list(client.tickets.filter(id__lte=DEMO).order_by("id").iterator(chunk_size=50))
    assert len(rows) == DEMO
    pages = sorted(int(r.params["page"]) for r in log if r.endpoint == "tickets/search")
    # Every page up to the first short one; pages asked for ahead past the end are sent (and recorded) or
    # cancelled depending on timing: at most page_concurrency - 1 of them.
    assert pages[: DEMO // 50 + 1] == list(range(1, DEMO // 50 + 2))
    assert len(pages) <= DEMO // 50 + 1 + 3
    sent = Counter((method, path.split("?")[0]) for method, path in transport.sent)
    assert Counter((r.method, f"/{r.path}") for r in log) <= sent
    assert all(r.status == 200 and r.endpoint == "tickets/search" for r in log)
    stats = client.stats()  # counted when the answer came: the requests of the log, perhaps a late one
    assert len(log) <= stats.requests <= transport.count
    # A page asked for ahead and answered after the block is counted, not captured (the read does not wait).
    late = stats.by_endpoint["tickets/search"] - len(pages)
    assert 0 <= late <= transport.count - len(log)
    assert stats.bytes_received >= sum(r.bytes_received for r in log)
    client.close()


def test_a_sequential_loop_is_captured_exactly(server: Any) -> None:
    client, transport = make_client(server, page_concurrency=1)
    with client.capture() as log:
        rows = list(client.tickets.filter(id__lte=DEMO).order_by("id").iterator(chunk_size=50))
    assert len(rows) == DEMO
    assert [int(r.params["page"]) for r in log if r.params] == list(range(1, DEMO // 50 + 2))
    assert [(r.method, f"/{r.path}") for r in log] == [(m, p.split("?")[0]) for m, p in transport.sent]
    stats = client.stats()
    assert stats.requests == len(log) == transport.count
    assert stats.bytes_received == sum(r.bytes_received for r in log)
    client.close()


def test_the_plain_loop_does_not_warn_and_counts_identity_hits(server: Any) -> None:
    client, transport = make_client(server, warn_n_plus_one=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = [
            (t.state.name, t.priority.name, t.group.name, t.owner.login, t.customer.email, t.organization)
            for t in client.tickets.filter(id__lte=DEMO).order_by("id")
        ]
    assert len(rows) == DEMO
    stats = client.stats()
    # Pages asked for ahead past the end are counted when (if) their answer comes: at most 7 of them.
    assert stats.requests <= transport.count <= stats.requests + client.page_concurrency - 1
    assert set(stats.by_endpoint) == {"tickets/search", "ticket_states", "ticket_priorities"}
    assert stats.identity["TicketState"].hits > 0  # a state read resolves through the identity map
    assert stats.totals("record") == CacheCounts(misses=stats.totals("identity").misses)
    client.close()


def test_a_loop_of_relation_reads_one_request_each_warns(server: Any) -> None:
    client, _ = make_client(server, warn_n_plus_one=True)
    tickets = [client.tickets.get(pk) for pk in range(1, 80)]  # GET tickets/{id}: no assets come along
    assert len({t.organization_id for t in tickets} - {None}) >= 5

    def loop() -> None:
        for ticket in tickets:
            ticket.organization  # noqa: B018

    with pytest.warns(zo.NPlusOneWarning, match=r"reads of Ticket\.organization .*GET organizations/\{id\}"):
        loop()
    client.close()
