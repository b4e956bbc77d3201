from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors
from zammad_orm.manager import get_active_client, set_default_client
from zammad_orm.transport import WSGITransport

from .conftest import CountingTransport, make_client, sent


@pytest.fixture(autouse=True)
def _no_faults_left(emulator: Any) -> Iterator[None]:
    """A test's injected faults end with it (the emulator is shared by the module)."""
    yield
    emulator.faults.clear()


# -- construction and configuration ------------------------------------------------------------------


def test_client_accepts_the_url_with_or_without_api_v1(emulator: Any) -> None:
    a = zo.Client(emulator.url, http_token=emulator.token)
    b = zo.Client(emulator.url + "/api/v1/", http_token=emulator.token)
    assert a.url == b.url == emulator.url
    assert b.api_url == emulator.url + "/api/v1"
    assert a.server_version == b.server_version


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "no credentials"),
        ({"http_token": "t", "username": "u", "password": "p"}, "contradictory"),
        ({"http_token": "t", "oauth2_token": "o"}, "contradictory"),
        ({"username": "admin@example.com"}, "together"),
    ],
)
def test_missing_or_contradictory_credentials_are_configuration_errors(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(errors.ConfigurationError, match=message):
        zo.Client("http://127.0.0.1:1", **kwargs)


def test_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(errors.ConfigurationError, match="http"):
        zo.Client("ftp://example.com", http_token="x")


def test_connect_reads_the_environment_and_becomes_the_default(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZAMMAD_URL", emulator.url)
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", emulator.token)
    for name in ("ZAMMAD_USERNAME", "ZAMMAD_PASSWORD", "ZAMMAD_OAUTH2_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    try:
        client = zo.connect()
        assert get_active_client() is client
        assert zo.Ticket.objects.get(1).title == "Welcome to Zammad!"
        second = zo.connect(emulator.url, username=emulator.admin_login, password=emulator.admin_password)
        assert get_active_client() is second
        assert second.users.me().login == emulator.admin_login
    finally:
        set_default_client(None)


@pytest.mark.parametrize("kind", ["basic", "oauth2"])
def test_connect_reads_other_credentials_from_the_environment(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("ZAMMAD_URL", emulator.url)
    for name in ("ZAMMAD_HTTP_TOKEN", "ZAMMAD_USERNAME", "ZAMMAD_PASSWORD", "ZAMMAD_OAUTH2_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    if kind == "basic":
        monkeypatch.setenv("ZAMMAD_USERNAME", "agent1@example.com")
        monkeypatch.setenv("ZAMMAD_PASSWORD", "agent")
    else:
        monkeypatch.setenv("ZAMMAD_OAUTH2_TOKEN", emulator.token)
    try:
        client = zo.connect()
        expected = "agent1@example.com" if kind == "basic" else emulator.admin_login
        assert client.users.me().login == expected
        # An argument wins over the environment, which is then not read for credentials at all.
        explicit = zo.connect(http_token=emulator.user_tokens["nicole.braun@zammad.org"])
        assert explicit.users.me().login == "nicole.braun@zammad.org"
    finally:
        set_default_client(None)


def test_default_timeouts_and_settings_reach_the_transport(emulator: Any, tmp_path: Path) -> None:
    default = zo.Client(emulator.url, http_token=emulator.token)
    assert (default.transport.timeout, default.transport.retries) == ((5.0, 30.0), 3)  # type: ignore[attr-defined]
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used for http://\n")
    tuned = zo.Client(emulator.url, http_token=emulator.token, timeout=2.5, retries=1, verify=str(bundle))
    transport = tuned.transport
    assert (transport.timeout, transport.retries, transport.verify) == (2.5, 1, str(bundle))  # type: ignore[attr-defined]
    assert tuned.tickets.get(1).number == "67001"


@pytest.fixture
def tls_emulator(emulator: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The emulator's app behind HTTPS with a self-signed certificate; yields (url, certificate path)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    from werkzeug.serving import make_server

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = make_server("127.0.0.1", 0, emulator.wsgi(), threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}", cert
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_verify_accepts_a_ca_bundle_path(emulator: Any, tls_emulator: tuple[str, Path]) -> None:
    url, cert = tls_emulator
    trusted = zo.Client(url, http_token=emulator.token, verify=str(cert), retries=0)
    assert trusted.tickets.get(1).number == "67001"
    untrusted = zo.Client(url, http_token=emulator.token, retries=0)  # the system CAs do not know it
    with pytest.raises(errors.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        untrusted.tickets.get(1)


def test_connect_refuses_contradictory_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAMMAD_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", "t")
    monkeypatch.setenv("ZAMMAD_OAUTH2_TOKEN", "o")
    with pytest.raises(errors.ConfigurationError, match="contradictory"):
        zo.connect()


def test_connect_without_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZAMMAD_URL", raising=False)
    with pytest.raises(errors.ConfigurationError, match="ZAMMAD_URL"):
        zo.connect(http_token="x")


def test_no_client_at_all_is_a_configuration_error() -> None:
    set_default_client(None)
    with pytest.raises(errors.ConfigurationError, match="connect"):
        zo.Ticket.objects.get(1)


def test_basic_auth_and_bearer_token(emulator: Any) -> None:
    basic = zo.Client(emulator.url, username="agent1@example.com", password="agent")
    assert basic.users.me().login == "agent1@example.com"
    bearer = zo.Client(emulator.url, oauth2_token=emulator.token)
    assert bearer.users.me().login == emulator.admin_login


def test_in_process_wsgi_transport(emulator: Any) -> None:
    client = zo.Client(
        "http://emulator.invalid", http_token=emulator.token, transport=WSGITransport(emulator.app)
    )
    assert client.tickets.get(1).number == "67001"


# -- default client, activate, using -----------------------------------------------------------------


def test_activate_overrides_the_default_in_a_with_block(emulator: Any) -> None:
    default = make_client(emulator)
    other = make_client(emulator)
    set_default_client(default)
    try:
        with other.activate():
            t = zo.Ticket.objects.get(1)
            assert t.client is other
        assert zo.Ticket.objects.get(1).client is default
        assert sent(other).count == 1
        assert sent(default).count == 1
    finally:
        set_default_client(None)


def test_activate_is_per_thread(emulator: Any) -> None:
    mine = make_client(emulator)
    seen: list[Any] = []
    with mine.activate():

        def worker() -> None:
            try:
                seen.append(get_active_client())
            except errors.ConfigurationError as exc:
                seen.append(exc)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert get_active_client() is mine
    assert isinstance(seen[0], errors.ConfigurationError)


def test_using_binds_a_manager_to_a_client(client: zo.Client) -> None:
    assert zo.Ticket.objects.using(client) == client.tickets
    assert client.tickets.client is client
    assert client.tickets.model is zo.Ticket
    assert zo.Ticket.objects.using(client).get(1).client is client


# -- impersonation -----------------------------------------------------------------------------------


def test_on_behalf_of_sends_from_and_acts_as_that_user(client: zo.Client) -> None:
    with client.on_behalf_of("nicole.braun@zammad.org"):
        assert client.users.me().id == 2
    assert client.users.me().login != "nicole.braun@zammad.org"
    with client.on_behalf_of(2):
        assert client.get("users/me")["id"] == 2


def test_on_behalf_of_in_the_constructor(emulator: Any) -> None:
    nicole = make_client(emulator, on_behalf_of="nicole.braun@zammad.org")
    assert nicole.users.me().login == "nicole.braun@zammad.org"


def test_on_behalf_of_an_unknown_user_is_refused(client: zo.Client) -> None:
    with (
        client.on_behalf_of("nobody@nowhere.example"),
        pytest.raises(errors.PermissionDenied, match="No such user"),
    ):
        client.users.me()


# -- server facts and raw requests -------------------------------------------------------------------


def test_server_version_is_asked_once(client: zo.Client) -> None:
    assert client.server_version.startswith("6.2")
    assert client.server_version.startswith("6.2")
    assert sent(client).sent.count(("GET", "/version")) == 1
    assert client.search_generation == "pre65"


def test_raw_requests_escape_hatch(client: zo.Client) -> None:
    me = client.get("users/me")
    assert isinstance(me, dict)
    assert me["login"]
    assert client.request("GET", "tickets/1")["number"] == "67001"
    created = client.post("ticket_priorities", json={"name": "raw-prio"})
    assert created["name"] == "raw-prio"
    updated = client.put(f"ticket_priorities/{created['id']}", json={"note": "n"})
    assert updated["note"] == "n"
    assert client.delete(f"ticket_priorities/{created['id']}") == {}


# -- error paths -------------------------------------------------------------------------------------


def test_unknown_token_is_an_authentication_error(emulator: Any) -> None:
    bad = zo.Client(emulator.url, http_token="wrong")
    with pytest.raises(errors.AuthenticationError) as info:
        bad.users.me()
    assert info.value.status == 401


def test_wrong_password_is_an_authentication_error(emulator: Any) -> None:
    bad = zo.Client(emulator.url, username=emulator.admin_login, password="nope")
    with pytest.raises(errors.AuthenticationError, match="Invalid BasicAuth credentials"):
        bad.tickets.get(1)


def test_customer_without_permission_gets_permission_denied(emulator: Any) -> None:
    nicole = zo.Client(emulator.url, username="nicole.braun@zammad.org", password="customer")
    with pytest.raises(errors.PermissionDenied) as info:
        nicole.groups.create(name="not allowed")
    assert info.value.status == 403


def test_missing_object_is_model_does_not_exist_and_not_found(client: zo.Client) -> None:
    with pytest.raises(zo.TicketPriority.DoesNotExist) as info:
        client.priorities.get(999999)
    assert isinstance(info.value, errors.NotFound)
    assert isinstance(info.value, errors.DoesNotExist)
    assert "Couldn't find Ticket::Priority with 'id'=999999" in str(info.value)


def test_unknown_route_is_not_found(client: zo.Client) -> None:
    with pytest.raises(errors.NotFound, match="No route matches"):
        client.get("no_such_route")


def test_server_refusal_is_unprocessable_entity_with_the_message(client: zo.Client) -> None:
    # Users are not a reference table: their names are not checked locally, the server refuses them.
    with pytest.raises(errors.UnprocessableEntity, match="No lookup value found for 'customer'"):
        client.tickets.create(title="x", group="Users", customer="no-such-login", article="b")
    # A group's name is checked locally: nothing is sent.
    sent(client).reset()
    with pytest.raises(errors.FieldError, match="there is no group named 'no such group'"):
        client.tickets.create(title="x", group="no such group", customer="guess:x@example.com", article="b")
    assert [m for m, _ in sent(client).sent] == ["GET"]  # /groups, once per client


def test_retries_exhausted_raise_the_last_server_error(emulator: Any) -> None:
    rule = emulator.faults.add("status", method="GET", path=r".*/ticket_priorities/1$", status=503)
    client = make_client(emulator, transport=CountingTransport(retries=2, backoff=0.0))
    with pytest.raises(errors.ServerError) as info:
        client.priorities.get(1)
    assert info.value.status == 503
    assert rule.hits == 3  # first attempt + 2 retries
    assert sent(client).count == 1  # one logical request


def test_transient_failure_is_retried_transparently(emulator: Any) -> None:
    rule = emulator.faults.add("status", method="GET", path=r".*/ticket_priorities/2$", status=502, times=1)
    client = make_client(emulator, transport=CountingTransport(retries=2, backoff=0.0))
    assert client.priorities.get(2).name == "2 normal"
    assert rule.hits == 1


def test_post_is_not_retried(emulator: Any) -> None:
    rule = emulator.faults.add("status", method="POST", path=r".*/ticket_priorities$", status=503)
    client = make_client(emulator, transport=CountingTransport(retries=3, backoff=0.0))
    with pytest.raises(errors.ServerError):
        client.priorities.create("never")
    assert rule.hits == 1


def test_non_json_reply_is_a_decode_error(emulator: Any) -> None:
    emulator.faults.add("non_json", method="GET", path=r".*/ticket_priorities/3$")
    client = make_client(emulator)
    with pytest.raises(errors.DecodeError):
        client.priorities.get(3)


def test_retry_after_of_the_server_is_honoured(emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    # The backoff alone would wait 50-100 s, past max_wait: only by honouring the server's
    # Retry-After (0.01 s) can the transport retry at all.
    rule = emulator.faults.add(
        "rate_limit", method="GET", path=r".*/ticket_priorities/2$", times=1, retry_after=0.01
    )
    caplog.set_level(logging.INFO, logger="zammad_orm.transport")
    client = make_client(emulator, transport=CountingTransport(retries=2, backoff=100.0, max_wait=5.0))
    assert client.priorities.get(2).name == "2 normal"
    assert rule.hits == 1
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert retries == ["GET /api/v1/ticket_priorities/2: status 429, retrying in 0.01 s (attempt 2/3)"]


def test_total_wait_is_bounded_by_max_wait(emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    rule = emulator.faults.add("rate_limit", method="GET", path=r".*/ticket_priorities/3$", retry_after=60)
    caplog.set_level(logging.INFO, logger="zammad_orm.transport")
    client = make_client(emulator, transport=CountingTransport(retries=5, backoff=0.0, max_wait=2.0))
    with pytest.raises(errors.RateLimited) as info:
        client.priorities.get(3)
    assert info.value.retry_after == 60.0
    assert info.value.status == 429
    assert rule.hits == 1  # a wait of 60 s would pass max_wait: given up at once, nothing slept
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "the next wait of 60.00 s passes max_wait=2.00 s" in warning


def test_rate_limit_retries_exhausted_raise_rate_limited(emulator: Any) -> None:
    rule = emulator.faults.add("rate_limit", method="GET", path=r".*/ticket_priorities/1$", retry_after=0)
    client = make_client(emulator, transport=CountingTransport(retries=2, backoff=0.0))
    with pytest.raises(errors.RateLimited, match="Retry later") as info:
        client.priorities.get(1)
    assert info.value.retry_after == 0.0
    assert rule.hits == 3


def test_connection_dropped_mid_body_is_retried_for_get_then_raised(emulator: Any) -> None:
    rule = emulator.faults.add("drop", method="GET", path=r".*/ticket_priorities/1$")
    client = make_client(emulator, transport=CountingTransport(retries=1, backoff=0.0))
    with pytest.raises(errors.ConnectError):
        client.priorities.get(1)
    assert rule.hits == 2


def test_failed_save_after_retries_keeps_pending_changes(emulator: Any) -> None:
    client = make_client(emulator, transport=CountingTransport(retries=1, backoff=0.0))
    ticket = client.tickets.create("retry save", "Users", "guess:pytest@localhost.local", "x")
    ticket.title = "pending"
    ticket.preferences["k"] = "v"
    rule = emulator.faults.add("status", method="PUT", path=rf".*/tickets/{ticket.id}$", status=503)
    with pytest.raises(errors.ServerError, match="Service Unavailable"):
        ticket.save()
    assert rule.hits == 2  # a PUT is idempotent: retried once
    emulator.faults.clear()  # the server recovers: the same save now goes through
    assert ticket.changes() == {"title": "pending", "preferences": {"k": "v"}}
    ticket.save()
    assert ticket.changes() == {}
    assert client.get(f"tickets/{ticket.id}")["title"] == "pending"


def test_logs_name_method_path_status_and_milliseconds_never_credentials(
    emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    password = "customer"  # Nicole's seeded password: it must appear in no log record
    nicole = zo.Client(emulator.url, username="nicole.braun@zammad.org", password=password)
    caplog.set_level(logging.DEBUG, logger="zammad_orm.transport")
    nicole.users.me()
    with pytest.raises(errors.NotFound):
        nicole.get("tickets/999999", token="query-secret-123")
    records = [r for r in caplog.records if r.name == "zammad_orm.transport"]
    fields = [(r.method, r.path, r.status) for r in records]  # type: ignore[attr-defined]
    assert fields == [
        ("GET", "/api/v1/users/me", 200),
        ("GET", "/api/v1/tickets/999999?token=***", 404),
    ]
    assert all(isinstance(r.elapsed_ms, float) for r in records)  # type: ignore[attr-defined]
    assert records[0].getMessage().startswith("GET /api/v1/users/me -> 200 in ")
    everything = " ".join(f"{r.getMessage()} {vars(r)}" for r in records)
    for secret in (password, "query-secret-123", emulator.token, "Authorization", "Basic "):
        assert secret not in everything


def test_objects_get_of_a_missing_pk_is_does_not_exist_and_not_found(client: zo.Client) -> None:
    sent(client).reset()
    with client.activate(), pytest.raises(zo.Ticket.DoesNotExist) as info:
        zo.Ticket.objects.get(pk=999999)
    assert isinstance(info.value, errors.NotFound)
    assert isinstance(info.value, errors.DoesNotExist)
    assert info.value.status == 404
    assert sent(client).sent == [("GET", "/tickets/999999")]
    with pytest.raises(errors.NotFound):
        zo.Ticket.objects.using(client).get(999999)
    with pytest.raises(zo.User.DoesNotExist):
        client.users.get(pk=999999)
    assert not issubclass(zo.User.DoesNotExist, zo.Ticket.DoesNotExist)


def test_unprocessable_entity_carries_status_method_url_and_body(client: zo.Client) -> None:
    with pytest.raises(errors.UnprocessableEntity) as info:
        client.users.create(firstname="x", email="not an email")
    error = info.value
    assert (error.status, error.method) == (422, "POST")
    assert error.url.endswith("/api/v1/users")
    assert error.message == "Invalid email 'not an email'"  # the server's error_human
    assert error.message in error.body.decode()
    assert str(error) == f"422 {error.message} (POST {error.url})"


def test_bad_input_is_refused_before_any_request(client: zo.Client) -> None:
    ticket = client.tickets.get(1)
    sent(client).reset()
    with pytest.raises(errors.FieldError, match="colour"):
        client.priorities.create("p", colour="red")
    with pytest.raises(TypeError):  # FieldError is a TypeError
        ticket.title = 5  # type: ignore[assignment]
    with pytest.raises(errors.FieldError, match="read-only"):
        ticket.number = "1"
    with pytest.raises(errors.FieldError):
        client.tickets.get("1")  # type: ignore[arg-type]
    assert sent(client).sent == []
    assert ticket.changes() == {}


def test_unknown_query_field_is_refused_before_any_search(client: zo.Client) -> None:
    # A name that is not a declared field may be a custom object attribute: the query layer asks the
    # server's attribute list (once per client), never the search endpoint.
    with pytest.raises(errors.QueryError, match="colour"):
        list(client.tickets.filter(colour="red"))
    with pytest.raises(errors.QueryError, match="colour"):
        client.tickets.filter(colour="blue").count()
    assert sent(client).sent == [("GET", "/object_manager_attributes")]


def test_unreachable_server_is_a_connect_error() -> None:
    client = zo.Client("http://127.0.0.1:9", http_token="x", retries=0)
    with pytest.raises(errors.ConnectError):
        client.tickets.get(1)


# -- identity map and cache --------------------------------------------------------------------------


def test_identity_map_gives_one_object_per_id(client: zo.Client) -> None:
    a = client.tickets.get(1)
    b = client.tickets.get(1)
    assert a is b
    assert client.tickets[1] is a
    assert sent(client).sent.count(("GET", "/tickets/1")) == 2  # get() always asks the server


def test_load_and_load_assets_merge_into_one_instance(client: zo.Client) -> None:
    t = client.tickets.get(1)
    again = client.load(zo.Ticket, {**t.view(), "title": "changed on the server"})
    assert again is t
    assert t.title == "changed on the server"
    client.load_assets({"Ticket": {"1": {**t.view(), "title": "from assets"}}, "Unknown": {"1": {"id": 1}}})
    assert t.title == "from assets"


def test_cache_serves_relations_without_requests(emulator: Any, tmp_path: Any) -> None:
    spec = f"disk:{tmp_path}"
    first = make_client(emulator, cache=spec)
    ticket = first.tickets.get(1)
    assert ticket.group.name == "Users"
    first.close()
    second = make_client(emulator, cache=spec)
    group = second.resolve(zo.Group, 1)
    assert group.name == "Users"
    assert sent(second).count == 0
    assert group.last_request_age_s() is not None


def test_cache_can_be_disabled(emulator: Any) -> None:
    client = make_client(emulator, cache=False)
    client.resolve(zo.Group, 1)
    assert client.cache.get("Group", 1) is None


def test_assets_of_objects_not_alive_go_to_the_cache_and_serve_relations(client: zo.Client) -> None:
    record = client.get("groups/1")
    client.load_assets({"Group": {"1": {**record, "note": "from assets"}}})
    sent(client).reset()
    group = client.resolve(zo.Group, 1)
    assert group.note == "from assets"
    assert sent(client).count == 0
    client.load_assets({"Group": {"1": {"id": 1, "note": "partial"}}})  # merged over the live object
    assert group.note == "partial"
    assert group.name == "Users"


def test_a_partial_asset_is_merged_over_the_cached_copy_and_a_complete_one_replaces_it(
    client: zo.Client,
) -> None:
    record = client.get("users/2")
    assert set(zo.User._meta.by_wire) <= set(record)  # the server's record has every declared column
    cached = {**record, "custom_x": "kept", "updated_at": "2030-01-01T00:00:00.000Z"}
    client.load_assets({"User": {"2": cached}})
    partial = {"id": 2, "note": "partial", "updated_at": "2030-01-02T00:00:00.000Z"}
    client.load_assets({"User": {"2": partial}})  # a customer's view: columns left out
    merged = client.cache.get("User", 2)
    assert merged is not None
    assert (merged.record["note"], merged.record["login"], merged.record["custom_x"]) == (
        "partial",
        record["login"],
        "kept",
    )
    complete = {**record, "note": "complete", "updated_at": "2030-01-03T00:00:00.000Z"}
    client.load_assets({"User": {"2": complete}})  # every column: the copy is replaced, not read
    replaced = client.cache.get("User", 2)
    assert replaced is not None
    assert replaced.record == complete


def test_missing_ca_bundle_is_a_configuration_error() -> None:
    with pytest.raises(errors.ConfigurationError, match="CA bundle"):
        zo.Client("https://127.0.0.1:1", http_token="x", verify="/nonexistent/ca.pem")


def test_collections_are_listed_and_unknown_ones_refused(client: zo.Client) -> None:
    names = dir(client)
    assert {"tickets", "users", "tags", "states", "priorities", "time_accounting_types"} <= set(names)
    assert isinstance(client.tags, zo.Tags)
    assert client.tickets is client.tickets
    with pytest.raises(AttributeError, match="no collection 'tickts'"):
        _ = client.tickts


def test_absolute_urls_only_on_the_own_server(client: zo.Client) -> None:
    assert client.request("GET", f"{client.api_url}/tickets/1")["id"] == 1
    sent(client).reset()
    with pytest.raises(errors.ConfigurationError, match="refusing"):
        client.request("GET", "https://attacker.example/api/v1/tickets/1")
    with pytest.raises(errors.ConfigurationError, match="refusing"):
        client.get(client.url + ".attacker.example/x")
    assert sent(client).count == 0
