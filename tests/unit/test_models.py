from __future__ import annotations

import weakref
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors
from zammad_orm.models import Model, registry

from . import test_models_recorded_data as rec

UTC = timezone.utc


def load(model: type[Model], record: dict[str, Any]) -> Any:
    return model._from_record(record, None)


def test_every_resource_is_registered_with_its_endpoint() -> None:
    endpoints = {name: cls._meta.endpoint for name, cls in registry.items()}
    assert endpoints["Ticket"] == "tickets"
    assert endpoints["TicketArticle"] == "ticket_articles"
    assert endpoints["TicketState"] == "ticket_states"
    assert endpoints["TicketPriority"] == "ticket_priorities"
    assert endpoints["TimeAccountingType"] == "time_accounting/types"
    assert endpoints["Tag"] == "tag_list"
    assert endpoints["StateType"] is None  # Zammad has no endpoint: seeded constants
    assert {"User", "Organization", "Group", "Role", "Mention", "ObjectAttribute", "Link"} <= set(registry)


def test_ticket_from_recorded_plain_record_has_typed_values() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    assert t.id == 1
    assert t.number == "67001"
    assert t.title == "Welcome to Zammad!"
    assert t.close_at == datetime(2023, 10, 1, 21, 48, 12, 960000, tzinfo=UTC)
    assert t.first_response_at is None
    assert t.state_id == 2
    assert t.owner_id == 3
    assert t.organization_id == 1
    assert t.preferences == {}
    assert t.time_unit is None
    assert t.extra == {}
    assert t.changes() == {}


def test_expanded_names_stay_in_view_not_in_extra() -> None:
    t = load(zo.Ticket, rec.TICKET_EXPANDED)
    assert t.extra == {}
    assert t.view()["state"] == "open"
    assert t.view()["customer"] == "nicole.braun@zammad.org"
    assert t.article_ids == [1]
    with pytest.raises(TypeError):
        t.view()["title"] = "x"  # type: ignore[index]


def test_search_assets_structure_into_every_model() -> None:
    assets = rec.TICKET_SEARCH_PRE65["assets"]
    models = {
        "Ticket": zo.Ticket,
        "User": zo.User,
        "Group": zo.Group,
        "Role": zo.Role,
        "Organization": zo.Organization,
    }
    for key, records in assets.items():
        for record in records.values():
            obj = load(models[key], record)
            assert obj.id == record["id"]
            assert obj.extra == {}, (key, obj.extra)
    nobody = load(zo.User, assets["User"]["1"])
    assert nobody.is_unassigned
    assert nobody.login == "-"
    group = load(zo.Group, assets["Group"]["1"])
    assert group.user_ids == [3, 14]


def test_user_records_keep_group_access_and_dates() -> None:
    admin = load(zo.User, rec.USER_ME_ADMIN)
    assert admin.login == "zammadoo@hephaestus.local"
    assert admin.group_ids == rec.USER_ME_ADMIN["group_ids"]
    assert all(isinstance(v, list) for v in admin.group_ids.values())
    assert isinstance(admin.last_login, datetime)
    assert admin.last_login.tzinfo is not None
    assert admin.fullname == "zammadoo admin"
    created = load(zo.User, rec.USER_CREATED)
    assert created.email is None
    assert created.role_ids == [3]
    assert created.login.startswith("auto-")
    assert repr(created) == f"<User 27 {created.login!r}>"


def test_article_with_attachments() -> None:
    article = load(zo.TicketArticle, rec.ARTICLE_WITH_ATTACHMENTS)
    assert article.from_ == "zammadoo admin"
    assert article.internal is True
    assert [a.filename for a in article.attachments] == ["attachment.txt", "attachment.bin"]
    bin_att = article.attachments[1]
    assert isinstance(bin_att, zo.Attachment)
    assert bin_att.size == 256
    assert bin_att.mime_type == "application/octet-stream"
    assert bin_att.article is article
    assert article.view()["type"] == "note"
    assert article.extra == {}


def test_time_units_are_decimals() -> None:
    ta = load(zo.TimeAccounting, rec.TIME_ACCOUNTING)
    assert ta.time_unit == Decimal("2.34")
    assert ta.type_id == 1
    assert ta.ticket_article_id == 677
    types = [load(zo.TimeAccountingType, r) for r in rec.TIME_ACCOUNTING_TYPES]
    assert [t.name for t in types] == ["_accounting_type_test", "__pytest"]


def test_other_recorded_shapes() -> None:
    org = load(zo.Organization, rec.ORGANIZATION_CREATED)
    assert (org.name, org.shared, org.member_ids) == ("pytest_organization", True, [])
    role = load(zo.Role, rec.ROLE_EXPANDED)
    assert role.permission_ids == [1, 43, 55, 65]
    assert role.permissions == ["admin", "user_preferences", "report", "knowledge_base.editor"]
    state = load(zo.TicketState, rec.STATE_MERGED)
    assert (state.name, state.state_type_id, state.ignore_escalation) == ("merged", 6, True)
    prio = load(zo.TicketPriority, rec.PRIORITY_CREATED)
    assert prio.ui_color is None
    assert prio.active is True
    notes = [load(zo.OnlineNotification, r) for r in rec.NOTIFICATIONS]
    assert notes[0].seen is True
    assert notes[0].object_name == "Ticket"
    assert notes[0].type_name == "update"
    tags = [load(zo.Tag, r) for r in rec.TAG_LIST]
    assert [(t.name, t.count) for t in tags][:2] == [("Test", 1), ("__pytest__", 0)]
    link = load(zo.Link, rec.LINK_ADDED)
    assert (link.link_type_id, link.link_object_source_value, link.link_object_target_value) == (3, 349, 350)


def test_custom_attributes_land_in_extra_and_are_attributes() -> None:
    record = {**rec.TICKET_PLAIN, "my_custom_field": "a"}
    t = load(zo.Ticket, record)
    assert t.extra == {"my_custom_field": "a"}
    assert t.my_custom_field == "a"
    t.my_custom_field = "b"
    assert t.changes() == {"my_custom_field": "b"}
    assert "my_custom_field" in zo.Ticket._meta.custom_keys


def test_dirty_tracking_sees_in_place_edits_of_dicts_and_lists() -> None:
    u = load(zo.User, rec.USER_ME_ADMIN)
    assert u.changes() == {}
    u.preferences["locale"] = "fr-fr"
    u.role_ids.append(2)
    changes = u.changes()
    assert changes["preferences"]["locale"] == "fr-fr"
    assert changes["role_ids"] == [*rec.USER_ME_ADMIN["role_ids"], 2]
    assert set(changes) == {"preferences", "role_ids"}
    # the raw record (view) is untouched by the edits
    assert u.view()["preferences"].get("locale") == rec.USER_ME_ADMIN["preferences"].get("locale")


def test_assignments_are_type_checked_and_read_only_fields_refused() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    with pytest.raises(errors.FieldError, match=r"Ticket.title"):
        t.title = 5
    with pytest.raises(errors.FieldError, match="read-only"):
        t.number = "1"
    with pytest.raises(errors.FieldError, match="no field 'titel'"):
        t.titel = "x"
    with pytest.raises(errors.FieldError, match="naive datetime"):
        t.pending_time = datetime(2030, 1, 1)
    t.pending_time = datetime(2030, 1, 1, tzinfo=UTC)
    assert t.changes() == {"pending_time": "2030-01-01T00:00:00.000Z"}


def test_relation_assignment_sets_ids_or_sends_names() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    closed = load(zo.TicketState, rec.STATE_MERGED)
    t.state = closed
    assert t.state_id == 5
    t.priority = "3 high"
    assert t.changes() == {"state_id": 5, "priority": "3 high"}
    t.organization = None
    assert t.organization_id is None
    with pytest.raises(errors.FieldError, match="expected a Group"):
        t.group = closed


def test_input_translates_names_and_refuses_unknown_fields() -> None:
    payload = zo.Ticket._input(
        {
            "title": "Printer",
            "group": "Users",
            "customer": "guess:jane@example.com",
            "owner": 3,
            "article": "It smokes.",
            "tags": ["a", "b"],
        }
    )
    assert payload == {
        "title": "Printer",
        "group": "Users",
        "customer_id": "guess:jane@example.com",
        "owner_id": 3,
        "article": {"body": "It smokes."},
        "tags": "a,b",
    }
    with pytest.raises(errors.FieldError, match="no field 'colour'"):
        zo.Ticket._input({"colour": "red"})
    with pytest.raises(errors.FieldError, match=r"Ticket\.title"):
        zo.Ticket._input({"title": 3})
    roles = zo.User._input({"roles": ["Agent"], "organizations": [1, 2]})
    assert roles == {"roles": ["Agent"], "organization_ids": [1, 2]}


def test_article_input_encodes_files(tmp_path: Any) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(b"hello")
    payload = zo.Ticket._input({"article": {"body": "x", "files": [path, ("data.bin", b"\x00\x01")]}})
    attachments = payload["article"]["attachments"]
    assert attachments[0] == {"filename": "note.txt", "data": "aGVsbG8=", "mime-type": "text/plain"}
    assert attachments[1]["filename"] == "data.bin"
    assert attachments[1]["mime-type"] == "application/octet-stream"


def test_per_model_exceptions() -> None:
    assert issubclass(zo.Ticket.DoesNotExist, errors.DoesNotExist)
    assert issubclass(zo.Ticket.DoesNotExist, errors.NotFound)
    assert zo.Ticket.DoesNotExist is not zo.User.DoesNotExist
    assert issubclass(zo.Ticket.MultipleObjectsReturned, errors.MultipleObjectsReturned)
    exc = zo.Ticket.DoesNotExist("Couldn't find Ticket with 'id'=9", status=404)
    assert exc.status == 404


def test_models_are_slotted_weakrefable_and_hash_by_id() -> None:
    a = load(zo.Ticket, rec.TICKET_PLAIN)
    b = load(zo.Ticket, rec.TICKET_PLAIN)
    assert weakref.ref(a)() is a
    assert not hasattr(a, "__dict__")
    assert a == b
    assert hash(a) == hash(b)
    assert a != load(zo.User, rec.USER_CREATED)
    assert len({a, b}) == 1
    assert repr(a) == "<Ticket 1 '#67001 Welcome to Zammad!'>"


def test_merge_keeps_local_changes_and_earlier_keys() -> None:
    t = load(zo.Ticket, rec.TICKET_EXPANDED)
    t.title = "local"
    newer = {**rec.TICKET_PLAIN, "note": "server note", "updated_at": "2024-01-01T00:00:00.000Z"}
    t._merge(newer, keep=t._dirty_names())
    assert t.title == "local"
    assert t.note == "server note"
    assert t.article_ids == [1]  # the plain record lacks article_ids; the earlier value stays
    assert t.view()["state"] == "open"
    assert t.changes() == {"title": "local"}


def test_meta_describes_fields_and_relations_for_the_query_layer() -> None:
    meta = zo.Ticket._meta
    assert zo.TicketArticle._meta.fields["from_"].wire == "from"
    assert meta.relations["state"].target == "TicketState"
    assert meta.relations["owner"].lookup == "login"
    assert meta.relations["articles"].kind == "reverse"
    assert meta.relations["articles"].search == "article"
    assert meta.search_key == "tickets"
    assert meta.asset_key == "Ticket"
    assert meta.searchable
    assert zo.TicketArticle._meta.asset_key == "TicketArticle"
    assert meta.fields["number"].read_only
    assert not meta.fields["title"].read_only


def test_meta_finds_a_relation_by_name_or_by_search_prefix() -> None:
    meta = zo.Ticket._meta
    assert meta.relation("articles") is meta.relations["articles"]
    assert meta.relation("article") is meta.relations["articles"]  # the search prefix
    assert meta.relation("state") is meta.relations["state"]
    assert meta.relation("title") is None


def test_merge_drops_expanded_names_whose_ids_changed() -> None:
    t = load(zo.Ticket, rec.TICKET_EXPANDED)
    t._merge({**rec.TICKET_PLAIN, "state_id": 4})
    assert "state" not in t.view()  # "open" no longer describes state 4
    assert t.view()["group"] == "Users"  # group_id did not change


def test_extra_can_be_replaced_by_a_dict_only() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    t.extra = {"x": 1}
    assert t.x == 1
    with pytest.raises(errors.FieldError, match="extra must be a dict"):
        t.extra = [1]


def test_input_refuses_read_only_fields_except_input_only_ones() -> None:
    with pytest.raises(errors.FieldError, match=r"Ticket\.number is read-only"):
        zo.Ticket._input({"number": "1"})
    with pytest.raises(errors.FieldError, match="read-only"):
        zo.Role._input({"id": 3, "name": "clone"})
    assert zo.TicketArticle._input({"body": "b", "time_unit": "1.5"}) == {"body": "b", "time_unit": "1.5"}


def test_models_pickle_with_their_record_and_local_changes() -> None:
    import copy
    import pickle

    t = load(zo.Ticket, {**rec.TICKET_EXPANDED, "my_custom_field": 1})
    t.title = "changed"
    t.priority = "3 high"
    clone = pickle.loads(pickle.dumps(t))
    assert clone is not t
    assert clone == t
    assert clone.title == "changed"
    assert clone.view()["state"] == "open"
    assert clone.my_custom_field == 1
    assert clone.changes() == {"title": "changed", "priority": "3 high"}
    assert copy.copy(t).changes() == t.changes()
    err = pickle.loads(pickle.dumps(zo.Ticket.DoesNotExist("gone", status=404)))
    assert isinstance(err, zo.Ticket.DoesNotExist)
    assert err.status == 404


def test_articles_pickle_with_their_attachments() -> None:
    import pickle

    article = load(zo.TicketArticle, rec.ARTICLE_WITH_ATTACHMENTS)
    clone = pickle.loads(pickle.dumps(article))
    assert [a.filename for a in clone.attachments] == ["attachment.txt", "attachment.bin"]
    assert clone.attachments[0].article is clone


def test_computed_properties_are_read_only() -> None:
    role = load(zo.Role, rec.ROLE_EXPANDED)
    with pytest.raises(errors.FieldError, match=r"Role\.permissions is read-only"):
        role.permissions = ["admin"]
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    with pytest.raises(errors.FieldError, match="read-only"):
        t.weburl = "x"


def test_assigning_a_guess_customer_sends_it_as_the_id_field() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    t.customer = "guess:new@example.com"
    assert t.changes() == {"customer_id": "guess:new@example.com"}
    t.customer = 2
    assert t.changes() == {}
    u = load(zo.User, rec.USER_CREATED)
    u.roles = ["Agent", "Admin"]
    assert u.changes() == {"roles": ["Agent", "Admin"]}
    u.roles = [2]
    assert u.changes() == {"role_ids": [2]}
    with pytest.raises(errors.FieldError, match="expected a list"):
        u.roles = "Agent"


def test_every_relation_points_at_a_registered_model_and_a_declared_id_field() -> None:
    for model in registry.values():
        for rel in model._meta.relations.values():
            assert rel.target in registry, (model.__name__, rel.name)
            if rel.kind == "reverse":
                remote = model._meta.descriptors[rel.name].remote  # type: ignore[attr-defined]
                assert remote in registry[rel.target]._meta.fields
            else:
                assert rel.local in model._meta.fields, (model.__name__, rel.name)
            assert rel.name not in model._meta.fields
