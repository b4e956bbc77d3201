"""Fault injection (testing/faults.py): the middleware over a tiny WSGI app, then in front of the emulator."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import urllib3
from werkzeug.serving import make_server

from zammad_orm.errors import ConfigurationError
from zammad_orm.testing import faults as faults_module
from zammad_orm.testing.faults import Faults


class CountingApp:
    """A small JSON app that counts the requests that reach it (to see which faults call the app)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            self.calls += 1
        body = json.dumps(
            {"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"], "note": "x" * 200}
        ).encode()
        start_response(
            "200 OK",
            [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]


class Served:
    def __init__(self, faults: Faults, app: CountingApp, url: str) -> None:
        self.faults, self.app, self.url = faults, app, url

    def get(self, path: str = "/api/v1/tickets/1", **kw: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=5, **kw)

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, self.url + path, timeout=5, **kw)


@pytest.fixture
def served() -> Iterator[Served]:
    faults, app = Faults(seed=7), CountingApp()
    server = make_server("127.0.0.1", 0, faults.wrap(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(faults, app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_no_rules_passes_requests_through_untouched(served: Served) -> None:
    r = served.get("/api/v1/users/me")
    assert r.status_code == 200
    assert r.json()["path"] == "/api/v1/users/me"
    assert served.app.calls == 1


def test_wrap_without_rules_returns_the_apps_own_iterable() -> None:
    app = CountingApp()
    wrapped = Faults().wrap(app)
    seen: list[str] = []
    body = wrapped({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, lambda status, headers: seen.append(status))
    assert seen == ["200 OK"]
    assert json.loads(b"".join(body))["path"] == "/x"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_status_fault_answers_zammad_style_json_without_calling_the_app(served: Served, status: int) -> None:
    rule = served.faults.add("status", status=status)
    r = served.get()
    assert r.status_code == status
    assert r.headers["Content-Type"].startswith("application/json")
    payload = r.json()
    assert isinstance(payload["error"], str)
    if status == 500:
        # Zammad masks unexpected exceptions behind an error id.
        assert re.fullmatch(
            r"Error ID [A-Za-z0-9_-]{8}: Please contact your administrator\.", payload["error"]
        )
    else:
        assert payload["error_human"] == payload["error"]
    assert served.app.calls == 0
    assert rule.hits == 1


def test_times_limits_how_often_a_rule_fires(served: Served) -> None:
    rule = served.faults.add("status", status=502, times=2)
    assert [served.get().status_code for _ in range(4)] == [502, 502, 200, 200]
    assert rule.hits == 2
    assert served.app.calls == 2


def test_method_and_path_select_the_requests(served: Served) -> None:
    rule = served.faults.add("status", method="post", path=r"^/api/v1/tickets$", status=503)
    assert served.request("POST", "/api/v1/tickets", json={}).status_code == 503
    assert served.request("GET", "/api/v1/tickets").status_code == 200
    assert served.request("POST", "/api/v1/users").status_code == 200
    # A regex *search*, so a prefix-less pattern matches anywhere in the path.
    assert served.request("POST", "/api/v1/tickets/1").status_code == 200
    assert rule.hits == 1
    assert served.faults.hits == {rule: 1}


def test_rate_limit_answers_429_retry_later_with_retry_after(served: Served) -> None:
    served.faults.add("rate_limit", retry_after=2, times=1)
    r = served.get()
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"
    assert r.headers["Content-Type"] == "text/plain"
    assert r.text == "Retry later\n"
    assert served.get().status_code == 200


def test_rate_limit_retry_after_defaults_to_one_second_and_keeps_fractions(served: Served) -> None:
    served.faults.add("rate_limit", times=1)
    served.faults.add("rate_limit", retry_after=0.25, times=1)
    assert served.get().headers["Retry-After"] == "1"
    assert served.get().headers["Retry-After"] == "0.25"


def test_drop_breaks_the_connection_after_the_app_ran(served: Served) -> None:
    rule = served.faults.add("drop", method="GET")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        served.get()
    # The server did the work: a dropped reply is not a request that never happened.
    assert served.app.calls == 1
    assert rule.hits == 1


def test_drop_raw_read_sees_fewer_bytes_than_promised(served: Served) -> None:
    served.faults.add("drop")
    with requests.get(served.url + "/api/v1/tickets", stream=True, timeout=5) as r:
        promised = int(r.headers["Content-Length"])
        got = b""
        error: Exception | None = None
        try:
            for chunk in r.raw.stream(1024, decode_content=False):
                got += chunk
        except urllib3.exceptions.HTTPError as exc:
            error = exc
    assert isinstance(error, urllib3.exceptions.ProtocolError)
    assert 0 < len(got) < promised


def test_truncate_sends_consistent_headers_but_undecodable_json(served: Served) -> None:
    served.faults.add("truncate")
    r = served.get()
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == len(r.content)
    assert len(r.content) > 0
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()
    assert served.app.calls == 1


def test_non_json_answers_200_html(served: Served) -> None:
    served.faults.add("non_json")
    r = served.get()
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html>" in r.text
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()
    assert served.app.calls == 0


def test_latency_sleeps_then_lets_the_request_through(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests never assert wall-clock times: record what the middleware asks to sleep instead.
    slept: list[float] = []
    monkeypatch.setattr(faults_module.time, "sleep", slept.append)
    served.faults.add("latency", latency=0.2, path="tickets")
    served.faults.add("status", status=504, latency=0.05, path="users")
    assert served.get("/api/v1/tickets/1").status_code == 200
    assert served.get("/api/v1/users/1").status_code == 504
    assert served.get("/api/v1/groups").status_code == 200
    assert slept == [0.2, 0.05]


def test_latency_combines_with_a_later_fault(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(faults_module.time, "sleep", slept.append)
    slow = served.faults.add("latency", latency=0.1)
    fail = served.faults.add("status", status=503)
    assert served.get().status_code == 503
    assert slept == [0.1]
    assert (slow.hits, fail.hits) == (1, 1)


def _pattern(seed: int, n: int = 40) -> list[int]:
    faults, app = Faults(seed=seed), CountingApp()
    wrapped = faults.wrap(app)
    faults.add("status", probability=0.5)
    statuses: list[int] = []
    seen: list[str] = []
    for _ in range(n):
        list(wrapped({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, lambda s, h, e=None: seen.append(s)))
        statuses.append(int(seen[-1].split()[0]))
    return statuses


def test_probability_is_deterministic_by_seed() -> None:
    first, again, other = _pattern(1), _pattern(1), _pattern(2)
    assert first == again
    assert first != other
    assert set(first) == {200, 503}


def test_probability_over_http_matches_the_in_process_sequence(served: Served) -> None:
    served.faults.clear()
    served.faults.add("status", probability=0.5)
    assert [served.get().status_code for _ in range(40)] == _pattern(7)


def test_clear_removes_rules_and_remove_drops_one(served: Served) -> None:
    a = served.faults.add("status", path="tickets")
    b = served.faults.add("non_json", path="users")
    served.faults.remove(a)
    assert served.faults.rules == (b,)
    assert served.get("/api/v1/tickets/1").status_code == 200
    served.faults.clear()
    assert served.faults.rules == ()
    assert served.get("/api/v1/users/1").headers["Content-Type"].startswith("application/json")


def test_concurrent_requests_respect_times_exactly(served: Served) -> None:
    rule = served.faults.add("status", status=503, times=5)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: served.get().status_code, range(30)))
    assert statuses.count(503) == 5
    assert statuses.count(200) == 25
    assert rule.hits == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "explode"}, "unknown fault kind 'explode'"),
        ({"kind": "status", "status": 404}, "5xx status"),
        ({"kind": "drop", "probability": 1.5}, "probability"),
        ({"kind": "drop", "times": -1}, "times"),
        ({"kind": "latency", "latency": -0.1}, "latency"),
        ({"kind": "rate_limit", "retry_after": -1}, "retry_after"),
        ({"kind": "drop", "path": "("}, "not a valid regular expression"),
        ({"kind": "drop", "query": "[page"}, "fault query '[page' is not a valid regular expression"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error(kwargs: dict[str, Any], message: str) -> None:
    faults = Faults()
    kind = kwargs.pop("kind")
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        faults.add(kind, **kwargs)
    assert faults.rules == ()


def test_a_rule_can_match_the_query_string(served: Served) -> None:
    rule = served.faults.add("status", path="^/api/v1/tickets/search$", query="(^|&)page=3(&|$)", status=500)
    codes = [
        served.get("/api/v1/tickets/search", params={"query": "x", "page": page}).status_code
        for page in (1, 2, 3, 13, 3)
    ]
    assert codes == [200, 200, 500, 200, 500]
    assert rule.hits == 2
    assert served.app.calls == 3


# -- against the emulator: what a Zammad client meets ---------------------------------------------------


class Zammad:
    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.faults: Faults = emulator.faults
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token token={emulator.token}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, f"{self.emulator.url}/api/v1/{path}", timeout=10, **kw)

    def titles(self) -> list[str]:
        # Straight from the store, past the fault middleware: what the server really holds.
        with self.emulator.store.transaction() as conn:
            return [row[0] for row in conn.execute("SELECT title FROM tickets ORDER BY id")]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from zammad_orm.testing import Emulator

    with Emulator(seed=7) as running:
        yield running


@pytest.fixture
def zammad(emulator: Any) -> Iterator[Zammad]:
    emulator.faults.clear()
    client = Zammad(emulator)
    yield client
    emulator.faults.clear()
    client.session.close()


NEW_TICKET = {"group": "Users", "customer": "nicole.braun@zammad.org", "article": {"body": "fault test"}}


def test_the_emulator_serves_through_its_faults(zammad: Zammad) -> None:
    assert isinstance(zammad.faults, Faults)
    assert zammad.faults.seed == 7
    assert zammad.request("GET", "users/me").json()["login"] == "admin@example.com"


def test_status_fault_answers_before_zammad_does_any_work(zammad: Zammad) -> None:
    rule = zammad.faults.add("status", method="POST", path=r"^/api/v1/tickets$", status=503, times=1)
    failed = zammad.request("POST", "tickets", json={**NEW_TICKET, "title": "never created"})
    assert failed.status_code == 503
    assert set(failed.json()) == {"error", "error_human"}
    assert "never created" not in zammad.titles()
    created = zammad.request("POST", "tickets", json={**NEW_TICKET, "title": "created on retry"})
    assert created.status_code == 201
    assert rule.hits == 1


def test_dropped_create_is_done_although_the_client_saw_no_reply(zammad: Zammad) -> None:
    zammad.faults.add("drop", method="POST", path=r"^/api/v1/tickets$", times=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        zammad.request("POST", "tickets", json={**NEW_TICKET, "title": "created but reply lost"})
    assert zammad.titles().count("created but reply lost") == 1


def test_truncated_ticket_does_not_decode(zammad: Zammad) -> None:
    zammad.faults.add("truncate", path=r"^/api/v1/tickets/1$")
    reply = zammad.request("GET", "tickets/1")
    assert reply.status_code == 200
    assert int(reply.headers["Content-Length"]) == len(reply.content)
    assert reply.content.startswith(b'{"id":1')
    with pytest.raises(requests.exceptions.JSONDecodeError):
        reply.json()
    assert zammad.request("GET", "users/me").json()["id"] == 3  # other paths untouched


def test_rate_limited_search_and_html_portal(zammad: Zammad) -> None:
    zammad.faults.add("rate_limit", path="/search", retry_after=3)
    zammad.faults.add("non_json", path="/users/me")
    limited = zammad.request("GET", "tickets/search", params={"query": "welcome"})
    assert (limited.status_code, limited.headers["Retry-After"], limited.text) == (429, "3", "Retry later\n")
    portal = zammad.request("GET", "users/me")
    assert portal.status_code == 200
    assert portal.headers["Content-Type"].startswith("text/html")


def test_emulators_with_the_same_seed_meet_the_same_faults() -> None:
    from zammad_orm.testing import Emulator

    def statuses(seed: int) -> list[int]:
        with Emulator(seed=seed) as running:
            zammad = Zammad(running)
            zammad.faults.add("status", status=502, probability=0.3)
            try:
                return [zammad.request("GET", "tickets/1").status_code for _ in range(30)]
            finally:
                zammad.session.close()

    first = statuses(11)
    assert first == statuses(11)
    assert set(first) == {200, 502}
