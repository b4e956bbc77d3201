"""Ticket priorities (``/ticket_priorities``)."""

from __future__ import annotations

from typing import Any, ClassVar

from zammad_orm.fields import field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.manager import Manager
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["TicketPriority", "TicketPriorityManager"]


class TicketPriorityManager(Manager["TicketPriority"]):
    """The ``client.priorities`` collection."""

    def create(self, /, name: str | None = None, **kwargs: Any) -> TicketPriority:
        """Create a new priority.

        Args:
            name: The priority name (``"4 urgent"``).
            kwargs: More priority properties.

        Returns:
            The new priority.

        """
        if name is not None:
            kwargs["name"] = name
        return super().create(**kwargs)


@model(
    endpoint="ticket_priorities",
    table=True,
    collection="priorities",
    capabilities=("list", "get", "create", "update", "delete"),
    label="name",
    server_class="Ticket::Priority",
    manager=TicketPriorityManager,
)
class TicketPriority(Tracked):
    """A ticket priority: ``1 low``, ``2 normal``, ``3 high``, ..."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    name: str | None = field()
    default_create: bool | None = field()
    ui_icon: str | None = field()
    ui_color: str | None = field()
    note: str | None = field()
    active: bool | None = field()
