"""Organizations (``/organizations``)."""

from __future__ import annotations

from zammad_orm.fields import ManyToMany, field
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["Organization"]


@model(
    endpoint="organizations",
    collection="organizations",
    capabilities=("list", "get", "create", "update", "delete", "search"),
    label="name",
)
class Organization(Tracked):
    """A customer organization."""

    name: str | None = field()
    shared: bool | None = field()
    domain: str | None = field()
    domain_assignment: bool | None = field()
    active: bool | None = field()
    vip: bool | None = field()
    note: str | None = field()
    member_ids: list[int] = field(factory=list)
    secondary_member_ids: list[int] = field(factory=list)

    members = ManyToMany("User", "member_ids", search="members", doc="The users of the organization.")
    secondary_members = ManyToMany("User", "secondary_member_ids", doc="Users with it as a secondary org.")
