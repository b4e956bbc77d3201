"""One test per name of the seed API (reference/seed-api.txt), against the emulator over HTTP."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from decimal import Decimal

import pytest

import zammad_orm as zo
from zammad_orm import errors

from .conftest import sent


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def priority(client: zo.Client) -> zo.TicketPriority:
    return client.priorities.create(unique("pytest_priority"))


@pytest.fixture
def state(client: zo.Client) -> zo.TicketState:
    return client.states.create(unique("pytest_state"), 1)


# -- resource objects: Priority / State / Ticket --------------------------------------------------


def test_object_delete(client: zo.Client, priority: zo.TicketPriority) -> None:
    pid = priority.id
    priority.delete()
    with pytest.raises(errors.NotFound, match=f"Couldn't find Ticket::Priority with 'id'={pid}"):
        client.priorities.get(pid)


def test_object_last_request_age_s(client: zo.Client, priority: zo.TicketPriority) -> None:
    age = priority.last_request_age_s()
    assert age is not None
    assert age >= 0.0
    assert zo.TicketPriority(name="local").last_request_age_s() is None


def test_object_reload(client: zo.Client, priority: zo.TicketPriority) -> None:
    client.put(f"ticket_priorities/{priority.id}", json={"active": False})
    assert priority.active is True
    priority.reload()
    assert priority.active is False
    assert "created_by" not in priority.view()
    priority.reload(expand=True)
    assert priority.view()["created_by"] == client.users.me().login


def test_object_reload_expand_star(client: zo.Client) -> None:
    notification_class = zo.OnlineNotification
    assert "*" in notification_class.EXPANDED_ATTRIBUTES
    ticket = client.tickets.get(1)
    sent(client).reset()
    ticket.reload(expand=True)
    assert sent(client).sent[-1] == ("GET", "/tickets/1?expand=true")


def test_object_update(client: zo.Client, priority: zo.TicketPriority) -> None:
    updated = priority.update(active=False)
    assert updated.active is False
    assert client.get(f"ticket_priorities/{priority.id}")["active"] is False


def test_object_view(client: zo.Client) -> None:
    ticket = client.tickets.get(1)
    view = ticket.view()
    assert view["number"] == "67001"
    assert view["created_at"].endswith("Z")
    with pytest.raises(TypeError):
        view["number"] = "1"  # type: ignore[index]


def test_object_expanded_attributes() -> None:
    assert zo.TicketPriority.EXPANDED_ATTRIBUTES == ("created_by", "updated_by")
    assert zo.TicketState.EXPANDED_ATTRIBUTES == ("created_by", "state_type", "updated_by")
    assert "owner" in zo.Ticket.EXPANDED_ATTRIBUTES


def test_object_common_attributes(client: zo.Client, priority: zo.TicketPriority) -> None:
    assert priority.active is True
    assert isinstance(priority.created_at, datetime)
    assert isinstance(priority.updated_at, datetime)
    assert priority.created_by == client.users.me()
    assert priority.updated_by == client.users.me()
    assert isinstance(priority.id, int)
    assert priority.name.startswith("pytest_priority_")
    assert priority.note is None
    assert priority.ui_color is None
    assert priority.ui_icon is None


def test_object_parent(client: zo.Client, priority: zo.TicketPriority) -> None:
    assert priority.parent == client.priorities


def test_object_url(client: zo.Client, priority: zo.TicketPriority) -> None:
    assert priority.url == f"{client.url}/api/v1/ticket_priorities/{priority.id}"


def test_state_attributes(client: zo.Client) -> None:
    new = client.states.get(1)
    assert new.default_create is True
    assert new.default_follow_up is False
    assert new.ignore_escalation is False
    assert client.states.get(2).default_follow_up is True


def test_state_next_state(client: zo.Client) -> None:
    assert client.states.get(7).next_state == client.states.get(4)
    assert client.states.get(1).next_state is None


def test_state_state_type(client: zo.Client, state: zo.TicketState) -> None:
    assert state.state_type.name == "new"
    assert str(client.states.get(2).state_type.name) == "open"


def test_state_parent(client: zo.Client, state: zo.TicketState) -> None:
    assert state.parent == client.states


def test_ticket_add_tags(ticket: zo.Ticket) -> None:
    ticket.add_tags("a", "b")
    ticket.add_tags("a")
    assert ticket.tags() == ["a", "b"]


def test_ticket_create_article(ticket: zo.Ticket) -> None:
    article = ticket.create_article("new article", typ="note", internal=True, subject="s")
    assert (article.body, article.internal, article.subject, article.type.name) == (
        "new article",
        True,
        "s",
        "note",
    )
    assert article.sender.name == "Agent"


def test_ticket_create_time_accounting(ticket: zo.Ticket) -> None:
    entry = ticket.create_time_accounting("12.3")
    assert entry.time_unit == Decimal("12.3")
    assert entry.ticket_id == ticket.id


def test_ticket_delete(client: zo.Client) -> None:
    t = client.tickets.create("to delete", "Users", "guess:pytest@localhost.local", "x")
    t.delete()
    with pytest.raises(zo.Ticket.DoesNotExist):
        client.tickets.get(t.id)


def test_ticket_history(ticket: zo.Ticket) -> None:
    history = ticket.history()
    assert (history[0]["object"], history[0]["type"], history[0]["o_id"]) == ("Ticket", "created", ticket.id)


def test_ticket_last_request_age_s(ticket: zo.Ticket) -> None:
    age = ticket.last_request_age_s()
    assert age is not None
    assert age >= 0.0


def test_ticket_link_with(client: zo.Client, ticket: zo.Ticket) -> None:
    other = client.tickets.create("other", "Users", "guess:pytest@localhost.local", "x")
    ticket.link_with(other.id)
    ticket.link_with(other)  # already linked: ignored
    assert ticket.links()["normal"] == [other]


def test_ticket_links(client: zo.Client, ticket: zo.Ticket) -> None:
    a = client.tickets.create("a", "Users", "guess:pytest@localhost.local", "x")
    b = client.tickets.create("b", "Users", "guess:pytest@localhost.local", "x")
    ticket.link_with(a, "parent")
    ticket.link_with(b)
    links = ticket.links()
    assert set(links) == {"normal", "parent", "child"}
    assert sorted(t.id for t in itertools.chain(*links.values())) == sorted([a.id, b.id])
    assert links["child"] == [a]


def test_ticket_merge_into(client: zo.Client, ticket: zo.Ticket) -> None:
    target = client.tickets.create("target", "Users", "guess:pytest@localhost.local", "x")
    assert ticket.merge_into(target.id) is target
    assert ticket.state.name == "merged"


def test_ticket_reload(client: zo.Client, ticket: zo.Ticket) -> None:
    client.put(f"tickets/{ticket.id}", json={"title": "changed elsewhere"})
    ticket.reload()
    assert ticket.title == "changed elsewhere"
    ticket.reload(expand=True)
    assert ticket.view()["group"] == "Users"


def test_ticket_remove_tags(ticket: zo.Ticket) -> None:
    ticket.add_tags("x", "y")
    ticket.remove_tags("x", "never-there")
    assert ticket.tags() == ["y"]


def test_ticket_tags(ticket: zo.Ticket) -> None:
    assert ticket.tags() == []


def test_ticket_time_accountings(ticket: zo.Ticket) -> None:
    ticket.create_time_accounting(1)
    assert [t.time_unit for t in ticket.time_accountings()] == [Decimal("1")]


def test_ticket_unlink_from(client: zo.Client, ticket: zo.Ticket) -> None:
    other = client.tickets.create("other", "Users", "guess:pytest@localhost.local", "x")
    ticket.link_with(other, "child")
    ticket.unlink_from(other.id, "child")
    ticket.unlink_from(other.id)  # nothing left: ignored
    assert ticket.links()["parent"] == []


def test_ticket_update(ticket: zo.Ticket) -> None:
    assert ticket.update(title="updated").title == "updated"


def test_ticket_view(ticket: zo.Ticket) -> None:
    assert ticket.view()["title"] == "__pytest__"


def test_ticket_expanded_attributes() -> None:
    assert zo.Ticket.EXPANDED_ATTRIBUTES[0] == "article_ids"
    assert len(zo.Ticket.EXPANDED_ATTRIBUTES) == 13


def test_ticket_attributes(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.article_count == 1
    assert [a.body for a in ticket.articles] == ["..."]
    assert ticket.close_at is None
    assert ticket.close_escalation_at is None
    assert ticket.create_article_sender.name == "Agent"
    assert ticket.create_article_type.name == "note"
    assert isinstance(ticket.created_at, datetime)
    assert isinstance(ticket.updated_at, datetime)
    assert ticket.created_by == client.users.me() == ticket.updated_by
    assert ticket.customer.login == "pytest@localhost.local"
    assert ticket.escalation_at is None
    assert ticket.first_response_at is None
    assert ticket.first_response_escalation_at is None
    assert ticket.group.name == "Users"
    assert isinstance(ticket.id, int)
    assert ticket.last_contact_agent_at is None
    assert ticket.last_contact_at is None
    assert ticket.last_contact_customer_at is None
    assert ticket.last_owner_update_at is None
    assert ticket.note is None
    assert ticket.number.startswith("67")
    assert ticket.organization is None
    assert ticket.owner.id == 1
    assert ticket.priority.name == "2 normal"
    assert ticket.state.name == "new"
    assert ticket.time_unit is None
    assert ticket.title == "__pytest__"
    assert ticket.update_escalation_at is None


def test_ticket_parent(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.parent == client.tickets


def test_ticket_url(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.url == f"{client.api_url}/tickets/{ticket.id}"


def test_ticket_weburl(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.weburl == f"{client.url}/#ticket/zoom/{ticket.id}"


# -- collections: Priorities / States / Tickets ------------------------------------------------------


def test_priorities_create(client: zo.Client) -> None:
    name = unique("4 urgent")
    p = client.priorities.create(name, ui_color="high-priority")
    assert (p.name, p.ui_color, p.default_create) == (name, "high-priority", False)


def test_states_create(client: zo.Client) -> None:
    name = unique("waiting")
    s = client.states.create(name, 2, note="n")
    assert (s.name, s.state_type_id, s.note) == (name, 2, "n")


def test_tickets_create(client: zo.Client) -> None:
    t = client.tickets.create("title", "Users", "guess:seed@example.com", {"body": "b", "internal": True})
    assert t.articles[0].internal is True
    assert t.customer.email == "seed@example.com"


def test_collection_iter(client: zo.Client) -> None:
    roles = tuple(client.roles.iter())
    assert [r.name for r in roles[:3]] == ["Admin", "Agent", "Customer"]
    sent(client).reset()
    one_by_one = list(client.roles.iter(page_size=1))
    assert [r.id for r in one_by_one] == [r.id for r in roles]
    assert len(sent(client).sent) == len(roles) + 1  # the last page comes back empty
    assert list(client.tickets.iter(page=1000, page_size=10)) == []
    expanded = next(client.tickets.iter(page_size=5, expand=True))
    assert expanded.view()["group"] == "Users"


def test_collection_iter_uses_client_pagination_defaults(client: zo.Client) -> None:
    client.pagination.page_size = 2
    sent(client).reset()
    list(client.roles.iter())
    assert "per_page=2" in sent(client).sent[0][1]


def test_tickets_search(client: zo.Client) -> None:
    t = client.tickets.create("__searchme__", "Users", "guess:pytest@localhost.local", "x")
    found = list(client.tickets.search("title:__searchme__"))
    assert found == [t]
    assert list(client.tickets.search("title:__searchme__")) == [t]  # re-iterable
    newest_first = [x.id for x in client.tickets.search("title:__pytest__", sort_by="id", order_by="desc")]
    assert newest_first == sorted(newest_first, reverse=True)
    with pytest.raises(errors.QueryError, match="order_by"):
        client.tickets.search("x", order_by="sideways")  # type: ignore[arg-type]


def test_collection_default_cache_size(client: zo.Client) -> None:
    assert client.tickets.DEFAULT_CACHE_SIZE == 100
    assert client.priorities.DEFAULT_CACHE_SIZE == -1
    assert client.states.DEFAULT_CACHE_SIZE == -1


def test_collection_cache(client: zo.Client) -> None:
    t = client.tickets.get(1)
    assert 1 in client.tickets.cache
    assert client.tickets.cache.get(1).record["number"] == t.number
    assert client.tickets.cache.max_size == 100
    client.tickets.cache.clear()
    assert 1 not in client.tickets.cache


def test_collection_client(client: zo.Client) -> None:
    assert client.tickets.client is client


def test_collection_endpoint(client: zo.Client) -> None:
    assert (client.tickets.endpoint, client.priorities.endpoint, client.states.endpoint) == (
        "tickets",
        "ticket_priorities",
        "ticket_states",
    )


def test_collection_url(client: zo.Client) -> None:
    assert client.states.url == f"{client.url}/api/v1/ticket_states"


# -- Tags --------------------------------------------------------------------------------------------


def test_tags_add_to_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    client.tags.add_to_ticket(ticket.id, "t1", "t2")
    assert ticket.tags() == ["t1", "t2"]


def test_tags_by_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.add_tags("bt")
    assert client.tags.by_ticket(ticket.id) == ["bt"]


def test_tags_create(client: zo.Client) -> None:
    client.tags.create("__pytest_created__")
    client.tags.create("__pytest_created__")  # existing: ignored
    names = [t.name for t in client.tags.iter()]
    assert names.count("__pytest_created__") == 1


def test_tags_delete(client: zo.Client) -> None:
    client.tags.create("__pytest_deleted__")
    client.tags.delete("__pytest_deleted__")
    assert client.tags.search("__pytest_deleted__") == []
    with pytest.raises(KeyError):
        client.tags.delete("__pytest_deleted__")
    with pytest.raises(errors.TagNotFound):
        client.tags.delete("__pytest_deleted__")


def test_tags_reload(client: zo.Client) -> None:
    client.tags.create("__pytest_reload__")
    sent(client).reset()
    client.tags.reload()
    assert sent(client).sent == [("GET", "/tag_list")]
    assert client.tags["__pytest_reload__"].name == "__pytest_reload__"


def test_tags_remove_from_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.add_tags("keep", "drop")
    client.tags.remove_from_ticket(ticket, "drop", "never")
    assert ticket.tags() == ["keep"]


def test_tags_rename(client: zo.Client) -> None:
    client.tags.create("__pytest_old__")
    client.tags.rename("__pytest_old__", "__pytest_new__")
    assert client.tags.search("__pytest_new__") == ["__pytest_new__"]
    assert client.tags.search("__pytest_old__") == []
    with pytest.raises(KeyError):
        client.tags.rename("__pytest_old__", "whatever")


def test_tags_search(fresh_client: zo.Client) -> None:
    # a fresh system: no other test's tags can match
    fresh_client.tags.create("footag")
    fresh_client.tags.create("baztag")
    assert fresh_client.tags.search("tag") == ["baztag", "footag"]
    assert fresh_client.tags.search("nothing-like-it") == []


def test_seed_tags_collection_is_the_tag_manager(client: zo.Client) -> None:
    assert isinstance(client.tags, zo.Tags)
    assert zo.Tag.objects.using(client) == client.tags


def test_collection_cache_is_an_lru_of_the_default_size(client: zo.Client) -> None:
    base = client.get("tickets/1")
    kept = [client.load(zo.Ticket, {**base, "id": pk}) for pk in range(1000, 1105)]
    assert 1000 not in client.tickets.cache  # 105 records, LRU of 100: the oldest are gone
    assert 1104 in client.tickets.cache
    assert client.priorities.cache.max_size == -1
    client.configure_cache(zo.Ticket, 0)
    client.load(zo.Ticket, {**base, "id": 2000})
    assert 2000 not in client.tickets.cache
    assert len(kept) == 105
