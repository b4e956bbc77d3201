"""Roles (``/roles``): Admin, Agent, Customer, ... (Zammad has no route to delete a role)."""

from __future__ import annotations

from typing import Any, ClassVar

from zammad_orm.fields import field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["Role"]


@model(
    endpoint="roles",
    table=True,
    collection="roles",
    capabilities=("list", "get", "create", "update"),  # no route to delete; search: 6.5+ only
    label="name",
    write_only=("permissions",),
)
class Role(Tracked):
    """A role grants permissions (and optionally group access) to its users."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = (
        "created_by",
        "groups",
        "knowledge_base_permissions",
        "permissions",
        "updated_by",
    )

    name: str | None = field()
    preferences: dict[str, Any] = field(factory=dict)
    default_at_signup: bool | None = field()
    active: bool | None = field()
    note: str | None = field()
    permission_ids: list[int] = field(factory=list)
    knowledge_base_permission_ids: list[int] = field(factory=list, read_only=True)
    group_ids: dict[str, list[str]] = field(factory=dict)

    @property
    def permissions(self) -> list[str]:
        """The names of the role's permissions (``["admin", "ticket.agent"]``).

        Zammad names them only in the expanded form; the first access reloads the role with
        ``expand=true`` (one request) when the loaded record lacks them, then keeps them.
        """
        names = self._raw.get("permissions")
        if not isinstance(names, list):
            self._load_expanded()
            names = self._raw.get("permissions")
        return [str(n) for n in names] if isinstance(names, list) else []
