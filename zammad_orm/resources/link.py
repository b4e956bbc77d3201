"""Links between tickets (``/links``): ``normal``, ``parent`` and ``child``."""

from __future__ import annotations

from datetime import datetime

from zammad_orm.fields import field
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["LINK_TYPES", "MIRROR", "Link"]

#: The link types Zammad knows.
LINK_TYPES = ("normal", "parent", "child")
#: How a link type reads from the other ticket's side.
MIRROR = {"normal": "normal", "parent": "child", "child": "parent"}


@model(endpoint=None, collection="links", capabilities=(), label="link_type_id")
class Link(Tracked):
    """A stored link row, as ``POST /links/add`` returns it.

    ``(link_type, source, target)`` reads "source is the *link_type* of target".
    """

    link_type_id: int | None = field(read_only=True)
    link_object_source_id: int | None = field(read_only=True)
    link_object_source_value: int | None = field(read_only=True)
    link_object_target_id: int | None = field(read_only=True)
    link_object_target_value: int | None = field(read_only=True)
    created_at: datetime | None = field(read_only=True)
    updated_at: datetime | None = field(read_only=True)
