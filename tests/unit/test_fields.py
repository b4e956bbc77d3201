from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Optional, Union

import attrs
import pytest

from zammad_orm.errors import FieldError
from zammad_orm.fields import (
    FIELD_KEY,
    FieldMeta,
    ForeignKey,
    ManyToMany,
    Reverse,
    check_value,
    field,
    union_members,
)


def test_field_stores_zammad_metadata_in_attrs() -> None:
    @attrs.define
    class A:
        x: str | None = field(wire="y", searchable=False, read_only=True)

    meta = attrs.fields(A).x.metadata[FIELD_KEY]
    assert meta == FieldMeta(wire="y", searchable=False, read_only=True)
    assert A().x is None


@pytest.mark.parametrize(
    ("tp", "value"),
    [
        (str | None, "x"),
        (str | None, None),
        (int | None, 3),
        (bool | None, True),
        (list[int], [1, 2]),
        (dict[str, Any], {"a": 1}),
        (datetime | None, datetime(2024, 1, 1, tzinfo=timezone.utc)),
        (date | None, date(2024, 1, 1)),
        (Any, object()),
    ],
)
def test_check_value_accepts_values_of_the_declared_type(tp: Any, value: Any) -> None:
    assert check_value("f", tp, value) is value


@pytest.mark.parametrize(
    ("tp", "value", "message"),
    [
        (str | None, 1, "expected str | None, got int"),
        (int | None, True, "got bool"),
        (int | None, "3", "got str"),
        (list[int], (1,), "expected list"),
        (datetime | None, datetime(2024, 1, 1), "naive datetime"),
        (Decimal | None, "abc", "not a decimal"),
    ],
)
def test_check_value_refuses_wrong_types_with_a_field_error(tp: Any, value: Any, message: str) -> None:
    with pytest.raises(FieldError, match=message) as info:
        check_value("Ticket.f", tp, value)
    assert "Ticket.f" in str(info.value)
    assert isinstance(info.value, TypeError)


def test_decimal_fields_accept_numbers_and_numeric_strings() -> None:
    assert check_value("t", Decimal | None, 1.5) == Decimal("1.5")
    assert check_value("t", Decimal | None, 2) == Decimal("2")
    assert check_value("t", Decimal | None, "0.25") == Decimal("0.25")


def test_relation_descriptors_describe_themselves() -> None:
    class Owner:
        state = ForeignKey("TicketState", "state_id")
        owner = ForeignKey("User", "owner_id")
        roles = ManyToMany("Role", "role_ids")
        articles = Reverse("TicketArticle", "ticket_id", path="x/{id}", search="article")

    assert Owner.state.info().kind == "fk"
    assert Owner.state.info().lookup == "name"
    assert Owner.state.info().search == "state"
    assert Owner.owner.info().lookup == "login"
    assert Owner.roles.info().kind == "m2m"
    assert Owner.roles.info().local == "role_ids"
    info = Owner.articles.info()
    assert (info.kind, info.local, info.search) == ("reverse", None, "article")


def test_relation_descriptor_delegates_to_the_instance() -> None:
    seen: list[Any] = []

    class Owner:
        state = ForeignKey("TicketState", "state_id")

        def _get_relation(self, relation: Any) -> Any:
            return ("got", relation.name)

        def _set_relation(self, relation: Any, value: Any) -> None:
            seen.append((relation.name, value))

    o = Owner()
    assert o.state == ("got", "state")
    o.state = "open"
    assert seen == [("state", "open")]


def test_reverse_relations_cannot_be_assigned() -> None:
    class Owner:
        articles = Reverse("TicketArticle", "ticket_id", path="x/{id}")

    with pytest.raises(FieldError, match="reverse relation"):
        Owner().articles = []


def test_union_members_flattens_optional_and_union_annotations() -> None:
    assert union_members(int | None) == (int, type(None))
    assert union_members(Optional[int]) == (int, type(None))  # noqa: UP045
    assert union_members(Union[int, Optional[str]]) == (int, str, type(None))  # noqa: UP007, UP045
    assert union_members(list[int] | None) == (list[int], type(None))
    assert union_members(str) == (str,)
