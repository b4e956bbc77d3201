"""Ticket QuerySets: the state categories ``open()``, ``closed()`` and ``pending()``.

Zammad groups ticket states by their *state type* (spec §7.1, ``db/seeds/ticket_state_types.rb``);
its own logic counts a ticket as open when the type of its state is ``new``, ``open``, ``pending
reminder`` or ``pending action``. The shortcuts filter by those type names, so they keep meaning the
same when an admin adds states (``waiting for customer`` of type ``pending action`` is pending and open):

* ``open()``: state types ``new``, ``open``, ``pending reminder``, ``pending action`` (in a fresh
  Zammad the states new, open, pending reminder, pending close);
* ``pending()``: state types ``pending reminder``, ``pending action`` (pending reminder, pending close);
* ``closed()``: state type ``closed`` (closed).

``merged`` and ``removed`` tickets are in none of them. Zammad's search index holds the ticket's state
but not its state's type, so each shortcut is matched on the states (read once per client) and sent as
``state_id`` ids: ``Ticket.objects.open()`` → ``state_id:1 OR state_id:2 OR state_id:3 OR state_id:7``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from zammad_orm.manager import Manager
from zammad_orm.query import QuerySet

if TYPE_CHECKING:
    from zammad_orm.resources.ticket import Ticket  # noqa: F401 - named in the string "Ticket" below

__all__ = ["STATE_CATEGORIES", "TicketQueryManager", "TicketQuerySet"]

#: The state types of each shortcut, by the shortcut's name.
STATE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "open": ("new", "open", "pending reminder", "pending action"),
    "pending": ("pending reminder", "pending action"),
    "closed": ("closed",),
}


@attrs.frozen(eq=False, repr=False)
class TicketQuerySet(QuerySet["Ticket"]):
    """A QuerySet of tickets, with the state categories as filters."""

    def open(self) -> TicketQuerySet:
        """Return the tickets whose state type is new, open, pending reminder or pending action."""
        return self._category("open")

    def pending(self) -> TicketQuerySet:
        """Return the tickets whose state is of type ``pending reminder`` or ``pending action``."""
        return self._category("pending")

    def closed(self) -> TicketQuerySet:
        """Return the tickets whose state is of type ``closed`` (not ``merged``, not ``removed``)."""
        return self._category("closed")

    def _category(self, name: str) -> TicketQuerySet:
        found: Any = self.filter(state__state_type__name__in=list(STATE_CATEGORIES[name]))
        return found  # type: ignore[no-any-return]


class TicketQueryManager(Manager["Ticket"]):
    """The QuerySet entry points of ``client.tickets``: every QuerySet is a :class:`TicketQuerySet`."""

    def get_queryset(self) -> TicketQuerySet:
        """Return a new ticket QuerySet over this collection."""
        return TicketQuerySet(self.model, self._client)

    def open(self) -> TicketQuerySet:
        """Return the open tickets (state types new, open, pending reminder, pending action)."""
        return self.get_queryset().open()

    def pending(self) -> TicketQuerySet:
        """Return the pending tickets (state types ``pending reminder``, ``pending action``)."""
        return self.get_queryset().pending()

    def closed(self) -> TicketQuerySet:
        """Return the closed tickets (state type ``closed``)."""
        return self.get_queryset().closed()
