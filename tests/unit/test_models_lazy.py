"""Lazy structuring: a loaded instance reads an attribute from its raw record when it is first used."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors
from zammad_orm.models import Model

from . import test_models_recorded_data as rec

UTC = timezone.utc


def load(model: type[Model], record: dict[str, Any]) -> Any:
    return model._from_record(record, None)


def test_a_bad_value_is_reported_when_the_attribute_is_read() -> None:
    t = load(zo.Ticket, {**rec.TICKET_PLAIN, "close_at": "yesterday", "owner_id": [1]})
    assert t.id == 1
    assert t.title == "Welcome to Zammad!"  # the rest of the record reads fine
    with pytest.raises(errors.DecodeError, match=r"Ticket\.close_at.*yesterday"):
        _ = t.close_at
    with pytest.raises(errors.DecodeError, match=r"Ticket\.owner_id"):
        _ = t.owner_id
    assert t.view()["close_at"] == "yesterday"


def test_absent_keys_read_as_defaults_and_factories_are_per_instance() -> None:
    a = load(zo.User, {"id": 901, "login": "a"})
    b = load(zo.User, {"id": 902, "login": "b"})
    assert a.firstname is None
    assert a.role_ids == []
    assert a.preferences == {}
    a.role_ids.append(3)
    assert b.role_ids == []
    assert a.changes() == {"role_ids": [3]}
    assert b.changes() == {}


def test_values_read_are_copies_of_the_record() -> None:
    u = load(zo.User, rec.USER_ME_ADMIN)
    u.preferences["locale"] = "xx-xx"
    assert u.view()["preferences"].get("locale") != "xx-xx"
    again = load(zo.User, rec.USER_ME_ADMIN)
    assert again.preferences.get("locale") != "xx-xx"


def test_custom_attribute_names_are_known_at_load_without_reading_extra() -> None:
    load(zo.Organization, {**rec.ORGANIZATION_CREATED, "lazy_custom_key_17": "x"})
    assert "lazy_custom_key_17" in zo.Organization._meta.custom_keys
    assert zo.Organization._input({"lazy_custom_key_17": "y"}) == {"lazy_custom_key_17": "y"}


def test_merge_refreshes_read_and_unread_attributes_and_keeps_local_changes() -> None:
    u = load(zo.User, rec.USER_ME_ADMIN)
    assert u.firstname == rec.USER_ME_ADMIN["firstname"]  # read, not changed
    u.lastname = "Local"
    newer = {"id": u.id, "firstname": "Server", "lastname": "Server", "email": "new@example.com"}
    u._merge(newer, keep=u._dirty_names())
    assert u.firstname == "Server"  # read before the merge: refreshed
    assert u.email == "new@example.com"  # never read before the merge
    assert u.lastname == "Local"
    assert u.login == rec.USER_ME_ADMIN["login"]  # absent from the partial record: the earlier value
    assert u.changes() == {"lastname": "Local"}


def test_merge_keeps_local_custom_attribute_changes() -> None:
    t = load(zo.Ticket, {**rec.TICKET_PLAIN, "my_custom_field": "a", "other_custom": 1})
    t.my_custom_field = "local"
    t._merge({"id": 1, "my_custom_field": "server", "other_custom": 2}, keep=t._dirty_names())
    assert t.extra == {"my_custom_field": "local", "other_custom": 2}
    assert t.changes() == {"my_custom_field": "local"}


def test_an_unread_object_pickles_and_reads_after_unpickling() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    clone = pickle.loads(pickle.dumps(t))
    assert clone.close_at == datetime(2023, 10, 1, 21, 48, 12, 960000, tzinfo=UTC)
    assert clone.title == "Welcome to Zammad!"
    assert clone.changes() == {}


def test_objects_built_by_hand_are_complete() -> None:
    t = zo.Ticket(title="new", group_id=1)
    assert t.view() == {}
    assert t.title == "new"
    assert t.state_id is None
    assert t.preferences == {}
    assert t.changes() == {"title": "new", "group_id": 1}
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = t.nothing_here


def test_bookkeeping_dicts_are_made_when_first_used_and_still_track_changes() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    for name in ("_rel", "_pending"):
        with pytest.raises(AttributeError):
            object.__getattribute__(t, name)  # not made by loading
    assert t.changes() == {}
    t._merge({"id": 1, "title": "merged"})
    with pytest.raises(AttributeError):
        object.__getattribute__(t, "_pending")  # reading changes or merging makes none either
    t.state = "closed"  # a name: pending until saved
    assert t.changes() == {"state": "closed"}
    assert t.is_dirty
    clone = pickle.loads(pickle.dumps(t))
    assert clone.changes() == {"state": "closed"}
    assert clone.title == "merged"


def test_an_unpickled_object_without_pending_names_has_no_changes() -> None:
    t = load(zo.Ticket, rec.TICKET_PLAIN)
    clone = pickle.loads(pickle.dumps(t))
    assert clone.changes() == {}
    clone.title = "changed"
    assert clone.changes() == {"title": "changed"}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("title", 5, "5"),  # a number where a string belongs: converted as before
        ("number", None, None),
        ("owner_id", 7, 7),
        ("title", "x", "x"),
    ],
)
def test_plain_values_read_like_the_converter_reads_them(field: str, value: Any, expected: Any) -> None:
    t = load(zo.Ticket, {**rec.TICKET_PLAIN, field: value})
    got = getattr(t, field)
    assert got == expected
    assert type(got) is type(expected)


def test_a_bool_where_an_id_belongs_is_a_decode_error() -> None:
    t = load(zo.Ticket, {**rec.TICKET_PLAIN, "owner_id": True})  # the converter no longer makes it 1
    with pytest.raises(zo.DecodeError, match=r"Ticket\.owner_id"):
        _ = t.owner_id
