"""zammad_orm against the Zammad clients on PyPI, on the same emulator, doing the same work.

Peers: ``zammad-py`` 3.2.1 (``zammad_py.ZammadAPI``) and ``zammadoo`` 0.3.0.post0 (``zammadoo.Client``),
pinned in ``benchmarks/requirements.txt`` and installed by ``make bench``. All clients talk real HTTP over
loopback to one ``zammad_orm.testing.Emulator(demo=10_000)`` (Zammad 6.2 replies, threaded server).
Requests are counted on the server side, by a WSGI wrapper around the emulator's app, so every client
is counted the same way. Figures are medians of several runs; "requests" is the median count per run.

Operations (each client's documented way of doing it; page size 200 for searches, 100 for users):

* (a) fetch ticket by id: read a ticket's title by id, 20 different ids, once cold (not seen by this
  client before; the connection is already open) and once more warm (the same ids again).
  zammad_orm ``client.tickets[pk]`` (identity map, then record cache, then one GET); zammad-py
  ``ticket.find(pk)``; zammadoo ``client.tickets(pk).title`` (its per-collection LRU cache).
* (b) search ``state.name:open`` (about a fifth of the demo tickets) and read each match's number,
  state name and owner login, with a new client per run. zammad_orm ``search(...).select_related(
  "state", "owner")``; zammad-py pages the search with ``expand=true`` (names come inline); zammadoo
  iterates ``tickets.search()`` and reads ``t.state.name``, ``t.owner.login``. zammadoo caches the
  search ``assets`` but keeps at most 100 tickets (``Tickets.DEFAULT_CACHE_SIZE``), so with pages of
  200 most tickets are fetched again one by one (the N+1 pattern); it is also measured with that cache
  unbounded (``client.tickets.cache.max_size = -1``). The rows read are compared across clients.
* (c) count the matches of that search, new client per run. Zammad 6.2 returns no total, so every
  client pages through the matches: zammad_orm ``search(...).count()`` (id lists only), the peers by
  iterating and counting.
* (d) create a ticket with a first article (``guess:`` customer), 10 tickets per client; the clients
  take turns, after one untimed create each (the emulator's first creates are slower).
* (e) iterate all users, new client per run: zammad_orm ``client.users.iter()``, zammad-py
  ``user.all()`` with ``next_page()``, zammadoo ``client.users.iter()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from _measure import RequestCounter, counted_emulator, figure

DEMO_TICKETS = 10_000
QUERY = "state.name:open"
SEARCH_PAGE = 200
USER_PAGE = 100
FETCH_IDS = range(101, 121)
ROUNDS = 5
CREATES = 10

Row = tuple[str, str, str]


# --- the clients, each doing the operations its own way -------------------------------------------


class ZammadOrm:
    name = "zammad_orm"

    def __init__(self, url: str, token: str) -> None:
        import zammad_orm as zo

        self.client = zo.Client(url, http_token=token)

    def title(self, pk: int) -> str:
        return str(self.client.tickets[pk].title)

    def open_rows(self) -> list[tuple[str, str, str]]:
        qs = self.client.tickets.search(QUERY).select_related("state", "owner")
        return [(t.number, t.state.name, t.owner.login) for t in qs]

    def count_open(self) -> int:
        return int(self.client.tickets.search(QUERY).count())

    def create(self, n: int) -> int:
        ticket = self.client.tickets.create(
            title=f"bench {n}", group="Users", customer=f"guess:bench{n}@example.com", article={"body": "b"}
        )
        return int(ticket.id)

    def users(self) -> int:
        return sum(1 for _ in self.client.users.iter(page_size=USER_PAGE))


class ZammadPy:
    name = "zammad-py"

    def __init__(self, url: str, token: str) -> None:
        from zammad_py import ZammadAPI

        self.api = ZammadAPI(url=f"{url}/api/v1/", http_token=token)

    def title(self, pk: int) -> str:
        return str(self.api.ticket.find(pk)["title"])

    def _open_pages(self) -> Iterable[Any]:
        page = self.api.ticket.search(QUERY, filters={"per_page": SEARCH_PAGE})
        while True:
            yield page
            if page.is_last_page():
                return
            page = page.next_page()

    def open_rows(self) -> list[tuple[str, str, str]]:
        return [(t["number"], t["state"], t["owner"]) for page in self._open_pages() for t in page]

    def count_open(self) -> int:
        return sum(len(page) for page in self._open_pages())

    def create(self, n: int) -> int:
        record = self.api.ticket.create(
            {
                "title": f"bench {n}",
                "group": "Users",
                "customer_id": f"guess:bench{n}@example.com",
                "article": {"body": "b"},
            }
        )
        return int(record["id"])

    def users(self) -> int:
        page = self.api.user.all(filters={"per_page": USER_PAGE})
        total = len(page)
        while not page.is_last_page():
            page = page.next_page()
            total += len(page)
        return total


class Zammadoo:
    name = "zammadoo"

    def __init__(self, url: str, token: str) -> None:
        import zammadoo

        self.client = zammadoo.Client(f"{url}/api/v1", http_token=token)

    def title(self, pk: int) -> str:
        return str(self.client.tickets(pk).title)

    def open_rows(self) -> list[tuple[str, str, str]]:
        found = self.client.tickets.search(QUERY, per_page=SEARCH_PAGE)
        return [(t.number, t.state.name, t.owner.login) for t in found]

    def count_open(self) -> int:
        return sum(1 for _ in self.client.tickets.search(QUERY, per_page=SEARCH_PAGE))

    def create(self, n: int) -> int:
        ticket = self.client.tickets.create(f"bench {n}", "Users", f"guess:bench{n}@example.com", "b")
        return int(ticket.id)

    def users(self) -> int:
        return sum(1 for _ in self.client.users.iter(per_page=USER_PAGE))


class ZammadooUnbounded(Zammadoo):
    name = "zammadoo, tickets cache unbounded"

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token)
        self.client.tickets.cache.max_size = -1


PEERS: list[Any] = [ZammadOrm, ZammadPy, Zammadoo]


# --- measuring ------------------------------------------------------------------------------------


class Bench:
    def __init__(self, url: str, token: str, counter: RequestCounter) -> None:
        self.url = url
        self.token = token
        self.timed = counter.timed

    def fresh(self, make: Any, op: str, rounds: int = ROUNDS) -> tuple[str, Any]:
        """Run ``op`` on a new client per round (built outside the timing); the figure and a result."""
        samples = [self.timed(getattr(make(self.url, self.token), op)) for _ in range(rounds)]
        results = {repr(s[2]) for s in samples}
        if len(results) != 1:
            raise RuntimeError(f"{make.__name__}.{op} gave different results in different runs")
        return figure([s[0] for s in samples], [s[1] for s in samples]), samples[0][2]


def _same(what: str, results: dict[str, Any]) -> None:
    """Fail the benchmark when the clients did not do the same work."""
    first_name, first = next(iter(results.items()))
    for name, value in results.items():
        if value != first:
            raise RuntimeError(f"{what}: {name} read something else than {first_name}")


def _target(name: str, orm: str) -> str:
    return orm if name == ZammadOrm.name else "peer"


def fetch_rows(bench: Bench) -> list[Row]:
    cold: list[Row] = []
    warm: list[Row] = []
    titles: dict[str, Any] = {}
    for make in PEERS:
        peer = make(bench.url, bench.token)
        peer.title(1)  # opens the connection; ticket 1 is not among the measured ids
        first = [bench.timed(lambda pk=pk, peer=peer: peer.title(pk)) for pk in FETCH_IDS]
        again = [bench.timed(lambda pk=pk, peer=peer: peer.title(pk)) for pk in FETCH_IDS]
        titles[peer.name] = [s[2] for s in first + again]
        cold.append(
            (
                f"(a) fetch ticket by id, cold: {peer.name}",
                figure([s[0] for s in first], [s[1] for s in first]),
                _target(peer.name, "≤ peers, 1 request"),
            )
        )
        warm.append(
            (
                f"(a) fetch ticket by id, warm (same ids again): {peer.name}",
                figure([s[0] for s in again], [s[1] for s in again]),
                _target(peer.name, "0 requests"),
            )
        )
    _same("fetch by id", titles)
    return cold + warm


def search_rows(bench: Bench) -> list[Row]:
    rows: list[Row] = []
    read: dict[str, Any] = {}
    for make in [*PEERS, ZammadooUnbounded]:
        fig, result = bench.fresh(make, "open_rows")
        read[make.name] = sorted(result)
        rows.append(
            (
                f"(b) search {QUERY} ({len(result)} tickets), state name + owner login: {make.name}",
                fig,
                _target(make.name, "≤ peers, 1 request per 200 tickets"),
            )
        )
    _same("search with relations", read)
    return rows + _each_peer(bench, "count_open", "(c) count of the search", "count")


def create_rows(bench: Bench) -> list[Row]:
    # The clients take turns (and each creates one ticket untimed first): the emulator's first creates
    # are slower, and with one client after the other the first client paid for that warm-up alone.
    peers = [make(bench.url, bench.token) for make in PEERS]
    timed: dict[str, list[Any]] = {peer.name: [] for peer in peers}
    for number, peer in enumerate(peers):
        peer.title(1)  # opens the connection
        peer.create(number * 100 + 99)
    for n in range(CREATES):
        for number, peer in enumerate(peers):
            timed[peer.name].append(bench.timed(lambda n=number * 100 + n, peer=peer: peer.create(n)))
    rows: list[Row] = []
    for peer in peers:
        samples = timed[peer.name]
        if len({s[2] for s in samples}) != CREATES:
            raise RuntimeError(f"{peer.name} did not create {CREATES} tickets")
        rows.append(
            (
                f"(d) create a ticket with an article: {peer.name}",
                figure([s[0] for s in samples], [s[1] for s in samples]),
                _target(peer.name, "≤ peers, 1 request"),
            )
        )
    return rows


def user_rows(bench: Bench) -> list[Row]:
    return _each_peer(bench, "users", "(e) iterate all users", "users")


def _each_peer(bench: Bench, op: str, label: str, what: str) -> list[Row]:
    """One row per peer for ``op`` (a new client each round); every peer must get the same result."""
    rows: list[Row] = []
    results: dict[str, Any] = {}
    for make in PEERS:
        fig, result = bench.fresh(make, op)
        results[make.name] = result
        rows.append((f"{label} ({result}): {make.name}", fig, _target(make.name, "≤ peers")))
    _same(what, results)
    return rows


def run() -> list[Row]:
    with counted_emulator(DEMO_TICKETS) as (emulator, counter):
        bench = Bench(emulator.url, emulator.token, counter)
        rows = fetch_rows(bench) + search_rows(bench)
        users = user_rows(bench)  # before (d): creating with guess: customers adds users
        return rows + create_rows(bench) + users


if __name__ == "__main__":
    for measure, fig, target in run():
        print(f"{measure}: {fig} (target {target})")
