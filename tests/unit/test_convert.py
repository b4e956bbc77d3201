# ruff: noqa: RUF009 - field() is attrs.field() with metadata; ruff only knows attrs' own name
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zammad_orm.convert import format_datetime, from_wire, json_copy, parse_datetime, structure, to_wire
from zammad_orm.errors import DecodeError
from zammad_orm.fields import field


def test_zammad_timestamp_parses_to_aware_utc_and_formats_back_identically() -> None:
    parsed = parse_datetime("2024-03-18T22:50:03.732Z")
    assert parsed == datetime(2024, 3, 18, 22, 50, 3, 732000, tzinfo=timezone.utc)
    assert parsed.tzinfo is not None
    assert format_datetime(parsed) == "2024-03-18T22:50:03.732Z"


def test_format_datetime_converts_other_zones_to_utc_milliseconds() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_datetime(datetime(2024, 1, 1, 1, 0, 0, 123456, tzinfo=cet)) == "2024-01-01T00:00:00.123Z"


def test_bad_timestamp_is_a_decode_error_naming_the_value() -> None:
    with pytest.raises(DecodeError, match="yesterday"):
        parse_datetime("yesterday")


def test_decimal_and_date_conversion_both_ways() -> None:
    assert from_wire(Decimal, "12.3") == Decimal("12.3")
    assert to_wire(Decimal("0.0")) == "0.0"
    assert from_wire(date, "2024-05-01") == date(2024, 5, 1)
    assert to_wire(date(2024, 5, 1)) == "2024-05-01"
    assert from_wire(Decimal | None, None) is None
    with pytest.raises(DecodeError):
        from_wire(Decimal, "twelve")


def test_json_copy_shares_nothing_mutable() -> None:
    original = {"a": [1, {"b": 2}], "c": "x"}
    copied = json_copy(original)
    copied["a"][1]["b"] = 3
    assert original == {"a": [1, {"b": 2}], "c": "x"}


@attrs.define
class _Thing:
    name: str | None = field()
    from_: str | None = field(wire="from")
    at: datetime | None = field()
    prefs: dict[str, Any] = field(factory=dict)
    extra: dict[str, Any] = attrs.field(factory=dict)


def test_structure_renames_wire_keys_and_collects_unknown_keys_in_extra() -> None:
    record = {"name": "n", "from": "me", "at": "2024-03-18T22:50:03.732Z", "custom": 1, "expanded": "x"}
    thing = structure(_Thing, record, skip=frozenset({"expanded"}))
    assert thing.from_ == "me"
    assert thing.at == datetime(2024, 3, 18, 22, 50, 3, 732000, tzinfo=timezone.utc)
    assert thing.extra == {"custom": 1}


def test_structured_containers_are_independent_of_the_record() -> None:
    record = {"prefs": {"nested": {"k": 1}}}
    thing = structure(_Thing, record)
    thing.prefs["nested"]["k"] = 2
    assert record["prefs"]["nested"]["k"] == 1


def test_wrong_types_from_the_server_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="_Thing"):
        structure(_Thing, {"at": 17})


@given(st.datetimes(timezones=st.just(timezone.utc)))
def test_datetimes_round_trip_at_millisecond_precision(value: datetime) -> None:
    expected = value.replace(microsecond=value.microsecond // 1000 * 1000)
    text = format_datetime(value)
    assert text.endswith("Z")
    assert len(text) == 24
    assert parse_datetime(text) == expected
    assert format_datetime(parse_datetime(text)) == text


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2))
def test_decimals_round_trip_through_their_string_form(value: Decimal) -> None:
    assert from_wire(Decimal, to_wire(value)) == value
