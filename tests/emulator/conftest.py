"""Fixtures of the emulator tests: shared running emulators and authenticated sessions over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from zammad_orm.testing import Emulator


class Api:
    """A tiny HTTP helper: ``api.get("/tickets/1")`` against ``<url>/api/v1`` with one user's credentials."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base + "/api/v1"
        self.session = requests.Session()
        self.session.headers.update(headers)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()

    @classmethod
    def of(cls, emulator: Emulator, token: str | None = None) -> Api:
        """A session on a running emulator with a user's token (default: the admin's)."""
        return cls(emulator.url, {"Authorization": f"Token token={token or emulator.token}"})


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """A fresh-system emulator shared by the whole session (tests create their own objects)."""
    with Emulator(seed=1) as z:
        yield z


@pytest.fixture(scope="session")
def admin(emulator: Emulator) -> Iterator[Api]:
    api = Api.of(emulator)
    yield api
    api.close()


@pytest.fixture(scope="session")
def agent(emulator: Emulator) -> Iterator[Api]:
    api = Api.of(emulator, emulator.user_tokens["agent1@example.com"])
    yield api
    api.close()


@pytest.fixture(scope="session")
def customer(emulator: Emulator) -> Iterator[Api]:
    api = Api.of(emulator, emulator.user_tokens["nicole.braun@zammad.org"])
    yield api
    api.close()


@pytest.fixture
def ticket(admin: Api) -> dict[str, Any]:
    """A new ticket created like the recordings' fixture (guess customer, one article)."""
    reply = admin.post(
        "/tickets",
        json={
            "title": "__pytest__",
            "customer_id": "guess:pytest@localhost.local",
            "group": "Users",
            "article": {"body": "..."},
        },
    )
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]
