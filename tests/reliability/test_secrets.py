"""Secrets: tokens, passwords and OAuth tokens never show in logs, reprs, errors, cache files or CLI output.

Each credential here is unique and random, so finding it anywhere is a leak and not a coincidence. The
operations run through every path that logs or raises: successes, 4xx answers, retried 5xx and 429
answers, dropped and timed-out connections, impersonation, and the disk and Redis caches. TLS
verification is on by default; turning it off warns once.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import zammad_orm as zo
from tests.reliability.conftest import count
from zammad_orm import errors
from zammad_orm.testing import Emulator
from zammad_orm.transport import HTTPTransport, InsecureTransportWarning

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "tok-" + secrets.token_hex(16)
PASSWORD = "pw-" + secrets.token_hex(16)
LOGIN = "secret.keeper@example.com"


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    """An emulator whose admin token and a second admin's password are this module's secrets."""
    with Emulator(seed=2, token=TOKEN) as z:
        reply = requests.post(
            f"{z.url}/api/v1/users",
            headers={"Authorization": f"Token token={TOKEN}"},
            json={
                "login": LOGIN,
                "email": LOGIN,
                "password": PASSWORD,
                "roles": ["Admin", "Agent"],
                "group_ids": {"1": ["full"]},
            },
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        yield z


SECRETS = (TOKEN, PASSWORD)


def _clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret in {where}: {text[:300]!r}"


def _clients(server: Emulator, **kwargs: Any) -> list[zo.Client]:
    transport = {"retries": 2, "backoff": 0.0, "timeout": (5.0, 0.3)}
    return [
        zo.Client(server.url, http_token=TOKEN, transport=HTTPTransport(**transport), **kwargs),
        zo.Client(server.url, oauth2_token=TOKEN, transport=HTTPTransport(**transport), **kwargs),
        zo.Client(
            server.url, username=LOGIN, password=PASSWORD, transport=HTTPTransport(**transport), **kwargs
        ),
    ]


def _exercise(server: Emulator, client: zo.Client, raised: list[BaseException], *, slow: bool = True) -> None:
    """Successes, errors, retries, drops and timeouts: every path that logs or raises."""
    faults = server.faults
    client.tickets.get(1)
    list(client.tickets.filter(title__icontains="welcome"))
    client.users.me()
    client.tickets.create(title="secret ops", group="Users", customer=2, article="b")
    with client.on_behalf_of("nicole.braun@zammad.org"):
        client.users.me()
    faults.add("status", method="GET", path=r"/tickets/1$", status=503, times=1)
    faults.add("rate_limit", method="GET", path=r"/users/me$", retry_after=0.0, times=1)
    client.tickets.get(1)
    client.users.me()

    def lost_create() -> None:
        faults.add("drop", method="POST", path=r"/tickets$", times=1)
        client.tickets.create(title="lost", group="Users", customer=2, article="b")

    def maintenance_page() -> None:
        faults.add("non_json", method="GET", path=r"/users/1$", times=1)
        client.users.get(1)

    attempts = [
        lambda: client.tickets.get(999_999),
        lambda: client.tickets.create(title="", group="Users", customer=2, article="b"),
        lambda: client.tickets.get(2),  # dropped, retried, given up
        lost_create,
        maintenance_page,
    ]
    if slow:
        attempts.append(lambda: client.tickets.get(3))  # too late, retried, given up
    dropped = faults.add("drop", method="GET", path=r"/tickets/2$")
    late = faults.add("latency", method="GET", path=r"/tickets/3$", latency=0.6)
    for attempt in attempts:
        try:
            attempt()
        except errors.ZammadError as exc:
            raised.append(exc)
    faults.remove(dropped)
    faults.remove(late)
    faults.clear()


def test_no_secret_in_logs_reprs_or_errors(server: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    raised: list[BaseException] = []
    for client in _clients(server):
        _exercise(server, client, raised)
        for obj in (client, client.auth, client.transport, client.cache):
            _clean(repr(obj), f"repr of {type(obj).__name__}")
        client.close()
    assert len(raised) == 3 * 6
    kinds = {type(e).__name__ for e in raised}
    assert kinds == {"DoesNotExist", "UnprocessableEntity", "ConnectError", "Timeout", "OutcomeUnknown",
                     "DecodeError"}, kinds  # fmt: skip
    for exc in raised:
        _clean(str(exc), f"the message of {type(exc).__name__}")
        _clean(repr(exc), f"the repr of {type(exc).__name__}")
        # The traceback as printed, with every chained cause (requests' and urllib3's errors included).
        _clean("".join(traceback.format_exception(exc)), f"the traceback of {type(exc).__name__}")
        for name in ("url", "body", "message"):
            value = getattr(exc, name, "")
            _clean(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value), name)
    assert len(caplog.records) > 50
    for record in caplog.records:
        _clean(record.getMessage(), f"a log line of {record.name}")
        _clean(repr(record.__dict__), f"the fields of a log record of {record.name}")
    count("secrets: log records scanned", len(caplog.records))
    count("secrets: errors scanned", len(raised))
    count("identities tested", 3)


def test_secret_looking_query_parameters_are_masked_in_the_librarys_logs_and_errors(
    server: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The library never puts credentials in a URL; a caller who does gets them masked where it writes.

    (urllib3's own DEBUG line shows the URL as requested: keep secrets out of query strings.)
    """
    caplog.set_level(logging.DEBUG, logger="zammad_orm")
    client = zo.Client(server.url, http_token=TOKEN, transport=HTTPTransport(retries=1, backoff=0.0))
    client.get("tickets/search", query="x", token=TOKEN, password=PASSWORD)
    server.faults.add("status", method="GET", path=r"/tickets/search$", status=502)
    with pytest.raises(errors.ServerError) as info:
        client.get("tickets/search", query="x", token=TOKEN, api_key=PASSWORD)
    server.faults.clear()
    _clean(str(info.value), "the error")
    assert "token=***" in str(info.value)
    records = [r for r in caplog.records if r.name.startswith("zammad_orm")]
    assert len(records) >= 3
    for record in records:
        _clean(record.getMessage(), f"a log line of {record.name}")
        _clean(repr(record.__dict__), f"the fields of a log record of {record.name}")
    client.close()


def test_the_library_never_shows_locals() -> None:
    """No module formats frames' locals (where a credential could sit), so no log or error shows them."""
    package = Path(zo.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("capture_locals", "f_locals", "print_exc", "format_exc("):
            assert needle not in text, f"{path.relative_to(package)} uses {needle}"


def _scan_files(root: Path) -> int:
    n = 0
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, f"a secret in cache file {path}"
            n += 1
    return n


def test_no_secret_in_cache_files_or_redis(server: Emulator, tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    settings = [f"disk:{directory}"]
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        settings.append(REDIS_URL)
    except Exception:
        if os.environ.get("ZAMMAD_ORM_REQUIRE_REDIS"):
            raise
    raised: list[BaseException] = []
    for setting in settings:
        for client in _clients(server, cache=setting):
            _exercise(server, client, raised, slow=False)
            users = list(client.users.all())  # the users' records, the admins' own among them
            assert any(u.login == LOGIN for u in users)
            client.close()
    files = _scan_files(directory)
    assert files > 3
    keys = 0
    if REDIS_URL in settings:
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter("zammad_orm:*"):
            keys += 1
            for secret in SECRETS:
                assert secret.encode() not in key
            values = store.hgetall(key) if store.type(key) == b"hash" else {}
            for field, value in values.items():
                for secret in SECRETS:
                    assert secret.encode() not in field + value, f"a secret in Redis key {key!r}"
            store.delete(key)
        assert keys > 3
    count("secrets: cache files scanned", files)
    count("secrets: Redis keys scanned", keys)


def test_cli_output_carries_no_secret_of_the_environment(tmp_path: Path) -> None:
    env = dict(os.environ, ZAMMAD_HTTP_TOKEN=TOKEN, ZAMMAD_PASSWORD=PASSWORD, ZAMMAD_OAUTH2_TOKEN=TOKEN)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    for args in (["routes"], ["demo", "--demo", "5"], ["serve", "--port", "99999"], ["--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "zammad_orm.cli", *args], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        _clean(result.stdout + result.stderr, f"the output of zammad-orm {' '.join(args)}")
    count("secrets: CLI runs scanned", 4)


# --- TLS verification ---------------------------------------------------------------------------------


@pytest.fixture
def tls_url(server: Emulator, tmp_path: Path) -> Iterator[str]:
    """The emulator behind HTTPS with a self-signed certificate nobody trusts."""
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
    https = make_server("127.0.0.1", 0, server.wsgi(), threaded=True, ssl_context=context)
    thread = threading.Thread(target=https.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{https.server_port}"
    finally:
        https.shutdown()
        thread.join()
        https.server_close()


def test_tls_is_verified_by_default_and_turning_it_off_warns_once(tls_url: str) -> None:
    assert HTTPTransport().verify is True
    default = zo.Client(tls_url, http_token=TOKEN, retries=0)
    assert isinstance(default.transport, HTTPTransport)
    assert default.transport.verify is True
    with pytest.raises(
        errors.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"
    ) as info:
        default.tickets.get(1)
    assert info.value.request_sent is False  # the handshake failed: nothing was sent
    default.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        insecure = zo.Client(tls_url, http_token=TOKEN, verify=False, retries=0)
        for _ in range(5):
            assert insecure.tickets.get(1).number == "67001"
        insecure.close()
    assert [type(w.message) for w in caught] == [InsecureTransportWarning]
    warning = caught[0]
    assert issubclass(warning.category, UserWarning)
    assert "verify=False" in str(warning.message)
    assert warning.filename == __file__  # it points at the line that turned verification off
    _clean(str(warning.message), "the warning")
