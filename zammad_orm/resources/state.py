"""Ticket states (``/ticket_states``) and their state types (no endpoint; seeded constants)."""

from __future__ import annotations

from typing import Any, ClassVar

from zammad_orm.fields import ForeignKey, field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.manager import Manager
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["StateType", "TicketState", "TicketStateManager"]


class TicketStateManager(Manager["TicketState"]):
    """The ``client.states`` collection."""

    def create(
        self, /, name: str | None = None, state_type_id: int | None = None, **kwargs: Any
    ) -> TicketState:
        """Create a new state.

        Args:
            name: The state name.
            state_type_id: The id of its :class:`StateType` (or pass ``state_type=``).
            kwargs: More state properties.

        Returns:
            The new state.

        """
        if name is not None:
            kwargs["name"] = name
        if state_type_id is not None:
            kwargs["state_type_id"] = state_type_id
        return super().create(**kwargs)


@model(endpoint=None, collection="state_types", capabilities=("list", "get"), label="name")
class StateType(Tracked):
    """The category of a ticket state (``new``, ``open``, ``pending reminder``, ``closed``, ...).

    Zammad has no REST endpoint for state types; they are the seeded constants below, named from the
    expanded form of a state when the server sends it.
    """

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    name: str | None = field()
    note: str | None = field()

    #: The state types of every Zammad installation (spec §7.1).
    BUILTIN: ClassVar[dict[int, dict[str, Any]]] = {
        i + 1: {"id": i + 1, "name": n}
        for i, n in enumerate(
            ["new", "open", "pending reminder", "pending action", "closed", "merged", "removed"]
        )
    }


@model(
    endpoint="ticket_states",
    table=True,
    collection="states",
    capabilities=("list", "get", "create", "update", "delete"),
    label="name",
    server_class="Ticket::State",
    manager=TicketStateManager,
)
class TicketState(Tracked):
    """A ticket state (``/ticket_states``): ``new``, ``open``, ``closed``, ..."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = ("created_by", "state_type", "updated_by")

    name: str | None = field()
    state_type_id: int | None = field()
    next_state_id: int | None = field()
    ignore_escalation: bool | None = field()
    default_create: bool | None = field()
    default_follow_up: bool | None = field()
    note: str | None = field()
    active: bool | None = field()

    state_type = ForeignKey("StateType", "state_type_id", doc="The category of the state.")
    next_state = ForeignKey(
        "TicketState", "next_state_id", doc="The state a pending state moves to (``None`` if none)."
    )
