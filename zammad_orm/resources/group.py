"""Groups (``/groups``): the queues tickets belong to."""

from __future__ import annotations

from typing import ClassVar

from zammad_orm.fields import ForeignKey, ManyToMany, field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["Group"]


@model(
    endpoint="groups",
    table=True,
    collection="groups",
    capabilities=("list", "get", "create", "update", "delete"),  # search: 6.5+ only
    label="name",
)
class Group(Tracked):
    """A ticket group (``Users``, ``Sales::Europe``)."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = (
        "created_by",
        "email_address",
        "parent",
        "signature",
        "updated_by",
        "users",
    )

    signature_id: int | None = field()
    email_address_id: int | None = field()
    name: str | None = field()
    name_last: str | None = field(read_only=True)
    parent_id: int | None = field()
    assignment_timeout: int | None = field()
    follow_up_possible: str | None = field()
    reopen_time_in_days: int | None = field()
    follow_up_assignment: bool | None = field()
    active: bool | None = field()
    shared_drafts: bool | None = field()
    note: str | None = field()
    user_ids: list[int] = field(factory=list)

    users = ManyToMany("User", "user_ids", doc="The agents with access to the group.")
    parent_group = ForeignKey("Group", "parent_id", search="parent", doc="The parent group, or None.")
