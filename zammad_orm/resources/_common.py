"""Attributes shared by most Zammad resources: who created/updated the record, and when."""

# ruff: noqa: RUF009 - field() is attrs.field() with metadata; ruff only knows attrs' own name

from __future__ import annotations

from datetime import datetime

import attrs

from zammad_orm.fields import ForeignKey, field
from zammad_orm.models import Model

__all__ = ["Tracked"]


@attrs.define(slots=True, eq=False, repr=False, kw_only=True, on_setattr=attrs.setters.NO_OP)
class Tracked(Model):
    """A record with ``created_by_id``/``updated_by_id`` and ``created_at``/``updated_at``."""

    created_by_id: int | None = field(read_only=True)
    updated_by_id: int | None = field(read_only=True)
    created_at: datetime | None = field(read_only=True)
    updated_at: datetime | None = field(read_only=True)

    created_by = ForeignKey("User", "created_by_id", doc="The user who created the record.")
    updated_by = ForeignKey("User", "updated_by_id", doc="The user who last updated the record.")
