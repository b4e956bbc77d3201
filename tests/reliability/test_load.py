"""Eight threads share one client for a bounded loop of mixed work against the emulator over real HTTP.

Each thread reads shared tickets (and their relations), searches, saves its own ticket, creates tickets
and articles, and adds and removes tags, chosen by a seeded random sequence, for ``LOAD_SECONDS``, while
the emulator injects faults: 503s, 429s, slow and dropped replies to reads and updates (retried by the
transport), and dropped replies to ticket creates and tag adds (never retried: the thread finds the
ticket with ``find_created`` and adds the tag again, which Zammad ignores when it is there). The test then
checks, in the emulator's store and ticket history, that every write was applied exactly once; that the
identity map held one object per id across threads and no object was left torn (a field whose value is
not what its record says); and that the connection pool stayed bounded.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from tests.reliability.conftest import count
from zammad_orm import errors
from zammad_orm.resources.ticket import TicketManager
from zammad_orm.testing import Emulator
from zammad_orm.transport import HTTPTransport

THREADS = 8
LOAD_SECONDS = 20.0
SHARED = 12  # tickets every thread reads
PRIORITIES = ("1 low", "3 high")


@pytest.fixture(scope="module")
def loaded() -> Iterator[Emulator]:
    with Emulator(seed=11, demo=40) as server:
        yield server


def _established_to(port: int) -> int:
    """Count the client side of established TCP connections to ``port`` on loopback (Linux /proc)."""
    table = Path("/proc/net/tcp")
    if not table.exists():  # pragma: no cover - not Linux
        return 0
    n = 0
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
            n += 1
    return n


def test_eight_threads_share_one_client(loaded: Emulator) -> None:
    pool_size = THREADS
    transport = HTTPTransport(retries=6, backoff=0.005, max_wait=5.0, pool_size=pool_size)
    client = zo.Client(loaded.url, http_token=loaded.token, transport=transport)
    port = int(loaded.url.rsplit(":", 1)[1])
    shared_ids = [t.id for t in client.tickets.filter(group="Users").order_by("id")[:SHARED]]
    if len(shared_ids) < SHARED:  # the demo data puts few tickets in "Users": make the rest
        for i in range(SHARED - len(shared_ids)):
            made = client.tickets.create(title=f"shared {i}", group="Users", customer=2, article="x")
            shared_ids.append(made.id)
    own = [
        client.tickets.create(title=f"load8 own {n}", group="Users", customer=2, article="start")
        for n in range(THREADS)
    ]
    own_ids = [t.id for t in own]
    del own  # each thread gets its ticket through the identity map, like any other reader

    faults = loaded.faults
    rules = [
        faults.add("status", method="GET", status=503, probability=0.03),
        faults.add("rate_limit", method="GET", retry_after=0.0, probability=0.02),
        faults.add("drop", method="GET", probability=0.02),
        faults.add("latency", method="GET", latency=0.05, probability=0.03),
        faults.add("status", method="PUT", status=502, probability=0.05),
        faults.add("drop", method="PUT", probability=0.05),  # applied, reply lost: retried, same values
        faults.add("drop", method="POST", path=r"^/api/v1/tickets$", probability=0.1),
        faults.add("drop", method="POST", path=r"^/api/v1/tags/add$", probability=0.1),
    ]
    unsure = [0] * THREADS
    deadline = time.monotonic() + LOAD_SECONDS
    failures: list[tuple[int, BaseException]] = []
    ops: list[Counter[str]] = [Counter() for _ in range(THREADS)]
    seen: list[dict[int, list[Any]]] = [defaultdict(list) for _ in range(THREADS)]
    created: list[list[tuple[int, str]]] = [[] for _ in range(THREADS)]
    articles: list[list[str]] = [[] for _ in range(THREADS)]
    saves: list[list[str]] = [[] for _ in range(THREADS)]
    tags_now: list[set[str]] = [set() for _ in range(THREADS)]
    tag_ops: list[list[tuple[str, str]]] = [[] for _ in range(THREADS)]
    peak = [0]
    stop = threading.Event()

    def monitor() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _established_to(port))

    def work(n: int) -> None:
        rng = random.Random(n)
        mine = client.tickets.get(own_ids[n])
        i = 0
        try:
            while time.monotonic() < deadline:
                i += 1
                op = rng.choice(
                    ["read", "read", "relations", "search", "save", "create", "article", "tag", "tag"]
                )
                if op == "read":
                    pk = rng.choice(shared_ids + own_ids)
                    ticket = client.tickets.get(pk)
                    assert ticket.id == pk
                    assert ticket.view()["id"] == pk
                    seen[n][pk].append(ticket)  # kept alive: the map must hand out this same object
                elif op == "relations":
                    ticket = client.tickets[rng.choice(shared_ids)]
                    assert ticket.state.name
                    assert ticket.group.name == "Users"
                    assert ticket.customer.id == ticket.customer_id
                elif op == "search":
                    found = list(client.tickets.filter(title__startswith="load8 own").order_by("id"))
                    assert [t.id for t in found][: len(own_ids)] == own_ids
                    for t in found:
                        if t.id in own_ids:
                            seen[n][t.id].append(t)
                elif op == "save":
                    title = f"load8 own {n} save {i}"
                    mine.title = title
                    mine.priority = PRIORITIES[len(saves[n]) % 2]  # from "2 normal": a change every time
                    mine.save()
                    saves[n].append(title)
                    assert mine.title == title
                elif op == "create":
                    title = f"load8 new {n}.{i}"
                    marker = TicketManager.new_marker()
                    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)
                    try:
                        made = client.tickets.create(
                            title=title,
                            group="Users",
                            customer=2,
                            article={"body": "new", "message_id": marker},
                        )
                    except errors.OutcomeUnknown:
                        unsure[n] += 1
                        found = client.tickets.find_created(marker, since=started)
                        assert found is not None, title
                        made = found
                    created[n].append((made.id, title))
                elif op == "article":
                    body = f"load8 article {n}.{i}"
                    article = mine.create_article(body, internal=False)
                    assert article.ticket_id == mine.id
                    articles[n].append(body)
                else:
                    if tags_now[n] and rng.random() < 0.4:
                        name = rng.choice(sorted(tags_now[n]))
                        mine.remove_tags(name)
                        tags_now[n].discard(name)
                        tag_ops[n].append(("removed", name))
                    else:
                        name = f"load8-t{n}-{i}"
                        for _ in range(10):  # adding a tag the ticket has already changes nothing
                            try:
                                mine.add_tags(name)
                                break
                            except errors.OutcomeUnknown:
                                unsure[n] += 1
                        tags_now[n].add(name)
                        tag_ops[n].append(("added", name))
                ops[n][op] += 1
        except BaseException as exc:
            failures.append((n, exc))
        finally:
            seen[n][mine.id].append(mine)

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=work, args=(n,), name=f"load-{n}") for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=LOAD_SECONDS + 120)
    stop.set()
    watcher.join()
    injected = sum(rule.hits for rule in rules)
    faults.clear()
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures[:3]

    total = sum((c for c in ops), Counter())
    assert all(total[op] > 0 for op in ("read", "relations", "search", "save", "create", "article", "tag"))

    # One object per id across threads, and it is the one the identity map holds.
    ids = {pk for per_thread in seen for pk in per_thread}
    for pk in ids:
        objects = {id(obj) for per_thread in seen for obj in per_thread.get(pk, [])}
        assert len(objects) == 1, f"ticket {pk}: {len(objects)} objects"
        held = next(obj for per_thread in seen for obj in per_thread.get(pk, []))
        assert client.identity.get(zo.Ticket, pk) is held
        # Not torn: every field read agrees with the record the object holds, and nothing is dirty.
        assert held.changes() == {}, (pk, held.changes())
        for name in ("title", "priority_id", "state_id", "number", "updated_at"):
            assert getattr(held, name) == zo.Ticket._meta.readers[name](held.view()), (pk, name)

    conn = loaded.store.conn
    # Every create applied exactly once.
    made = [entry for per_thread in created for entry in per_thread]
    for pk, title in made:
        assert conn.execute("SELECT COUNT(*) FROM tickets WHERE title = ?", (title,)).fetchone()[0] == 1
        assert conn.execute("SELECT title FROM tickets WHERE id = ?", (pk,)).fetchone()[0] == title
    for n, pk in enumerate(own_ids):
        # Every article exactly once, in order.
        bodies = [
            row[0]
            for row in conn.execute("SELECT body FROM ticket_articles WHERE ticket_id = ? ORDER BY id", (pk,))
        ]
        assert bodies == ["start", *articles[n]]
        # Every save exactly once: one priority change in the history per save, the last title kept.
        changes = conn.execute(
            "SELECT COUNT(*) FROM histories WHERE object = 'Ticket' AND o_id = ? AND attribute = 'priority'",
            (pk,),
        ).fetchone()[0]
        assert changes == len(saves[n])
        title = conn.execute("SELECT title FROM tickets WHERE id = ?", (pk,)).fetchone()[0]
        assert title == (saves[n][-1] if saves[n] else f"load8 own {n}")
        # Every tag change exactly once: the tags the thread believes in, one history entry per change.
        tags = {
            row[0]
            for row in conn.execute(
                "SELECT ti.name FROM tags t JOIN tag_items ti ON ti.id = t.tag_item_id"
                " WHERE t.object = 'Ticket' AND t.o_id = ?",
                (pk,),
            )
        }
        assert tags == tags_now[n]
        logged = conn.execute(
            "SELECT type, value_to, value_from FROM histories WHERE object = 'Ticket' AND o_id = ?"
            " AND attribute = 'tag' ORDER BY id",
            (pk,),
        ).fetchall()
        assert [(t, to or frm) for t, to, frm in logged] == tag_ops[n]

    # The connection pool stayed bounded: one pool for the host, no more idle connections than its size,
    # and never more connections at once than the threads and their pages in flight.
    pools = transport.session.adapters["http://"].poolmanager.pools
    assert len(pools.keys()) == 1
    pool = pools[next(iter(pools.keys()))]
    assert pool.pool.qsize() <= pool_size
    assert peak[0] <= THREADS * client.page_concurrency

    assert injected > 50
    assert sum(unsure) > 0
    count("faults injected and survived", injected)
    count("load: unknown outcomes resolved", sum(unsure))
    count("load threads", THREADS)
    count("load operations", sum(total.values()))
    count("load writes checked", len(made) + sum(map(len, articles)) + sum(map(len, saves)))
    count("load writes checked", sum(map(len, tag_ops)))
    client.close()
