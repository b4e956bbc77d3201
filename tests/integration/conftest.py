"""Fixtures of the integration tests: the emulator over real loopback HTTP and clients talking to it.

``emulator`` is one server per test module (tests there share its data and create what they need);
``fresh_emulator`` gives a test its own server when it must see a pristine system. ``client`` is a new
:class:`zammad_orm.Client` per test (its own identity map and record cache) whose transport counts the
requests it sends, so tests can assert how many requests an operation costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import zammad_orm as zo
from tests.caches import own_cache
from zammad_orm.manager import set_default_client
from zammad_orm.transport import HTTPTransport, Request, Response

Emulator: Any
try:
    from zammad_orm.testing import Emulator
except ImportError:  # pragma: no cover - only while the emulator is being built
    Emulator = None


class CountingTransport(HTTPTransport):
    """An HTTPTransport that records every request it sends (and ``(METHOD, path?query)`` of each)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[tuple[str, str]] = []
        self.requests: list[Request] = []

    def send(self, request: Request) -> Response:
        path = request.full_url.split("/api/v1", 1)[-1]
        self.sent.append((request.method.upper(), path))
        self.requests.append(request)
        return super().send(request)

    def reset(self) -> None:
        self.sent.clear()
        self.requests.clear()

    @property
    def count(self) -> int:
        return len(self.sent)


def _need_emulator() -> Any:
    if Emulator is None:
        pytest.fail("zammad_orm.testing.Emulator is not available (the emulator did not import)")
    return Emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with _need_emulator()() as server:
        yield server


@pytest.fixture
def fresh_emulator() -> Iterator[Any]:
    with _need_emulator()() as server:
        yield server


def make_client(server: Any, **kwargs: Any) -> zo.Client:
    kwargs.setdefault("transport", CountingTransport(retries=kwargs.pop("retries", 0), backoff=0.0))
    # The default disk cache, in a directory of this client's own: the tests count what each client costs,
    # and a second client plays another user or host (a shared cache: test_cache_default, test_cache_redis).
    kwargs.setdefault("cache", own_cache())
    return zo.Client(server.url, http_token=server.token, **kwargs)


@pytest.fixture
def client(emulator: Any) -> Iterator[zo.Client]:
    c = make_client(emulator)
    yield c
    c.close()
    set_default_client(None)


@pytest.fixture
def fresh_client(fresh_emulator: Any) -> Iterator[zo.Client]:
    c = make_client(fresh_emulator)
    yield c
    c.close()
    set_default_client(None)


def sent(client: zo.Client) -> CountingTransport:
    transport = client.transport
    assert isinstance(transport, CountingTransport)
    return transport


@pytest.fixture
def ticket(client: zo.Client) -> zo.Ticket:
    return client.tickets.create(
        title="__pytest__", group="Users", customer="guess:pytest@localhost.local", article="..."
    )
