"""Emulator routes for ``/mentions`` of tickets."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import get_row, insert, show, show_many
from zammad_orm.testing.render import SPECS
from zammad_orm.testing.tickets import ticket_row

__all__ = ["ROUTES"]

MENTION = SPECS["Mention"]


def _mentionable(ctx: Ctx) -> Any:
    if str(ctx.get("mentionable_type") or "") != "Ticket":
        ctx.raw_error(500, "The parameter 'mentionable_type' is invalid.")
    return ticket_row(ctx, ctx.get("mentionable_id"))


def mentions_index(ctx: Ctx) -> Any:
    """``GET /mentions?mentionable_type=Ticket&mentionable_id=1`` → ``{"mentions": [...]}``, newest first."""
    ctx.require("ticket.agent")
    ticket = _mentionable(ctx)
    rows = ctx.conn.execute(
        "SELECT * FROM mentions WHERE mentionable_type = 'Ticket' AND mentionable_id = ? ORDER BY"
        " created_at DESC, id DESC",
        (ticket["id"],),
    ).fetchall()
    if ctx.flag("full"):
        return show_many(ctx, MENTION, rows, ids=False)
    return {"mentions": show_many(ctx, MENTION, rows, ids=False)}


def mentions_create(ctx: Ctx) -> Any:
    """``POST /mentions`` → 201 mention of the acting user."""
    ctx.require("ticket.agent")
    ticket = _mentionable(ctx)
    if ctx.one(
        "SELECT 1 FROM mentions WHERE mentionable_type = 'Ticket' AND mentionable_id = ? AND user_id = ?",
        (ticket["id"], ctx.uid),
    ):
        ctx.unprocessable("User has already been taken")
    ident = insert(
        ctx, MENTION, {"mentionable_type": "Ticket", "mentionable_id": ticket["id"], "user_id": ctx.uid}
    )
    ctx.touched_tickets.add(ticket["id"])
    return show(ctx, MENTION, get_row(ctx, MENTION, ident), ids=False, status=201)


def mentions_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /mentions/:id`` → the deleted mention (own mentions only)."""
    ctx.require("ticket.agent")
    row = get_row(ctx, MENTION, ident)
    if row["user_id"] != ctx.uid:
        ctx.forbidden()
    record = show(ctx, MENTION, row, ids=False)
    ctx.conn.execute("DELETE FROM mentions WHERE id = ?", (row["id"],))
    ctx.touched_tickets.add(row["mentionable_id"])
    return record


ROUTES: list[Route] = [
    ("/mentions", "GET", mentions_index),
    ("/mentions", "POST", mentions_create),
    ("/mentions/<ident>", "DELETE", mentions_delete),
]
