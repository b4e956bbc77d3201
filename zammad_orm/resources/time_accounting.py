"""Time accounting (``/time_accountings``) and accounting types (``/time_accounting/types``)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

from zammad_orm.fields import ForeignKey, field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["TimeAccounting", "TimeAccountingType"]


@model(
    endpoint="time_accounting/types",
    table=True,
    collection="time_accounting_types",
    capabilities=("list", "get", "create", "update"),  # Zammad cannot delete them
    label="name",
    server_class="Ticket::TimeAccounting::Type",
    asset_key="TicketTimeAccountingType",  # Rails' to_app_model of Ticket::TimeAccounting::Type
)
class TimeAccountingType(Tracked):
    """A kind of accounted time (``billable``, ``travel``, ...). Zammad cannot delete them."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    name: str | None = field()
    note: str | None = field()
    active: bool | None = field()


@model(
    endpoint="time_accountings",
    collection="time_accountings",
    capabilities=("list", "get", "create", "update", "delete"),
    label="time_unit",
    server_class="Ticket::TimeAccounting",
    asset_key="TicketTimeAccounting",  # Rails' to_app_model of Ticket::TimeAccounting
)
class TimeAccounting(Tracked):
    """Time accounted on a ticket (optionally on one of its articles).

    Relations: ``ticket``, ``ticket_article`` (or None) and ``type`` (a :class:`TimeAccountingType`, or
    None).
    """

    ticket_id: int | None = field()
    ticket_article_id: int | None = field()
    time_unit: Decimal | None = field()
    type_id: int | None = field()

    ticket = ForeignKey("Ticket", "ticket_id", doc="The ticket the time was accounted on.")
    ticket_article = ForeignKey("TicketArticle", "ticket_article_id", doc="The article, or None.")
    type = ForeignKey("TimeAccountingType", "type_id", doc="The accounting type, or None.")

    def _touches(self) -> Iterable[tuple[str, Any]]:
        # The ticket's time_unit is the sum of its accountings; the article shows its own.
        return [("Ticket", self.ticket_id), ("TicketArticle", self.ticket_article_id)]
