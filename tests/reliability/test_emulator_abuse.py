"""The emulator under load and abuse: concurrent clients, hostile requests, and a SIGKILL of ``serve --db``.

Every hostile request must get an answer in one of the emulator's (Zammad's) error shapes — a JSON
``{"error", "error_human"}`` body, or the HTML page the HTTP layer in front of Zammad sends (nginx's 413,
the 414 of a request line that is too long) — and never a crash, a hang, or a logged emulator failure;
after each one the server still answers correctly.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import zammad_orm as zo
from tests.emulator.test_cli import Served, _start
from tests.reliability.conftest import count
from zammad_orm.testing import Emulator
from zammad_orm.testing.app import MAX_BODY, MAX_NESTING

LIMIT = 256 * 1024  # the body limit of this module's emulator (the default, 50 MiB, is checked apart)
CLIENTS = 16
LOAD_SECONDS = 6.0


@pytest.fixture(scope="module")
def small() -> Iterator[Emulator]:
    with Emulator(seed=3, max_body=LIMIT) as server:
        yield server


@pytest.fixture
def failures(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The emulator's logged failures during a test (there must be none)."""
    caplog.set_level(logging.ERROR, logger="zammad_orm.testing")
    records: list[logging.LogRecord] = []
    yield records
    records.extend(r for r in caplog.records if r.name.startswith("zammad_orm.testing"))
    assert not records, [r.getMessage() for r in records]


def _headers(server: Emulator, content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"Authorization": f"Token token={server.token}"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def _still_serving(server: Emulator) -> None:
    reply = requests.get(f"{server.url}/api/v1/tickets/1", headers=_headers(server, None), timeout=10)
    assert reply.status_code == 200
    assert reply.json()["title"] == "Welcome to Zammad!"


def _zammad_error(reply: requests.Response, status: int, text: str) -> None:
    assert reply.status_code == status, reply.text[:300]
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert body["error"] == body["error_human"]
    assert text in body["error"]


# --- hostile requests -----------------------------------------------------------------------------------

PARSE_ERROR = "Error occurred while parsing request parameters"

HOSTILE_BODIES: list[tuple[str, bytes, str]] = [
    ("truncated JSON", b'{"title": "x", "group": ', PARSE_ERROR),
    ("not JSON at all", b"{title: x}", PARSE_ERROR),
    ("invalid UTF-8", b'{"title": "\xff\xfe"}', PARSE_ERROR),
    ("NaN", b'{"title": NaN}', "unexpected token at 'NaN'"),
    ("Infinity", b'{"title": -Infinity}', "unexpected token at '-Infinity'"),
    ("nested 101 deep", b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1), "nesting of 101 is too deep"),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "nesting of 101 is too deep"),
    ("deep objects", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "nesting of 101 is too deep"),
]


@pytest.mark.parametrize(("name", "body", "message"), HOSTILE_BODIES, ids=[b[0] for b in HOSTILE_BODIES])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_malformed_json_body_is_a_400_in_zammads_shape(
    small: Emulator, failures: list[Any], method: str, name: str, body: bytes, message: str
) -> None:
    path = "/tickets" if method == "POST" else "/tickets/1"
    reply = requests.request(
        method, f"{small.url}/api/v1{path}", data=body, headers=_headers(small), timeout=30
    )
    _zammad_error(reply, 400, message)
    count("emulator hostile requests")
    _still_serving(small)


def test_nesting_up_to_rails_limit_is_accepted(small: Emulator, failures: list[Any]) -> None:
    nested: Any = []  # 98 lists inside the body's two objects: 100 levels, Rails' limit
    for _ in range(MAX_NESTING - 3):
        nested = [nested]
    body = {"title": "deep but fine", "group": "Users", "customer_id": 2, "article": {"body": "b"},
            "preferences": {"n": nested}}  # fmt: skip
    reply = requests.post(f"{small.url}/api/v1/tickets", json=body, headers=_headers(small), timeout=30)
    assert reply.status_code == 201, reply.text[:300]
    count("emulator hostile requests")


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/xml", b"<ticket><title>x</title></ticket>", 422),  # Rails parses no XML: no params
        ("text/plain", b"title please", 422),
        (
            "application/x-www-form-urlencoded",
            b"title=form&group=Users&customer_id=2",
            201,
        ),  # Rails reads forms
        ("multipart/form-data; boundary=zz", b"--zz--\r\n", 422),
        ("application/json; charset=latin-1", b'{"title": 1', 400),
        (None, b'{"title": 1', 400),
    ],
)
def test_other_content_types_are_answered_not_crashed_on(
    small: Emulator, failures: list[Any], content_type: str | None, body: bytes, status: int
) -> None:
    reply = requests.post(
        f"{small.url}/api/v1/tickets", data=body, headers=_headers(small, content_type), timeout=30
    )
    assert reply.status_code == status, reply.text[:300]
    assert ("error" in reply.json()) == (status >= 400)
    count("emulator hostile requests")
    _still_serving(small)


def test_a_body_over_the_limit_gets_nginxs_413(small: Emulator, failures: list[Any]) -> None:
    big = b'{"title": "' + b"a" * (LIMIT + 10) + b'"}'
    reply = requests.post(f"{small.url}/api/v1/tickets", data=big, headers=_headers(small), timeout=30)
    assert reply.status_code == 413
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "413 Request Entity Too Large" in reply.text
    # Also on a path that does not exist: nginx refuses the body before Zammad routes anything.
    nowhere = requests.put(f"{small.url}/api/v1/nowhere", data=big, headers=_headers(small), timeout=30)
    assert nowhere.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body is read
        for _ in range(LIMIT // 8192 + 8):
            yield b"a" * 8192

    chunked = requests.post(f"{small.url}/api/v1/tickets", data=chunks(), headers=_headers(small), timeout=30)
    assert chunked.status_code == 413
    at_limit = b'{"title": "' + b"a" * (LIMIT - 20) + b'"}'
    assert len(at_limit) <= LIMIT
    fits = requests.post(f"{small.url}/api/v1/tickets", data=at_limit, headers=_headers(small), timeout=30)
    assert fits.status_code == 422  # read and parsed: only the group and customer are missing
    count("emulator hostile requests", 4)
    _still_serving(small)


def test_the_default_body_limit_is_zammads_nginx_limit() -> None:
    assert MAX_BODY == 50 * 1024 * 1024
    with pytest.raises(ValueError, match="max_body"):
        Emulator(max_body=-1)


def test_query_strings_of_invalid_utf8_huge_or_unknown(small: Emulator, failures: list[Any]) -> None:
    api = f"{small.url}/api/v1"
    headers = _headers(small, None)
    bad = requests.get(f"{api}/tickets/search?query=%ff%fe", headers=headers, timeout=30)
    _zammad_error(bad, 400, "invalid byte sequence in UTF-8")
    fine = requests.get(f"{api}/tickets/search?query=%C3%A4rger", headers=headers, timeout=30)
    assert fine.status_code == 200
    # Longer than an HTTP request line may be: the HTTP layer answers 414 (nginx does likewise past 8 KB).
    huge = requests.get(f"{api}/tickets/search?query={'a' * 100_000}", headers=headers, timeout=30)
    assert huge.status_code == 414
    long_but_ok = requests.get(f"{api}/tickets/search?query={'a' * 30_000}", headers=headers, timeout=30)
    assert long_but_ok.status_code == 200
    assert long_but_ok.json()["tickets"] == []
    unknown = requests.get(
        f"{api}/tickets?" + "&".join(f"bogus{i}=x" for i in range(2_000)) + "&per_page=1",
        headers=headers,
        timeout=30,
    )
    assert unknown.status_code == 200
    assert [t["id"] for t in unknown.json()] == [1]  # unknown parameters are ignored, as Rails does
    arrays = requests.get(f"{api}/tickets?ids[]=1&ids[]=%ZZ&page[]=2", headers=headers, timeout=30)
    assert arrays.status_code == 422  # a page that is a list: Zammad's database refuses the offset
    assert "OFFSET" in arrays.json()["error"]
    count("emulator hostile requests", 6)
    _still_serving(small)


def test_integers_out_of_range_are_422_not_500(small: Emulator, failures: list[Any]) -> None:
    api = f"{small.url}/api/v1"
    shown = requests.get(f"{api}/tickets/{10**30}", headers=_headers(small, None), timeout=30)
    _zammad_error(shown, 422, "out of range")
    updated = requests.put(f"{api}/tickets/1", json={"group_id": 10**30}, headers=_headers(small), timeout=30)
    _zammad_error(updated, 422, "out of range")
    count("emulator hostile requests", 2)
    _still_serving(small)


def _raw(server: Emulator, payload: bytes, *, wait: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=wait) as s:
        s.sendall(payload)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


def test_broken_http_never_stops_the_server(small: Emulator, failures: list[Any]) -> None:
    assert b"400" in _raw(small, b"\x00\xff garbage\r\n\r\n")  # an error page (HTTP/0.9 style), not silence
    assert _raw(small, b"BREW /api/v1/tickets HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 404")
    big_header = b"GET /api/v1/tickets/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    assert b" 431 " in _raw(small, big_header).split(b"\r\n", 1)[0]
    # A client that promises more body than it sends, then goes away: no answer is owed, the thread is freed.
    token = small.token.encode()
    lying = (
        b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Token token=" + token + b"\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"title":'
    )
    port = int(small.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(lying)
        _still_serving(small)  # other clients are served while that body never comes
    time.sleep(0.2)  # the server notices the closed connection
    count("emulator hostile requests", 4)
    _still_serving(small)


# --- many clients at once -----------------------------------------------------------------------------


def test_sixteen_concurrent_clients_get_correct_answers(emulator: Emulator) -> None:
    """16 clients (each its own connection pool, cache and identity map) create, read and search at once."""
    deadline = time.monotonic() + LOAD_SECONDS
    errors: list[BaseException] = []
    done: dict[int, list[int]] = {}
    operations = [0] * CLIENTS

    def work(n: int) -> None:
        client = zo.Client(emulator.url, http_token=emulator.token, retries=0)
        mine: list[int] = []
        try:
            i = 0
            while time.monotonic() < deadline and i < 200:
                title = f"load16 c{n} t{i}"
                ticket = client.tickets.create(title=title, group="Users", customer=2, article="body")
                mine.append(ticket.id)
                again = client.tickets.get(ticket.id)
                assert again.title == title
                assert again.number == ticket.number
                found = list(client.tickets.filter(title=title))
                assert [t.id for t in found] == [ticket.id]
                assert client.users.get(2).login == "nicole.braun@zammad.org"
                operations[n] += 4
                i += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            done[n] = mine
            client.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=LOAD_SECONDS + 120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:3]
    created = [pk for ids in done.values() for pk in ids]
    assert len(created) == len(set(created))
    # Each create happened exactly once: one ticket per title in the store.
    rows = emulator.store.conn.execute(
        "SELECT title, COUNT(*) FROM tickets WHERE title LIKE 'load16 %' GROUP BY title"
    ).fetchall()
    assert len(rows) == len(created)
    assert all(n == 1 for _, n in rows)
    assert min(len(ids) for ids in done.values()) >= 1
    count("emulator concurrent clients", CLIENTS)
    count("emulator concurrent operations", sum(operations))


# --- a file database survives SIGKILL -----------------------------------------------------------------


def _post_ticket(served: Served, title: str) -> dict[str, Any]:
    reply = requests.post(
        f"{served.url}/api/v1/tickets",
        headers={"Authorization": f"Token token={served.token}"},
        json={"title": title, "group": "Users", "customer_id": 2, "article": {"body": title}},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def test_serve_db_loses_nothing_written_when_killed(tmp_path: Path) -> None:
    db = str(tmp_path / "zammad.sqlite")
    served = _start("--db", db, "--token", "kill-me")
    written: list[dict[str, Any]] = []
    try:
        for round_ in range(3):
            for i in range(15):
                written.append(_post_ticket(served, f"durable r{round_} #{i}"))
            tagged = written[-1]["id"]
            tag = requests.post(
                f"{served.url}/api/v1/tags/add",
                headers={"Authorization": f"Token token={served.token}"},
                json={"object": "Ticket", "o_id": tagged, "item": f"kept{round_}"},
                timeout=30,
            )
            assert tag.status_code in (200, 201), tag.text
            served.proc.send_signal(signal.SIGKILL)  # no clean shutdown: no close, no checkpoint
            assert served.proc.wait(timeout=20) == -signal.SIGKILL
            for stream in (served.proc.stdout, served.proc.stderr):
                if stream:
                    stream.close()
            served = _start("--db", db, "--token", "kill-me")
            for ticket in written:
                again = served.get(f"tickets/{ticket['id']}")
                assert again.status_code == 200, again.text
                assert again.json()["title"] == ticket["title"]
                assert again.json()["number"] == ticket["number"]
            tags = served.get(f"tags?object=Ticket&o_id={tagged}").json()["tags"]
            assert tags == [f"kept{round_}"]
            count("serve --db SIGKILLs survived")
        # Numbers go on after the last one written: the counter was kept too.
        after = _post_ticket(served, "after the kills")
        assert int(after["number"]) > max(int(t["number"]) for t in written)
        count("serve --db writes kept across SIGKILL", len(written) + 3)
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
            served.proc.wait()
        for stream in (served.proc.stdout, served.proc.stderr):
            if stream:
                stream.close()


def test_json_error_bodies_are_json(small: Emulator) -> None:
    reply = requests.post(f"{small.url}/api/v1/tickets", data=b"{", headers=_headers(small), timeout=30)
    assert json.loads(reply.content)["error"].startswith(PARSE_ERROR)
