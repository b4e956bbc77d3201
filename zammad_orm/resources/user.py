"""Users (``/users``): agents, customers, admins, and Zammad's user 1 (the "unassigned" owner)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from zammad_orm.fields import ForeignKey, ManyToMany, field
from zammad_orm.manager import Manager
from zammad_orm.models import model, registry
from zammad_orm.resources._common import Tracked

if TYPE_CHECKING:
    from zammad_orm.resources.group import Group

__all__ = ["UNASSIGNED_USER_ID", "User", "UserManager"]

#: Zammad's user 1 (login ``-``): ``owner_id == 1`` means the ticket is unassigned.
UNASSIGNED_USER_ID = 1


class UserManager(Manager["User"]):
    """The ``client.users`` collection."""

    def me(self) -> User:
        """Return the authenticated (or impersonated) user (``/users/me``)."""
        return self.client.load(self.model, self.client.request("GET", "users/me"))


@model(
    endpoint="users",
    collection="users",
    capabilities=("list", "get", "create", "update", "delete", "search"),
    label="login",
    manager=UserManager,
    write_only=("password",),
)
class User(Tracked):
    """A Zammad user.

    ``ticket.owner`` of an unassigned ticket is the user with id 1 (login ``-``); test it with
    :attr:`is_unassigned`.
    """

    UNASSIGNED_ID: ClassVar[int] = UNASSIGNED_USER_ID
    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = (
        "authorizations",
        "created_by",
        "groups",
        "organization",
        "organizations",
        "overview_sortings",
        "roles",
        "two_factor_preferences",
        "updated_by",
    )

    organization_id: int | None = field()
    login: str | None = field()
    firstname: str | None = field()
    lastname: str | None = field()
    email: str | None = field()
    image: str | None = field(read_only=True)
    image_source: str | None = field(read_only=True)
    web: str | None = field()
    phone: str | None = field()
    fax: str | None = field()
    mobile: str | None = field()
    department: str | None = field()
    street: str | None = field()
    zip: str | None = field()
    city: str | None = field()
    country: str | None = field()
    address: str | None = field()
    vip: bool | None = field()
    verified: bool | None = field()
    active: bool | None = field()
    note: str | None = field()
    last_login: datetime | None = field(read_only=True)
    source: str | None = field()
    login_failed: int | None = field(read_only=True)
    out_of_office: bool | None = field()
    out_of_office_start_at: date | None = field()
    out_of_office_end_at: date | None = field()
    out_of_office_replacement_id: int | None = field()
    preferences: dict[str, Any] = field(factory=dict)
    role_ids: list[int] = field(factory=list)
    two_factor_preference_ids: list[int] = field(factory=list, read_only=True)
    organization_ids: list[int] = field(factory=list)
    authorization_ids: list[int] = field(factory=list, read_only=True)
    overview_sorting_ids: list[int] = field(factory=list, read_only=True)
    group_ids: dict[str, list[str]] = field(factory=dict)

    organization = ForeignKey("Organization", "organization_id", doc="The primary organization, or None.")
    organizations = ManyToMany("Organization", "organization_ids", doc="The secondary organizations.")
    roles = ManyToMany("Role", "role_ids", search="role_ids", doc="The user's roles.")
    out_of_office_replacement = ForeignKey("User", "out_of_office_replacement_id")

    @property
    def is_unassigned(self) -> bool:
        """Whether this is Zammad's user 1, which stands for "no owner"."""
        return self.id == UNASSIGNED_USER_ID

    @property
    def fullname(self) -> str:
        """First and last name joined (the login when both are empty)."""
        name = " ".join(p for p in (self.firstname, self.lastname) if p and p != "-")
        return name or (self.login or "")

    @property
    def groups(self) -> dict[Group, list[str]]:
        """The user's groups with access levels (``{Group: ["full"]}``), from ``group_ids``."""
        group_model = registry["Group"]
        client = self.client
        return {
            client.resolve(group_model, int(gid)): list(access)  # type: ignore[misc]
            for gid, access in self.group_ids.items()
        }
