"""Property: a generated ``filter(...)``, ordered and sliced, gives the same rows locally as on the server.

The filters are the random keyword arguments of ``test_filter_property`` (every declared field of
``Ticket``, relation paths, every lookup, misspelled names, odd values). For each, the emulator's search
over real HTTP and ``.local()`` over the synced copy either both raise an error of the library, or
return the same ids in the same order; ``.local()`` may only refuse what the copy does not hold (tags,
articles), saying so. Local answers send no request about tickets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zammad_orm import Ticket, errors
from zammad_orm.client import Client
from zammad_orm.testing import Emulator

from .conftest import make_client, sent
from .test_filter_property import lookups_kwargs

#: How many random filters the property tries (each is one search over HTTP and one local evaluation).
EXAMPLES = 300

TABLES = ("/ticket_states?", "/ticket_priorities?", "/groups?", "/organizations?", "/roles?")
ORDERINGS = [
    (),
    ("id",),
    ("-created_at",),
    ("updated_at",),
    ("priority_id", "-id"),
    ("-state_id",),
    ("number",),
]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(demo=300, seed=17) as z:
        yield z


@pytest.fixture(scope="module")
def client(server: Emulator) -> Iterator[Client]:
    c = make_client(server)
    c.sync(Ticket)
    yield c
    c.close()


@pytest.fixture(scope="module")
def world(client: Client) -> dict[str, Any]:
    """The names and values the strategies draw from."""
    tickets = client.local_copy(Ticket)
    names = sorted(
        {s.name for s in client.states.iter()}
        | {p.name for p in client.priorities.iter()}
        | {g.name for g in client.groups.iter()}
        | {"note", "phone", "email", "Agent", "Customer", "open", "closed", "new"}
        | {t.title.split()[0] for t in tickets[:20] if t.title}
        | {o.name for o in client.organizations.iter()}
    )
    logins = sorted({u.login for u in client.users.iter()})[:15]
    return {"names": names, "logins": logins, "dates": sorted(t.created_at for t in tickets)}


def ids(qs: Any) -> list[int] | errors.ZammadError:
    try:
        return [t.id for t in qs]
    except errors.ZammadError as exc:
        return exc


def test_local_answers_like_the_server(client: Client, world: dict[str, Any]) -> None:
    seen = {"same": 0, "with rows": 0, "both refused": 0, "not in the copy": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(
        kwargs=lookups_kwargs(world),
        ordering=st.sampled_from(ORDERINGS),
        window=st.tuples(st.integers(0, 10), st.integers(0, 400)),
    )
    def check(kwargs: dict[str, Any], ordering: tuple[str, ...], window: tuple[int, int]) -> None:
        low, size = window
        try:
            qs = client.tickets.filter(**kwargs).order_by(*ordering)[low : low + size]
        except errors.ZammadError:
            seen["both refused"] += 1  # refused while building: the same QuerySet for both
            return
        remote = ids(qs)
        before = sent(client).count
        local = ids(qs.local())
        # Nothing about tickets is asked; a name a reference table lacks makes the resolver read that
        # table again (it may be new), as it does for a search.
        asked = [path for _, path in sent(client).sent[before:]]
        assert all(path.startswith(TABLES) for path in asked), asked
        if isinstance(local, errors.QueryError) and "is not in the local copy" in str(local):
            seen["not in the copy"] += 1
            return
        if isinstance(remote, errors.ZammadError) or isinstance(local, errors.ZammadError):
            assert type(remote) is type(local), (kwargs, remote, local)
            seen["both refused"] += 1
            return
        assert local == remote, (kwargs, ordering, window)
        seen["same"] += 1
        seen["with rows"] += bool(local)

    check()
    # Not vacuous: most filters are answered and compared, many of them with rows.
    assert seen["same"] > EXAMPLES // 4, seen
    assert seen["with rows"] > EXAMPLES // 25, seen
