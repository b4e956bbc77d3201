"""Search pages in flight at once (``Client(page_concurrency=...)``), over real HTTP against the emulator.

The obvious loop must cost what the wire costs: every search page comes with its ``assets`` (users,
organizations, groups), reference tables load whole, and later pages are asked for while the current
one is read. Request counts are asserted, never times (those are in ``benchmarks/``).
"""

from __future__ import annotations

import gc
import platform
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

import zammad_orm as zo
from tests.caches import own_cache
from zammad_orm import Ticket, _memory
from zammad_orm.cache import TieredCache, tiered
from zammad_orm.errors import ConfigurationError, ServerError

from .conftest import CountingTransport, Emulator

DEMO = 900  # 901 tickets with the seeded one: 5 pages of 200, the last one short


class PageGate:
    """WSGI middleware: counts search pages answered, can fail one page, can hold pages back."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.fail_page: int | None = None
        self.answered = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].endswith("/tickets/search"):
            page = int(parse_qs(environ.get("QUERY_STRING", "")).get("page", ["1"])[0])
            with self.lock:
                self.answered += 1
            if page == self.fail_page:
                start_response("500 Internal Server Error", [("Content-Type", "application/json")])
                return [b'{"error":"boom on this page"}']
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Any, PageGate]]:
    emulator = Emulator(demo=DEMO, seed=5)
    gate = PageGate(emulator.app)
    emulator.app = gate  # replaced before start(): the server serves the gate
    emulator.start()
    yield emulator, gate
    emulator.close()


def make_client(emulator: Any, **kwargs: Any) -> tuple[zo.Client, CountingTransport]:
    transport = CountingTransport(retries=0)
    return zo.Client(emulator.url, http_token=emulator.token, transport=transport, **kwargs), transport


def report_rows(client: zo.Client) -> list[tuple[Any, ...]]:
    with client.activate():
        return [
            (t.number, t.title, t.created_at, t.state.name, t.priority.name, t.group.name, t.owner.login,
             t.customer.email, t.organization.name if t.organization else None)
            for t in Ticket.objects.filter(id__lte=10_000).order_by("id")
        ]  # fmt: skip


def test_the_plain_loop_costs_the_floor(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator, page_concurrency=1)
    rows = report_rows(client)
    assert len(rows) == DEMO + 1
    # The floor: 5 search pages with their assets and the two reference tables, nothing per row.
    paths = sorted({p.split("?")[0] for _, p in transport.sent})
    assert paths == ["/ticket_priorities", "/ticket_states", "/tickets/search"]
    assert transport.count == 5 + 2


def test_default_concurrency_gives_the_same_rows_in_order(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    sequential, _ = make_client(emulator, page_concurrency=1)
    parallel, transport = make_client(emulator)
    assert parallel.page_concurrency == 8
    assert report_rows(parallel) == report_rows(sequential)
    pages = [p for _, p in transport.sent if p.startswith("/tickets/search")]
    # 5 pages needed; at most in_flight - 1 = 7 more were on the wire when the short page came back.
    assert 5 <= len(pages) <= 5 + 7
    asked = sorted(int(parse_qs(p.split("?", 1)[1])["page"][0]) for p in pages)
    assert asked[:5] == [1, 2, 3, 4, 5]


def test_a_small_result_costs_one_request(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator, page_concurrency=8)
    found = list(client.tickets.filter(id__lte=30))
    assert len(found) == 30
    assert [p.split("?")[0] for _, p in transport.sent] == ["/tickets/search"]


def test_a_slice_asks_only_for_the_pages_it_needs(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator, page_concurrency=8)
    found = list(client.tickets.order_by("id")[150:450])
    assert [t.id for t in found] == list(range(151, 451))
    asked = sorted(int(parse_qs(p.split("?", 1)[1])["page"][0]) for _, p in transport.sent)
    assert asked == [1, 2, 3]  # rows 150-449 lie on pages 1 to 3 of 200


def test_an_error_on_a_page_is_raised_once_with_its_page(server: tuple[Any, PageGate]) -> None:
    emulator, gate = server
    client, _ = make_client(emulator)
    gate.fail_page = 3
    seen: list[int] = []

    def read() -> None:
        for t in client.tickets.order_by("id").iterator():  # streamed: rows arrive page by page
            seen.append(t.id)

    try:
        with pytest.raises(ServerError) as caught:
            read()
    finally:
        gate.fail_page = None
    assert seen == list(range(1, 401))  # pages 1 and 2 were read, in order, before the error
    assert caught.value.status == 500
    assert "page=3" in caught.value.url
    assert "boom on this page" in str(caught.value)


def test_pages_in_flight_stay_bounded_while_the_consumer_is_slow(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator, page_concurrency=2)
    read_pages = 0
    for index, _ticket in enumerate(client.tickets.order_by("id").iterator()):
        if index % 200 == 199:
            read_pages += 1
            # Pages are asked for ahead, but never more than page_concurrency beyond what was read.
            # (Counted where this client sends: other tests' abandoned requests may still reach the server.)
            assert transport.count <= read_pages + 2
    assert transport.count <= 5 + 1


def test_impersonation_reaches_every_page_request(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator)
    with client.on_behalf_of(1 + 2):  # an agent of the demo data
        list(client.tickets.order_by("id"))
    pages = [r for r in transport.requests if r.full_url.split("?")[0].endswith("/tickets/search")]
    assert len(pages) >= 5
    assert {r.headers.get("From") for r in pages} == {"3"}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_page_concurrency_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="page_concurrency"):
        zo.Client("http://zammad.invalid", http_token="t", page_concurrency=bad)


def test_a_stream_keeps_only_its_page_and_reads_relations_without_requests(
    server: tuple[Any, PageGate],
) -> None:
    emulator, _ = server
    client, transport = make_client(emulator)
    customers: set[int] = set()
    alive_most = 0
    for index, t in enumerate(client.tickets.order_by("id").iterator()):
        assert t.customer.email  # from the page's assets, attached to the row
        customers.add(t.customer_id)
        if index % 100 == 99:
            alive_most = max(alive_most, len(client.identity.objects(Ticket)))
    assert len(customers) > 50
    paths = {p.split("?")[0] for _, p in transport.sent}
    assert paths == {"/tickets/search"}  # no request per customer
    # Streaming keeps no record of the related objects (the memory tier would grow with the result) ...
    assert all(client.cache.get("User", pk) is None for pk in customers)
    # ... and the identity map holds (weakly) about a page of tickets, not the whole result.
    assert alive_most <= 2 * 200


def test_the_plain_loop_reads_asset_relations_from_the_rows(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator, page_concurrency=1)
    tickets = list(client.tickets.order_by("id")[:400])
    transport.reset()
    owners = {t.owner.login for t in tickets}
    groups = {t.group.name for t in tickets}
    assert owners
    assert groups
    assert transport.count == 0  # attached from the pages' assets: no lookup, no request
    assert all(client.cache.get("User", t.customer_id) is not None for t in tickets)  # and cached


def test_without_a_search_index_the_index_pages_are_in_flight_once_their_number_is_known() -> None:
    with Emulator(demo=450, seed=8, search_backend="database") as emulator:
        found: dict[int, list[Any]] = {}
        pages: dict[int, list[int]] = {}
        for concurrency in (1, 4):
            # A cache of its own each: the second must not read the replies the first one kept.
            client, transport = make_client(emulator, page_concurrency=concurrency, cache=own_cache())
            zo.configure_search(client, "database")  # known: no probe
            with pytest.warns(zo.SearchIndexUnavailableWarning):
                found[concurrency] = [(t.id, t.customer.email) for t in client.tickets.filter(id__lte=10**4)]
            asked = [p for _, p in transport.sent if p.split("?")[0] == "/tickets"]
            pages[concurrency] = [int(parse_qs(p.split("?", 1)[1])["page"][0]) for p in asked]
            assert all("full=true" in p for p in asked)  # assets: no request per customer
            assert {p.split("?")[0] for _, p in transport.sent} == {"/tickets"}
        assert found[4] == found[1]
        assert len(found[1]) == 451
        # total_count of the first page tells there are 5 pages of 100: no empty sixth page, either way.
        assert pages[1] == [1, 2, 3, 4, 5]
        assert sorted(pages[4]) == [1, 2, 3, 4, 5]


def test_a_whole_result_loads_its_reference_tables_beside_the_pages(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, transport = make_client(emulator)
    found = list(client.tickets.order_by("id"))  # many pages: the first comes back full
    assert len(found) > 400
    paths = [p.split("?")[0] for _, p in transport.sent]
    tables = [i for i, p in enumerate(paths) if p != "/tickets/search"]
    assert sorted(paths[i] for i in tables) == ["/ticket_priorities", "/ticket_states"]
    assert all(i < len(paths) - 1 for i in tables)  # asked while pages were still on the wire
    sent = transport.count
    assert {t.state.name for t in found}
    assert {t.priority.name for t in found}
    assert transport.count == sent  # the loop's reads of states and priorities cost nothing more
    list(client.tickets.order_by("-id"))
    assert transport.count - sent >= 3  # a second whole result: pages only, the tables are known
    assert all(p.startswith("/tickets/search") for _, p in transport.sent[sent:])


@pytest.mark.parametrize(
    "read",
    [
        lambda c: list(c.tickets.filter(id__lte=30)),  # one page
        lambda c: list(c.tickets.order_by("id")[:450]),  # a slice
        lambda c: list(c.tickets.order_by("id").iterator()),  # a stream
        lambda c: list(c.tickets.search("id:>0")),  # a query string as written (the seed API)
    ],
    ids=["one-page", "slice", "stream", "raw"],
)
def test_other_reads_load_no_table_ahead(server: tuple[Any, PageGate], read: Any) -> None:
    emulator, _ = server
    client, transport = make_client(emulator)
    read(client)
    assert {p.split("?")[0] for _, p in transport.sent} == {"/tickets/search"}


def test_a_whole_result_freezes_its_pages_until_the_last_and_gives_them_back(
    server: tuple[Any, PageGate], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, gate = server
    client, _ = make_client(emulator, max_age=0)  # the failing read below must ask (kept replies: 304)
    gc.unfreeze()  # an in-process emulator of an earlier test may have frozen its search documents
    frozen_while_loading: list[int] = []
    real = _memory.BulkLoad.page_done

    def page_done(self: _memory.BulkLoad) -> None:
        real(self)
        frozen_while_loading.append(gc.get_freeze_count())

    monkeypatch.setattr(_memory.BulkLoad, "page_done", page_done)
    tickets = list(client.tickets.order_by("id"))
    assert len(tickets) == DEMO + 1
    assert len(frozen_while_loading) == 5  # one per page, each page's objects out of the collector's sight
    assert all(count > 0 for count in frozen_while_loading)
    assert gc.get_freeze_count() == 0  # all given back once the result is read
    # ... and when a page fails half-way.
    gate.fail_page = 3
    try:
        with pytest.raises(ServerError):
            list(client.tickets.order_by("id"))
    finally:
        gate.fail_page = None
    assert gc.get_freeze_count() == 0
    # A stream freezes nothing (the caller's code runs between its pages).
    frozen_while_loading.clear()
    assert sum(1 for _ in client.tickets.order_by("id").iterator()) == DEMO + 1
    assert frozen_while_loading == [0] * 5


def test_a_program_that_froze_objects_itself_is_left_alone(server: tuple[Any, PageGate]) -> None:
    emulator, _ = server
    client, _ = make_client(emulator)
    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        assert len(list(client.tickets.order_by("id"))) == DEMO + 1
        # Nothing frozen on top, nothing unfrozen (frozen objects that die meanwhile leave the count).
        assert 0 < gc.get_freeze_count() <= mine
    finally:
        gc.unfreeze()


def test_a_stream_returns_freed_memory_every_few_pages(
    server: tuple[Any, PageGate], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, _ = server
    client, _ = make_client(emulator)
    trims: list[int] = []
    monkeypatch.setattr(_memory, "_TRIM", [trims.append])
    assert sum(1 for _ in client.tickets.order_by("id").iterator(chunk_size=100)) == DEMO + 1
    pages = -(-(DEMO + 1) // 100)  # 10 pages of 100 (the last one short): trimmed after the 5th and 10th
    assert trims == [0] * (pages // _memory.TRIM_EVERY)
    assert trims
    trims.clear()
    assert len(list(client.tickets.order_by("id"))) == DEMO + 1
    assert trims == []  # a whole result keeps its pages: nothing to give back


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_malloc_trim_is_found() -> None:
    assert _memory._malloc_trim() is not None


def test_a_whole_result_is_written_to_the_disk_cache_once_its_last_page_is_in(
    server: tuple[Any, PageGate], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    emulator, _ = server
    # One page at a time: the reader never waits for a page on the wire (a wait lets the writer start).
    client, _ = make_client(emulator, cache=f"disk:{tmp_path}", page_concurrency=1)
    cache = client.cache
    assert isinstance(cache, TieredCache)
    seen: list[tuple[int, bool]] = []  # (batches queued, a writer running) after each page
    real = _memory.BulkLoad.page_done

    def page_done(self: _memory.BulkLoad) -> None:
        real(self)
        seen.append((len(cache._queue), cache._writer is not None))

    monkeypatch.setattr(_memory.BulkLoad, "page_done", page_done)
    tickets = list(client.tickets.order_by("id"))
    assert [running for _, running in seen] == [False] * 5  # nothing written beside the page decoding
    assert [queued for queued, _ in seen] == sorted(queued for queued, _ in seen)
    cache.flush()  # the writer started when the result was read
    assert cache.persistent is not None
    assert all(cache.persistent.get("Ticket", t.id) is not None for t in tickets)
    # A stream writes behind its pages as it goes (its rows are not kept: the queue stays short).
    seen.clear()
    assert sum(1 for _ in client.tickets.order_by("id").iterator()) == len(tickets)
    assert max(queued for queued, _ in seen) <= tiered.MAX_QUEUED + 1
    client.close()
