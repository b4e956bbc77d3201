"""``zammad_orm._json.loads`` means what ``json.loads`` means, with orjson or without it."""

from __future__ import annotations

import json
import math

import pytest

from zammad_orm import _json

TEXTS = [
    b'{"id": 1, "title": "Gr\xc3\xbc\xc3\x9fe", "tags": ["a", "b"], "x": null, "ok": true}',
    b'{"big": 123456789012345678901234567890}',  # beyond 64 bits: orjson refuses, json decodes
    b'{"lone": "\\ud800"}',  # a lone surrogate escape: orjson refuses, json decodes
    b"[1.5, -0.0, 1e300]",
    '{"text": "already a str"}',
    b'{"dup": 1, "dup": 2}',
]


@pytest.mark.parametrize("text", TEXTS)
def test_loads_agrees_with_the_standard_library(text: bytes | str) -> None:
    assert _json.loads(text) == json.loads(text)


def test_nan_decodes_as_the_standard_library_decodes_it() -> None:
    assert math.isnan(_json.loads(b'{"x": NaN}')["x"])


@pytest.mark.parametrize("text", [b"", b"{", b"<html>", b'{"a": 1,}', b"\xff\xfe\x00"])
def test_what_is_not_json_raises_value_error(text: bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        _json.loads(text)


def test_without_orjson_the_standard_library_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "fast", None)
    for text in TEXTS:
        assert _json.loads(text) == json.loads(text)


def test_a_long_digit_run_in_a_string_still_decodes_exactly() -> None:
    text = b'{"message_id": "12345678901234567890123@example.com", "n": 18446744073709551617}'
    assert _json.loads(text) == json.loads(text)
    assert _json.loads(text)["n"] == 18446744073709551617
