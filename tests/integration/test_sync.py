"""``client.sync(Model)`` and ``Model.objects.local()`` against the emulator over real HTTP.

The request counts are the ones the issue sets: a first sync loads everything, a sync with no change is
one request, a sync after ``changed`` changes costs at most ``ceil(changed / 200) + 2`` requests; an
interrupted sync resumes without losing or duplicating anything; a reconciliation finds deletions. The
10,000-ticket figure is measured by ``benchmarks/bench_sync.py``.
"""

from __future__ import annotations

import datetime as dt
import math
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import Count, Organization, Q, Sum, Ticket, TruncMonth, User, errors, replica
from zammad_orm.manager import set_default_client
from zammad_orm.testing import Emulator

from .conftest import make_client, sent


@pytest.fixture
def server() -> Iterator[Emulator]:
    """A server of its own per test: the tests change and delete tickets."""
    with Emulator(demo=600, seed=13) as z:
        yield z


@pytest.fixture
def client(server: Emulator) -> Iterator[zo.Client]:
    c = make_client(server)
    yield c
    c.close()
    set_default_client(None)


def server_records(server: Emulator) -> dict[int, str]:
    """``{id: updated_at}`` of every ticket, read by a client of its own (not the one syncing)."""
    other = make_client(server)
    try:
        return {t.id: t.view()["updated_at"] for t in other.tickets.all()}
    finally:
        other.close()


def the_copy(client: zo.Client) -> replica.Replica:
    return client._replicas.get(client._namespace(None), Ticket)


def when(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def local_records(client: zo.Client) -> dict[int, str]:
    objs = client.local_copy(Ticket)
    assert len({o.id for o in objs}) == len(objs), "a record is in the copy twice"
    return {o.id: o.view()["updated_at"] for o in objs}


def change(server: Emulator, ids: list[int], title: str) -> None:
    """Change the tickets through another client, a few requests at a time."""
    other = make_client(server)
    try:
        other.tickets.filter(id__in=ids)[: len(ids)].update(title=title)
    finally:
        other.close()


def test_local_before_any_sync_raises_and_sends_nothing(client: zo.Client) -> None:
    with pytest.raises(errors.NotSynced, match=r"call client.sync\(Ticket\) first"):
        client.tickets.local()
    with client.activate(), pytest.raises(errors.NotSynced):
        Ticket.objects.local().filter(state="open")
    assert sent(client).count == 0


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        ("Ticket", errors.ConfigurationError, "model class"),
        (42, errors.ConfigurationError, "model class"),
        (zo.TicketState, errors.QueryError, "no search endpoint"),
    ],
)
def test_sync_refuses_bad_input_before_any_request(
    client: zo.Client, model: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        client.sync(model)
    assert sent(client).count == 0


def test_raw_search_cannot_run_locally(client: zo.Client) -> None:
    client.sync(Ticket)
    with pytest.raises(errors.QueryError, match="raw search"):
        client.tickets.raw("state.name:open").local()


def test_first_sync_loads_everything_then_no_change_is_one_request(
    server: Emulator, client: zo.Client
) -> None:
    report = client.sync(Ticket)
    assert report.full
    assert report.fetched >= report.total
    expected = server_records(server)
    assert local_records(client) == expected
    assert report.total == len(expected) == 601  # 600 demo tickets and the welcome ticket
    for _ in range(3):
        sent(client).reset()
        again = client.sync(Ticket)
        assert sent(client).count == 1, sent(client).sent
        assert not again.full
        assert again.deleted == 0
        assert again.total == 601
    assert local_records(client) == expected


@pytest.mark.parametrize("changed", [6, 200, 450])
def test_a_sync_after_changes_costs_at_most_ceil_changed_over_200_plus_2(
    server: Emulator, client: zo.Client, changed: int
) -> None:
    client.sync(Ticket)
    ids = sorted(server_records(server))[5 : 5 + changed]
    change(server, ids, f"changed {changed}")
    sent(client).reset()
    client.sync(Ticket)
    assert sent(client).count <= math.ceil(changed / 200) + 2, sent(client).sent
    assert local_records(client) == server_records(server)
    titles = {t.id: t.title for t in client.tickets.local().filter(id__in=ids)}
    assert titles == dict.fromkeys(ids, f"changed {changed}")


def test_reconcile_finds_deletions_and_missing_records(server: Emulator, client: zo.Client) -> None:
    client.sync(Ticket)
    gone = sorted(server_records(server))[10:13]
    other = make_client(server)
    for pk in gone:
        other.tickets.get(id=pk).delete()
    created = other.tickets.create(
        title="new one", group="Users", customer="nicole.braun@zammad.org", article="b"
    )
    other.close()
    plain = client.sync(Ticket, reconcile=False)  # changes only: deletions are not seen
    assert plain.deleted == 0
    assert set(gone) <= set(local_records(client))
    assert created.id in local_records(client)
    lost = sorted(server_records(server))[100]  # an old ticket: no later sync reads it again
    copy = the_copy(client)
    with copy._db:  # a record the copy lacks (say the index took it in later than the overlap)
        copy._db.execute("DELETE FROM records WHERE id = ?", (lost,))
    sent(client).reset()
    report = client.sync(Ticket, reconcile=True)
    assert report.reconciled
    assert report.deleted == 3
    id_pages = [path for _, path in sent(client).sent if "expand=true" in path]
    assert len(id_pages) == math.ceil(len(server_records(server)) / 200)  # 599 ids: 3 pages
    assert f"query=id%3A{lost}&" in sent(client).sent[-1][1]  # fetched back by id
    assert local_records(client) == server_records(server)
    assert not set(gone) & {t.id for t in client.tickets.local()}


def test_every_nth_sync_reconciles(
    server: Emulator, client: zo.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replica, "RECONCILE_EVERY", 3)
    client.sync(Ticket)
    other = make_client(server)
    pk = sorted(server_records(server))[20]
    other.tickets.get(id=pk).delete()
    other.close()
    reports = [client.sync(Ticket) for _ in range(3)]
    assert [r.reconciled for r in reports] == [False, False, True]
    assert [r.deleted for r in reports] == [0, 0, 1]
    assert pk not in local_records(client)


def test_an_interrupted_first_sync_resumes_exactly(server: Emulator, client: zo.Client) -> None:
    faults = server.faults
    rule = faults.add("status", path="^/api/v1/tickets/search$", query="(^|&)page=3(&|$)", status=500)
    try:
        with pytest.raises(errors.ServerError):
            client.sync(Ticket)
        assert rule.hits >= 1
    finally:
        faults.remove(rule)
    copy = the_copy(client)
    assert len(copy) == 400  # pages 1 and 2 were stored, with the watermark after them
    with pytest.raises(errors.NotSynced):  # half a copy answers nothing
        client.tickets.local()
    expected_first = sorted(server_records(server).items(), key=lambda kv: (kv[1], kv[0]))[:400]
    assert copy.ids() == {pk for pk, _ in expected_first}
    # Meanwhile tickets change on both sides of the interruption, and one stored already is deleted.
    change(server, [pk for pk, _ in expected_first[:5]] + [pk for pk, _ in expected_first[-5:]], "meanwhile")
    other = make_client(server)
    other.tickets.get(id=expected_first[7][0]).delete()
    other.close()
    report = client.sync(Ticket)
    assert report.full
    assert report.reconciled
    assert report.deleted == 1
    assert local_records(client) == server_records(server)


def test_an_interrupted_later_sync_resumes_exactly(server: Emulator, client: zo.Client) -> None:
    client.sync(Ticket)
    # Where the next sync starts: OVERLAP before the watermark, but past all but the last OVERLAP_ROWS
    # records held, in (updated_at, id) order.
    held = sorted((u, pk) for pk, u in local_records(client).items())
    mark = when(the_copy(client).watermark or "") - replica.OVERLAP
    start = max(
        (mark.isoformat(timespec="milliseconds").replace("+00:00", "Z"), 0), held[-replica.OVERLAP_ROWS - 1]
    )
    ids = sorted(server_records(server))[:450]
    change(server, ids, "second wave")
    rule = server.faults.add("status", path="^/api/v1/tickets/search$", query="(^|&)page=2(&|$)", status=503)
    try:
        with pytest.raises(errors.ServerError):
            client.sync(Ticket)
    finally:
        server.faults.remove(rule)
    # Exactly the first page of the changes was stored: the first 200 rows after the start.
    delta = sorted((u, pk) for pk, u in server_records(server).items() if (u, pk) > start)
    first_page = {pk for _, pk in delta[:200]}
    changed_here = {pk for pk, u in local_records(client).items() if pk in ids and (u, pk) in delta}
    assert changed_here == first_page & set(ids)
    assert the_copy(client).watermark == delta[199][0]
    client.sync(Ticket)
    assert local_records(client) == server_records(server)
    assert {t.id for t in client.tickets.local().filter(title="second wave")} == set(ids)


def test_local_queries_match_the_server_and_send_nothing(client: zo.Client) -> None:
    client.sync(Ticket)
    cases = [
        client.tickets.filter(state="open"),
        client.tickets.filter(state__in=["new", "open"]).exclude(priority="1 low").order_by("-created_at"),
        client.tickets.filter(Q(owner__login__startswith="a") | Q(group="Users")).order_by("updated_at"),
        client.tickets.filter(organization__name__icontains="a").order_by("-id"),
        client.tickets.filter(title__icontains="printer"),
        client.tickets.filter(created_at__year=2026).order_by("priority_id", "-id")[5:25],
        client.tickets.exclude(state__state_type__name="closed").order_by("number"),
    ]
    expected = [[t.id for t in qs] for qs in cases]
    assert all(expected), expected
    scalars = (
        cases[0].count(),
        cases[1].exists(),
        cases[2].first().id,  # type: ignore[union-attr]
        cases[2].last().id,  # type: ignore[union-attr]
        list(cases[3].values("id", "state_id")[:7]),
        list(cases[4].values_list("id", flat=True)),
        client.tickets.get(number=cases[6][0].number).id,
    )
    sent(client).reset()
    local = [qs.local() for qs in cases]
    assert [[t.id for t in qs] for qs in local] == expected
    assert (
        (
            local[0].count(),
            local[1].exists(),
            local[2].first().id,  # type: ignore[union-attr]
            local[2].last().id,  # type: ignore[union-attr]
            list(local[3].values("id", "state_id")[:7]),
            list(local[4].values_list("id", flat=True)),
            client.tickets.local().get(number=cases[6][0].number).id,
        )
        == scalars
    )
    with pytest.raises(Ticket.DoesNotExist):
        client.tickets.local().get(id=10**9)
    with pytest.raises(errors.QueryError, match="'tags' is not in the local copy"):
        list(client.tickets.local().filter(tags="vip"))
    assert sent(client).count == 0, sent(client).sent


def test_users_and_organizations_sync_and_answer_locally(client: zo.Client) -> None:
    for model, qs in (
        (User, client.users.filter(login__startswith="a").order_by("login")),
        (Organization, client.organizations.filter(name__icontains="e").order_by("-id")),
    ):
        report = client.sync(model)
        assert report.total == model.objects.using(client).count()
        sent(client).reset()
        assert client.sync(model).total == report.total
        assert sent(client).count == 1
        assert [o.id for o in qs.local()] == [o.id for o in qs]


def test_a_disk_copy_is_private_and_outlives_its_client(server: Emulator, tmp_path: Path) -> None:
    first = make_client(server, cache=f"disk:{tmp_path}")
    first.sync(Ticket)
    expected = local_records(first)
    first.close()
    files = list((tmp_path / "replicas").glob("*/Ticket.sqlite3"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "replicas").stat().st_mode) == 0o700
    second = make_client(server, cache=f"disk:{tmp_path}")
    try:
        assert local_records(second) == expected  # a complete copy answers before this client syncs
        queries = [
            second.tickets.filter(state="new"),
            second.tickets.filter(owner__login__startswith="a").order_by("-id"),
            second.tickets.filter(organization__name__icontains="e", customer__email__contains="a"),
        ]
        local = [[t.id for t in qs.local()] for qs in queries]
        # The related objects came with the copy: only reference tables are read (once per client).
        tables = ("/ticket_states?", "/ticket_priorities?")
        assert all(path.startswith(tables) for _, path in sent(second).sent), sent(second).sent
        assert local == [[t.id for t in qs] for qs in queries]
        assert all(local)
        with second.capture() as log:  # the sync's own requests (not a page a query asked ahead)
            report = second.sync(Ticket)
        assert not report.full
        assert len(log) == 1
    finally:
        second.close()


def test_an_interrupted_reconciliation_is_done_by_the_next_sync(server: Emulator, client: zo.Client) -> None:
    client.sync(Ticket)
    gone = sorted(server_records(server))[30]
    other = make_client(server)
    other.tickets.get(id=gone).delete()
    other.close()
    id_page_2 = r"^(?=.*expand=true)(?=.*(^|&)page=2(&|$))"
    rule = server.faults.add("status", path="^/api/v1/tickets/search$", query=id_page_2, status=502)
    try:
        with pytest.raises(errors.ServerError):
            client.sync(Ticket, reconcile=True)
    finally:
        server.faults.remove(rule)
    assert gone in local_records(client)
    report = client.sync(Ticket)  # not the 20th sync: it reconciles because the last one did not finish
    assert report.reconciled
    assert report.deleted == 1
    assert local_records(client) == server_records(server)
    assert not client.sync(Ticket).reconciled


def test_each_identity_has_a_copy_of_its_own(client: zo.Client) -> None:
    admin = client.sync(Ticket)
    with client.on_behalf_of("nicole.braun@zammad.org"):
        with pytest.raises(errors.NotSynced):
            client.tickets.local()
        theirs = client.sync(Ticket)
        seen = sorted(t.id for t in client.tickets.all())
        assert sorted(t.id for t in client.tickets.local()) == seen
    assert 0 < theirs.total == len(seen) < admin.total
    assert len(client.local_copy(Ticket)) == admin.total


def test_explain_says_a_local_queryset_sends_nothing(client: zo.Client) -> None:
    client.sync(Ticket)
    qs = client.tickets.local().filter(state="open")
    assert "the local copy client.sync(Ticket) keeps (no request)" in qs.explain()
    assert str(qs.query).endswith("(evaluated client-side over the local copy)")
    assert "GET /api/v1/tickets/search" in client.tickets.filter(state="open").explain()


def test_cache_stats_and_clear_cover_the_local_copies(server: Emulator, tmp_path: Path) -> None:
    from zammad_orm.cache.files import clear_disk_cache, disk_usage

    first = make_client(server, cache=f"disk:{tmp_path}")
    first.sync(Ticket)
    count = len(local_records(first))
    first.close()
    copies = [u for u in disk_usage(tmp_path) if u.model == "Ticket (local copy)"]
    assert [u.entries for u in copies] == [count]
    removed = clear_disk_cache(tmp_path)
    assert "Ticket (local copy)" in {u.model for u in removed}
    assert not (tmp_path / "replicas").exists()
    second = make_client(server, cache=f"disk:{tmp_path}")
    try:
        with pytest.raises(zo.NotSynced):
            second.tickets.local().count()
    finally:
        second.close()


def test_a_broken_copy_file_raises_a_cache_error_naming_it(server: Emulator, tmp_path: Path) -> None:
    first = make_client(server, cache=f"disk:{tmp_path}")
    first.sync(Ticket)
    first.close()
    (path,) = (tmp_path / "replicas").glob("*/Ticket.sqlite3")
    path.write_bytes(b"this is no SQLite database" * 100)
    second = make_client(server, cache=f"disk:{tmp_path}")
    try:
        with pytest.raises(errors.CacheError, match=r"Ticket\.sqlite3"):
            second.sync(Ticket)
        assert sent(second).count == 0
    finally:
        second.close()


def test_aggregates_and_grouped_rows_run_locally(client: zo.Client) -> None:
    client.sync(Ticket)
    qs = client.tickets.filter(state__in=["open", "new"])

    def results(qs: Any) -> tuple[Any, ...]:
        return (
            qs.aggregate(n=Count("id"), t=Sum("time_unit")),
            list(qs.values("group_id").annotate(n=Count("id")).order_by("group_id")),
            list(qs.annotate(m=TruncMonth("created_at")).values("m").annotate(n=Count("id")).order_by("m")),
        )

    expected = results(qs)
    assert expected[0]["n"] > 0
    sent(client).reset()
    assert results(qs.local()) == expected
    assert sent(client).count == 0
