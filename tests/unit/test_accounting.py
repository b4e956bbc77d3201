"""Request accounting in-process: client.stats(), client.capture() and the N+1 warning (WSGI, no sockets)."""

from __future__ import annotations

import contextvars
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import zammad_orm as zo
from tests.caches import own_cache
from zammad_orm.accounting import (
    Accounting,
    CacheCounts,
    ClientStats,
    NPlusOneDetector,
    NPlusOneWarning,
    RequestLog,
    endpoint_of,
)
from zammad_orm.cache import MemoryRecordCache
from zammad_orm.transport import Request, Response, WSGITransport

testing = pytest.importorskip("zammad_orm.testing")


class Bodies(WSGITransport):
    """Keeps the body of every response, to check the byte counts."""

    def __init__(self, app: Any) -> None:
        super().__init__(app, retries=0)
        self.bodies: list[bytes] = []

    def send(self, request: Request) -> Response:
        response = super().send(request)
        self.bodies.append(response.body)
        return response


@pytest.fixture(scope="module")
def emulator() -> Any:
    return testing.Emulator(demo=40, seed=3)  # not started: used in-process only


def make_client(emulator: Any, **kwargs: Any) -> zo.Client:
    kwargs.setdefault("transport", Bodies(emulator.app))
    kwargs.setdefault("cache", own_cache())  # the tests count what each client alone costs
    return zo.Client("http://zammad.invalid", http_token=emulator.token, **kwargs)


@pytest.fixture
def client(emulator: Any) -> Iterator[zo.Client]:
    c = make_client(emulator)
    yield c
    c.close()


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("tickets/42", "tickets/{id}"),
        ("tickets/search?query=x&limit=5", "tickets/search"),
        ("/tickets/", "tickets"),
        ("ticket_articles/by_ticket/7", "ticket_articles/by_ticket/{id}"),
        ("users/me", "users/me"),
        ("ticket_merge/3/31001", "ticket_merge/{id}/{id}"),
        ("tags", "tags"),
    ],
)
def test_the_endpoint_of_a_path_has_no_ids_and_no_query(path: str, endpoint: str) -> None:
    assert endpoint_of(path) == endpoint


def test_a_new_client_counted_nothing(client: zo.Client) -> None:
    stats = client.stats()
    assert stats == ClientStats()
    assert stats.requests == 0
    assert stats.totals("identity") == stats.totals("record") == CacheCounts()


def test_stats_count_requests_by_method_and_endpoint_and_the_bytes_received(client: zo.Client) -> None:
    client.tickets.get(1)
    client.tickets.get(2)
    client.users.get(1)
    created = client.tickets.create(
        title="counted", group="Users", customer="nicole.braun@zammad.org", article={"body": "x"}
    )
    created.delete()
    stats = client.stats()
    # create(group="Users") checks the name against the groups table first (read once per client).
    assert stats.requests == 6
    assert stats.by_method == {"GET": 4, "POST": 1, "DELETE": 1}
    assert stats.by_endpoint == {"tickets/{id}": 3, "users/{id}": 1, "groups": 1, "tickets": 1}
    transport = client.transport
    assert isinstance(transport, Bodies)
    assert stats.bytes_received == sum(len(body) for body in transport.bodies) > 0


def test_error_answers_count_as_requests(client: zo.Client) -> None:
    with pytest.raises(zo.Ticket.DoesNotExist):
        client.tickets.get(999_999)
    assert client.stats().by_endpoint == {"tickets/{id}": 1}


def test_lookups_by_id_count_hits_and_misses_per_tier_and_model(emulator: Any) -> None:
    shared = MemoryRecordCache()
    first = make_client(emulator, cache=shared)
    ticket = first.tickets[1]  # identity miss, record miss, one GET
    assert first.tickets[1] is ticket  # identity hit
    stats = first.stats()
    assert stats.identity["Ticket"] == CacheCounts(hits=1, misses=1)
    assert stats.record["Ticket"] == CacheCounts(hits=0, misses=1)
    assert stats.by_endpoint == {"tickets/{id}": 1}

    second = make_client(emulator, cache=shared)  # its own identity map over the same record cache
    assert second.tickets[1].title == ticket.title
    stats = second.stats()
    assert stats.identity == {"Ticket": CacheCounts(misses=1)}
    assert stats.record == {"Ticket": CacheCounts(hits=1)}
    assert stats.requests == 0
    assert stats.totals("record") == CacheCounts(hits=1)


def test_a_model_without_a_record_cache_is_not_looked_up_there(emulator: Any) -> None:
    client = make_client(emulator, cache=False)
    client.tickets[1]
    assert client.stats().identity == {"Ticket": CacheCounts(misses=1)}
    assert client.stats().record == {}


def test_a_snapshot_is_frozen_and_keeps_its_values(client: zo.Client) -> None:
    client.tickets.get(1)
    before = client.stats()
    client.tickets.get(2)
    assert before.requests == 1
    assert before.by_endpoint == {"tickets/{id}": 1}
    assert client.stats().requests == 2
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        before.requests = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        before.by_method["GET"] = 0  # type: ignore[index]


def test_reset_stats_starts_the_counters_again(client: zo.Client) -> None:
    ticket = client.tickets[1]
    client.reset_stats()
    assert client.stats() == ClientStats()
    assert client.tickets[1] is ticket
    client.tickets.get(2)
    stats = client.stats()
    assert stats.requests == 1
    assert stats.identity == {"Ticket": CacheCounts(hits=1)}


def test_counting_is_exact_under_threads() -> None:
    accounting = Accounting()
    threads, each = 8, 5_000

    def work() -> None:
        for n in range(each):
            accounting.lookup("identity", "Ticket", "hit")
            accounting.lookup("record", "User", "miss")
            if n % 10 == 0:
                accounting.request("GET", "tickets/search", 3)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    accounting.lookup("identity", "Ticket", "revalidation")  # a new thread folds the ended ones in
    stats = accounting.snapshot()
    assert stats.identity == {"Ticket": CacheCounts(hits=threads * each, revalidations=1)}
    assert stats.record == {"User": CacheCounts(misses=threads * each)}
    assert stats.requests == threads * each // 10
    assert stats.bytes_received == 3 * stats.requests
    accounting.reset()
    assert accounting.snapshot() == ClientStats()
    accounting.lookup("identity", "Ticket", "hit")
    assert accounting.snapshot().identity == {"Ticket": CacheCounts(hits=1)}


# --- capture ------------------------------------------------------------------------------------------


def test_capture_records_each_request_of_the_block(client: zo.Client) -> None:
    client.tickets.get(1)  # before the block: not recorded
    with client.capture() as log:
        client.tickets.get(2)
        client.get("tickets", page=1, per_page=2)
        with pytest.raises(zo.NotFound):
            client.tickets.get(999_999)
    client.tickets.get(3)  # after the block: not recorded
    assert isinstance(log, RequestLog)
    assert len(log) == 3
    first, second, third = log
    assert (first.method, first.path, first.params, first.status) == ("GET", "tickets/2", None, 200)
    assert first.endpoint == "tickets/{id}"
    assert first.bytes_received > 0
    assert first.elapsed >= 0
    assert (second.path, second.params, second.endpoint) == ("tickets", {"page": 1, "per_page": 2}, "tickets")
    assert (third.path, third.status) == ("tickets/999999", 404)
    assert log[-1] is third
    assert list(log[:2]) == [first, second]
    text = str(log)
    assert text.splitlines()[0].startswith("1. GET tickets/2 -> 200 (")
    assert "2. GET tickets?page=1&per_page=2 -> 200" in text
    assert repr(log) == "<RequestLog of 3 requests>"


def test_a_request_without_a_response_is_recorded_without_a_status(emulator: Any) -> None:
    class Refusing:
        def send(self, request: Request) -> Response:
            raise zo.ConnectError("connection refused")

        def close(self) -> None:
            pass

    client = make_client(emulator, transport=Refusing())
    with client.capture() as log, pytest.raises(zo.TransportError):
        client.tickets.get(1)
    assert [(r.path, r.status, r.bytes_received) for r in log] == [("tickets/1", None, 0)]
    assert client.stats().requests == 1


def test_captures_nest(client: zo.Client) -> None:
    with client.capture() as outer:
        client.tickets.get(1)
        with client.capture() as inner:
            client.tickets.get(2)
        client.tickets.get(3)
    assert [r.path for r in outer] == ["tickets/1", "tickets/2", "tickets/3"]
    assert [r.path for r in inner] == ["tickets/2"]


def test_a_capture_holds_only_its_own_clients_requests(emulator: Any, client: zo.Client) -> None:
    other = make_client(emulator)
    with client.capture() as log, other.capture() as other_log:
        client.tickets.get(1)
        other.tickets.get(2)
    assert [r.path for r in log] == ["tickets/1"]
    assert [r.path for r in other_log] == ["tickets/2"]


def test_concurrent_captures_in_two_threads_see_their_own_requests(client: zo.Client) -> None:
    logs: dict[int, list[str]] = {}
    both_open = threading.Barrier(2)

    def work(pk: int) -> None:
        with client.capture() as log:
            both_open.wait(timeout=30)
            for _ in range(3):
                client.tickets.get(pk)
            both_open.wait(timeout=30)
        logs[pk] = [r.path for r in log]

    workers = [threading.Thread(target=work, args=(pk,)) for pk in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert logs == {1: ["tickets/1"] * 3, 2: ["tickets/2"] * 3}
    assert client.stats().requests == 6


def test_a_thread_running_in_a_copy_of_the_context_is_captured(client: zo.Client) -> None:
    with client.capture() as log:
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(client.tickets.get, 4))
        worker.start()
        worker.join()
        plain = threading.Thread(target=client.tickets.get, args=(5,))  # a context of its own
        plain.start()
        plain.join()
    assert [r.path for r in log] == ["tickets/4"]
    assert client.stats().requests == 2


def test_a_request_on_the_wire_when_the_block_ends_is_recorded_and_a_later_one_is_not(
    emulator: Any,
) -> None:
    entered, release = threading.Event(), threading.Event()

    class Held(WSGITransport):
        def send(self, request: Request) -> Response:
            entered.set()
            assert release.wait(timeout=30)
            return super().send(request)

    client = make_client(emulator, transport=Held(emulator.app, retries=0))
    with client.capture() as log:
        worker = threading.Thread(target=contextvars.copy_context().run, args=(client.tickets.get, 1))
        worker.start()
        assert entered.wait(timeout=30)
        threading.Timer(0.2, release.set).start()  # answered while the block ends (or just before)
        later = contextvars.copy_context()
    assert [r.path for r in log] == ["tickets/1"]
    later.run(client.tickets.get, 2)  # a copy of the block's context, but the block is over
    assert [r.path for r in log] == ["tickets/1"]
    worker.join()


def test_a_request_that_was_never_sent_is_not_recorded(client: zo.Client) -> None:
    with client.capture() as log, pytest.raises(zo.FieldError, match="not JSON-serialisable"):
        client.post("tickets", json={"title": object()})
    assert len(log) == 0
    assert client.stats().requests == 0


def test_bulk_writes_from_worker_threads_are_captured(client: zo.Client) -> None:
    with client.capture() as log:
        made = client.tickets.bulk_create(
            [
                {"title": f"bulk {n}", "group": "Users", "customer": "nicole.braun@zammad.org"}
                for n in range(3)
            ]
        )
    # The group's name is checked once per client against the groups table, then the creates go.
    assert [(r.method, r.endpoint) for r in log] == [("GET", "groups")] + [("POST", "tickets")] * 3
    for ticket in made:
        ticket.delete()


# --- N+1 ----------------------------------------------------------------------------------------------


def distinct_customer_tickets(emulator: Any, count: int) -> list[int]:
    client = make_client(emulator)
    seen: dict[int, int] = {}
    for ticket in client.tickets.filter(id__lte=40).order_by("id"):
        seen.setdefault(ticket.customer_id, ticket.id)
    client.close()
    assert len(seen) >= count
    return sorted(seen.values())[:count]


def test_a_loop_reading_a_relation_one_request_each_warns(emulator: Any) -> None:
    ids = distinct_customer_tickets(emulator, 6)
    client = make_client(emulator, warn_n_plus_one=True)

    def loop() -> None:
        for pk in ids:
            ticket = client.tickets.get(pk)
            assert ticket.customer.login  # the line the warning names

    with pytest.warns(NPlusOneWarning) as caught:
        loop()
    assert len(caught) == 1  # once per loop
    warning = caught[0]
    message = str(warning.message)
    assert "Ticket.customer" in message
    assert "GET users/{id}" in message
    assert "select_related('customer')" in message
    assert warning.filename == __file__
    assert client.stats().by_endpoint["users/{id}"] == 6


def test_four_reads_do_not_warn_and_the_setting_is_off_by_default(emulator: Any) -> None:
    ids = distinct_customer_tickets(emulator, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        four = make_client(emulator, warn_n_plus_one=True)
        for pk in ids[:4]:
            four.tickets.get(pk).customer  # noqa: B018
        off = make_client(emulator)
        assert off.warn_n_plus_one is False
        for pk in ids:
            off.tickets.get(pk).customer  # noqa: B018
        assert off.stats().by_endpoint["users/{id}"] == 6


def test_select_related_and_known_objects_do_not_warn(emulator: Any) -> None:
    ids = distinct_customer_tickets(emulator, 6)
    client = make_client(emulator, warn_n_plus_one=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tickets = [client.tickets.get(pk) for pk in ids]
        loaded = client.tickets.filter(id__in=ids).select_related("customer")
        assert sorted(t.customer.login for t in loaded) == sorted(t.customer.login for t in tickets)
        again = make_client(emulator, warn_n_plus_one=True, cache=client.cache)
        for pk in ids:  # customers from the record cache: no request, no warning
            again.tickets[pk].customer  # noqa: B018
    assert again.stats().requests == 0


def test_the_plain_loop_over_a_search_does_not_warn(emulator: Any) -> None:
    client = make_client(emulator, warn_n_plus_one=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = [
            (t.state.name, t.priority.name, t.group.name, t.owner.login, t.customer.email, t.organization)
            for t in client.tickets.filter(id__lte=40).order_by("id")
        ]
    assert len(rows) == 40
    assert client.stats().by_endpoint == {"tickets/search": 1, "ticket_states": 1, "ticket_priorities": 1}


def test_the_detector_counts_a_run_within_its_window_only() -> None:
    detector = NPlusOneDetector(threshold=3, window=-1.0)  # no two requests are close enough
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(10):
            detector.note("Ticket", "owner", "User", "users/{id}", started=time.monotonic())
    detector = NPlusOneDetector(threshold=3, window=3600.0)

    def loop() -> None:
        for _ in range(7):
            detector.note("Ticket", "owner", "User", "users/{id}", started=time.monotonic())

    with pytest.warns(NPlusOneWarning, match=r"3 reads of Ticket\.owner") as caught:
        loop()
    assert len(caught) == 1
