"""Mentions (``/mentions``): users subscribed to a ticket."""

from __future__ import annotations

from typing import Any

from zammad_orm import errors
from zammad_orm.fields import ForeignKey, field
from zammad_orm.manager import Manager
from zammad_orm.models import Model, model
from zammad_orm.resources._common import Tracked
from zammad_orm.resources.user import User

__all__ = ["Mention", "MentionManager"]


class MentionManager(Manager["Mention"]):
    """The ``client.mentions`` collection."""

    def for_ticket(self, ticket: Model | int) -> list[Mention]:
        """Return the mentions (subscriptions) of a ticket, newest first."""
        tid = ticket._require_id() if isinstance(ticket, Model) else ticket
        reply = self.client.request(
            "GET", "mentions", params={"mentionable_type": "Ticket", "mentionable_id": tid}
        )
        if not isinstance(reply, dict) or not isinstance(reply.get("mentions"), list):
            raise errors.DecodeError(f"unexpected reply of /mentions: {reply!r}")
        return [self.client.load(self.model, r) for r in reply["mentions"]]

    def create(self, /, **fields: Any) -> Mention:
        """Subscribe the current (or impersonated) user to a ticket.

        Args:
            fields: ``mentionable_type="Ticket"`` and ``mentionable_id=<ticket id>``.

        Returns:
            The new mention. (Some Zammad versions answer ``true`` instead of the record; the mention
            is then looked up among the ticket's mentions.)

        """
        payload = self.model._input(fields)
        reply = self.client.request("POST", self.endpoint, json=payload)
        if isinstance(reply, dict):
            return self.client.load(self.model, reply)
        me = User.objects.using(self.client).me()
        mine = [m for m in self.for_ticket(int(payload.get("mentionable_id", 0))) if m.user_id == me.id]
        if not mine:
            raise errors.DecodeError(f"the server acknowledged the mention with {reply!r} but lists none")
        return mine[0]  # newest first

    def iter(self, *args: Any, **params: Any) -> Any:
        """Mentions are listed per ticket: use :meth:`for_ticket`."""
        raise self.model._meta.unsupported("list", "Zammad lists mentions per ticket: use for_ticket(ticket)")


@model(
    endpoint="mentions",
    collection="mentions",
    capabilities=("create", "delete"),  # listed per ticket only (for_ticket); no GET or PUT of one
    label="mentionable_id",
    manager=MentionManager,
)
class Mention(Tracked):
    """A user's subscription to a ticket."""

    mentionable_type: str | None = field()
    mentionable_id: int | None = field()
    user_id: int | None = field()

    user = ForeignKey("User", "user_id", doc="The subscribed user.")
