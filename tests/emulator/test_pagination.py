"""Pagination defaults and maxima of spec §2.4, on demo data large enough to reach every maximum."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api


@pytest.fixture(scope="module")
def big() -> Iterator[Api]:
    """4,500 demo tickets: about 1,150 users, 1,850 time accountings, 10,000 articles."""
    with Emulator(demo=4500, seed=5) as z:
        api = Api.of(z)
        yield api
        api.close()


@pytest.fixture(scope="module")
def unified() -> Iterator[Api]:
    with Emulator(demo=1500, seed=5, zammad_version="6.5") as z:
        api = Api.of(z)
        yield api
        api.close()


def _count(api: Api, path: str, **params: Any) -> int:
    reply = api.get(path, params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return len(body["tickets"] if isinstance(body, dict) and "tickets" in body else body)


@pytest.mark.parametrize(
    ("path", "params", "default", "maximum"),
    [
        ("/tickets", {}, 100, 100),
        ("/users", {}, 100, 1000),
        ("/time_accountings", {}, 500, 1000),  # generic index
        ("/ticket_articles", {}, 500, 1000),  # generic index
        ("/tickets/search", {"query": "number:67*"}, 50, 200),
        ("/users/search", {"query": "*"}, 100, 500),  # before 6.5
    ],
)
def test_defaults_and_maxima_before_65(
    big: Api, path: str, params: dict[str, str], default: int, maximum: int
) -> None:
    assert _count(big, path, **params) == default
    assert _count(big, path, **params, per_page=maximum + 1) == maximum
    assert _count(big, path, **params, per_page=5000) == maximum
    # limit is an alias of per_page
    assert _count(big, path, **params, limit=7) == 7


def test_pages_do_not_overlap_and_end_empty(big: Api) -> None:
    first = [u["id"] for u in big.get("/users", params={"per_page": 1000}).json()]
    second = [u["id"] for u in big.get("/users", params={"per_page": 1000, "page": 2}).json()]
    assert first == sorted(first)
    assert first[0] == 1  # the index includes user 1
    assert not set(first) & set(second)
    assert 0 < len(second) < 1000
    assert big.get("/users", params={"per_page": 1000, "page": 3}).json() == []


def test_unified_search_defaults_and_maxima(unified: Api) -> None:
    # 6.5 searches the database for an empty query (every readable record).
    for path in ("/tickets/search", "/users/search"):
        assert _count(unified, path) == 50
        assert _count(unified, path, per_page=1000) == 200
    total = unified.get("/users/search", params={"only_total_count": "true"}).json()["total_count"]
    assert total > 200


def test_bad_pages(big: Api) -> None:
    assert big.get("/time_accountings", params={"per_page": 0}).json() == []
    assert big.get("/time_accountings", params={"page": -1}).status_code == 422
    # Garbage converts like Ruby's to_i: "abc" is 0, so no rows.
    assert big.get("/time_accountings", params={"per_page": "abc"}).json() == []
