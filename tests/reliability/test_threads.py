"""Objects of the identity map are shared by threads: a read racing a merge must not leave a stale field.

An attribute is structured from the raw record when first read (``sync.materialise``); a record that
arrives in another thread is merged into the same object (``sync.merge``). Before the fix, a read that
began on the old record and finished after the merge filled the slot with the old value: the object then
reported a change nobody made (``changes()``), and its next ``save()`` sent the old value back, undoing
the other write on the server.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import zammad_orm as zo
from tests.reliability.conftest import count
from zammad_orm import sync
from zammad_orm.transport import WSGITransport

RECORD = {
    "id": 5,
    "title": "a",
    "note": "a",
    "created_at": "2024-01-01T00:00:00.000Z",
    "updated_at": "2024-01-01T00:00:00.000Z",
}


def _client() -> zo.Client:
    return zo.Client("http://zammad.invalid", http_token="t", transport=WSGITransport(lambda e, s: []))


def test_a_merge_in_the_middle_of_a_read_is_not_undone_by_the_read() -> None:
    client = _client()
    ticket = client.load(zo.Ticket, dict(RECORD))
    title_reader = zo.Ticket._meta.readers["title"]
    calls: list[Any] = []

    def reader(raw: Any) -> Any:
        value = title_reader(raw)
        if not calls:  # another thread's record arrives while this read is under way
            sync.merge(ticket, {**RECORD, "title": "b", "updated_at": "2024-01-01T00:00:01.000Z"})
        calls.append(value)
        return value

    assert sync.materialise(ticket, "title", reader) == "b"
    assert calls == ["a", "b"]  # the value read from the old record was dropped and read again
    assert ticket.title == "b"
    assert ticket.changes() == {}


def test_reads_racing_merges_leave_every_field_as_its_record_says() -> None:
    client = _client()
    ticket = client.load(zo.Ticket, dict(RECORD))
    stop = threading.Event()
    merges = [0]

    def merger() -> None:
        while not stop.is_set():
            merges[0] += 1
            v = f"v{merges[0]}"
            stamp = f"2024-01-01T00:{merges[0] // 60 % 60:02d}:{merges[0] % 60:02d}.000Z"
            client.load(zo.Ticket, {**RECORD, "title": v, "note": v, "updated_at": stamp})

    def reader() -> None:
        while not stop.is_set():
            _ = ticket.title, ticket.note, ticket.updated_at

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows within a second
    try:
        for _ in range(4):
            stop.clear()
            threads = [threading.Thread(target=f) for f in (merger, reader, reader)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            stop.set()
            for t in threads:
                t.join()
            assert ticket.changes() == {}
            for name in ("title", "note", "updated_at"):
                assert getattr(ticket, name) == zo.Ticket._meta.readers[name](ticket.view())
    finally:
        sys.setswitchinterval(interval)
    assert merges[0] > 100
    count("threads: merges raced by reads", merges[0])
