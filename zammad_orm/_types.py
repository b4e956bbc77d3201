"""Type aliases for JSON data as it crosses the wire, shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JSONScalar: TypeAlias = str | int | float | bool | None
JSON: TypeAlias = JSONScalar | list[Any] | dict[str, Any]
JSONObject: TypeAlias = dict[str, Any]
StringKeyMapping: TypeAlias = Mapping[str, Any]

__all__ = ["JSON", "JSONObject", "JSONScalar", "StringKeyMapping"]
