from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors

from .conftest import make_client, sent


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# -- users -------------------------------------------------------------------------------------------


def test_user_create_update_delete(client: zo.Client) -> None:
    user = client.users.create(firstname="John", lastname="Pytest", email=f"{unique('john')}@example.com")
    assert user.role_ids == [3]  # signup role Customer
    assert [r.name for r in user.roles] == ["Customer"]
    assert user.login == user.email
    user.phone = "+49 30 1234"
    user.preferences["notes"] = ["a"]
    user.save()
    server = client.get(f"users/{user.id}")
    assert server["phone"] == "+49 30 1234"
    assert server["preferences"]["notes"] == ["a"]
    user.delete()
    with pytest.raises(zo.User.DoesNotExist):
        client.users.get(user.id)


def test_user_roles_and_organization_by_name(client: zo.Client) -> None:
    org = client.organizations.create(name=unique("org"))
    user = client.users.create(
        firstname="Agent",
        lastname="Smith",
        email=f"{unique('smith')}@example.com",
        roles=["Agent"],
        organization=org.name,
    )
    assert [r.name for r in user.roles] == ["Agent"]
    assert user.organization is org
    user.roles = [client.roles.get(2), client.roles.get(3)]
    user.save()
    assert sorted(client.get(f"users/{user.id}")["role_ids"]) == [2, 3]


def test_in_place_list_edits_are_saved_and_relations_follow(client: zo.Client) -> None:
    primary = client.organizations.create(name=unique("org_a"))
    second = client.organizations.create(name=unique("org_b"))
    third = client.organizations.create(name=unique("org_c"))
    user = client.users.create(
        firstname="Multi", lastname="Org", email=f"{unique('multi')}@example.com", organization=primary.name
    )
    assert user.organizations == []
    transport = sent(client)
    transport.reset()
    user.organization_ids.append(second.id)  # edited in place: still seen as a change
    user.organization_ids.append(third.id)
    assert user.changes() == {"organization_ids": [second.id, third.id]}
    user.save()
    assert [(r.method, r.json) for r in transport.requests] == [
        ("PUT", {"organization_ids": [second.id, third.id]})
    ]
    assert client.get(f"users/{user.id}")["organization_ids"] == [second.id, third.id]
    assert user.organization is primary
    assert user.organizations == [second, third]  # the relation follows the changed ids
    assert user.changes() == {}


def test_user_validation_error_is_unprocessable(client: zo.Client) -> None:
    with pytest.raises(errors.UnprocessableEntity, match="At least one identifier"):
        client.users.create(note="nobody")


def test_duplicate_email_is_unprocessable(client: zo.Client) -> None:
    email = f"{unique('dup')}@example.com"
    client.users.create(firstname="A", email=email)
    with pytest.raises(errors.UnprocessableEntity, match="already used"):
        client.users.create(firstname="B", email=email)


def test_user_search_and_me(client: zo.Client) -> None:
    found = list(client.users.search("nicole"))
    assert [u.login for u in found] == ["nicole.braun@zammad.org"]
    assert client.users.me().login == "admin@example.com"


def test_user_iter_includes_user_1(client: zo.Client) -> None:
    users = list(client.users.iter(page_size=2))
    assert users[0].id == 1
    assert users[0].is_unassigned
    assert {u.login for u in users} >= {"-", "nicole.braun@zammad.org", "admin@example.com"}


# -- organizations, groups, roles --------------------------------------------------------------------


def test_organization_crud_and_members(client: zo.Client) -> None:
    name = unique("org")
    org = client.organizations.create(name=name, note="pytest")
    assert (org.name, org.shared, org.active, org.member_ids) == (name, True, True, [])
    member = client.users.create(firstname="M", email=f"{unique('m')}@example.com", organization_id=org.id)
    org.refresh_from_db()
    assert org.members == [member]
    assert list(client.organizations.search(name)) == [org]
    member.delete()
    org.delete()
    with pytest.raises(zo.Organization.DoesNotExist):
        client.organizations.get(org.id)


def test_group_crud(client: zo.Client) -> None:
    group = client.groups.create(name=unique("pytest_group"))
    assert (group.follow_up_possible, group.active, group.user_ids) == ("yes", True, [])
    group.update(note="n")
    assert client.get(f"groups/{group.id}")["note"] == "n"
    group.delete()
    with pytest.raises(zo.Group.DoesNotExist):
        client.groups.get(group.id)


def test_group_with_tickets_cannot_be_deleted(client: zo.Client) -> None:
    with pytest.raises(errors.UnprocessableEntity, match="references"):
        client.groups.get(1).delete()


def test_roles_can_be_created_but_not_deleted(client: zo.Client) -> None:
    role = client.roles.create(name=unique("Clone: Customer"), permission_ids=[44, 47])
    assert role.permission_ids == [44, 47]
    role.update(active=False)
    assert role.active is False
    with pytest.raises(errors.NotFound, match="No route matches"):
        role.delete()


# -- states, priorities, time accounting types -------------------------------------------------------


def test_state_and_priority_crud(client: zo.Client) -> None:
    state = client.states.create(unique("pytest_state"), state_type_id=5)
    assert state.state_type.name == "closed"
    state.active = False
    state.save()
    assert client.get(f"ticket_states/{state.id}")["active"] is False
    state.delete()
    with pytest.raises(zo.TicketState.DoesNotExist, match="Ticket::State"):
        client.states.get(state.id)
    prio = client.priorities.create(unique("prio"))
    prio.delete()
    with pytest.raises(zo.TicketPriority.DoesNotExist):
        prio.reload()


def test_time_accounting_types(client: zo.Client) -> None:
    kind = client.time_accounting_types.create(name=unique("kind"), note=None, active=True)
    assert kind.id in [k.id for k in client.time_accounting_types.iter()]
    kind.update(note="updated")
    assert client.get("time_accounting/types")[-1]["note"] == "updated"


def test_time_accounting_update_and_delete(client: zo.Client, ticket: zo.Ticket) -> None:
    entry = ticket.create_time_accounting("1.23")
    entry.time_unit = Decimal("2.34")
    entry.save()
    assert client.get(f"time_accountings/{entry.id}")["time_unit"] == "2.34"
    entry.update(type=client.time_accounting_types.create(name=unique("t"), active=True).name)
    assert entry.type is not None
    entry.delete()
    assert ticket.time_accountings() == []
    ticket.refresh_from_db()
    assert ticket.time_unit == Decimal("0.0")


def test_article_time_unit_creates_time_accounting(ticket: zo.Ticket) -> None:
    article = ticket.create_article("worked", time_unit="1.23")
    assert article.time_unit == Decimal("1.23")
    entries = ticket.time_accountings()
    assert [(e.ticket_article_id, e.time_unit) for e in entries] == [(article.id, Decimal("1.23"))]
    assert entries[0].ticket_article is article


def test_article_update_changes_only_internal(client: zo.Client, ticket: zo.Ticket) -> None:
    article = ticket.articles[0]
    article.internal = True
    article.save()
    assert client.get(f"ticket_articles/{article.id}")["internal"] is True


# -- notifications, mentions, object attributes ------------------------------------------------------


def test_online_notifications(emulator: Any, client: zo.Client) -> None:
    agent = make_client(emulator)
    with agent.on_behalf_of("agent1@example.com"):
        ticket = agent.tickets.create(
            title="notify", group="Users", customer="guess:n@example.com", article="x"
        )
        ticket.update(owner="admin@example.com")
    notes = list(client.online_notifications.iter())
    assert notes
    mine = [n for n in notes if n.o_id == ticket.id]
    assert mine
    note = mine[0]
    assert note.object_name == "Ticket"
    assert note.target == client.tickets.get(ticket.id)
    assert note.user == client.users.me()
    note.update(seen=True)
    assert client.get(f"online_notifications/{note.id}")["seen"] is True
    client.online_notifications.mark_all_as_read()
    assert all(n.seen for n in client.online_notifications.iter())


def test_notifications_are_always_expanded(emulator: Any, client: zo.Client) -> None:
    # '*' in EXPANDED_ATTRIBUTES: get() and iter(expand=False) ask for the names too (the seed reference,
    # recordings test_notifications/*), else object_name and type_name would quietly be None.
    agent = make_client(emulator)
    with agent.on_behalf_of("agent1@example.com"):
        agent.tickets.create(title="expand", group="Users", customer="guess:e@example.com", article="x")
    listed = list(client.online_notifications.iter(page=10, expand=False))
    assert listed
    assert all(n.object_name == "Ticket" and n.type_name for n in listed)
    fresh = make_client(emulator)
    note = fresh.online_notifications.get(listed[0].id)
    assert note.type_name == listed[0].type_name
    assert sent(fresh).sent == [("GET", f"/online_notifications/{note.id}?expand=true")]
    assert sent(client).sent[-1] == ("GET", "/online_notifications?expand=true")


def test_mentions_list_and_errors(client: zo.Client, ticket: zo.Ticket) -> None:
    mention = client.mentions.create(mentionable_type="Ticket", mentionable_id=ticket.id)
    assert client.mentions.for_ticket(ticket) == [mention]
    with pytest.raises(errors.QueryError, match="for_ticket"):
        client.mentions.iter()


def test_object_attributes(client: zo.Client) -> None:
    name = unique("pytest_attr")
    attr = client.object_attributes.create(
        name=name,
        display="x",
        object="User",
        data_type="boolean",
        data_option={"default": False, "options": {"true": "yes", "false": "no"}, "null": True},
        screens={},
        position=1000,
        editable=True,
        active=True,
    )
    assert attr.data_type == "boolean"
    client.object_attributes.execute_migrations()
    nicole = client.users.get(2)
    assert name in nicole.extra
    nicole.extra[name] = True
    nicole.save()
    assert client.get("users/2")[name] is True


# -- search generations ------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "generation"), [("6.2", "pre65"), ("6.5", "unified")])
def test_search_understands_both_reply_generations(version: str, generation: str) -> None:
    emulator_class = pytest.importorskip("zammad_orm.testing").Emulator
    with emulator_class(zammad_version=version) as server:
        client = make_client(server)
        created = [
            client.tickets.create(
                title=f"gen {i}", group="Users", customer="guess:g@example.com", article="x"
            )
            for i in range(3)
        ]
        found = list(client.tickets.search("title:gen", sort_by="id", order_by="asc", page_size=2))
        assert found == created
        assert all(isinstance(t, zo.Ticket) for t in found)
        assert client.search_generation == generation
        users = list(client.users.search("nicole"))
        assert [u.id for u in users] == [2]
        assert sent(client).count > 0


@pytest.mark.parametrize(
    ("version", "wrong", "right"), [("6.2", "unified", "pre65"), ("6.5", "pre65", "unified")]
)
def test_search_generation_is_corrected_by_the_reply(version: str, wrong: str, right: str) -> None:
    emulator_class = pytest.importorskip("zammad_orm.testing").Emulator
    with emulator_class(zammad_version=version) as server:
        client = make_client(server)
        client.facts.note_generation(wrong)  # type: ignore[arg-type]  # a wrong first guess
        found = list(client.tickets.search("title:Welcome"))
        assert [t.number for t in found] == ["67001"]
        assert client.search_generation == right  # the shape of the reply decided
        assert ("GET", "/version") not in sent(client).sent


# -- constructing and saving new objects; seeded constants --------------------------------------------


def test_new_instance_save_creates_it(client: zo.Client) -> None:
    with client.activate():
        org = zo.Organization(name=unique("new org"), note="made locally")
        assert org.id is None
        org.save()
    assert isinstance(org.id, int)
    assert org.client is client
    assert client.organizations.get(org.id) is org
    assert client.get(f"organizations/{org.id}")["note"] == "made locally"


def test_seeded_constants_without_endpoint(client: zo.Client) -> None:
    sent(client).reset()
    assert client.state_types.get(5).name == "closed"
    assert [t.name for t in client.article_senders.iter()] == ["Agent", "Customer", "System"]
    assert client.article_types.get(10).name == "note"
    assert sent(client).count == 0
    with pytest.raises(zo.StateType.DoesNotExist):
        client.state_types.get(99)


def test_ticket_create_with_article_files(client: zo.Client, tmp_path: Any) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    ticket = client.tickets.create(
        title="files",
        group="Users",
        customer="guess:f@example.com",
        article={"body": "see file", "files": [path]},
    )
    attachment = ticket.articles[0].attachments[0]
    assert attachment.filename == "report.csv"
    assert attachment.read() == b"a,b\n1,2\n"


# -- manager entry points into the QuerySet ------------------------------------------------------------


def test_manager_delegates_to_the_queryset(client: zo.Client) -> None:
    title = unique("qs")
    made = [
        client.tickets.create(title=title, group="Users", customer="guess:q@example.com", article="x")
        for _ in range(2)
    ]
    assert list(client.tickets.filter(title=title).order_by("id")) == made
    assert client.tickets.filter(title=title).count() == 2
    assert list(client.tickets.exclude(id=made[0].id).filter(title=title)) == [made[1]]
    assert client.tickets.order_by("-id").filter(title=title).first() == made[1]  # via __getattr__
    assert client.tickets.get(title=title, id=made[0].id) is made[0]
    with client.activate():
        assert zo.Ticket.objects.filter(title=title).exists()
        assert zo.Ticket.objects.all().filter(title=title).count() == 2
    with pytest.raises(zo.Ticket.MultipleObjectsReturned):
        client.tickets.get(title=title)
    with pytest.raises(errors.FieldError):
        client.tickets.get("1")  # type: ignore[arg-type]


# -- request counts on realistic data ------------------------------------------------------------------


def test_relations_of_search_results_come_from_assets_without_requests() -> None:
    emulator_class = pytest.importorskip("zammad_orm.testing").Emulator
    with emulator_class(demo=60, seed=7) as server:
        client = make_client(server)
        tickets = list(client.tickets.search("number:*", page_size=50))
        assert len(tickets) == 61  # 60 demo tickets and the welcome ticket
        sent(client).reset()
        logins = {t.customer.login for t in tickets}
        groups = {t.group.name for t in tickets}
        owners = {t.owner.login for t in tickets}
        assert logins
        assert groups
        assert owners
        assert sent(client).count == 0  # every user and group came with the search assets


def test_relations_of_index_pages_cost_one_request_per_distinct_object() -> None:
    emulator_class = pytest.importorskip("zammad_orm.testing").Emulator
    with emulator_class(demo=60, seed=7) as server:
        client = make_client(server)
        tickets = list(client.tickets.iter(page_size=100))
        sent(client).reset()
        customers = {t.customer_id for t in tickets}
        states = {t.state_id for t in tickets}
        assert {t.customer.id for t in tickets} == customers
        assert {t.state.id for t in tickets} == states
        assert sent(client).count == len(customers) + 1  # the states: one request for the whole table
        sent(client).reset()
        assert {t.customer.id for t in tickets} == customers  # kept on the instances
        assert sent(client).count == 0
