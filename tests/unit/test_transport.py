"""Transport tests: HTTPTransport against a scripted HTTP server on loopback, WSGITransport in-process."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

from zammad_orm.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    DecodeError,
    FieldError,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    TransportError,
    UnprocessableEntity,
)
from zammad_orm.transport import (
    BasicAuth,
    BearerAuth,
    Headers,
    HTTPTransport,
    Request,
    Response,
    TokenAuth,
    Transport,
    WSGITransport,
    parse_retry_after,
    raise_for_status,
)

SECRET = "s3cr3t-T0KEN-value"

# --- a scripted HTTP server ---------------------------------------------------------------------------


@attrs.frozen
class Reply:
    status: int = 200
    body: bytes = b'{"ok":true}'
    headers: dict[str, str] = attrs.field(factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0  # sleep before answering (for timeouts)


@attrs.frozen
class Drop:
    """Send the status line, headers promising 1000 bytes and 10 bytes of body, then close."""


@attrs.frozen
class Hangup:
    """Close the connection without answering at all."""


@attrs.frozen
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


class ScriptedServer:
    """A threaded HTTP/1.1 server that answers from a queue of actions (200 JSON when empty)."""

    def __init__(self) -> None:
        self.actions: deque[Reply | Drop | Hangup] = deque()
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        script = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with script.lock:
                    seen = Seen(
                        self.command, self.path, dict(self.headers.items()), body, self.client_address[1]
                    )
                    script.seen.append(seen)
                    action = script.actions.popleft() if script.actions else Reply()
                try:
                    self._act(action)
                except OSError:  # the client gave up (timeout tests); nothing left to say
                    self.close_connection = True

            def _act(self, action: Reply | Drop | Hangup) -> None:
                if isinstance(action, Hangup):
                    self.close_connection = True
                    return
                if isinstance(action, Drop):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"partial":')
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if action.delay:
                    time.sleep(action.delay)
                self.send_response(action.status)
                for name, value in action.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(action.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(action.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def script(self, *actions: Reply | Drop | Hangup) -> None:
        with self.lock:
            self.actions.extend(actions)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.seen)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def transport() -> Iterator[HTTPTransport]:
    with HTTPTransport(retries=3, backoff=0.001, max_wait=5.0, timeout=(2.0, 5.0)) as t:
        yield t  # type: ignore[misc]


def _get(server: ScriptedServer, path: str = "/api/v1/tickets", **kwargs: Any) -> Request:
    return Request("GET", server.url + path, **kwargs)


def _json_reply(status: int, data: object, **headers: str) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})


# --- plain requests -------------------------------------------------------------------------------------


def test_get_returns_the_full_response(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(_json_reply(200, [{"id": 1}], **{"X-Request-Id": "abc"}))
    response = transport.send(_get(server))
    assert response.status == 200
    assert response.ok
    assert response.json() == [{"id": 1}]
    assert response.headers["x-request-id"] == "abc"
    assert response.headers["X-REQUEST-ID"] == "abc"
    assert response.method == "GET"
    assert response.url == server.url + "/api/v1/tickets"
    assert response.elapsed >= 0
    assert server.seen[0].headers["Accept"] == "application/json"


def test_params_are_encoded_like_zammad_expects(server: ScriptedServer, transport: HTTPTransport) -> None:
    params = {"expand": True, "full": False, "page": 2, "skip": None, "ids": [1, 2], "query": "a b&c"}
    transport.send(_get(server, "/api/v1/tickets/search?x=1", params=params))
    assert (
        server.seen[0].path
        == "/api/v1/tickets/search?x=1&expand=true&full=false&page=2&ids=1&ids=2&query=a+b%26c"
    )


def test_post_sends_json_and_headers(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(_json_reply(201, {"id": 7, "title": "Ünïcode"}))
    request = Request(
        "post", server.url + "/api/v1/tickets", json={"title": "Ünïcode"}, headers={"From": "nicole"}
    )
    response = transport.send(request)
    seen = server.seen[0]
    assert (seen.method, response.status, response.method) == ("POST", 201, "POST")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["From"] == "nicole"
    assert json.loads(seen.body) == {"title": "Ünïcode"}
    assert response.json()["title"] == "Ünïcode"


def test_raw_data_body_is_sent_unchanged(server: ScriptedServer, transport: HTTPTransport) -> None:
    transport.send(Request("PUT", server.url + "/x", data=b"\x00\x01raw", headers={"Content-Type": "x/y"}))
    assert server.seen[0].body == b"\x00\x01raw"
    assert server.seen[0].headers["Content-Type"] == "x/y"


def test_connections_are_pooled(server: ScriptedServer) -> None:
    with HTTPTransport() as t:
        for _ in range(3):
            t.send(_get(server))
    # Every request came over the one kept-alive connection: the same client port each time.
    assert server.count == 3
    assert len({s.client_port for s in server.seen}) == 1


def test_auth_is_applied_and_request_headers_win(server: ScriptedServer) -> None:
    with HTTPTransport(auth=TokenAuth(SECRET)) as t:
        t.send(_get(server))
        t.send(_get(server, headers={"Authorization": "Bearer other"}))
    assert server.seen[0].headers["Authorization"] == f"Token token={SECRET}"
    assert server.seen[1].headers["Authorization"] == "Bearer other"


def test_request_auth_wins_over_the_transport_auth(server: ScriptedServer) -> None:
    with HTTPTransport(auth=TokenAuth(SECRET)) as t:
        t.send(_get(server, auth=BearerAuth("per-request")))
    assert server.seen[0].headers["Authorization"] == "Bearer per-request"
    assert server.seen[0].headers["Accept"] == "application/json"


def test_netrc_never_replaces_our_authorization(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password fromnetrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with HTTPTransport(auth=TokenAuth(SECRET)) as t:
        t.send(_get(server))
    with HTTPTransport() as t:  # requests alone would send Basic auth from the netrc here
        t.send(Request("GET", server.url + "/plain"))
    assert server.seen[0].headers["Authorization"] == f"Token token={SECRET}"
    assert "Authorization" not in server.seen[1].headers


# --- retries ---------------------------------------------------------------------------------------------


def test_get_is_retried_on_503_until_success(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Reply(503), Reply(503), _json_reply(200, {"id": 1}))
    response = transport.send(_get(server))
    assert response.json() == {"id": 1}
    assert server.count == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_exhausted_retries_raise_server_error_of_last_attempt(server: ScriptedServer, status: int) -> None:
    server.script(*[_json_reply(status, {"error": f"boom {i}"}) for i in range(3)])
    with HTTPTransport(retries=2, backoff=0.001) as t, pytest.raises(ServerError) as info:
        t.send(_get(server))
    assert server.count == 3
    assert info.value.status == status
    assert info.value.message == "boom 2"


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
def test_every_idempotent_method_is_retried(
    server: ScriptedServer, transport: HTTPTransport, method: str
) -> None:
    server.script(Reply(502), Reply(200, b""))
    assert transport.send(Request(method, server.url + "/x")).status == 200
    assert server.count == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_methods_are_never_retried(
    server: ScriptedServer, transport: HTTPTransport, method: str
) -> None:
    server.script(_json_reply(503, {"error": "busy"}), Reply(200))
    response = transport.send(Request(method, server.url + "/api/v1/tickets", json={"title": "x"}))
    assert response.status == 503
    assert server.count == 1
    with pytest.raises(ServerError, match="busy"):
        raise_for_status(response)


def test_other_errors_are_not_retried(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(_json_reply(500, {"error": "Error ID x"}), _json_reply(404, {"error": "nope"}))
    assert transport.send(_get(server)).status == 500
    assert transport.send(_get(server)).status == 404
    assert server.count == 2


def test_429_honours_retry_after_seconds(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Reply(429, b"Retry later", {"Retry-After": "0"}), _json_reply(200, {"ok": 1}))
    assert transport.send(_get(server)).json() == {"ok": 1}
    assert server.count == 2


def test_retry_after_beyond_max_wait_gives_up_at_once(server: ScriptedServer) -> None:
    server.script(Reply(429, b"Retry later", {"Retry-After": "120", "Content-Type": "text/plain"}))
    with HTTPTransport(retries=5, backoff=0.001, max_wait=1.0) as t, pytest.raises(RateLimited) as info:
        t.send(_get(server))
    assert server.count == 1
    assert info.value.retry_after == 120.0
    assert info.value.message == "Retry later"
    assert info.value.body == b"Retry later"


def test_retry_after_http_date(server: ScriptedServer) -> None:
    server.script(Reply(429, b"", {"Retry-After": formatdate(time.time() + 3600, usegmt=True)}))
    with HTTPTransport(retries=1, max_wait=10.0) as t, pytest.raises(RateLimited) as info:
        t.send(_get(server))
    assert server.count == 1
    assert info.value.retry_after is not None
    assert 3000 < info.value.retry_after <= 3600


def test_exhausted_429_raises_rate_limited(server: ScriptedServer) -> None:
    server.script(*[Reply(429, b"Retry later", {"Retry-After": "0"})] * 3)
    with HTTPTransport(retries=2, backoff=0.001) as t, pytest.raises(RateLimited) as info:
        t.send(_get(server))
    assert server.count == 3
    assert info.value.retry_after == 0.0


def test_backoff_is_bounded_by_max_wait(server: ScriptedServer) -> None:
    server.script(*[Reply(503)] * 10)
    with HTTPTransport(retries=8, backoff=0.4, max_wait=1.0) as t, pytest.raises(ServerError):
        t.send(_get(server))
    # Waits are 0.2–0.4, 0.4–0.8, 0.8–1.6 s: the budget of 1 s allows at most two of them.
    assert 2 <= server.count <= 3


def test_backoff_delays_grow_and_are_jittered() -> None:
    t = WSGITransport(_echo_app, backoff=1.0)
    delays = [[t._delay(n) for n in range(4)] for _ in range(50)]
    for row in delays:
        for n, d in enumerate(row):
            assert 0.5 * 2**n <= d <= 2**n
    assert len({row[0] for row in delays}) > 1  # jitter: not all the same


# --- broken connections and timeouts ----------------------------------------------------------------------


def test_connection_dropped_mid_body_is_connect_error(server: ScriptedServer) -> None:
    server.script(Drop())
    with HTTPTransport(retries=0) as t, pytest.raises(ConnectError, match="GET /api/v1/tickets"):
        t.send(_get(server))
    assert server.count == 1


def test_dropped_get_is_retried(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Drop(), Hangup(), _json_reply(200, {"id": 3}))
    assert transport.send(_get(server)).json() == {"id": 3}
    assert server.count == 3


def test_dropped_post_is_not_retried(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Hangup(), Reply(201))
    with pytest.raises(ConnectError):
        transport.send(Request("POST", server.url + "/api/v1/tickets", json={}))
    assert server.count == 1


def test_connection_refused_is_connect_error_after_retries(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    caplog.set_level(logging.DEBUG, logger="zammad_orm.transport")
    with HTTPTransport(retries=2, backoff=0.001) as t, pytest.raises(ConnectError):
        t.send(Request("GET", f"http://127.0.0.1:{port}/api/v1/users/me"))
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert [r.attempt for r in failed] == [1, 2, 3]  # type: ignore[attr-defined]


def test_read_timeout_of_get_is_retried_then_raised(server: ScriptedServer) -> None:
    server.script(Reply(delay=1.0), Reply(delay=1.0))
    with HTTPTransport(retries=1, backoff=0.001, timeout=(2.0, 0.1)) as t, pytest.raises(Timeout):
        t.send(_get(server))
    assert server.count == 2


def test_read_timeout_of_post_is_not_retried(server: ScriptedServer) -> None:
    server.script(Reply(delay=1.0), Reply())
    with HTTPTransport(retries=3, backoff=0.001, timeout=0.1) as t, pytest.raises(Timeout):
        t.send(Request("POST", server.url + "/api/v1/tickets", json={"title": "x"}))
    assert server.count == 1


def test_invalid_urls_are_configuration_errors(transport: HTTPTransport) -> None:
    with pytest.raises(ConfigurationError, match="invalid URL"):
        transport.send(Request("GET", "no-scheme/api/v1"))
    with pytest.raises(ConfigurationError, match="scheme"):
        transport.send(Request("GET", "ftp://127.0.0.1/api/v1"))


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": 0}, {"timeout": (1.0, -1.0)}, {"retries": -1}, {"backoff": -0.1}, {"pool_size": 0}],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        HTTPTransport(**kwargs)


def test_missing_ca_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CA bundle"):
        HTTPTransport(verify=str(tmp_path / "missing.pem"))
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    assert HTTPTransport(verify=str(bundle)).verify == str(bundle)


# --- decoding and errors -----------------------------------------------------------------------------------


def test_non_json_body_raises_decode_error_naming_url(
    server: ScriptedServer, transport: HTTPTransport
) -> None:
    server.script(Reply(200, b"<html><h1>Maintenance</h1></html>", {"Content-Type": "text/html"}))
    response = transport.send(_get(server))
    with pytest.raises(DecodeError) as info:
        response.json()
    assert server.url + "/api/v1/tickets" in str(info.value)
    assert "<html><h1>Maintenance" in str(info.value)


def test_empty_body_decodes_to_none(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Reply(200, b"", {"Content-Type": "text/html"}))
    response = transport.send(Request("DELETE", server.url + "/api/v1/tickets/1"))
    assert response.body == b""
    assert response.json() is None


def test_raise_for_status_maps_a_real_404(server: ScriptedServer, transport: HTTPTransport) -> None:
    body = {"error": "No route matches [GET] /api/v1", "error_human": "No route matches [GET] /api/v1"}
    server.script(_json_reply(404, body))
    response = transport.send(_get(server, "/api/v1"))
    with pytest.raises(NotFound) as info:
        raise_for_status(response)
    err = info.value
    assert (err.status, err.method, err.url) == (404, "GET", server.url + "/api/v1")
    assert err.message == "No route matches [GET] /api/v1"
    assert json.loads(err.body) == body


def _response(status: int, body: bytes, **headers: str) -> Response:
    return Response(status=status, headers=headers, body=body, url="http://z/api/v1/x", method="GET")


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (422, b'{"error":"raw","error_human":"Human text"}', UnprocessableEntity, "Human text"),
        (
            401,
            b'{"error":"Invalid BasicAuth credentials"}',
            AuthenticationError,
            "Invalid BasicAuth credentials",
        ),
        (500, b'{"error":"Error ID Ab3dE_x9: Please contact your administrator."}', ServerError, "Error ID"),
        (502, b"<html>Bad gateway</html>", ServerError, "Bad Gateway (an HTML page, not a Zammad reply"),
        (418, b"", APIError, "I'm a Teapot"),
        (499, b"", APIError, "HTTP 499"),
        (400, b'{"error_human": 5, "error": "fallback"}', APIError, "fallback"),
    ],
)
def test_raise_for_status_message(status: int, body: bytes, cls: type[APIError], message: str) -> None:
    with pytest.raises(cls) as info:
        raise_for_status(_response(status, body))
    assert info.value.message.startswith(message)
    assert info.value.body == body
    assert info.value.status == status


def test_raise_for_status_shortens_long_text() -> None:
    with pytest.raises(ServerError) as info:
        raise_for_status(_response(503, b"x" * 5000))
    assert len(info.value.message) < 300


@pytest.mark.parametrize("status", [200, 201, 204, 302, 399])
def test_raise_for_status_passes_success(status: int) -> None:
    raise_for_status(_response(status, b""))  # must not raise
    with pytest.raises(APIError):
        raise_for_status(_response(status + 400, b""))


def test_rate_limited_gets_retry_after() -> None:
    with pytest.raises(RateLimited) as info:
        raise_for_status(_response(429, b"Retry later", **{"retry-after": "7"}))
    assert info.value.retry_after == 7.0
    with pytest.raises(RateLimited) as info:
        raise_for_status(_response(429, b"Retry later"))
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 100.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412380.0  # Wed, 21 Oct 2015 07:26:20 GMT
    assert parse_retry_after(value, now=now) == expected


# --- logging ---------------------------------------------------------------------------------------------


def test_logs_name_method_path_status_and_never_secrets(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="zammad_orm")
    server.script(Reply(503), _json_reply(200, {"token": "not logged either"}))
    with HTTPTransport(auth=TokenAuth(SECRET), backoff=0.001) as t:
        t.send(_get(server, "/api/v1/tickets/search", params={"query": "state:open", "token": SECRET}))
    with HTTPTransport(auth=BasicAuth("admin@example.com", SECRET), backoff=0.001) as t:
        t.send(Request("POST", server.url + "/api/v1/users", json={"password": SECRET}))
    assert server.seen[0].headers["Authorization"] == f"Token token={SECRET}"
    everything = caplog.text + repr([r.__dict__ for r in caplog.records])
    assert SECRET not in everything
    assert base64.b64encode(f"admin@example.com:{SECRET}".encode()).decode() not in everything
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("GET /api/v1/tickets/search?query=state%3Aopen&token=***") and "-> 503" in m
        for m in messages
    )
    assert any("retrying" in m and "status 503" in m and "attempt 2/4" in m for m in messages)
    assert any(m.startswith("POST /api/v1/users -> 200 in ") and " ms " in m for m in messages)
    final = next(r.__dict__ for r in caplog.records if getattr(r, "status", None) == 200)
    assert (final["method"], final["path"], final["attempt"]) == (
        "GET",
        "/api/v1/tickets/search?query=state%3Aopen&token=***",
        2,
    )
    assert final["elapsed_ms"] >= 0


def test_without_debug_logging_retries_and_give_ups_still_name_the_masked_path(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="zammad_orm")
    server.script(Reply(503), Reply(503))
    with HTTPTransport(retries=1, backoff=0.001) as t, pytest.raises(ServerError):
        t.send(_get(server, "/api/v1/tickets/search", params={"query": "x", "token": SECRET}))
    messages = [r.getMessage() for r in caplog.records]
    assert not any("->" in m for m in messages)  # the per-attempt lines are debug lines
    path = "/api/v1/tickets/search?query=x&token=***"
    assert any(m.startswith(f"GET {path}: status 503, retrying") for m in messages)
    assert any(m == f"GET {path}: giving up after 2 attempts" for m in messages)
    assert SECRET not in caplog.text


def test_error_after_retries_never_shows_secret_query_values_or_userinfo(server: ScriptedServer) -> None:
    server.script(Reply(503), Reply(503))
    host = server.url.split("://", 1)[1]
    with HTTPTransport(retries=1, backoff=0.001) as t, pytest.raises(ServerError) as caught:
        t.send(
            Request(
                "GET",
                f"http://admin:{SECRET}@{host}/api/v1/tickets/search",
                params={"query": "x", "token": SECRET},
            )
        )
    error = caught.value
    assert SECRET not in str(error)
    assert SECRET not in error.url
    assert error.url == f"http://{host}/api/v1/tickets/search?query=x&token=***"
    assert error.status == 503


# --- auth ------------------------------------------------------------------------------------------------


def test_auth_headers_and_reprs_hide_secrets() -> None:
    cases = [
        (TokenAuth(SECRET), f"Token token={SECRET}"),
        (BearerAuth(SECRET), f"Bearer {SECRET}"),
        (BasicAuth("agent", SECRET), "Basic " + base64.b64encode(f"agent:{SECRET}".encode()).decode()),
    ]
    for auth, header in cases:
        headers: dict[str, str] = {}
        auth.apply(headers)
        assert headers == {"Authorization": header}
        assert SECRET not in repr(auth)
        assert SECRET not in str(auth)
        assert SECRET not in auth.identity
    assert TokenAuth("a").identity != TokenAuth("b").identity
    assert TokenAuth("a").identity == TokenAuth("a").identity
    assert TokenAuth("a").identity != BearerAuth("a").identity
    assert BasicAuth("agent", "x").identity == "basic:agent"


@pytest.mark.parametrize(
    "make",
    [
        lambda: TokenAuth(""),
        lambda: BearerAuth(None),  # type: ignore[arg-type]
        lambda: BasicAuth("", "x"),
    ],
)
def test_auth_refuses_empty_credentials(make: Any) -> None:
    with pytest.raises(ConfigurationError):
        make()


def test_headers_mapping() -> None:
    h = Headers([("Content-Type", "a"), ("X-One", "1")])
    assert h["content-type"] == "a"
    assert "CONTENT-TYPE" in h
    assert 5 not in h  # type: ignore[comparison-overlap]
    assert list(h) == ["Content-Type", "X-One"]
    assert h == {"content-type": "a", "x-one": "1"}
    assert h.get("missing") is None
    assert len(h) == 2
    assert hash(h) == hash(Headers({"CONTENT-TYPE": "a", "x-one": "1"}))


def test_transports_satisfy_the_protocol() -> None:
    assert isinstance(HTTPTransport(), Transport)
    assert isinstance(WSGITransport(_echo_app), Transport)


# --- WSGI --------------------------------------------------------------------------------------------------


def _echo_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    headers = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    data = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "host": environ["SERVER_NAME"],
        "port": environ["SERVER_PORT"],
        "scheme": environ["wsgi.url_scheme"],
        "content_type": environ.get("CONTENT_TYPE"),
        "headers": headers,
        "body": body.decode(),
    }
    payload = json.dumps(data).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def test_wsgi_transport_builds_the_environ() -> None:
    t = WSGITransport(_echo_app, auth=BearerAuth(SECRET))
    request = Request(
        "put",
        "https://zammad.example.com/api/v1/tickets/%C3%BC1",
        params={"expand": True},
        json={"title": "x"},
        headers={"From": "nicole"},
    )
    response = t.send(request)
    data = response.json()
    assert response.status == 200
    assert response.method == "PUT"
    assert response.url == "https://zammad.example.com/api/v1/tickets/%C3%BC1?expand=true"
    assert data["method"] == "PUT"
    assert data["path"] == "/api/v1/tickets/ü1".encode().decode("latin-1")
    assert (data["query"], data["host"], data["port"], data["scheme"]) == (
        "expand=true",
        "zammad.example.com",
        "443",
        "https",
    )
    assert data["content_type"] == "application/json"
    assert json.loads(data["body"]) == {"title": "x"}
    assert data["headers"]["HTTP_FROM"] == "nicole"
    assert data["headers"]["HTTP_AUTHORIZATION"] == f"Bearer {SECRET}"
    assert data["headers"]["HTTP_HOST"] == "zammad.example.com"


class _Flaky:
    """A WSGI app that answers a scripted list of (status, body) then 200."""

    def __init__(self, *answers: tuple[str, bytes, list[tuple[str, str]]]) -> None:
        self.answers = deque(answers)
        self.calls = 0
        self.closed = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        status, body, headers = self.answers.popleft() if self.answers else ("200 OK", b'{"ok":true}', [])
        start_response(status, headers)
        return self._body(body)

    def _body(self, body: bytes) -> Iterator[bytes]:
        try:
            if body == b"DROP":
                yield b'{"half":'
                raise ConnectionResetError("dropped")
            yield body
        finally:
            self.closed += 1


def test_wsgi_retries_and_closes_iterables() -> None:
    app = _Flaky(("503 Service Unavailable", b"", []), ("429 Too Many Requests", b"", [("Retry-After", "0")]))
    response = WSGITransport(app, backoff=0.001).send(Request("GET", "http://z/api/v1/x"))
    assert response.json() == {"ok": True}
    assert app.calls == 3
    assert app.closed == 3


def test_wsgi_dropped_body_is_connect_error() -> None:
    app = _Flaky(("200 OK", b"DROP", []), ("200 OK", b"DROP", []))
    with pytest.raises(ConnectError, match="dropped"):
        WSGITransport(app, retries=1, backoff=0.001).send(Request("GET", "http://z/api/v1/x"))
    assert app.calls == 2
    app = _Flaky(("200 OK", b"DROP", []))
    with pytest.raises(ConnectError):
        WSGITransport(app, backoff=0.001).send(Request("POST", "http://z/api/v1/x", json={}))
    assert app.calls == 1


def test_wsgi_short_body_is_incomplete_read() -> None:
    app = _Flaky(("200 OK", b"{}", [("Content-Length", "10")]))
    with pytest.raises(ConnectError, match="incomplete read"):
        WSGITransport(app, retries=0).send(Request("GET", "http://z/x"))


def test_wsgi_write_callable_and_head() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        write = start_response("404 Not Found", [("Content-Type", "application/json")])
        write(b'{"error":')
        return [b'"gone"}']

    t = WSGITransport(app)
    response = t.send(Request("GET", "http://z/x"))
    assert response.body == b'{"error":"gone"}'
    with pytest.raises(NotFound, match="gone"):
        raise_for_status(response)
    assert t.send(Request("HEAD", "http://z/x")).body == b""


def test_wsgi_app_without_status_is_connect_error() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return []

    with pytest.raises(ConnectError, match="no status"):
        WSGITransport(app, retries=0).send(Request("GET", "http://z/x"))


def test_wsgi_transport_meets_the_emulator_faults() -> None:
    from zammad_orm.testing.faults import Faults

    faults = Faults(seed=1)
    app = faults.wrap(_echo_app)
    t = WSGITransport(app, backoff=0.001)
    status = faults.add("status", method="GET", path="^/a$", status=503, times=2)
    assert t.send(Request("GET", "http://z/a")).json()["path"] == "/a"
    assert faults.hits[status] == 2
    limited = faults.add("rate_limit", path="^/b$", retry_after=0.0, times=1)
    assert t.send(Request("DELETE", "http://z/b")).json()["method"] == "DELETE"
    assert faults.hits[limited] == 1
    faults.add("drop", method="POST", path="^/c$")
    with pytest.raises(ConnectError):
        t.send(Request("POST", "http://z/c", json={"x": 1}))
    faults.add("truncate", path="^/d$")
    with pytest.raises(DecodeError, match="http://z/d"):
        t.send(Request("GET", "http://z/d")).json()
    faults.add("non_json", path="^/e$")
    with pytest.raises(DecodeError, match="Maintenance"):
        t.send(Request("GET", "http://z/e")).json()
    faults.add("status", path="^/f$", status=502)
    with pytest.raises(ServerError, match="injected fault"):
        WSGITransport(app, retries=1, backoff=0.001).send(Request("GET", "http://z/f"))


def test_get_follows_redirects_post_does_not(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Reply(301, b"", {"Location": server.url + "/moved"}), _json_reply(200, {"here": 1}))
    response = transport.send(_get(server))
    assert response.json() == {"here": 1}
    assert response.url == server.url + "/moved"
    assert [s.path for s in server.seen] == ["/api/v1/tickets", "/moved"]
    server.script(Reply(307, b"", {"Location": server.url + "/moved"}))
    assert transport.send(Request("POST", server.url + "/api/v1/tickets", json={})).status == 307
    assert server.count == 3


def test_endless_redirects_are_a_transport_error_not_retried(
    server: ScriptedServer, transport: HTTPTransport
) -> None:
    server.script(*[Reply(302, b"", {"Location": server.url + "/loop"})] * 40)
    with pytest.raises(TransportError, match="TooManyRedirects") as info:
        transport.send(_get(server))
    assert not isinstance(info.value, ConnectError)
    assert server.count == 31  # requests' limit of 30 redirects; not retried


def test_error_messages_mask_secret_query_parameters(server: ScriptedServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with HTTPTransport(retries=0) as t, pytest.raises(ConnectError) as refused:
        t.send(Request("GET", f"http://127.0.0.1:{port}/x", params={"token": SECRET}))
    assert SECRET not in str(refused.value)
    assert "token=***" in str(refused.value)
    server.script(Reply(delay=1.0))
    with HTTPTransport(retries=0, timeout=0.1) as t, pytest.raises(Timeout) as slow:
        t.send(_get(server, params={"password": SECRET}))
    assert SECRET not in str(slow.value)
    assert "password=***" in str(slow.value)


def test_http_transport_against_the_emulator_with_faults() -> None:
    from zammad_orm.testing import Emulator

    with Emulator() as z, HTTPTransport(auth=TokenAuth(z.token), backoff=0.001) as t:
        me = z.url + "/api/v1/users/me"
        assert t.send(Request("GET", me)).json()["login"] == "admin@example.com"
        dropped = z.faults.add("drop", method="GET", path="users/me", times=2)
        assert t.send(Request("GET", me)).json()["login"] == "admin@example.com"
        assert z.faults.hits[dropped] == 2
        z.faults.add("drop", method="POST", path="tickets", times=1)
        body = {"title": "x", "group": "Users", "customer_id": 2, "article": {"body": "b"}}
        with pytest.raises(ConnectError, match="POST /api/v1/tickets"):
            t.send(Request("POST", z.url + "/api/v1/tickets", json=body))
        with pytest.raises(AuthenticationError):
            raise_for_status(t.send(Request("GET", me, headers={"Authorization": "Token token=wrong"})))


def test_cookies_are_never_sent_back(server: ScriptedServer, transport: HTTPTransport) -> None:
    server.script(Reply(200, b"{}", {"Set-Cookie": "_zammad_session_abc=123; path=/"}))
    transport.send(_get(server))
    transport.send(_get(server))
    assert "Cookie" not in server.seen[1].headers


def test_unserialisable_json_body_is_refused_before_sending(
    server: ScriptedServer, transport: HTTPTransport
) -> None:
    with pytest.raises(FieldError, match="not JSON-serialisable"):
        transport.send(Request("POST", server.url + "/api/v1/tickets", json={"when": object()}))
    assert server.count == 0
