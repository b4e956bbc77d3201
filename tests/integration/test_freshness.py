"""Freshness over real HTTP: max_age, conditional GETs, batch revalidation and the records writes touch.

Two clients share one emulator: ``b`` changes records behind ``a``'s back. ``a`` may use its copy while it is
younger than its ``max_age`` (no request), and must check it after (one conditional request). "After
max_age" uses a tiny ``max_age`` (50 ms) and a sleep a little longer than it; no time is asserted, only
requests, statuses, headers and values.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors
from zammad_orm.aggregates import Count

from .conftest import CountingTransport, make_client, sent

TINY = 0.05


def wait_past(seconds: float = TINY) -> None:
    time.sleep(seconds * 1.5)


@pytest.fixture
def b(emulator: Any) -> Iterator[zo.Client]:
    other = make_client(emulator)
    yield other
    other.close()


def new_ticket(client: zo.Client, title: str = "freshness") -> zo.Ticket:
    return client.tickets.create(
        title=title, group="Users", customer="nicole.braun@zammad.org", article="..."
    )


def conditional(transport: CountingTransport) -> list[str | None]:
    """The If-None-Match header of every request the transport sent (None: an unconditional one)."""
    return [dict(r.headers).get("If-None-Match") for r in transport.requests]


# --- max_age: before it no request, after it one conditional request ---------------------------------------


def test_before_max_age_the_copy_is_used_without_a_request(client: zo.Client, b: zo.Client) -> None:
    tid = new_ticket(b).id
    assert tid is not None
    ticket = client.tickets[tid]
    b.tickets[tid].update(title="changed by b")
    with client.capture() as log:
        again = client.tickets[tid]
    assert again is ticket
    assert ticket.title == "freshness"
    assert len(log) == 0
    assert client.max_age(zo.Ticket) == 60


def test_after_max_age_a_change_costs_one_conditional_request(emulator: Any, b: zo.Client) -> None:
    a = make_client(emulator, max_age={"Ticket": TINY})
    tid = new_ticket(b).id
    assert tid is not None
    ticket = a.tickets[tid]
    b.tickets[tid].update(title="changed by b")
    wait_past()
    sent(a).reset()
    with a.capture() as log:
        again = a.tickets[tid]
    assert again is ticket  # the object of the identity map, updated in place
    assert ticket.title == "changed by b"
    assert [(r.method, r.path, r.status) for r in log] == [("GET", f"tickets/{tid}", 200)]
    etag = conditional(sent(a))[0]
    assert etag is not None
    assert etag.startswith('W/"')
    stats = a.stats()
    assert stats.identity["Ticket"].revalidations == 1
    assert stats.requests == 2  # the first GET and the revalidation
    a.close()


def test_an_unchanged_record_costs_one_304_without_a_body(emulator: Any, b: zo.Client) -> None:
    a = make_client(emulator, max_age={"Ticket": TINY})
    tid = new_ticket(b).id
    assert tid is not None
    ticket = a.tickets[tid]
    before = ticket.last_request_age_s()
    wait_past()
    with a.capture() as log:
        assert a.tickets[tid] is ticket
    assert [(r.status, r.bytes_received) for r in log] == [(304, 0)]
    assert ticket.title == "freshness"
    age = ticket.last_request_age_s()
    assert before is not None
    assert age is not None
    assert age < TINY
    with a.capture() as log:
        assert a.tickets[tid] is ticket  # fresh again: no request
    assert len(log) == 0
    a.close()


def test_a_record_cache_entry_is_revalidated_with_its_etag(emulator: Any, b: zo.Client) -> None:
    a = make_client(emulator, max_age={"Ticket": TINY})
    tid = new_ticket(b).id
    assert tid is not None
    a.tickets[tid]
    entry = a.cache.get("Ticket", tid)
    assert entry is not None
    assert entry.etag is not None
    gc.collect()  # the object is gone: only the record cache holds the copy
    assert a.identity.get(zo.Ticket, tid) is None
    wait_past()
    with a.capture() as log:
        ticket = a.tickets[tid]
    assert [(r.status, r.bytes_received) for r in log] == [(304, 0)]
    assert conditional(sent(a))[-1] == entry.etag
    assert a.stats().record["Ticket"].revalidations == 1
    renewed = a.cache.get("Ticket", tid)
    assert renewed is not None
    assert renewed.fetched_at > entry.fetched_at
    assert renewed.etag == entry.etag
    b.tickets[tid].update(title="changed again")
    wait_past()
    with a.capture() as log:
        assert a.tickets[tid] is ticket
    assert [r.status for r in log] == [200]
    assert ticket.title == "changed again"
    a.close()


def test_get_with_max_age(client: zo.Client, b: zo.Client) -> None:
    tid = new_ticket(b).id
    assert tid is not None
    ticket = client.tickets.get(tid)
    with client.capture() as log:
        assert client.tickets.get(tid, max_age=60) is ticket  # young enough: no request
        assert client.tickets.get(tid, max_age=0) is ticket  # always asks: a 304 here
        assert client.tickets.get(tid) is ticket  # get() by id always asks, conditionally
    assert [(r.path, r.status) for r in log] == [(f"tickets/{tid}", 304)] * 2
    b.tickets[tid].update(title="seen at once")
    with client.capture() as log:
        assert client.tickets.get(tid, max_age=0).title == "seen at once"
    assert [r.status for r in log] == [200]


def test_a_deleted_record_is_forgotten_when_revalidated(emulator: Any, b: zo.Client) -> None:
    a = make_client(emulator, max_age=0)
    tid = new_ticket(b).id
    assert tid is not None
    a.tickets[tid]
    b.tickets[tid].delete()
    with pytest.raises(zo.Ticket.DoesNotExist):
        a.tickets[tid]
    assert a.identity.get(zo.Ticket, tid) is None
    assert a.cache.get("Ticket", tid) is None
    a.close()


# --- settings per model, per client, per call ---------------------------------------------------------------


def test_defaults_per_model(client: zo.Client) -> None:
    assert zo.Ticket.MAX_AGE == zo.User.MAX_AGE == zo.Organization.MAX_AGE == zo.TicketArticle.MAX_AGE == 60
    for table in (zo.TicketState, zo.TicketPriority, zo.Group, zo.Role, zo.TimeAccountingType):
        assert table.MAX_AGE == 86400, table
        assert client.max_age(table) == 86400
    assert client.max_age(zo.StateType) == float("inf")  # constants without an endpoint: never asked


def test_per_client_settings_override_the_models(emulator: Any) -> None:
    everyone = make_client(emulator, max_age=5)
    assert everyone.max_age(zo.Ticket) == everyone.max_age(zo.TicketState) == 5
    some = make_client(emulator, max_age={"Ticket": 0, "TicketState": 10.5})
    assert (some.max_age(zo.Ticket), some.max_age(zo.TicketState), some.max_age(zo.User)) == (0, 10.5, 60)
    everyone.close()
    some.close()


def test_a_reference_table_older_than_max_age_is_listed_again(emulator: Any) -> None:
    a = make_client(emulator, max_age={"TicketState": TINY})
    state = a.states[1]
    assert [p for _, p in sent(a).sent] == ["/ticket_states?page=1&per_page=1000"]
    with a.capture() as log:
        assert a.states[1] is state  # young: no request
    assert len(log) == 0
    wait_past()
    gc.collect()
    with a.capture() as log:
        assert a.states[2].id == 2  # a row not looked up before: the old listing is not used
    assert [r.path for r in log] == ["ticket_states"]
    a.close()


def test_rows_of_a_reference_table_are_as_old_as_its_listing(emulator: Any) -> None:
    a = make_client(emulator)
    ticket = a.tickets.get(1)
    state = ticket.state  # not in the identity map: the table is listed, its rows loaded together
    listed_at = a.facts.table_loaded_at("ticket_states")
    assert listed_at is not None
    assert state._fetched_at == listed_at
    assert a.cache.get("TicketState", state.id) is None  # the listing is cached, not each row again
    with a.capture() as log:
        other = a.resolve(zo.TicketState, 2 if state.id != 2 else 1)  # another row, from the same listing
    assert len(log) == 0
    assert other._fetched_at == listed_at
    a.close()


def test_select_related_and_grouped_counts_read_reference_tables_like_a_relation(emulator: Any) -> None:
    a = make_client(emulator)
    tickets = list(a.tickets.filter(id__lte=5).select_related("state", "priority"))
    grouped = list(a.tickets.filter(id__lte=5).values("state__name").annotate(n=Count("id")))
    listed_at = a.facts.table_loaded_at("ticket_states")
    assert listed_at is not None
    assert sum(row["n"] for row in grouped) == len(tickets) == 5
    for ticket in tickets:
        assert ticket.state._fetched_at == listed_at
        assert a.cache.get("TicketState", ticket.state.id) is None  # the listing is cached, not each row
        assert a.cache.get("TicketPriority", ticket.priority.id) is None
    a.close()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (-1, "max_age must be a number of seconds >= 0"),
        ("60", "max_age must be a number of seconds >= 0"),
        (True, "max_age must be a number of seconds >= 0"),
        (float("nan"), "max_age must be a number of seconds >= 0"),
        ({"Ticket": -5}, "max_age of Ticket must be a number of seconds >= 0"),
        ({"Tiket": 5}, "max_age names an unknown model 'Tiket'.*did you mean 'Ticket'"),
    ],
)
def test_bad_client_settings_are_configuration_errors(emulator: Any, setting: Any, message: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=message):
        zo.Client(emulator.url, http_token=emulator.token, max_age=setting)


def test_bad_call_values_are_field_errors_before_any_request(client: zo.Client) -> None:
    with client.capture() as log:
        for bad in (-0.5, "0", None.__class__):
            with pytest.raises(errors.FieldError, match="max_age must be a number of seconds >= 0"):
                client.tickets.get(1, max_age=bad)
        with pytest.raises(errors.FieldError, match="max_age applies to get\\(\\) by id only"):
            client.tickets.get(number="67001", max_age=0)
    assert len(log) == 0


def test_a_bad_model_max_age_names_the_class(emulator: Any) -> None:
    a = make_client(emulator)
    try:
        zo.Ticket.MAX_AGE = -3  # type: ignore[misc]
        with pytest.raises(errors.ConfigurationError, match=r"Ticket\.MAX_AGE must be a number"):
            a.max_age(zo.Ticket)
    finally:
        zo.Ticket.MAX_AGE = 60  # type: ignore[misc]
    a.close()


# --- a page of relations: one search revalidates them all --------------------------------------------------


def test_batch_revalidation_costs_one_request_per_page(emulator: Any, b: zo.Client) -> None:
    users = [
        b.users.create(firstname=f"Fresh{i}", lastname="Batch", email=f"fresh{i}@batch.test")
        for i in range(2)
    ]
    ids = []
    for i in range(8):
        ids.append(
            b.tickets.create(title=f"batch {i}", group="Users", customer=users[i % 2], article="...").id
        )
    a = make_client(emulator, max_age={"User": 0}, page_concurrency=1)
    qs = a.tickets.filter(id__in=ids).order_by("id").select_related("customer")
    rows = qs.iterator(chunk_size=4)
    first = [next(rows) for _ in range(4)]  # page 1: full=true, its assets carry the customers
    assert {t.customer.firstname for t in first} == {"Fresh0", "Fresh1"}
    b.users[users[0].id].update(firstname="Renamed")
    with a.capture() as log:
        rest = list(rows)  # page 2 (expand=true, no assets): the two known customers are stale
    assert len(rest) == 4
    searches = [r for r in log if r.path == "users/search"]
    assert len(searches) == 1  # one request for both customers of the page
    assert searches[0].params is not None
    assert "updated_at:>" in searches[0].params["query"]
    assert [t.customer.firstname for t in rest] == ["Renamed", "Fresh1"] * 2
    assert first[0].customer.firstname == "Renamed"  # the same object, updated in place
    assert a.stats().identity["User"].revalidations == 2
    a.close()


@pytest.mark.parametrize("cache", ["default", False])
def test_select_related_of_what_the_page_carried_looks_nothing_up(
    emulator: Any, b: zo.Client, cache: Any
) -> None:
    ids = [new_ticket(b, f"carried {i}").id for i in range(5)]
    a = make_client(emulator, **({} if cache == "default" else {"cache": cache}))
    qs = a.tickets.filter(id__in=ids).order_by("id").select_related("owner", "customer", "organization")
    with a.capture() as log:
        rows = list(qs)
    assert len(rows) == 5
    assert all("owner" in t._rel and "customer" in t._rel for t in rows)  # attached with the page
    # The page's assets were loaded with it: nothing to revalidate, nothing to fetch, with or without a cache.
    assert {r.path for r in log} <= {"tickets/search", "ticket_states", "ticket_priorities"}
    with a.capture() as log:
        logins = {t.owner.login for t in rows}
        emails = {t.customer.email for t in rows}
    assert len(log) == 0
    assert all(logins)
    assert all(emails)
    a.close()


def test_a_stale_reference_table_of_a_page_is_listed_again_once(emulator: Any, b: zo.Client) -> None:
    ids = [new_ticket(b, f"table {i}").id for i in range(8)]
    a = make_client(emulator, max_age={"TicketPriority": 0}, page_concurrency=1)
    rows = a.tickets.filter(id__in=ids).order_by("id").select_related("priority").iterator(chunk_size=4)
    first = [next(rows) for _ in range(4)]
    b.priorities[2].update(note="edited by b")
    with a.capture() as log:
        rest = list(rows)
    assert [r.path for r in log if r.path != "tickets/search"] == ["ticket_priorities"]  # one listing
    assert all(t.priority is first[0].priority for t in rest)
    assert first[0].priority.note == "edited by b"
    a.close()


# --- writes update or drop what they change ---------------------------------------------------------------


def requests_of(client: zo.Client, call: Any) -> tuple[Any, list[tuple[str, str, int | None]]]:
    with client.capture() as log:
        out = call()
    return out, [(r.method, r.path, r.status) for r in log]


def server_view(b: zo.Client, tid: int) -> dict[str, Any]:
    return dict(b.tickets.get(tid).view())


def test_update_and_create_and_delete(client: zo.Client, b: zo.Client) -> None:
    ticket = new_ticket(client)
    tid = ticket.id
    assert tid is not None
    ticket.update(title="updated")
    same, sent_ = requests_of(client, lambda: client.tickets[tid])
    assert same is ticket
    assert same.title == "updated"
    assert sent_ == []
    customer = ticket.customer_id
    assert customer is not None
    user, sent_ = requests_of(client, lambda: client.users[customer])
    assert sent_ == [("GET", f"users/{customer}", 200)]  # the create touched the customer: revalidated
    assert user.updated_at == b.users.get(customer).updated_at
    ticket.delete()
    with pytest.raises(zo.Ticket.DoesNotExist):
        client.tickets[tid]


def test_article_create_touches_its_ticket(client: zo.Client, b: zo.Client) -> None:
    ticket = new_ticket(client)
    tid = ticket.id
    assert tid is not None
    count = ticket.article_count
    articles = ticket.articles
    article = ticket.create_article("another")
    again, sent_ = requests_of(client, lambda: client.tickets[tid])
    assert again is ticket
    assert sent_ == [("GET", f"tickets/{tid}", 200)]
    assert ticket.article_count == count + 1 == server_view(b, tid)["article_count"]
    assert [a.id for a in ticket.articles] == [*[a.id for a in articles], article.id]


def test_time_accounting_touches_its_ticket(client: zo.Client, b: zo.Client) -> None:
    ticket = new_ticket(client)
    tid = ticket.id
    assert tid is not None
    ticket.create_time_accounting("1.5")
    again, sent_ = requests_of(client, lambda: client.tickets[tid])
    assert sent_ == [("GET", f"tickets/{tid}", 200)]
    assert again.time_unit == Decimal("1.5") == Decimal(str(server_view(b, tid)["time_unit"]))


def test_tags_touch_the_ticket(client: zo.Client, b: zo.Client) -> None:
    ticket = new_ticket(client)
    tid = ticket.id
    assert tid is not None
    ticket.add_tags("fresh-tag")
    again, sent_ = requests_of(client, lambda: client.tickets[tid])
    assert sent_ == [("GET", f"tickets/{tid}", 200)]
    assert again.view()["updated_at"] == server_view(b, tid)["updated_at"]
    ticket.remove_tags("fresh-tag")
    _, sent_ = requests_of(client, lambda: client.tickets[tid])
    assert sent_ == [("GET", f"tickets/{tid}", 200)]


def test_links_touch_both_tickets(client: zo.Client, b: zo.Client) -> None:
    one, two = new_ticket(client, "one"), new_ticket(client, "two")
    assert one.id is not None
    assert two.id is not None
    one.link_with(two, "child")
    for t in (one, two):
        tid = t.id
        assert tid is not None
        again, sent_ = requests_of(client, lambda tid=tid: client.tickets[tid])
        assert again is t
        assert sent_ == [("GET", f"tickets/{tid}", 200)]
        assert t.view()["updated_at"] == server_view(b, tid)["updated_at"]
    one.unlink_from(two, "child")
    _, sent_ = requests_of(client, lambda: (client.tickets[one.id], client.tickets[two.id]))
    assert [s[1] for s in sent_] == [f"tickets/{one.id}", f"tickets/{two.id}"]


def test_merge_updates_both_tickets_and_moves_the_articles(client: zo.Client, b: zo.Client) -> None:
    source, target = new_ticket(client, "source"), new_ticket(client, "target")
    assert source.id is not None
    assert target.id is not None
    moved = list(source.article_ids)
    source.merge_into(target)
    assert source.state.name == "merged"  # from the reply: at once
    for t in (source, target):
        tid = t.id
        assert tid is not None
        again, sent_ = requests_of(client, lambda tid=tid: client.tickets[tid])
        assert again is t
        assert sent_ == [("GET", f"tickets/{tid}", 200)]
        view = server_view(b, tid)
        assert (t.state_id, t.article_count, t.updated_at) == (
            view["state_id"],
            view["article_count"],
            b.tickets[tid].updated_at,
        )
        assert "article_ids" not in t.view()  # the create reply's list described the older version
    article, sent_ = requests_of(client, lambda: client.ticket_articles[moved[0]])
    assert sent_ == [("GET", f"ticket_articles/{moved[0]}", 200)]  # moved: marked stale by the merge
    assert article.ticket_id == target.id
    assert set(moved) <= {a.id for a in target.articles}
