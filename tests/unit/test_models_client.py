"""The client and active record in-process: the emulator's WSGI app behind a WSGITransport (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import zammad_orm as zo
from zammad_orm import errors
from zammad_orm.transport import Request, Response, WSGITransport

testing = pytest.importorskip("zammad_orm.testing")


class Recording(WSGITransport):
    """Records each request the client sends, with the headers it went out with."""

    def __init__(self, app: Any) -> None:
        super().__init__(app, retries=0)
        self.requests: list[Request] = []

    def send(self, request: Request) -> Response:
        self.requests.append(request)
        return super().send(request)

    def _send_once(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        # The transport builds the headers (Accept, the Authorization of request.auth, From): keep those.
        self.requests[-1] = attrs.evolve(self.requests[-1], headers=headers)
        return super()._send_once(method, url, headers, body)


@pytest.fixture(scope="module")
def emulator() -> Any:
    return testing.Emulator()  # not started: used in-process only


@pytest.fixture
def client(emulator: Any) -> Iterator[zo.Client]:
    c = zo.Client("http://zammad.invalid", http_token=emulator.token, transport=Recording(emulator.app))
    yield c
    c.close()


def requests(client: zo.Client) -> list[Request]:
    transport = client.transport
    assert isinstance(transport, Recording)
    return transport.requests


def test_get_relation_and_request_count(client: zo.Client) -> None:
    ticket = client.tickets.get(1)
    assert len(requests(client)) == 1
    assert ticket.state_id is not None
    assert len(requests(client)) == 1
    assert ticket.group.name == "Users"
    assert ticket.group.name == "Users"
    # groups are a reference table: one request loads it whole, once per client
    assert [r.url.rsplit("/api/v1/", 1)[1].split("?")[0] for r in requests(client)] == ["tickets/1", "groups"]


def test_a_relation_follows_its_id_field(client: zo.Client) -> None:
    ticket = client.tickets.get(1)
    first = ticket.owner
    assert ticket.owner is first  # kept: no second lookup
    other = client.users.get(login="nicole.braun@zammad.org")
    ticket.owner_id = other.id
    assert ticket.owner is other
    ticket.owner_id = None
    assert ticket.owner is None
    ticket.owner = first
    assert ticket.owner is first
    assert ticket.changes() == {}  # back to the loaded owner


def test_requests_carry_the_token_and_impersonation(client: zo.Client, emulator: Any) -> None:
    client.tickets.get(1)
    assert requests(client)[-1].headers["Authorization"] == f"Token token={emulator.token}"
    assert "From" not in requests(client)[-1].headers
    with client.on_behalf_of("nicole.braun@zammad.org"):
        me = client.users.me()
    assert requests(client)[-1].headers["From"] == "nicole.braun@zammad.org"
    assert me.login == "nicole.braun@zammad.org"


def test_the_client_decides_what_a_request_carries_and_the_transport_builds_its_headers(
    emulator: Any,
) -> None:
    handed: list[Request] = []

    class Handed(WSGITransport):
        def send(self, request: Request) -> Response:
            handed.append(request)
            return super().send(request)

    transport = Handed(emulator.app, retries=0)
    c = zo.Client("http://zammad.invalid", http_token=emulator.token, transport=transport)
    with c, c.on_behalf_of(2):
        c.users.me()
    (request,) = handed
    assert request.auth is c.auth  # the credentials travel as Request.auth, not as a header
    assert dict(request.headers) == {"From": "2"}
    sent = transport._headers(request, None)
    assert sent["Authorization"] == f"Token token={emulator.token}"
    assert sent["Accept"] == "application/json"


def test_create_sends_names_and_save_sends_the_diff(client: zo.Client) -> None:
    ticket = client.tickets.create("in-process", "Users", "guess:inproc@example.com", "body")
    create = requests(client)[-1]
    assert create.method == "POST"
    assert create.json == {
        "title": "in-process",
        "group": "Users",
        "customer_id": "guess:inproc@example.com",
        "article": {"body": "body"},
    }
    ticket.note = "a note"
    ticket.preferences["k"] = 1
    ticket.save()
    assert requests(client)[-1].json == {"note": "a note", "preferences": {"k": 1}}
    assert ticket.changes() == {}


def test_field_errors_happen_before_any_request(client: zo.Client) -> None:
    with pytest.raises(errors.FieldError):
        client.tickets.create("t", "Users", "guess:x@example.com", "b", priority_id="high")
    with pytest.raises(errors.FieldError):
        client.users.create(colour="blue")
    assert requests(client) == []


def test_not_found_and_unprocessable(client: zo.Client) -> None:
    with pytest.raises(zo.User.DoesNotExist, match="Couldn't find User"):
        client.users.get(424242)
    with pytest.raises(errors.FieldError, match="there is no ticket state named 'no such state'"):
        client.tickets.get(1).update(state="no such state")  # checked locally, nothing sent
    with pytest.raises(errors.UnprocessableEntity, match="No lookup value found for 'state'"):
        client.request("PUT", "tickets/1", json={"state": "no such state"})  # what the server would say


def test_mention_created_with_a_bare_true_reply_is_looked_up(emulator: Any) -> None:
    # Zammad's docs show `true` as the reply of POST /mentions; the code renders the record.
    def answers_true(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/mentions"):
            list(emulator.app(environ, lambda *a, **k: None))
            start_response("201 Created", [("Content-Type", "application/json")])
            return [b"true"]
        return emulator.app(environ, start_response)

    client = zo.Client(
        "http://zammad.invalid", http_token=emulator.token, transport=WSGITransport(answers_true)
    )
    ticket = client.tickets.get(1)
    mention = ticket.subscribe()
    assert isinstance(mention, zo.Mention)
    assert mention.user_id == client.users.me().id
    assert mention.mentionable_id == 1
    mention.delete()


def test_attachment_save_never_leaves_the_directory(client: zo.Client, tmp_path: Any) -> None:
    ticket = client.tickets.get(1)
    article = ticket.create_article(
        "evil names", files=[("../../outside.txt", b"one"), ("..\\..\\win.txt", b"two"), ("..", b"three")]
    )
    target = tmp_path / "inbox"
    target.mkdir()
    saved = [a.save(target) for a in article.attachments]
    assert [p.parent for p in saved] == [target] * 3
    assert [p.read_bytes() for p in saved] == [b"one", b"two", b"three"]
    assert saved[0].name == "outside.txt"
    assert not (tmp_path / "outside.txt").exists()


def test_close_closes_only_the_cache_the_client_built(tmp_path: Any) -> None:
    from zammad_orm.cache import DiskRecordCache, MemoryRecordCache, TieredCache

    closed: list[str] = []

    class Recording(MemoryRecordCache):
        def close(self) -> None:
            closed.append("given")

    given = zo.Client("http://127.0.0.1:9", http_token="t", cache=Recording())
    given.close()
    assert closed == []  # a ready-made cache belongs to whoever made it

    built = zo.Client("http://127.0.0.1:9", http_token="t", cache=f"disk:{tmp_path}")
    assert isinstance(built.cache, TieredCache)
    assert isinstance(built.cache.persistent, DiskRecordCache)
    built.cache.set("Group", 1, {"id": 1, "name": "Users"})
    built.cache.close = lambda: closed.append("built")  # type: ignore[method-assign]
    built.close()
    assert closed == ["built"]


def test_the_cache_keeps_the_sizes_and_a_model_gets_its_default_on_first_use() -> None:
    from zammad_orm.cache import MemoryRecordCache

    cache = MemoryRecordCache(sizes={"User": 5})
    client = zo.Client("http://127.0.0.1:9", http_token="t", cache=cache)
    assert client.cache_size(zo.Ticket) == 100  # Ticket.DEFAULT_CACHE_SIZE, on first use
    assert cache.size("Ticket") == 100  # kept by the cache, the one store of sizes
    assert client.cache_size(zo.User) == 5  # a size the ready-made cache was given stands
    client.configure_cache(zo.Ticket, 7)
    assert client.cache_size(zo.Ticket) == 7 == cache.size("Ticket")
    off = zo.Client("http://127.0.0.1:9", http_token="t", cache=False)
    assert off.cache_size(zo.Ticket) == 0  # nothing is cached


def test_an_answer_older_than_the_object_is_not_merged() -> None:
    # A page or GET answered before another thread's save, decoded after it, must not undo the save.
    client = zo.Client("http://127.0.0.1:9", http_token="t", cache="memory")
    newer = {"id": 7, "title": "saved", "updated_at": "2026-03-01T10:00:05.120Z"}
    ticket = client.load(zo.Ticket, newer)
    client.load(zo.Ticket, {**newer, "title": "overtaken", "updated_at": "2026-03-01T10:00:04Z"})
    assert ticket.title == "saved"
    client.load(zo.Ticket, {**newer, "title": "same instant", "updated_at": "2026-03-01T10:00:05.120Z"})
    assert ticket.title == "same instant"  # not older: merged
    client.load(zo.Ticket, {"id": 7, "title": "no timestamp"})
    assert ticket.title == "no timestamp"  # nothing to compare: merged
    client.load(zo.Ticket, {"id": 7, "title": "later", "updated_at": "2026-03-01T10:00:06+00:00"})
    assert ticket.title == "later"
