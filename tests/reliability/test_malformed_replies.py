"""Malformed replies: every broken answer is a DecodeError or a ServerError that says where, never a crash.

A small WSGI app over real HTTP answers with scripted bodies (not JSON, cut short, wrong value types, no
``id``, extra keys, a proxy's HTML 502/504), and the emulator's ``non_json`` and ``truncate`` faults break
real answers. A hypothesis test mutates the real records of the recordings of a Zammad 6.2 server and
feeds them through loading and field access: each outcome is a value or an error of ``zammad_orm.errors``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

import zammad_orm as zo
from tests.emulator.recordings import all_exchanges, response_kind
from tests.reliability.conftest import count
from zammad_orm import errors
from zammad_orm.models import Model, registry
from zammad_orm.testing import Emulator
from zammad_orm.transport import WSGITransport

BASE = {
    "id": 5,
    "title": "x",
    "state_id": 1,
    "owner_id": 1,
    "preferences": {},
    "created_at": "2024-03-18T22:50:03.732Z",
    "updated_at": "2024-03-18T22:50:03.732Z",
}


class Scripted:
    """A WSGI app that answers every request with the reply it was last given."""

    def __init__(self) -> None:
        self.reply: tuple[str, str, bytes] = ("200 OK", "application/json", b"{}")
        self.seen = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.seen += 1
        status, content_type, body = self.reply
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def answer(self, body: Any, status: str = "200 OK", content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.reply = (status, content_type, raw)


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[Scripted, str]]:
    app = Scripted()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def api(scripted: tuple[Scripted, str]) -> Iterator[tuple[Scripted, zo.Client]]:
    app, url = scripted
    client = zo.Client(url, http_token="t", retries=1, cache=False)
    client.transport.backoff = 0.0  # type: ignore[attr-defined]
    yield app, client
    client.close()


def test_replies_that_are_not_json_name_the_url(api: tuple[Scripted, zo.Client]) -> None:
    app, client = api
    where = f"GET {client.api_url}/tickets/5"
    for body, content_type in [
        (b"<html><body>Please log in</body></html>", "text/html"),
        (json.dumps(BASE).encode()[:40], "application/json"),  # truncated
        (b'{"id": 5, "title": "x"', "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"null garbage", "application/json"),
    ]:
        app.answer(body, content_type=content_type)
        with pytest.raises(errors.DecodeError, match=f"^{where}: the 200 reply is not JSON"):
            client.tickets.get(5)
        count("malformed replies tried")


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>nginx</body></html>",
         "502 Bad Gateway"),
        (b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>nginx</body></html>",
         "504 Gateway Time-out"),
        (b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head></html>",
         "503 Service Unavailable"),
    ],
)  # fmt: skip
def test_a_proxys_html_error_page_is_a_server_error_naming_the_url(
    api: tuple[Scripted, zo.Client], reply: bytes, status: str
) -> None:
    app, client = api
    app.answer(reply, status=status, content_type="text/html")
    before = app.seen
    with pytest.raises(errors.ServerError) as info:
        client.tickets.get(5)
    error = info.value
    assert app.seen - before == 2  # retried once (GET is idempotent), then given up
    assert error.status == int(status.split()[0])
    assert error.url == f"{client.api_url}/tickets/5"
    assert "an HTML page, not a Zammad reply" in error.message
    assert "<" not in error.message  # the page's title, not its markup
    assert error.body == reply
    count("malformed replies tried")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", ["x"], "expected a string, got list"),
        ("title", {"a": 1}, "expected a string, got dict"),
        ("state_id", "open", "expected an integer, got str 'open'"),
        ("state_id", True, "expected an integer, got bool True"),
        ("owner_id", 1.5, "expected an integer, got float 1.5"),
        ("created_at", 5, "expected a timestamp string, got 5"),
        ("created_at", "yesterday", "not an ISO-8601 timestamp"),
        ("preferences", "none", "expected a JSON object, got str"),
        ("preferences", [1], "expected a JSON object, got list"),
        ("article_ids", {"1": 1}, "expected a JSON array, got dict"),
        ("article_ids", ["1"], "expected int elements, got str '1'"),
        ("time_unit", "lots", "not a decimal number"),
    ],
)
def test_a_value_of_the_wrong_type_names_model_field_and_url(
    api: tuple[Scripted, zo.Client], field: str, value: Any, message: str
) -> None:
    app, client = api
    app.answer({**BASE, field: value})
    ticket = client.tickets.get(5)  # loading is lazy: the record is taken as it came
    assert repr(ticket).startswith("<Ticket 5")  # a repr never raises
    with pytest.raises(errors.DecodeError) as info:
        getattr(ticket, field)
    text = str(info.value)
    assert f"Ticket.{field}" in text
    assert message in text
    assert f"{client.api_url}/tickets/5" in text
    assert ticket.view()[field] == value  # the record itself is kept as it came
    count("malformed replies tried")


@pytest.mark.parametrize(
    "reply",
    [
        {k: v for k, v in BASE.items() if k != "id"},
        {**BASE, "id": "5"},
        {**BASE, "id": 5.0},
        {**BASE, "id": None},
        [BASE],
        "ticket",
        None,
    ],
)
def test_a_record_without_an_integer_id_names_url_model_and_id(
    api: tuple[Scripted, zo.Client], reply: Any
) -> None:
    app, client = api
    app.answer(reply)
    with pytest.raises(errors.DecodeError, match=rf"GET {client.api_url}/tickets/5: expected a Ticket record"
                       r" with an integer 'id'"):  # fmt: skip
        client.tickets.get(5)
    count("malformed replies tried")


def test_a_record_of_another_id_is_a_decode_error_also_when_revalidating(
    api: tuple[Scripted, zo.Client],
) -> None:
    app, client = api
    app.answer({**BASE, "id": 6})
    with pytest.raises(
        errors.DecodeError, match=r"tickets/5: expected a Ticket record with an integer 'id' \(5\)"
    ):
        client.tickets.get(5)
    assert client.identity.get(zo.Ticket, 6) is None  # nothing of the wrong record was kept
    app.answer(BASE)
    ticket = client.tickets.get(5)
    app.answer({**BASE, "id": 6, "title": "someone else's"})
    with pytest.raises(errors.DecodeError, match=r"expected a Ticket record with an integer 'id' \(5\)"):
        client.tickets.get(5, max_age=0)  # the revalidation of the copy checks the reply too
    assert ticket.title == BASE["title"]
    count("malformed replies tried", 2)


def test_a_page_with_a_non_integer_id_is_a_decode_error(api: tuple[Scripted, zo.Client]) -> None:
    app, client = api
    app.answer([BASE, {**BASE, "id": "6"}])
    with pytest.raises(errors.DecodeError, match="Ticket record has a non-integer 'id': '6'"):
        list(client.tickets.iter())
    app.answer([BASE, 7])
    with pytest.raises(errors.DecodeError, match="expected a Ticket object, got 7"):
        list(client.tickets.iter())
    app.answer({"tickets": "all of them", "tickets_count": 1})
    with pytest.raises(errors.DecodeError, match="unexpected Ticket search reply"):
        list(client.tickets.filter(title="x"))
    count("malformed replies tried", 3)


def test_unexpected_extra_keys_are_kept_never_fatal(api: tuple[Scripted, zo.Client]) -> None:
    app, client = api
    extra = {"new_in_zammad_9": {"nested": [1, 2]}, "x_flag": True, "weird key!": None}
    app.answer({**BASE, **extra})
    ticket = client.tickets.get(5)
    assert ticket.title == "x"
    assert ticket.extra == extra
    assert ticket.new_in_zammad_9 == {"nested": [1, 2]}
    assert ticket.changes() == {}
    count("malformed replies tried")


def test_the_emulators_broken_replies_are_decode_errors(emulator: Emulator) -> None:
    client = zo.Client(emulator.url, http_token=emulator.token, cache=False)
    try:
        for kind in ("non_json", "truncate"):
            rule = emulator.faults.add(kind, method="GET", path=r"^/api/v1/tickets/1$", times=1)
            where = f"GET {emulator.url}/api/v1/tickets/1"
            with pytest.raises(errors.DecodeError, match=rf"{where}: the 200 reply"):
                client.tickets.get(1)
            assert rule.hits == 1
            count("malformed replies tried")
            count("faults injected and survived")
        assert client.tickets.get(1).title == "Welcome to Zammad!"  # the next answer is read normally
    finally:
        emulator.faults.clear()
        client.close()


# --- hypothesis: mutated real records through loading and field access ------------------------------------


def _recorded_records() -> list[tuple[str, dict[str, Any]]]:
    """Every record of a recorded 2xx JSON answer: the answer's own (by endpoint) and its assets."""
    by_asset = {m._meta.asset_key: m for m in registry.values()}
    out: list[tuple[str, dict[str, Any]]] = []
    for exchange in all_exchanges():
        if exchange.status >= 300 or exchange.content_type != "application/json":
            continue
        if "httpbin" in exchange.host:
            continue
        body = exchange.json()
        assets = body.get("assets") if isinstance(body, dict) else None
        if isinstance(assets, dict):
            for key, records in assets.items():
                model = by_asset.get(key)
                if model is not None and isinstance(records, dict):
                    out.extend((model.__name__, r) for r in records.values() if isinstance(r, dict))
        kind = response_kind(exchange.path)
        if kind not in registry:
            continue
        if isinstance(body, dict) and "id" in body:
            out.append((kind, body))
        elif isinstance(body, list):
            out.extend((kind, r) for r in body if isinstance(r, dict))
    return out


RECORDS = _recorded_records()
assert len(RECORDS) > 200, len(RECORDS)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["", "2024-03-18T22:50:03.732Z", "now-7d", "1.5", "NaN", "\x00", "true", "-1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> tuple[type[Model], Any]:
    name, original = draw(st.sampled_from(RECORDS))
    record: Any = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 4))):
        keys = sorted(record) if isinstance(record, dict) else []
        action = draw(st.sampled_from(["set", "drop", "add", "id", "whole"] if keys else ["whole"]))
        if action == "set":
            record[draw(st.sampled_from(keys))] = draw(json_values)
        elif action == "drop":
            record.pop(draw(st.sampled_from(keys)))
        elif action == "add":
            record[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
        elif action == "id":
            record["id"] = draw(st.none() | st.text(max_size=4) | st.floats() | st.booleans() | st.integers())
        else:
            record = draw(json_values)
    return registry[name], record


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated(), page=st.booleans())
def test_mutated_recorded_records_give_values_or_library_errors(
    case: tuple[type[Model], Any], page: bool
) -> None:
    model, record = case
    client = zo.Client("http://zammad.invalid", http_token="t", transport=WSGITransport(lambda e, s: []))
    outcomes: list[str] = []
    try:
        obj = client.load_many(model, [record])[0] if page else client.load(model, record)
    except errors.ZammadError:
        outcomes.append("refused")
    else:
        for name in model._meta.readers:
            try:
                getattr(obj, name)
            except errors.ZammadError:
                outcomes.append(name)
        repr(obj)
        dict(obj.view())
        try:
            obj.changes()
        except errors.ZammadError:
            outcomes.append("changes")
    count("hypothesis examples: mutated recorded records")
    count("malformed replies tried")
