"""Emulator routes for time accounting: ``/time_accountings`` and ``/time_accounting/types`` (spec §5.11).

An accounting is also reached below its ticket (``/tickets/:ticket_id/time_accountings``); every write
recomputes the ticket's ``time_unit``. The monthly reports of ``/time_accounting/log`` have their own module.
"""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import get_row, index, insert, lookup_id, show, show_many, update, values_from
from zammad_orm.testing.render import SPECS
from zammad_orm.testing.tickets import decimal_text, recompute_time, ticket_row

__all__ = ["ROUTES"]

TA = SPECS["TimeAccounting"]
TA_TYPE = SPECS["TimeAccountingType"]


def _ta_values(ctx: Ctx, data: dict[str, Any], ticket_id: int) -> dict[str, Any]:
    if "type" in data and "type_id" not in data:
        value = data.pop("type")
        data["type_id"] = lookup_id(ctx, "type", "TimeAccountingType", value) if value else None
    values: dict[str, Any] = {}
    if "time_unit" in data:
        values["time_unit"] = decimal_text(data["time_unit"], "time_unit", ctx)
    if "type_id" in data:
        type_id = data["type_id"]
        if type_id is not None:
            get_row(ctx, TA_TYPE, type_id)
        values["type_id"] = None if type_id is None else int(type_id)
    if data.get("ticket_article_id") is not None:
        article = ctx.one("SELECT ticket_id FROM ticket_articles WHERE id = ?", (data["ticket_article_id"],))
        if article is None or article[0] != ticket_id:
            ctx.unprocessable(f"Invalid value '{data['ticket_article_id']}' for field 'ticket_article_id'!")
        values["ticket_article_id"] = int(data["ticket_article_id"])
    return values


def _ta_row(ctx: Ctx, ident: Any, ticket_id: Any = None) -> Any:
    row = get_row(ctx, TA, ident)
    if ticket_id is not None and str(row["ticket_id"]) != str(ticket_id):
        ctx.not_found(TA.cls, ident)
    ticket_row(ctx, row["ticket_id"])
    return row


def ta_index(ctx: Ctx) -> Any:
    """``GET /time_accountings``."""
    ctx.require("admin.time_accounting", "ticket.agent")
    return index(ctx, TA, ids=False)


def ta_by_ticket(ctx: Ctx, ticket_id: str) -> Any:
    """``GET /tickets/:ticket_id/time_accountings``."""
    ctx.require("ticket.agent")
    ticket = ticket_row(ctx, ticket_id)
    rows = ctx.conn.execute(
        "SELECT * FROM time_accountings WHERE ticket_id = ? ORDER BY id", (ticket["id"],)
    ).fetchall()
    return show_many(ctx, TA, rows, ids=False)


def ta_show(ctx: Ctx, ident: str, ticket_id: str | None = None) -> Any:
    """``GET /time_accountings/:id``."""
    ctx.require("ticket.agent", "admin.time_accounting")
    return show(ctx, TA, _ta_row(ctx, ident, ticket_id), ids=False)


def ta_create(ctx: Ctx, ticket_id: str | None = None) -> Any:
    """``POST /time_accountings`` → 201; the ticket's ``time_unit`` is recomputed."""
    ctx.require("ticket.agent")
    data = dict(ctx.params)
    ref = ticket_id if ticket_id is not None else data.get("ticket_id")
    if ref in (None, ""):
        ctx.not_found("Ticket", "")
    ticket = ticket_row(ctx, ref, change=True)
    values = _ta_values(ctx, data, ticket["id"])
    if "time_unit" not in values:
        ctx.unprocessable("Time unit can't be blank")
    values.setdefault("type_id", None)
    values.setdefault("ticket_article_id", None)
    values["ticket_id"] = ticket["id"]
    ident = insert(ctx, TA, values)
    recompute_time(ctx, ticket["id"])
    return show(ctx, TA, get_row(ctx, TA, ident), ids=False, status=201)


def ta_update(ctx: Ctx, ident: str, ticket_id: str | None = None) -> Any:
    """``PUT /time_accountings/:id``."""
    ctx.require("admin.time_accounting", "ticket.agent")
    row = _ta_row(ctx, ident, ticket_id)
    update(ctx, TA, row["id"], _ta_values(ctx, dict(ctx.params), row["ticket_id"]))
    recompute_time(ctx, row["ticket_id"])
    return show(ctx, TA, get_row(ctx, TA, row["id"]), ids=False)


def ta_delete(ctx: Ctx, ident: str, ticket_id: str | None = None) -> Any:
    """``DELETE /time_accountings/:id`` → ``{}``."""
    ctx.require("admin.time_accounting", "ticket.agent")
    row = _ta_row(ctx, ident, ticket_id)
    ctx.conn.execute("DELETE FROM time_accountings WHERE id = ?", (row["id"],))
    recompute_time(ctx, row["ticket_id"])
    return {}


def types_index(ctx: Ctx) -> Any:
    """``GET /time_accounting/types``."""
    ctx.require("ticket.agent", "admin.time_accounting")
    return index(ctx, TA_TYPE, ids=False)


def types_show(ctx: Ctx, ident: str) -> Any:
    """``GET /time_accounting/types/:id``."""
    ctx.require("ticket.agent", "admin.time_accounting")
    return show(ctx, TA_TYPE, get_row(ctx, TA_TYPE, ident), ids=False)


def types_create(ctx: Ctx) -> Any:
    """``POST /time_accounting/types`` → 201."""
    ctx.require("admin.time_accounting")
    data = dict(ctx.params)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        ctx.unprocessable("Name can't be blank")
    if ctx.one("SELECT 1 FROM time_accounting_types WHERE name = ?", (name,)):
        ctx.unprocessable("Name has already been taken")
    ident = insert(ctx, TA_TYPE, {"active": 1, **values_from(ctx, TA_TYPE, data, ("name", "note", "active"))})
    return show(ctx, TA_TYPE, get_row(ctx, TA_TYPE, ident), ids=False, status=201)


def types_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /time_accounting/types/:id``."""
    ctx.require("admin.time_accounting")
    row = get_row(ctx, TA_TYPE, ident)
    update(ctx, TA_TYPE, row["id"], values_from(ctx, TA_TYPE, dict(ctx.params), ("name", "note", "active")))
    ctx.touched_shared = True
    return show(ctx, TA_TYPE, get_row(ctx, TA_TYPE, row["id"]), ids=False)


ROUTES: list[Route] = [
    ("/time_accountings", "GET", ta_index),
    ("/time_accountings", "POST", ta_create),
    ("/time_accountings/<ident>", "GET", ta_show),
    ("/time_accountings/<ident>", "PUT", ta_update),
    ("/time_accountings/<ident>", "DELETE", ta_delete),
    ("/tickets/<ticket_id>/time_accountings", "GET", ta_by_ticket),
    ("/tickets/<ticket_id>/time_accountings", "POST", ta_create),
    ("/tickets/<ticket_id>/time_accountings/<ident>", "GET", ta_show),
    ("/tickets/<ticket_id>/time_accountings/<ident>", "PUT", ta_update),
    ("/tickets/<ticket_id>/time_accountings/<ident>", "DELETE", ta_delete),
    ("/time_accounting/types", "GET", types_index),
    ("/time_accounting/types", "POST", types_create),
    ("/time_accounting/types/<ident>", "GET", types_show),
    ("/time_accounting/types/<ident>", "PUT", types_update),
]
