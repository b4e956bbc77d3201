"""QuerySet behaviour against the emulator in-process (WSGITransport), counting the requests it sends."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from tests.caches import own_cache
from zammad_orm import paging
from zammad_orm.aggregates import Count
from zammad_orm.cache import CachedRecord
from zammad_orm.client import Client
from zammad_orm.errors import DecodeError, QueryError, UnsupportedOperation
from zammad_orm.expr import Q
from zammad_orm.query import QuerySet, SearchIndexUnavailableWarning, configure_search
from zammad_orm.resources.state import TicketState
from zammad_orm.resources.ticket import Ticket
from zammad_orm.resources.user import User
from zammad_orm.testing import Emulator
from zammad_orm.transport import Request, Response, WSGITransport


class CountingTransport:
    """A real in-process transport that records the requests it sends."""

    def __init__(self, app: Any) -> None:
        self.inner = WSGITransport(app)
        self.sent: list[Request] = []

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        return self.inner.send(request)

    def close(self) -> None:
        self.inner.close()

    def paths(self) -> list[str]:
        return [r.url.split("/api/v1/", 1)[1] for r in self.sent]


def make_client(emulator: Emulator, **kwargs: Any) -> tuple[Client, CountingTransport]:
    transport = CountingTransport(emulator.app)
    # A cache of its own: the tests compare what one client's requests cost against another's.
    client = Client(
        "http://emulator.test", http_token=emulator.token, transport=transport, cache=own_cache(), **kwargs
    )
    return client, transport


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    z = Emulator(demo=150, seed=3)
    yield z
    z.close()


@pytest.fixture
def client(emulator: Emulator) -> Client:
    return make_client(emulator)[0]


@pytest.fixture(scope="module")
def everything(emulator: Emulator) -> list[Ticket]:
    c, _ = make_client(emulator)
    return sorted(c.tickets.iter(), key=lambda t: t.id)


def ids(items: Any) -> list[int]:
    return [t.id for t in items]


def test_building_sends_nothing_and_is_immutable(emulator: Emulator) -> None:
    c, transport = make_client(emulator)
    base = c.tickets.all()
    narrowed = base.filter(state="open").exclude(tags="vip").order_by("-created_at")[:5]
    assert transport.sent == []
    assert narrowed is not base
    assert str(base.filter(state="open").query).startswith('state.name.keyword:"open"')
    assert "sort_by=created_at,id" in str(narrowed.query)
    assert "order_by=desc,desc" in str(narrowed.query)
    assert base._where != narrowed._where


def test_results_are_cached_and_reiterable(emulator: Emulator) -> None:
    c, transport = make_client(emulator, max_age=0)  # the copy asks again: the kept reply is revalidated
    qs = c.tickets.filter(state="open")
    first = ids(qs)
    before = len(transport.sent)
    assert ids(qs) == first
    assert len(qs) == len(first)
    assert qs.count() == len(first)
    assert len(transport.sent) == before  # everything served from the result cache
    assert ids(qs.all()) == first  # a copy has its own (empty) cache
    assert len(transport.sent) > before


def test_filter_matches_python(client: Client, everything: list[Ticket]) -> None:
    open_ids = [t.id for t in everything if t.state.name == "open"]
    assert ids(client.tickets.filter(state="open")) == open_ids
    assert ids(client.tickets.filter(state__name="open")) == open_ids
    state = client.states.get(name="open")
    assert ids(client.tickets.filter(state=state)) == open_ids
    assert ids(client.tickets.filter(state=state.id)) == open_ids
    assert ids(client.tickets.exclude(state="open")) == [t.id for t in everything if t.state.name != "open"]
    both = client.tickets.filter(Q(state="open") | Q(priority="3 high"), article_count__gte=2)
    expected = [
        t.id
        for t in everything
        if (t.state.name == "open" or t.priority.name == "3 high") and (t.article_count or 0) >= 2
    ]
    assert ids(both) == expected


def test_ordering_slicing_and_indexing(client: Client, everything: list[Ticket]) -> None:
    by_created = sorted(everything, key=lambda t: (t.created_at, t.id), reverse=True)
    qs = client.tickets.order_by("-created_at")
    assert ids(qs[10:60]) == ids(by_created[10:60])
    assert qs[5].id == by_created[5].id
    assert ids(qs[:3]) == ids(by_created[:3])
    assert ids(qs[140:]) == ids(by_created[140:])
    assert ids(qs[5:10][1:3]) == ids(by_created[6:8])
    assert ids(qs.reverse()[:4]) == ids(list(reversed(by_created))[:4])
    titled = sorted(everything, key=lambda t: (t.title, t.id))
    assert ids(client.tickets.order_by("title")) == ids(titled)
    with pytest.raises(IndexError):
        client.tickets.filter(id=everything[0].id)[1]
    with pytest.raises(QueryError, match="negative"):
        qs[-1]
    with pytest.raises(QueryError, match="after slicing"):
        qs[:5].filter(state="open")


def test_first_last_get(client: Client, everything: list[Ticket]) -> None:
    assert client.tickets.first().id == everything[0].id  # type: ignore[union-attr]
    assert client.tickets.last().id == everything[-1].id  # type: ignore[union-attr]
    assert client.tickets.filter(id=-5).first() is None
    one = everything[7]
    got = client.tickets.get(number=one.number)
    assert got.id == one.id
    assert client.tickets.get(number=one.number) is got  # identity map: one object per id and client
    with pytest.raises(Ticket.DoesNotExist):
        client.tickets.filter(title="no such title at all").get()
    with pytest.raises(Ticket.MultipleObjectsReturned):
        client.tickets.filter(state="closed").get()


def test_count_exists_none(emulator: Emulator, everything: list[Ticket]) -> None:
    c, transport = make_client(emulator)
    assert c.tickets.count() == len(everything)
    assert c.tickets.filter(state="closed").count() == sum(t.state_id == 4 for t in everything)
    assert c.tickets.filter(state="closed")[3:10].count() == 7
    assert c.tickets.filter(title="nothing like this").exists() is False
    assert c.tickets.filter(state="open").exists() is True
    sent = len(transport.sent)
    assert list(c.tickets.none()) == []
    assert c.tickets.none().count() == 0
    assert c.tickets.filter(id__in=[]).count() == 0
    assert list(c.tickets.filter(id__in=[])) == []
    assert len(transport.sent) == sent  # none() and empty in-lists never ask the server


def test_values_and_values_list(client: Client, everything: list[Ticket]) -> None:
    rows = list(client.tickets.order_by("id").values("number", "state__name", "owner__login")[:5])
    assert rows == [
        {"number": t.number, "state__name": t.state.name, "owner__login": t.owner.login}
        for t in everything[:5]
    ]
    assert list(client.tickets.order_by("id").values_list("id", flat=True)[:3]) == ids(everything[:3])
    pairs = list(client.tickets.order_by("id").values_list("id", "customer__email")[:2])
    assert pairs == [(t.id, t.customer.email) for t in everything[:2]]
    named = client.tickets.order_by("id").values_list("number", "group__name", named=True)[0]
    assert (named.number, named.group_name) == (everything[0].number, everything[0].group.name)
    with pytest.raises(QueryError):
        client.tickets.values_list("a", "b", flat=True)


def test_in_bulk_and_iterator(client: Client, everything: list[Ticket]) -> None:
    wanted = [t.id for t in everything[::7]]
    found = client.tickets.in_bulk(wanted)
    assert sorted(found) == sorted(wanted)
    assert all(found[i].id == i for i in wanted)
    streamed = list(client.tickets.order_by("id").iterator(chunk_size=40))
    assert ids(streamed) == ids(everything)


def test_select_related_loads_in_batches(emulator: Emulator, everything: list[Ticket]) -> None:
    c, transport = make_client(emulator)
    tickets = list(c.tickets.select_related("owner", "customer__organization", "state", "priority")[:120])
    sent = len(transport.sent)
    for t in tickets:
        assert t.owner.login
        assert t.state.name
        assert t.priority.name
        if t.customer.organization_id:
            assert t.customer.organization.name
    assert len(transport.sent) == sent  # every relation read was served without a request
    assert sent <= 6  # search page + at most a few batch loads (states, priorities, orgs)


def test_select_related_loads_many_to_many_relations_in_batches(emulator: Emulator) -> None:
    c, transport = make_client(emulator)
    users = list(c.users.order_by("id").select_related("roles")[:30])
    sent = len(transport.sent)
    assert any(u.role_ids for u in users)
    for u in users:
        roles = u.roles
        assert [r.id for r in roles] == u.role_ids
        assert u.roles is roles  # kept while role_ids stay the same
    assert len(transport.sent) == sent
    first = next(u for u in users if u.role_ids)
    first.role_ids = first.role_ids[:0]
    assert first.roles == []  # the key changed: resolved again


def test_select_related_loads_reverse_relations(emulator: Emulator) -> None:
    c, transport = make_client(emulator)
    tickets = list(c.tickets.order_by("id").select_related("articles")[:3])
    sent = len(transport.sent)
    for t in tickets:
        assert t.articles
        assert all(a.ticket_id == t.id for a in t.articles)
    assert len(transport.sent) == sent  # listed while loading, kept since


def test_unknown_fields_fail_before_any_request(emulator: Emulator) -> None:
    c, transport = make_client(emulator)
    with pytest.raises(QueryError, match="no_such_field"):
        list(c.tickets.filter(no_such_field=1))
    with pytest.raises(QueryError, match="nope"):
        list(c.tickets.filter(state__nope="x"))
    with pytest.raises(QueryError, match="created_at__month"):
        list(c.tickets.filter(created_at__month=3))
    with pytest.raises(QueryError, match="sorts only"):
        c.tickets.order_by("state__name")
    with pytest.raises(QueryError, match=r"order_by\('\?'\) is not a column name"):
        c.tickets.order_by("?")
    with pytest.raises(
        QueryError, match=r"title__like: 'like' is not a lookup of Ticket.title; its lookups are contains, "
    ):
        c.tickets.filter(title__like="x").count()
    with pytest.raises(QueryError, match="article_count holds integer values"):
        c.tickets.filter(article_count="many").exists()
    with pytest.raises(QueryError, match="created_at holds date/time"):
        list(c.tickets.exclude(created_at=17))
    for bad in (slice(-5, None), slice(None, -1), slice(2, -1)):
        with pytest.raises(QueryError, match="negative"):
            c.tickets.all()[bad]
    with pytest.raises(QueryError, match="step"):
        c.tickets.all()[::2]
    with pytest.raises(TypeError, match="integers or slices, not str"):
        c.tickets.all()["a"]  # type: ignore[index]
    assert [p for p in transport.paths() if "search" in p] == []


def test_custom_attribute_known_to_the_server() -> None:
    z = Emulator(demo=5)
    try:
        admin, _ = make_client(z)
        admin.request(
            "POST",
            "object_manager_attributes",
            json={"object": "Ticket", "name": "qs_level", "display": "Level", "data_type": "input",
                  "data_option": {"type": "text", "maxlength": 120, "null": True}, "active": True,
                  "screens": {}, "position": 1550},
        )  # fmt: skip
        admin.request("POST", "object_manager_attributes_execute_migrations")
        made = admin.tickets.create(
            title="custom",
            group="Users",
            customer="nicole.braun@zammad.org",
            article="x",
            extra={"qs_level": "gold"},
        )
        Ticket._meta.custom_keys.discard("qs_level")  # known only from the server's attribute list now
        c, transport = make_client(z)
        qs = c.tickets.filter(qs_level="gold")
        assert str(qs.query).startswith('qs_level.keyword:"gold"')
        assert ids(qs) == [made.id]
        assert transport.paths()[0] == "object_manager_attributes"  # asked once, before searching
        with pytest.raises(QueryError, match="qs_levle"):
            c.tickets.filter(qs_levle="gold").count()
    finally:
        z.close()


def test_grouped_counts_one_count_per_group_on_62(emulator: Emulator, everything: list[Ticket]) -> None:
    client, transport = make_client(emulator)
    states = list(make_client(emulator)[0].states.iter())
    qs = client.tickets.values("state__name").annotate(n=Count("id"))
    expected = Counter(t.state.name for t in everything)
    assert {r["state__name"]: r["n"] for r in qs} == dict(expected)
    searches = [r.params for r in transport.sent if r.url.endswith("tickets/search")]
    probe = {"query": "id:>0", "per_page": 1, "full": "true"}
    assert searches[0] == probe  # a new client: does the search index answer?
    # Every group is counted on the server (each below 200 rows: one request), plus "no state";
    # only id lists in the light expand=true form, no records built from assets.
    counts = searches[1:]
    assert len(counts) == len(states) + 1
    assert all(c["only_total_count"] == "true" and c["expand"] == "true" for c in counts)
    assert not any(p.startswith("tickets?") for p in transport.paths())  # no pass over the tickets
    assert "grouped counts: on the server, one count query per group (the count() above each)" in (
        qs.explain()
    )
    assert (
        "client-side in one pass" in client.tickets.values("owner__login").annotate(n=Count("id")).explain()
    )


def test_slicing_a_grouped_count_slices_the_groups(client: Client, everything: list[Ticket]) -> None:
    grouped = client.tickets.values("state__name").annotate(n=Count("id"))
    groups = list(grouped.all())
    assert sum(g["n"] for g in groups) == len(everything)
    assert list(grouped.all()[:2]) == groups[:2]
    assert list(grouped.all()[1:]) == groups[1:]
    assert grouped.all()[2] == groups[2]
    assert grouped.all().first() == groups[0]
    assert grouped.all()[1:3].count() == 2
    shown = repr(grouped.all())
    assert all(f"'n': {g['n']}" in shown for g in groups), shown
    by_owner = client.tickets.values("owner__login").annotate(n=Count("id"))  # counted client-side
    owners = list(by_owner.all())
    assert list(by_owner.all()[:1]) == owners[:1]
    assert owners[0]["n"] == sum(t.owner.login == owners[0]["owner__login"] for t in everything)


def test_grouped_counts_server_side_on_65() -> None:
    z = Emulator(demo=60, seed=5, zammad_version="6.5")
    try:
        c, transport = make_client(z)
        everything = list(c.tickets.iter())
        qs = c.tickets.filter(article_count__gte=1).values("priority__name").annotate(n=Count("id"))
        assert "grouped counts: on the server, one count query per group" in qs.explain()
        assert "count(): one request with only_total_count=true" in qs.explain()
        rows = list(qs)
        expected = Counter(t.priority.name for t in everything if (t.article_count or 0) >= 1)
        assert {r["priority__name"]: r["n"] for r in rows} == dict(expected)
        assert list(qs.all()[1:]) == rows[1:]  # a slice cuts the groups (no filter of a sliced QuerySet)
        counts = [r for r in transport.sent if (r.params or {}).get("only_total_count") == "true"]
        assert counts  # the server counted
        expected_open = sum(t.state.name == "open" for t in everything)
        sent = len(transport.sent)
        assert c.tickets.filter(state="open").count() == expected_open
        assert len(transport.sent) == sent + 1  # only_total_count: one request
    finally:
        z.close()


def test_writes(emulator: Emulator) -> None:
    c, _ = make_client(emulator)
    made = c.tickets.bulk_create(
        [
            {"title": f"bulk {i}", "group": "Users", "customer": "nicole.braun@zammad.org", "article": "x"}
            for i in range(3)
        ]
    )
    assert [t.title for t in made] == ["bulk 0", "bulk 1", "bulk 2"]
    qs = c.tickets.filter(title__startswith="bulk ")
    assert qs.count() == 3
    assert qs.update(title="bulk renamed") == 3
    assert c.tickets.filter(title="bulk renamed").count() == 3
    obj, created = c.tickets.get_or_create(
        title="bulk renamed extra",
        defaults={"group": "Users", "customer": "nicole.braun@zammad.org", "article": "y"},
    )
    assert created
    assert obj.id
    again, created = c.tickets.get_or_create(title="bulk renamed extra")
    assert not created
    assert again is obj
    updated, created = c.tickets.update_or_create(title="bulk renamed extra", defaults={"note": "seen"})
    assert not created
    assert updated.note == "seen"
    assert c.tickets.filter(title__startswith="bulk renamed").delete() == (4, {"Ticket": 4})
    assert c.tickets.filter(title__startswith="bulk").count() == 0


def test_raw_search_like_the_seed_api(client: Client, everything: list[Ticket]) -> None:
    hits = list(client.tickets.search("state.name:open", sort_by="created_at", order_by="desc"))
    expected = sorted(
        (t for t in everything if t.state.name == "open"), key=lambda t: (t.created_at, t.id), reverse=True
    )
    assert ids(hits) == ids(expected)
    page2 = list(client.tickets.search("state.name:open", sort_by="id", order_by="asc", page=2, page_size=5))
    assert ids(page2) == sorted(t.id for t in expected)[5:]
    with pytest.raises(QueryError):
        client.tickets.search("x").filter(state="open")


def test_keyset_paging_past_the_window(
    monkeypatch: pytest.MonkeyPatch, client: Client, everything: list[Ticket]
) -> None:
    # A small window makes the keyset continuation run on this small data set.
    monkeypatch.setattr(paging, "SEARCH_WINDOW", 40)
    for ordering, key in [
        (("id",), lambda t: (t.id,)),
        (("-created_at",), lambda t: (-t.created_at.timestamp(), -t.id)),
        (("state_id", "-article_count"), lambda t: (t.state_id, -(t.article_count or 0), -t.id)),
        (("title",), lambda t: (t.title, t.id)),
        (("pending_time",), lambda t: (t.pending_time is None, t.pending_time or dt.datetime.min, t.id)),
    ]:
        qs = client.tickets.order_by(*ordering).iterator(chunk_size=20)
        assert ids(qs) == ids(sorted(everything, key=key)), ordering
    assert client.tickets.count() == len(everything)
    assert ids(client.tickets.order_by("id")[45:95]) == ids(everything[45:95])


def test_database_backend_falls_back_to_client_side_with_a_warning() -> None:
    es = Emulator(demo=40, seed=9)
    db = Emulator(demo=40, seed=9, search_backend="database")
    try:
        c_es, _ = make_client(es)
        c_db, _transport = make_client(db)
        queries = [
            Q(state="open"),
            Q(title__icontains="printer") | Q(priority="3 high"),
            ~Q(owner__login="admin@example.com") & Q(article_count__gte=2),
            Q(tags="vip"),
            Q(created_at__gte="now-30d"),
        ]
        with pytest.warns(SearchIndexUnavailableWarning, match="no search index"):
            first = ids(c_db.tickets.filter(queries[0]))
        assert first == ids(c_es.tickets.filter(queries[0]))
        for node in queries[1:]:
            assert ids(c_db.tickets.filter(node).order_by("-created_at")) == ids(
                c_es.tickets.filter(node).order_by("-created_at")
            ), node
        assert "client-side" in str(c_db.tickets.filter(state="open").query)
        assert c_db.tickets.filter(state="open").count() == len(first)
    finally:
        es.close()
        db.close()


def test_configured_backend_and_unsearchable_models(emulator: Emulator) -> None:
    c, transport = make_client(emulator)
    configure_search(c, "database", model=Ticket)
    with pytest.warns(SearchIndexUnavailableWarning):
        assert c.tickets.filter(state="open").count() > 0
    assert not any("search" in p for p in transport.paths())
    configure_search(c, "auto")
    states = list(c.states.filter(name__in=["open", "closed"]).order_by("-name"))
    assert [s.name for s in states] == ["open", "closed"]
    assert isinstance(c.states.all(), QuerySet)
    assert TicketState.objects.using(c).get(name="new").id == 1
    with pytest.raises(QueryError, match="no search endpoint"):
        c.states.search("name:open")
    with pytest.raises(QueryError):
        configure_search(c, "solr")


def test_a_queryset_of_a_model_without_an_endpoint_is_refused_before_any_request(emulator: Emulator) -> None:
    # It used to send GET /api/v1/None (and raise the 404 of that).
    c, transport = make_client(emulator)
    with pytest.raises(UnsupportedOperation, match="no REST endpoint for StateType"):
        list(c.state_types.filter(name="open"))
    with pytest.raises(UnsupportedOperation, match="Mention does not support 'list'"):
        c.mentions.filter(user_id=1).count()
    assert transport.sent == []


def test_users_search_relations(client: Client) -> None:
    agent = client.roles.get(name="Agent")
    agents = list(client.users.filter(roles=agent).order_by("id"))
    assert agents
    assert all("Agent" in [r.name for r in u.roles] for u in agents)
    assert all(isinstance(u, User) for u in agents)
    # Role names are matched on the roles (a small table): role_ids in [the Agent role's id].
    assert ids(client.users.filter(roles="Agent").order_by("id")) == ids(agents)
    assert ids(client.users.filter(roles__name__in=["Agent"]).order_by("id")) == ids(agents)
    with pytest.raises(QueryError, match="there is no role named 'Agnet'"):
        client.users.filter(roles="Agnet").count()
    with_org = client.users.filter(organization__name__icontains="a").values_list(
        "organization__name", flat=True
    )
    assert all("a" in name.lower() for name in with_org)


def test_explain_describes_the_plan(emulator: Emulator) -> None:
    client, transport = make_client(emulator)
    qs = client.tickets.filter(state="open").order_by("-created_at").select_related("owner")[10:60]
    text = qs.explain()
    assert "endpoint: GET /api/v1/tickets/search" in text
    assert "'query': 'state.name.keyword:\"open\"'" in text
    assert "'sort_by': 'created_at,id', 'order_by': 'desc,desc'" in text
    assert "pages: 1 of 60 rows (rows 10..59)" in text  # page 1 holds rows 0..59
    assert "count(): the ids of the matches, 200 per request" in text  # 6.2: no total in replies
    assert "cache: the search replies are kept in the record cache and used without a request while" in text
    assert "younger than 60 s (the model's max_age)" in text
    raw = client.tickets.search("state.name:open").explain()
    assert "cache: the search replies are always asked for (raw() query strings are never kept)" in raw
    assert "related: owner from the search assets, the identity map and the record cache" in text
    assert "in flight: the first page alone, then up to 8 pages at once" in text
    assert not any("search" in r.url for r in transport.sent)  # explain() never searches
    deep = client.tickets.order_by("id")[12_000:12_010].explain()
    assert "lie past the 10000-row window" in deep
    assert "until a short page" in client.tickets.all().explain()
    evaluated = client.tickets.filter(state="open")
    rows = list(evaluated)
    assert (
        f"results: cached ({len(rows)} rows); iterating or counting sends no request" in evaluated.explain()
    )
    assert "no request will be sent" in client.tickets.none().explain()
    grouped = client.tickets.values("state__name").annotate(n=Count("id")).explain()
    assert "grouped counts: on the server, one count query per group" in grouped
    grouped = client.tickets.values("article_count").annotate(n=Count("id")).explain()
    assert "grouped aggregates: client-side in one pass over all matching rows" in grouped


def test_count_on_62_pages_the_ids(emulator: Emulator, everything: list[Ticket]) -> None:
    client, transport = make_client(emulator)
    assert client.tickets.filter(id__gt=0).count() == len(everything)
    # A new client: no /version, no probe (matches found: the index answered); no total before 6.5, so
    # one request per 200 ids, the first also asking for only_total_count (which 6.5 would answer).
    assert set(transport.paths()) == {"tickets/search"}
    searches = [r.params for r in transport.sent]
    assert len(searches) == len(everything) // 200 + 1
    assert searches[0]["only_total_count"] == "true"
    assert all(p["sort_by"] == "id" and p["expand"] == "true" and "full" not in p for p in searches)
    assert client.search_generation == "pre65"  # learnt from the reply
    assert set(transport.paths()) == {"tickets/search"}


def test_to_dataframe_and_repr(client: Client, everything: list[Ticket]) -> None:
    frame = client.tickets.order_by("id").values("number", "state__name")[:4].to_dataframe()
    assert list(frame.columns) == ["number", "state__name"]
    assert list(frame["number"]) == [t.number for t in everything[:4]]
    flat = client.tickets.order_by("id").values_list("id", flat=True)[:3].to_dataframe()
    assert list(flat["id"]) == ids(everything[:3])
    text = repr(client.tickets.order_by("id")[:2])
    assert text.startswith("<QuerySet [<Ticket 1")
    assert "remaining elements truncated" in repr(client.tickets.all())


def test_active_client_is_used_when_unbound(emulator: Emulator, everything: list[Ticket]) -> None:
    c, _ = make_client(emulator)
    qs = Ticket.objects.filter(state="open")
    with c.activate():
        assert ids(qs) == [t.id for t in everything if t.state.name == "open"]


def test_expanded_raw_search_keeps_the_62_generation(emulator: Emulator) -> None:
    c, _ = make_client(emulator)
    found = list(c.tickets.search("state.name:open", expand=True, sort_by="id", order_by="asc"))
    assert found
    assert found[0].view().get("state") == "open"  # the expanded form carries names
    assert c.search_generation == "pre65"


def test_first_search_of_a_new_client_sends_only_the_search(
    emulator: Emulator, everything: list[Ticket]
) -> None:
    client, transport = make_client(emulator)
    opened = [t for t in everything if t.state.name == "open"]
    rows = [
        (t.number, t.state.name, t.owner.login)
        for t in client.tickets.search("state.name:open").select_related("state", "owner")
    ]
    assert rows == [
        (t.number, "open", t.owner.login)
        for t in sorted(opened, key=lambda t: (t.updated_at, t.id), reverse=True)
    ]
    # One search page (owners come in its assets) and the states list (6.2 assets carry no states):
    # no /version, no search-index probe.
    assert [p.split("?")[0] for p in transport.paths()] == ["tickets/search", "ticket_states"]
    client, transport = make_client(emulator)
    assert ids(client.tickets.filter(state="open")) == ids(opened)
    # The state's name is checked against the states, read once per client.
    assert [p.split("?")[0] for p in transport.paths()] == ["ticket_states", "tickets/search"]


def test_in_bulk_sends_one_request_per_complete_batch() -> None:
    z = Emulator(demo=450, seed=4)
    try:
        client, transport = make_client(z)
        wanted = list(range(1, 451))
        found = client.tickets.in_bulk(wanted)
        assert sorted(found) == wanted
        # Batches of 200, 200 and 50 ids; a batch of k ids cannot have more than k matches.
        searches = [r.params for r in transport.sent]
        assert [p["per_page"] for p in searches] == [200, 200, 50]
    finally:
        z.close()


def test_date_math_text_is_a_literal_title() -> None:
    z = Emulator(demo=3, seed=1)
    try:
        client, _ = make_client(z)
        made = client.tickets.create(
            title="now-7d", group="Users", customer="nicole.braun@zammad.org", article="x"
        )
        client.tickets.create(
            title="now 7d report", group="Users", customer="nicole.braun@zammad.org", article="x"
        )
        # Read as date math or as words, "now-7d" would also match the second title.
        assert ids(client.tickets.filter(title="now-7d")) == [made.id]
        assert ids(client.tickets.filter(title__in=["now-7d", "now"])) == [made.id]
        week = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=7)
        recent = [t.id for t in client.tickets.iter() if t.created_at >= week]
        assert made.id in recent
        assert ids(client.tickets.filter(created_at__gte="now-7d")) == recent  # a date field: date math
    finally:
        z.close()


def _form(request: Request) -> str:
    params = request.params or {}
    return "expand" if params.get("expand") == "true" else "full" if params.get("full") == "true" else "-"


def test_select_related_pages_carry_assets_and_cost_what_the_plain_loop_costs(emulator: Emulator) -> None:
    # Every page is asked for with full=true: its assets carry the owners and customers, so neither
    # select_related nor the plain loop needs a request per relation, and select_related is never worse.
    query = "state.name:open OR state.name:new"
    client, transport = make_client(emulator)
    plain_client, plain_transport = make_client(emulator)
    client.page_concurrency = plain_client.page_concurrency = 1  # no pages asked ahead: counts exact
    qs = client.tickets.search(query, per_page=10).select_related("state", "owner", "customer")
    rows = [(t.number, t.state.name, t.owner.login, t.customer.login) for t in qs]
    plain = [
        (t.number, t.state.name, t.owner.login, t.customer.login)
        for t in plain_client.tickets.search(query, per_page=10)
    ]
    assert rows == plain
    assert len(rows) > 30  # several pages
    pages = [r for r in transport.sent if r.url.endswith("tickets/search")]
    assert pages
    assert all(_form(r) == "full" for r in pages)
    assert len(transport.sent) <= len(plain_transport.sent)
    assert [r.url.split("/api/v1/")[1] for r in transport.sent if not r.url.endswith("search")] == [
        "ticket_states"
    ]
    assert not [r for r in transport.sent if r.url.endswith("users/search")]
    before = len(transport.sent)
    assert all(t.owner.login and t.state.name for t in qs)  # the result cache: no request
    assert len(transport.sent) == before


def test_select_related_of_repeating_relations_asks_later_pages_in_the_expanded_form(
    emulator: Emulator,
) -> None:
    # Owners are a few agents and states a reference table: after the first page (full=true, whose
    # assets bring the agents) the identity map knows them, so later pages are the lighter expand=true.
    query = "state.name:open OR state.name:new"
    client, transport = make_client(emulator)
    plain_client, plain_transport = make_client(emulator)
    client.page_concurrency = plain_client.page_concurrency = 1  # no pages asked ahead: counts exact
    rows = [
        (t.number, t.state.name, t.owner.login)
        for t in client.tickets.search(query, per_page=10).select_related("state", "owner")
    ]
    plain = [(t.number, t.state.name, t.owner.login) for t in plain_client.tickets.search(query, per_page=10)]
    assert rows == plain
    pages = [r for r in transport.sent if r.url.endswith("tickets/search")]
    assert len(pages) > 3
    assert _form(pages[0]) == "full"
    assert _form(pages[1]) == "expand"
    # An expanded page whose owners were not all known needs one users batch; the pages asked for after
    # it are full=true again, for good (the one page already asked for ahead keeps its form).
    batches = [i for i, r in enumerate(transport.sent) if r.url.endswith("users/search")]
    assert len(batches) <= 1
    if batches:
        later = [r for r in transport.sent[batches[0] :] if r.url.endswith("tickets/search")]
        assert all(_form(r) == "full" for r in later[1:])
    assert len(transport.sent) <= len(plain_transport.sent) + 1


def test_a_caller_given_form_is_kept_with_select_related(emulator: Emulator) -> None:
    client, transport = make_client(emulator)
    found = list(client.tickets.search("id:>0", per_page=20, expand=True).select_related("state")[:45])
    assert len(found) == 45
    pages = [r for r in transport.sent if r.url.endswith("tickets/search")]
    assert len(pages) == 3
    assert all(_form(r) == "expand" for r in pages)


class DictCache:
    """A record cache of a user's own (the whole RecordCache protocol, set_many and close included)."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, int], CachedRecord] = {}

    def get(self, model_name: str, pk: int) -> CachedRecord | None:
        return self.data.get((model_name, pk))

    def set(self, model_name: str, pk: int, record: dict[str, Any], *, updated_at: str | None = None) -> None:
        self.data[(model_name, pk)] = CachedRecord(record, 0.0, updated_at)

    def delete(self, model_name: str, pk: int) -> None:
        self.data.pop((model_name, pk), None)

    def clear(self, model_name: str | None = None) -> None:
        self.data.clear()

    def set_many(self, model_name: str, items: Sequence[tuple[int, dict[str, Any], str | None]]) -> None:
        for pk, record, updated_at in items:
            self.set(model_name, pk, record, updated_at=updated_at)

    def configure(self, model_name: str, size: int) -> None:
        return None

    def size(self, model_name: str, default: int | None = None) -> int:
        return -1

    def close(self) -> None:
        return None


def test_load_many_loads_a_page_like_load(emulator: Emulator) -> None:
    client, _ = make_client(emulator)
    records = client.request("GET", "tickets", params={"per_page": 5, "page": 1})
    alive = client.load(Ticket, dict(records[0], title="old title"))
    objs = client.load_many(Ticket, records, owned=True)
    assert ids(objs) == [r["id"] for r in records]
    assert objs[0] is alive  # merged into the live object
    assert alive.title == records[0]["title"]
    assert objs[1].view() == records[1]
    assert objs[1]._raw is records[1]  # owned: kept, not copied
    for record in records:
        cached = client.cache.get("Ticket", record["id"])
        assert cached is not None
        assert cached.record == record
        assert cached.updated_at == record["updated_at"]
    copied = client.load_many(User, [{"id": 99_999, "login": "x"}])[0]
    assert copied.login == "x"
    with pytest.raises(DecodeError, match="expected a Ticket object"):
        client.load_many(Ticket, [records[0], "nonsense"])
    own = DictCache()
    other = Client(
        "http://emulator.test",
        http_token=emulator.token,
        transport=CountingTransport(emulator.app),
        cache=own,
    )
    other.load_many(Ticket, [dict(r) for r in records])
    assert sorted(pk for _, pk in own.data) == sorted(r["id"] for r in records)
