"""Object manager attributes (``/object_manager_attributes``): Zammad's custom fields."""

from __future__ import annotations

from typing import Any, ClassVar

from zammad_orm.fields import field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.manager import Manager
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["ObjectAttribute", "ObjectAttributeManager"]


class ObjectAttributeManager(Manager["ObjectAttribute"]):
    """The ``client.object_attributes`` collection."""

    def execute_migrations(self) -> None:
        """Apply pending attribute changes (new attributes become columns of their objects)."""
        self.client.request("POST", "object_manager_attributes_execute_migrations")

    def discard_changes(self) -> None:
        """Drop pending attribute changes."""
        self.client.request("POST", "object_manager_attributes_discard_changes")


@model(
    endpoint="object_manager_attributes",
    collection="object_attributes",
    capabilities=("list", "get", "create", "update", "delete"),
    label="name",
    manager=ObjectAttributeManager,
    server_class="ObjectManager::Attribute",
)
class ObjectAttribute(Tracked):
    """A custom attribute of Ticket, User, Organization or Group."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    name: str | None = field()
    display: str | None = field()
    object: str | None = field()
    data_type: str | None = field()
    data_option: dict[str, Any] = field(factory=dict)
    data_option_new: dict[str, Any] = field(factory=dict)
    editable: bool | None = field()
    active: bool | None = field()
    screens: dict[str, Any] = field(factory=dict)
    to_create: bool | None = field(read_only=True)
    to_migrate: bool | None = field(read_only=True)
    to_delete: bool | None = field(read_only=True)
    to_config: bool | None = field(read_only=True)
    position: int | None = field()
