"""QuerySet replies answered from the record cache within ``max_age`` (zammad_orm/reply_cache.py), over HTTP.

Each test makes tickets with a word of its own in the title and queries them; clients share a cache
directory only where a test says so. "After max_age" uses a tiny ``max_age`` and a sleep a little longer
than it; no time is asserted, only requests, statuses, headers, counters and rows.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import reply_cache
from zammad_orm.accounting import CacheCounts
from zammad_orm.reply_cache import KEPT_PAGES, REPLIES, asking, reply_id, request_key

from .conftest import CountingTransport, make_client, sent

TINY = 0.05


def wait_past(seconds: float = TINY) -> None:
    time.sleep(seconds * 1.5)


def marked(client: zo.Client, n: int) -> str:
    """Create ``n`` tickets whose titles hold a new word; return the word."""
    word = "rc" + uuid.uuid4().hex[:10]
    for i in range(n):
        client.tickets.create(title=f"{word} {i}", group="Users", customer="nicole.braun@zammad.org")
    return word


def conditional(transport: CountingTransport) -> list[str | None]:
    return [dict(r.headers).get("If-None-Match") for r in transport.requests]


def shared(directory: Path) -> str:
    return f"disk:{directory}"


def test_a_queryset_evaluated_twice_within_max_age_sends_nothing_the_second_time(emulator: Any) -> None:
    client = make_client(emulator)
    word = marked(client, 3)
    query = client.tickets.filter(title__contains=word).order_by("id")
    with client.capture() as first:
        rows = [t.title for t in query.all()]
        assert client.tickets.filter(title__contains=word).count() == 3
    assert len(rows) == 3
    assert [r.path for r in first] == ["tickets/search", "tickets/search"]
    client.reset_stats()
    with client.capture() as second:
        again = [t.title for t in query.all()]  # a new QuerySet: no result cache of its own
        assert client.tickets.filter(title__contains=word).count() == 3
        assert client.tickets.filter(title__contains=word).exists()  # another request: [:1]
    assert again == rows
    assert [r.params.get("per_page") for r in second] == [1]
    stats = client.stats()
    assert stats.replies["Ticket"] == CacheCounts(hits=2, misses=1)
    assert stats.requests == 1
    client.close()


def test_after_max_age_each_page_costs_one_conditional_request_answered_304(emulator: Any) -> None:
    client = make_client(emulator, max_age={"Ticket": TINY}, page_concurrency=1)
    word = marked(client, 7)
    query = client.tickets.filter(title__contains=word).order_by("id")
    first = [t.id for t in query.iterator(chunk_size=3)]  # pages of 3: 3, 3 and 1 rows
    assert len(first) == 7
    wait_past()
    sent(client).reset()
    client.reset_stats()
    with client.capture() as log:
        again = [t.id for t in query.iterator(chunk_size=3)]
    assert again == first
    assert [(r.params["page"], r.status, r.bytes_received) for r in log] == [
        (1, 304, 0),
        (2, 304, 0),
        (3, 304, 0),
    ]
    assert all(tag is not None and tag.startswith('W/"') for tag in conditional(sent(client)))
    assert client.stats().replies["Ticket"] == CacheCounts(revalidations=3)
    with client.capture() as log:  # renewed by the 304s: fresh again
        assert [t.id for t in query.iterator(chunk_size=3)] == first
    assert len(log) == 0
    client.close()


def test_max_age_zero_asks_every_time_conditionally(emulator: Any) -> None:
    client = make_client(emulator, max_age=0)
    word = marked(client, 2)
    query = client.tickets.filter(title__contains=word)
    assert query.count() == 2
    for _ in range(2):
        with client.capture() as log:
            assert query.count() == 2
        assert [r.status for r in log] == [304]
    client.close()


def test_a_changed_result_after_max_age_is_a_200_with_the_new_rows(emulator: Any) -> None:
    short = 0.5
    client = make_client(emulator, max_age={"Ticket": short})
    other = make_client(emulator)  # a cache of its own: its writes stamp nothing the client reads
    word = marked(client, 2)
    query = client.tickets.filter(title__contains=word).order_by("id")
    assert len(list(query.all())) == 2
    other.tickets.create(title=f"{word} late", group="Users", customer="nicole.braun@zammad.org")
    with client.capture() as log:
        assert len(list(query.all())) == 2  # within max_age the reply stands, as a record's copy does
    assert len(log) == 0
    wait_past(short)
    with client.capture() as log:
        titles = [t.title for t in query.all()]
    assert titles[-1] == f"{word} late"
    assert [r.status for r in log] == [200]
    client.close()
    other.close()


def test_a_write_through_the_client_makes_the_next_evaluation_ask_again(emulator: Any) -> None:
    client = make_client(emulator)
    word, elsewhere = marked(client, 2), marked(client, 1)
    query = client.tickets.filter(title__contains=word, state="new")
    assert query.count() == 2
    untouched = client.tickets.filter(title__contains=elsewhere)
    assert untouched.count() == 1
    first = client.tickets.filter(title__contains=word).order_by("id").first()
    assert first is not None
    first.update(state="open")  # a write: every cached reply is revalidated before it is used again
    with client.capture() as log:
        assert query.count() == 1
    assert [(r.path, r.status) for r in log] == [("tickets/search", 200)]
    with client.capture() as log:
        assert query.count() == 1
    assert len(log) == 0
    with client.capture() as log:
        assert untouched.count() == 1
    assert [r.status for r in log] == [304]  # its reply did not change: a conditional request, no body
    client.close()


@pytest.mark.parametrize("write", ["create", "tag", "article", "delete"])
def test_a_write_in_another_client_on_the_same_cache_is_seen(
    emulator: Any, tmp_path: Path, write: str
) -> None:
    a = make_client(emulator, cache=shared(tmp_path))
    b = make_client(emulator, cache=shared(tmp_path))
    word = marked(b, 2)
    tickets = list(a.tickets.filter(title__contains=word).order_by("id"))
    assert len(tickets) == 2
    if write == "tag":
        query = a.tickets.filter(title__contains=word, tags="vip")
    elif write == "article":
        query = a.tickets.filter(title__contains=word, article_count__gte=2)
    else:
        query = a.tickets.filter(title__contains=word)
    before = query.count()
    assert query.count() == before  # answered from the cache
    target = b.tickets[tickets[0].id]
    if write == "create":
        b.tickets.create(title=f"{word} more", group="Users", customer="nicole.braun@zammad.org")
    elif write == "tag":
        target.add_tags("vip")
    elif write == "article":
        target.create_article(body="more", type="note")
        target.create_article(body="and more", type="note")
    else:
        target.delete()
    with a.capture() as log:
        after = query.count()
    assert after == (before - 1 if write == "delete" else before + 1)
    assert [r.status for r in log] == [200]
    a.close()
    b.close()


def test_a_long_result_keeps_its_first_pages_only(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_cache, "SMALL_REPLY", 0)  # no page is small enough to be kept for its size
    client = make_client(emulator, page_concurrency=1)
    word = marked(client, 2 * (KEPT_PAGES + 1))  # pages of 2 rows: KEPT_PAGES + 1 full ones, one empty
    query = client.tickets.filter(title__contains=word).order_by("id")
    first = [t.id for t in query.iterator(chunk_size=2)]
    with client.capture() as log:
        assert [t.id for t in query.iterator(chunk_size=2)] == first
    assert [r.params["page"] for r in log] == [KEPT_PAGES + 1, KEPT_PAGES + 2]
    monkeypatch.setattr(reply_cache, "SMALL_REPLY", 16_384)
    [t.id for t in query.iterator(chunk_size=2)]  # the small pages past the fifth are kept
    with client.capture() as log:
        assert [t.id for t in query.iterator(chunk_size=2)] == first
    assert len(log) == 0
    client.close()


def test_inside_asking_every_kept_reply_is_revalidated(emulator: Any) -> None:
    client = make_client(emulator)
    word = marked(client, 1)
    query = client.tickets.filter(title__contains=word)
    assert query.count() == 1
    with asking(), client.capture() as log:
        assert query.count() == 1
    assert [r.status for r in log] == [304]
    with client.capture() as log:
        assert query.count() == 1
    assert len(log) == 0
    client.close()


def test_the_seed_api_search_asks_every_time(emulator: Any) -> None:
    client = make_client(emulator)
    word = marked(client, 2)
    for _ in range(2):
        with client.capture() as log:
            assert len(list(client.tickets.search(f"title:{word}"))) == 2
        assert [(r.path, r.status) for r in log] == [("tickets/search", 200)]
        assert "If-None-Match" not in dict(sent(client).requests[-1].headers)
    for _ in range(2):
        with client.capture() as log:
            assert len(list(client.groups.iter())) >= 1
        assert len(log) == 1
    assert "Ticket" not in client.stats().replies
    client.close()


def test_a_new_client_on_the_same_cache_asks_no_version_table_nor_query(
    emulator: Any, tmp_path: Path
) -> None:
    word = marked(make_client(emulator), 2)
    a = make_client(emulator, cache=shared(tmp_path))
    query = a.tickets.filter(title__contains=word, state="new", priority="2 normal").order_by("id")
    rows = [(t.title, t.state.name, t.priority.name, a.server_version) for t in query]
    a.close()
    b = make_client(emulator, cache=shared(tmp_path))
    with b.capture() as log:
        query = b.tickets.filter(title__contains=word, state="new", priority="2 normal").order_by("id")
        assert [(t.title, t.state.name, t.priority.name, b.server_version) for t in query] == rows
    assert len(log) == 0
    b.close()


def test_memory_cache_keeps_replies_and_no_cache_keeps_none(emulator: Any) -> None:
    word = marked(make_client(emulator), 1)
    for setting, requests in [("memory", 0), (False, 1)]:
        client = make_client(emulator, cache=setting)
        query = client.tickets.filter(title__contains=word)
        assert query.count() == 1
        with client.capture() as log:
            assert query.count() == 1
        assert len(log) == requests
        client.close()


def test_a_reply_entry_that_is_not_json_is_dropped_with_a_warning_and_asked_again(emulator: Any) -> None:
    client = make_client(emulator)
    word = marked(client, 2)
    query = client.tickets.filter(title__contains=word).order_by("id")
    titles = [t.title for t in query.all()]
    key = request_key("GET", "tickets/search", {**query.query.params, "page": 1})
    pk = reply_id(key)
    entry = client.cache.get(REPLIES, pk)
    assert entry is not None
    assert entry.record["key"] == key
    client.cache.set(REPLIES, pk, {**entry.record, "body": "{not json"})
    with warnings.catch_warnings(record=True) as caught, client.capture() as log:
        warnings.simplefilter("always")
        assert [t.title for t in query.all()] == titles
    assert [(w.category, "not JSON" in str(w.message)) for w in caught] == [(zo.errors.CacheWarning, True)]
    assert [r.status for r in log] == [200]
    client.cache.set(REPLIES, pk, {"key": key, "body": 42})  # another shape
    with warnings.catch_warnings(record=True) as caught, client.capture() as log:
        warnings.simplefilter("always")
        assert [t.title for t in query.all()] == titles
    assert [(w.category, "expected shape" in str(w.message)) for w in caught] == [
        (zo.errors.CacheWarning, True)
    ]
    assert [r.status for r in log] == [200]
    with client.capture() as log:  # stored again by the request
        assert [t.title for t in query.all()] == titles
    assert len(log) == 0
    client.close()


def test_an_undecodable_entry_on_disk_is_dropped_by_the_tier_and_asked_again(
    emulator: Any, tmp_path: Path
) -> None:
    word = marked(make_client(emulator), 2)
    a = make_client(emulator, cache=shared(tmp_path))
    titles = [t.title for t in a.tickets.filter(title__contains=word).order_by("id")]
    a.close()
    (db,) = tmp_path.glob("*/Reply/cache.db")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE Cache SET value = ?", (b"{not json",))
    b = make_client(emulator, cache=shared(tmp_path))
    with warnings.catch_warnings(record=True) as caught, b.capture() as log:
        warnings.simplefilter("always")
        assert [t.title for t in b.tickets.filter(title__contains=word).order_by("id")] == titles
    assert [w.category for w in caught] == [zo.errors.CacheWarning]
    assert [(r.path, r.status) for r in log] == [("tickets/search", 200)]
    b.close()


def test_objects_from_a_kept_reply_are_as_old_as_the_reply(emulator: Any, tmp_path: Path) -> None:
    # A stale read stays impossible beyond max_age: a ticket loaded from a reply kept for a while is due for
    # revalidation when the reply's age plus its own reaches max_age, not max_age after it was decoded.
    first = make_client(emulator, cache=shared(tmp_path))
    word = marked(first, 1)
    [ticket] = first.tickets.filter(title__contains=word)
    first.close()
    time.sleep(0.3)
    transport = CountingTransport(retries=0, backoff=0.0)
    second = make_client(emulator, cache=shared(tmp_path), max_age={"Ticket": 0.6}, transport=transport)
    [again] = second.tickets.filter(title__contains=word)  # the kept reply: no request
    assert transport.count == 0
    assert again.id == ticket.id
    assert time.time() - again._fetched_at >= 0.3  # as old as the reply, not fresh
    time.sleep(0.35)  # the reply is older than max_age now, though it was decoded 0.35 s ago
    assert second.tickets.get(again.id, max_age=0.6).title == again.title
    assert [path for _, path in transport.sent] == [f"/tickets/{again.id}"]  # revalidated, not used as is
    second.close()
