"""Other people's data: what one identity may see never reaches another, on the server or in a cache.

The emulator answers as Zammad does: a customer sees their own tickets (and their shared organization's),
an agent the tickets of their groups, and ``From`` needs ``admin.user``. On the client side each identity
has its own cache namespace and identity map: a client built with ``on_behalf_of``, and a client inside
``with client.on_behalf_of(...)``, never read the records another identity fetched, from a shared cache
directory, a shared Redis database, or the client's own identity map.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from tests.reliability.conftest import count
from zammad_orm import errors
from zammad_orm.testing import Emulator

NICOLE = "nicole.braun@zammad.org"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def world(emulator: Emulator) -> dict[str, Any]:
    """A group only the admin works in, an agent of "Users" only, and tickets of three customers."""
    admin = zo.Client(emulator.url, http_token=emulator.token)
    secret = admin.groups.create(name="Confidential")
    admin.put("users/3", {"group_ids": {"1": ["full"], str(secret.id): ["full"]}})
    agent = admin.users.create(
        login="agent.users@example.com", email="agent.users@example.com", password="pw-agent-users",
        roles=["Agent"], group_ids={"1": ["full"]},
    )  # fmt: skip
    other = admin.tickets.create(
        title="another customer's", group="Users", customer="guess:other.customer@example.com", article="x"
    )
    mine = admin.tickets.create(title="nicole's", group="Users", customer=NICOLE, article="x")
    hidden = admin.tickets.create(title="confidential", group="Confidential", customer=NICOLE, article="x")
    admin.close()
    return {
        "agent": agent.login,
        "other": other.id,
        "mine": mine.id,
        "hidden": hidden.id,
        "secret": secret.id,
    }


def _client(emulator: Emulator, **kwargs: Any) -> zo.Client:
    kwargs.setdefault("http_token", emulator.token)
    return zo.Client(emulator.url, **kwargs)


# --- what the server lets each identity see -------------------------------------------------------------


def test_a_customer_cannot_read_other_customers_tickets(emulator: Emulator, world: dict[str, Any]) -> None:
    nicole = _client(emulator, http_token=emulator.user_tokens[NICOLE])
    with pytest.raises(errors.PermissionDenied):
        nicole.tickets.get(world["other"])
    assert nicole.tickets.get(world["mine"]).title == "nicole's"
    seen = list(nicole.tickets.all())
    assert world["other"] not in {t.id for t in seen}
    assert world["mine"] in {t.id for t in seen}
    assert not list(nicole.tickets.filter(title="another customer's"))
    assert all(t.customer_id == 2 or t.organization_id == 1 for t in seen)
    nicole.close()
    count("identities tested")


def test_an_agent_sees_only_their_groups(emulator: Emulator, world: dict[str, Any]) -> None:
    agent = _client(emulator, http_token=None, username=world["agent"], password="pw-agent-users")
    with pytest.raises(errors.PermissionDenied):
        agent.tickets.get(world["hidden"])
    seen = list(agent.tickets.all())
    assert seen
    assert {t.group_id for t in seen} == {1}
    assert not list(agent.tickets.filter(title="confidential"))
    admin = _client(emulator)
    assert admin.tickets.get(world["hidden"]).group_id == world["secret"]
    agent.close()
    admin.close()
    count("identities tested")


def test_on_behalf_of_without_admin_user_is_refused(emulator: Emulator, world: dict[str, Any]) -> None:
    agent = _client(
        emulator, http_token=None, username=world["agent"], password="pw-agent-users", on_behalf_of=NICOLE
    )
    with pytest.raises(errors.PermissionDenied, match="no permission to use 'From'"):
        agent.users.me()
    plain = _client(emulator, http_token=None, username=world["agent"], password="pw-agent-users")
    with plain.on_behalf_of(NICOLE), pytest.raises(errors.PermissionDenied):
        plain.tickets.get(world["mine"])
    assert plain.users.me().login == world["agent"]
    agent.close()
    plain.close()


# --- what a shared cache and the identity map let through ------------------------------------------------


def _caches(tmp_path: Path) -> list[str]:
    settings = [f"disk:{tmp_path / 'shared-cache'}"]
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        if os.environ.get("ZAMMAD_ORM_REQUIRE_REDIS"):
            raise
    else:
        settings.append(REDIS_URL)
    return settings


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[list[str]]:
    settings = _caches(tmp_path)
    yield settings
    if REDIS_URL in settings:
        import redis

        server = redis.Redis.from_url(REDIS_URL)
        for key in server.scan_iter("zammad_orm:*"):
            server.delete(key)


def test_identities_sharing_a_cache_never_see_each_others_records(
    emulator: Emulator, world: dict[str, Any], shared: list[str]
) -> None:
    for setting in shared:
        admin = _client(emulator, cache=setting)
        other = admin.tickets.get(world["other"])
        assert admin.cache.get("Ticket", other.id) is not None  # the admin's namespace holds it

        nicole = _client(emulator, http_token=emulator.user_tokens[NICOLE], cache=setting)
        assert nicole.cache.get("Ticket", other.id) is None
        with pytest.raises(errors.PermissionDenied):
            _ = nicole.tickets[other.id]  # identity map, then cache, then the server: which says no

        # The admin token acting for Nicole from the start: a namespace of its own, not the admin's.
        as_nicole = _client(emulator, on_behalf_of=NICOLE, cache=setting)
        assert as_nicole.cache.get("Ticket", other.id) is None
        with pytest.raises(errors.PermissionDenied):
            _ = as_nicole.tickets[other.id]
        for c in (admin, nicole, as_nicole):
            c.close()
        count("identities tested", 3)
        count("shared caches checked")


def test_on_behalf_of_mid_process_switches_identity_map_and_cache(
    emulator: Emulator, world: dict[str, Any], shared: list[str]
) -> None:
    for setting in [None, *shared]:
        admin = _client(emulator, cache=setting)
        other = admin.tickets.get(world["other"])
        full = admin.users.get(2)
        assert full.email == NICOLE
        with admin.on_behalf_of(NICOLE):
            assert admin.identity.get(zo.Ticket, other.id) is None
            assert admin.cache.get("Ticket", other.id) is None
            with pytest.raises(errors.PermissionDenied):
                _ = admin.tickets[other.id]
            herself = admin.users.me()  # Nicole as she sees herself: without her contact fields
            assert herself is not full
            assert "phone" not in herself.view()
            mine = admin.tickets[world["mine"]]
            with admin.on_behalf_of(world["agent"]):  # nested: a third identity
                with pytest.raises(errors.PermissionDenied):
                    _ = admin.tickets[world["hidden"]]
                assert admin.tickets[world["mine"]] is not mine
            assert admin.tickets[world["mine"]] is mine
        # Back as the admin: the admin's objects, untouched by what Nicole saw.
        assert admin.tickets[other.id] is other
        assert admin.users[2] is full
        assert "phone" in full.view()
        cached = admin.cache.get("User", 2)
        assert cached is not None
        assert "phone" in cached.record
        admin.close()
        count("identities tested", 3)


def test_bulk_writes_inside_on_behalf_of_act_as_that_user(emulator: Emulator, world: dict[str, Any]) -> None:
    admin = _client(emulator)
    with admin.on_behalf_of(NICOLE):
        made = admin.tickets.bulk_create(
            [{"title": f"bulk as nicole {i}", "group": "Users", "article": "b"} for i in range(3)]
        )
    assert [t.created_by_id for t in made] == [2, 2, 2]
    assert [t.customer_id for t in made] == [2, 2, 2]
    with admin.on_behalf_of(world["agent"]):
        admin.tickets.filter(title__startswith="bulk as nicole").update(title="bulk updated")
    rows = emulator.store.conn.execute(
        "SELECT updated_by_id FROM tickets WHERE title = 'bulk updated'"
    ).fetchall()
    agent_id = admin.users.get(login=world["agent"]).id
    assert [r[0] for r in rows] == [agent_id] * 3
    admin.close()
