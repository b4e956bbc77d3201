from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors

from .conftest import sent


def new_ticket(client: zo.Client, **kwargs: Any) -> zo.Ticket:
    values: dict[str, Any] = {
        "title": "__pytest__",
        "group": "Users",
        "customer": "guess:pytest@localhost.local",
        "article": "...",
    }
    values.update(kwargs)
    return client.tickets.create(**values)


# -- create ------------------------------------------------------------------------------------------


def test_create_with_names_for_references(client: zo.Client) -> None:
    t = new_ticket(client, state="open", priority="3 high", article={"body": "It smokes.", "internal": False})
    assert t.id is not None
    assert t.number
    assert t.state.name == "open"
    assert t.priority.name == "3 high"
    assert t.group.name == "Users"
    assert t.customer.email == "pytest@localhost.local"
    articles = t.articles
    assert [a.body for a in articles] == ["It smokes."]
    assert articles[0].internal is False
    assert client.tickets[t.id] is t


def test_create_with_instances_and_ids(client: zo.Client) -> None:
    group = client.groups.get(1)
    nicole = client.users.get(2)
    t = client.tickets.create(title="by objects", group=group, customer=nicole, article="b", priority=1)
    assert (t.group_id, t.customer_id, t.priority_id) == (1, 2, 1)
    assert t.organization.name == "Zammad Foundation"  # the customer's organization


def test_ticket_objects_create_is_the_same_machinery(client: zo.Client) -> None:
    with client.activate():
        t = zo.Ticket.objects.create(title="via objects", group="Users", customer="guess:jane@example.com")
    assert t.client is client
    assert t.customer.login == "jane@example.com"


def test_create_refuses_unknown_fields_before_any_request(client: zo.Client) -> None:
    sent(client).reset()
    with pytest.raises(errors.FieldError, match="colour"):
        new_ticket(client, colour="red")
    with pytest.raises(errors.FieldError, match=r"Ticket\.title"):
        new_ticket(client, title=42)
    assert sent(client).count == 0


def test_create_with_bad_guess_email_is_unprocessable(client: zo.Client) -> None:
    with pytest.raises(errors.UnprocessableEntity, match="Invalid email"):
        new_ticket(client, customer="guess:not-an-email")


def test_create_with_tags_and_custom_values(client: zo.Client) -> None:
    t = new_ticket(client, tags=["hardware", "urgent"])
    assert sorted(t.tags()) == ["hardware", "urgent"]


# -- relations ---------------------------------------------------------------------------------------


def test_reading_ids_never_does_io_and_relations_are_kept(client: zo.Client) -> None:
    t = client.tickets.get(1)
    sent(client).reset()
    assert (t.state_id, t.group_id, t.priority_id, t.customer_id) == (t.state_id, 1, t.priority_id, 2)
    assert sent(client).count == 0
    state = t.state
    assert sent(client).count == 1
    assert t.state is state
    assert sent(client).count == 1


def test_relations_resolve_through_the_identity_map(client: zo.Client) -> None:
    group = client.groups.get(1)
    t = client.tickets.get(1)
    sent(client).reset()
    assert t.group is group
    assert sent(client).count == 0


def test_ticket_relations_of_the_welcome_ticket(client: zo.Client) -> None:
    t = client.tickets.get(1)
    assert t.customer.login == "nicole.braun@zammad.org"
    assert t.organization.name == "Zammad Foundation"
    assert t.customer.organization is t.organization
    assert t.created_by.id == t.created_by_id
    assert t.updated_by.id == t.updated_by_id
    assert t.create_article_type.name == "phone"
    assert t.create_article_sender.name == "Customer"
    assert [a.ticket_id for a in t.articles] == [1] * len(t.articles)


def test_repr_shows_model_id_and_label(client: zo.Client) -> None:
    assert repr(client.tickets.get(1)) == "<Ticket 1 '#67001 Welcome to Zammad!'>"
    assert repr(client.users.get(2)) == "<User 2 'nicole.braun@zammad.org'>"
    assert repr(client.groups.get(1)) == "<Group 1 'Users'>"
    assert repr(client.states.get(2)) == "<TicketState 2 'open'>"


def test_unassigned_owner_is_user_1(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.owner_id == 1
    assert ticket.is_unassigned
    assert ticket.owner.is_unassigned
    assert ticket.owner.login == "-"


def test_organization_is_none_when_unset(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.organization_id is None
    sent(client).reset()
    assert ticket.organization is None
    assert sent(client).count == 0


def test_state_next_state_and_state_type(client: zo.Client) -> None:
    pending_close = client.states.get(7)
    assert pending_close.next_state.name == "closed"
    assert pending_close.state_type.name == "pending action"
    assert client.states.get(2).next_state is None
    assert client.states.get(4).state_type.name == "closed"


def test_articles_are_ordered_and_refreshed_after_create_article(
    client: zo.Client, ticket: zo.Ticket
) -> None:
    first = ticket.articles
    ticket.create_article("second", internal=False)
    ticket.create_article("third")
    bodies = [a.body for a in ticket.articles]
    assert bodies == [first[0].body, "second", "third"]
    assert [a.id for a in ticket.articles] == sorted(a.id for a in ticket.articles)


def test_attachments_from_paths_bytes_and_files(client: zo.Client, ticket: zo.Ticket, tmp_path: Path) -> None:
    text = "Mogę jeść szkło, i mi nie szkodzi.".encode()
    path = tmp_path / "attachment.txt"
    path.write_bytes(text)
    blob = bytes(range(256))
    article = ticket.create_article(
        "with files", files=[path, blob, io.BytesIO(b"from a file object"), ("named.bin", b"\x00\x01")]
    )
    names = [a.filename for a in article.attachments]
    assert names == ["attachment.txt", "attachment.bin", "attachment.bin", "named.bin"]
    assert article.attachments[0].size == len(text)
    assert article.attachments[0].mime_type == "text/plain"
    assert article.attachments[0].read() == text
    assert article.attachments[1].read() == blob
    saved = article.attachments[3].save(tmp_path)
    assert saved == tmp_path / "named.bin"
    assert saved.read_bytes() == b"\x00\x01"


def test_missing_attachment_file_is_a_field_error(ticket: zo.Ticket, tmp_path: Path) -> None:
    with pytest.raises(errors.FieldError, match="cannot read attachment"):
        ticket.create_article("x", files=[tmp_path / "missing.txt"])


def test_user_organization_roles_and_groups(client: zo.Client) -> None:
    nicole = client.users.get(2)
    assert nicole.organization.name == "Zammad Foundation"
    assert nicole.organizations == []
    assert [r.name for r in nicole.roles] == ["Customer"]
    admin = client.users.me()
    assert {r.name for r in admin.roles} >= {"Admin", "Agent"}
    groups = admin.groups
    assert [(g.name, access) for g, access in groups.items()] == [("Users", ["full"])]


def test_organization_members_and_group_users(client: zo.Client) -> None:
    org = client.organizations.get(1)
    assert "nicole.braun@zammad.org" in [u.login for u in org.members]
    users = client.groups.get(1).users
    assert {"admin@example.com", "agent1@example.com"} <= {u.login for u in users}


def test_role_permissions(client: zo.Client) -> None:
    admin = client.roles.get(1)
    sent(client).reset()
    permissions = admin.permissions
    assert "admin" in permissions
    assert sent(client).count == 1
    assert admin.permissions == permissions
    assert sent(client).count == 1


# -- active record -----------------------------------------------------------------------------------


def test_save_sends_only_changed_fields(client: zo.Client, ticket: zo.Ticket) -> None:
    transport = sent(client)
    transport.reset()
    ticket.title = "new title"
    ticket.save()
    assert [(r.method, r.json) for r in transport.requests] == [("PUT", {"title": "new title"})]
    assert client.get(f"tickets/{ticket.id}")["title"] == "new title"
    transport.reset()
    ticket.save()
    assert transport.requests == []  # nothing changed: no request


def test_in_place_edits_of_dicts_are_saved(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.preferences["custom_flag"] = {"on": True}
    assert ticket.changes() == {"preferences": {"custom_flag": {"on": True}}}
    ticket.save()
    fresh = client.get(f"tickets/{ticket.id}")
    assert fresh["preferences"]["custom_flag"] == {"on": True}
    assert ticket.changes() == {}


def test_relation_names_are_saved(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.state = "open"
    ticket.priority = client.priorities.get(3)
    ticket.save()
    assert ticket.state_id == 2
    assert ticket.state.name == "open"
    assert client.get(f"tickets/{ticket.id}")["priority_id"] == 3


def test_save_update_fields(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.title = "only this"
    ticket.note = "not this"
    ticket.save(update_fields=["title"])
    server = client.get(f"tickets/{ticket.id}")
    assert server["title"] == "only this"
    assert server["note"] is None
    assert ticket.changes() == {"note": "not this"}
    with pytest.raises(errors.FieldError, match="titel"):
        ticket.save(update_fields=["titel"])


def test_save_if_unmodified_detects_a_concurrent_change(
    emulator: Any, client: zo.Client, ticket: zo.Ticket
) -> None:
    other = zo.Client(emulator.url, http_token=emulator.token)
    theirs = other.tickets.get(ticket.id)
    theirs.title = "their change"
    theirs.save()
    ticket.title = "my change"
    with pytest.raises(errors.StaleObjectError, match="changed on the server"):
        ticket.save(if_unmodified=True)
    assert ticket.title == "my change"
    assert ticket.changes() == {"title": "my change"}
    ticket.refresh_from_db()
    assert ticket.title == "their change"
    ticket.title = "now mine"
    ticket.save(if_unmodified=True)
    assert other.get(f"tickets/{ticket.id}")["title"] == "now mine"


def test_failed_save_keeps_pending_changes(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.title = "kept"
    ticket.state = "no such state"
    with pytest.raises(errors.FieldError, match="there is no ticket state named 'no such state'"):
        ticket.save()  # refused before the PUT
    assert ticket.title == "kept"
    assert ticket.changes() == {"title": "kept", "state": "no such state"}
    ticket.state = "open"
    ticket.owner = "no-such-login"  # users are not checked locally: the server refuses the save
    with pytest.raises(errors.UnprocessableEntity, match="No lookup value found for 'owner'"):
        ticket.save()
    assert ticket.changes() == {"title": "kept", "state": "open", "owner": "no-such-login"}
    ticket.owner = zo.User.UNASSIGNED_ID
    ticket.save()
    assert ticket.changes() == {}
    assert ticket.title == "kept"


def test_refresh_from_db_discards_local_changes(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.title = "local only"
    ticket.refresh_from_db()
    assert ticket.title == "__pytest__"
    assert ticket.changes() == {}


def test_delete_and_then_does_not_exist(client: zo.Client) -> None:
    t = new_ticket(client)
    tid = t.id
    t.delete()
    with pytest.raises(zo.Ticket.DoesNotExist):
        client.tickets.get(tid)
    with pytest.raises(errors.NotFound):
        client.tickets.get(tid)


def test_a_deleted_tickets_id_and_number_are_not_reused(client: zo.Client) -> None:
    # Zammad's ids come from database sequences: a new ticket never takes a deleted ticket's id, so a
    # cached record of the deleted ticket can never be mistaken for the new one.
    t = new_ticket(client)
    tid, number = t.id, t.number
    t.delete()
    again = new_ticket(client)
    assert again.id != tid
    assert again.number != number
    assert [h["o_id"] for h in again.history() if h["object"] == "Ticket"] == [again.id]


def test_update_returns_the_updated_object(client: zo.Client, ticket: zo.Ticket) -> None:
    before = ticket.updated_at
    updated = ticket.update(title="updated", state="open")
    assert updated is ticket
    assert ticket.title == "updated"
    assert ticket.state.name == "open"
    assert ticket.updated_at is not None
    assert before is not None
    assert ticket.updated_at >= before


def test_pending_time_round_trips_as_aware_datetime(client: zo.Client, ticket: zo.Ticket) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    ticket.update(state="pending reminder", pending_time=when)
    again = client.get(f"tickets/{ticket.id}")
    assert again["pending_time"] == "2030-01-02T03:04:05.678Z"
    assert ticket.pending_time == when


# -- ticket operations -------------------------------------------------------------------------------


def test_tags_add_remove(ticket: zo.Ticket) -> None:
    assert ticket.tags() == []
    ticket.add_tags("__pytest__", "__tag__")
    ticket.add_tags("__pytest__")
    assert ticket.tags() == ["__pytest__", "__tag__"]
    ticket.remove_tags("__tag__", "__never__")
    assert ticket.tags() == ["__pytest__"]
    with pytest.raises(errors.FieldError):
        ticket.add_tags("")


def test_links_normal(client: zo.Client) -> None:
    a, b = new_ticket(client), new_ticket(client)
    link = a.link_with(b)
    assert isinstance(link, zo.Link)
    assert a.links() == {"normal": [b], "parent": [], "child": []}
    assert b.links()["normal"] == [a]
    a.unlink_from(b, "normal")
    assert a.links() == {"normal": [], "parent": [], "child": []}


@pytest.mark.parametrize(("kind", "mirror"), [("child", "parent"), ("parent", "child")])
def test_link_with_makes_the_target_what_the_type_says(client: zo.Client, kind: str, mirror: str) -> None:
    # The reference (zammadoo, recording test_ticket_link_with_and_unlink_from__parent_child): after
    # a.link_with(b, kind), b is listed under kind for a, and a under the mirrored kind for b.
    a, b = new_ticket(client), new_ticket(client)
    a.link_with(b, kind)  # type: ignore[arg-type]
    assert b in a.links()[kind]
    assert a in b.links()[mirror]
    assert a.links()[mirror] == []
    assert b.links()[kind] == []
    a.unlink_from(b, kind)  # type: ignore[arg-type]
    assert a.links() == b.links() == {"normal": [], "parent": [], "child": []}


def test_links_parent_child_semantics(client: zo.Client) -> None:
    parent, child = new_ticket(client), new_ticket(client)
    parent.link_with(child, "child")
    assert parent.links()["child"] == [child]
    assert child.links()["parent"] == [parent]
    child.unlink_from(parent)  # type looked up
    assert child.links() == {"normal": [], "parent": [], "child": []}
    assert parent.links()["child"] == []
    parent.link_with(child, "child")
    child.unlink_from(parent, "parent")  # the type as the child sees it
    assert parent.links() == {"normal": [], "parent": [], "child": []}
    with pytest.raises(errors.FieldError, match="link_type"):
        parent.link_with(child, "sibling")  # type: ignore[arg-type]


def test_merge_into(client: zo.Client) -> None:
    target, source = new_ticket(client), new_ticket(client)
    merged = source.merge_into(target)
    assert merged is target
    assert source.state.name == "merged"
    assert target.links()["child"] == [source]
    with pytest.raises(errors.UnprocessableEntity):
        source.merge_into(source)


def test_merge_into_missing_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    ghost = zo.Ticket(id=999999)
    object.__setattr__(ghost, "number", "99999999")
    with pytest.raises(zo.Ticket.DoesNotExist, match="could not be found"):
        ticket.merge_into(ghost)


def test_history(ticket: zo.Ticket) -> None:
    entries = ticket.history()
    assert [(e["object"], e["type"]) for e in entries][:2] == [
        ("Ticket", "created"),
        ("Ticket::Article", "created"),
    ]


def test_time_accounting(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.time_accountings() == []
    kind = client.time_accounting_types.create(name="__pytest_kind", note=None, active=True)
    first = ticket.create_time_accounting("1.5")
    second = ticket.create_time_accounting(Decimal("2.25"), type=kind)
    third = ticket.create_time_accounting(1, type="__pytest_kind")
    assert first.time_unit == Decimal("1.5")
    assert second.type is kind
    assert third.type_id == kind.id
    assert [t.id for t in ticket.time_accountings()] == [first.id, second.id, third.id]
    ticket.refresh_from_db()
    assert ticket.time_unit == Decimal("4.75")
    assert first.ticket is ticket


def test_weburl_and_url(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.weburl == f"{client.url}/#ticket/zoom/{ticket.id}"
    assert ticket.url == f"{client.api_url}/tickets/{ticket.id}"


def test_mentions(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.mentions() == []
    mention = ticket.subscribe()
    assert [m.id for m in ticket.mentions()] == [mention.id]
    assert mention.user.login == client.users.me().login
    mention.delete()
    assert ticket.mentions() == []


def test_custom_attribute_is_an_attribute_and_writable(client: zo.Client) -> None:
    attr = client.object_attributes.create(
        name="pytest_custom",
        display="pytest custom",
        object="Ticket",
        data_type="input",
        data_option={"maxlength": 100, "type": "text", "null": True, "default": ""},
        screens={},
        position=900,
        editable=True,
        active=True,
    )
    client.object_attributes.execute_migrations()
    t = new_ticket(client, extra={"pytest_custom": "hello"})
    assert t.pytest_custom == "hello"
    t.pytest_custom = "changed"
    t.save()
    assert client.get(f"tickets/{t.id}")["pytest_custom"] == "changed"
    again = new_ticket(client, pytest_custom="known now")  # the name was seen in a record
    assert again.extra["pytest_custom"] == "known now"
    assert attr.id is not None


def test_json_serialisable_view(ticket: zo.Ticket) -> None:
    assert json.loads(json.dumps(dict(ticket.view())))["id"] == ticket.id


def test_update_with_an_article_adds_it(ticket: zo.Ticket) -> None:
    assert len(ticket.articles) == 1
    ticket.update(article={"body": "new article", "internal": True})
    assert len(ticket.article_ids) == 2
    assert [a.body for a in ticket.articles][-1] == "new article"
    assert ticket.articles[-1].internal is True
