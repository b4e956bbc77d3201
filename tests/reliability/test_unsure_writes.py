"""Writes with an unknown outcome: a create whose reply was lost is never sent twice, says so, is found.

The emulator's ``drop`` fault runs the request, then breaks the connection in the middle of the reply:
the ticket exists, the client never learns its id. ``latency`` longer than the client's read timeout
makes the reply come too late (the ticket is made after the client gave up). In both cases the create
raises :class:`~zammad_orm.errors.OutcomeUnknown`, is not repeated, and ``find_created(marker)`` finds
the ticket by the marker given as its first article's ``message_id``.
"""

from __future__ import annotations

import datetime as dt
import random
import socket
from collections.abc import Iterator

import pytest

import zammad_orm as zo
from tests.reliability.conftest import count
from zammad_orm import errors
from zammad_orm.resources.ticket import TicketManager
from zammad_orm.testing import Emulator
from zammad_orm.transport import HTTPTransport

POST_TICKETS = r"^/api/v1/tickets$"


@pytest.fixture
def client(emulator: Emulator) -> Iterator[zo.Client]:
    emulator.faults.clear()
    c = zo.Client(emulator.url, http_token=emulator.token, transport=HTTPTransport(retries=3, backoff=0.0))
    yield c
    c.close()
    emulator.faults.clear()


def _made(emulator: Emulator, title: str) -> int:
    row = emulator.store.conn.execute("SELECT COUNT(*) FROM tickets WHERE title = ?", (title,)).fetchone()
    return int(row[0])


def test_a_dropped_reply_to_a_create_is_not_retried_and_says_how_to_check(
    emulator: Emulator, client: zo.Client
) -> None:
    rule = emulator.faults.add("drop", method="POST", path=POST_TICKETS, times=1)
    marker = TicketManager.new_marker()
    started = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(errors.OutcomeUnknown) as info:
        client.tickets.create(
            title="unsure 1", group="Users", customer=2, article={"body": "b", "message_id": marker}
        )
    error = info.value
    assert isinstance(error, errors.ConnectError)  # handlers written for ConnectError still catch it
    assert not isinstance(error, errors.Timeout)
    text = str(error)
    assert text.startswith("Ticket create may or may not have happened: POST /api/v1/tickets:")
    assert "It was not sent again" in text
    assert f"client.tickets.find_created({marker!r})" in text
    assert error.method == "POST"
    assert error.url == f"{emulator.url}/api/v1/tickets"
    assert rule.hits == 1  # sent once: never retried, although the transport retries 3 times
    assert _made(emulator, "unsure 1") == 1  # the work was done, only the reply was lost
    found = client.tickets.find_created(marker, since=started - dt.timedelta(seconds=5))
    assert found is not None
    assert found.title == "unsure 1"
    assert client.tickets.find_created(TicketManager.new_marker()) is None
    count("unsure writes: faults injected")


def test_without_a_marker_the_error_says_how_to_set_one(emulator: Emulator, client: zo.Client) -> None:
    emulator.faults.add("drop", method="POST", path=POST_TICKETS, times=1)
    with pytest.raises(errors.OutcomeUnknown, match=r"new_marker\(\).*find_created\(marker\)"):
        client.tickets.create(title="unsure 2", group="Users", customer=2, article="b")
    assert _made(emulator, "unsure 2") == 1
    emulator.faults.add("drop", method="POST", path=r"^/api/v1/users$", times=1)
    with pytest.raises(errors.OutcomeUnknown, match=r"User create may or may not.*client\.users\.filter"):
        client.users.create(login="unsure-user@example.com", email="unsure-user@example.com")
    # A new object's save() says the same.
    emulator.faults.add("drop", method="POST", path=r"^/api/v1/organizations$", times=1)
    org = zo.Organization(name="Unsure Org")
    with client.activate(), pytest.raises(errors.OutcomeUnknown, match="Organization create may or may not"):
        org.save()
    count("unsure writes: faults injected", 3)


def test_a_reply_too_late_is_an_unknown_outcome_and_a_timeout(emulator: Emulator) -> None:
    slow = zo.Client(
        emulator.url, http_token=emulator.token, transport=HTTPTransport(timeout=(5.0, 0.3), retries=3)
    )
    emulator.faults.add("latency", method="POST", path=POST_TICKETS, latency=1.0, times=1)
    marker = TicketManager.new_marker()
    with pytest.raises(errors.OutcomeUnknown) as info:
        slow.tickets.create(title="unsure late", group="Users", customer=2,
                            article={"body": "b", "message_id": marker})  # fmt: skip
    assert isinstance(info.value, errors.Timeout)
    assert isinstance(info.value, errors.OutcomeUnknownTimeout)
    assert "did not come in time" in str(info.value)
    # The server makes the ticket once its delay is over: the helper keeps looking for `wait` seconds.
    found = slow.tickets.find_created(marker, wait=10.0, interval=0.2)
    assert found is not None
    assert found.title == "unsure late"
    assert _made(emulator, "unsure late") == 1
    slow.close()
    count("unsure writes: faults injected")


def test_a_post_that_never_left_is_not_an_unknown_outcome() -> None:
    with socket.socket() as s:  # a port nobody listens on: refused, so certainly not sent
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = zo.Client(f"http://127.0.0.1:{port}", http_token="t", retries=0)
    with pytest.raises(errors.ConnectError) as info:
        c.tickets.create(title="never", group="Users", customer=2, article="b")
    assert not isinstance(info.value, errors.OutcomeUnknown)
    assert info.value.request_sent is False
    c.close()


def test_an_answered_post_is_not_an_unknown_outcome(emulator: Emulator, client: zo.Client) -> None:
    emulator.faults.add("status", method="POST", path=POST_TICKETS, status=503, times=1)
    with pytest.raises(errors.ServerError):
        client.tickets.create(title="refused", group="Users", customer=2, article="b")
    assert _made(emulator, "refused") == 0  # the fault answered in the app's place: nothing was made
    count("unsure writes: faults injected")


def test_creates_under_dropped_replies_each_happen_once_and_are_all_found(
    emulator: Emulator, client: zo.Client
) -> None:
    """Forty creates, about half of whose replies are dropped: every ticket exists once and is found."""
    rule = emulator.faults.add("drop", method="POST", path=POST_TICKETS, probability=0.5)
    rng = random.Random(5)
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    lost = 0
    tickets: dict[str, int] = {}
    for i in range(40):
        title = f"unsure batch {i} {rng.random():.6f}"
        marker = TicketManager.new_marker()
        try:
            ticket = client.tickets.create(
                title=title, group="Users", customer=2, article={"body": "b", "message_id": marker}
            )
        except errors.OutcomeUnknown:
            lost += 1
            found = client.tickets.find_created(marker, since=started)
            assert found is not None, title
            ticket = found
        assert ticket.title == title
        tickets[title] = ticket.id
    emulator.faults.remove(rule)
    assert lost == rule.hits
    assert 10 <= lost <= 30
    for title in tickets:
        assert _made(emulator, title) == 1
    assert len(set(tickets.values())) == 40
    count("unsure writes: faults injected", lost)
    count("unsure writes: creates checked", 40)
