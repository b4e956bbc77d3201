"""Emulator routes for ticket links: ``/links``, ``/links/add``, ``/links/remove``."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.assets import Assets
from zammad_orm.testing.core import ApiError, Ctx, Reply, Route
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import MIRROR, link_record, link_tickets, linked_tickets, ticket_row

__all__ = ["ROUTES"]


def links_list(ctx: Ctx) -> Any:
    """``GET /links?link_object=Ticket&link_object_value=1`` → ``{"links": [...], "assets": {...}}``."""
    ctx.require("ticket.agent", "ticket.customer")
    ticket = ticket_row(ctx, ctx.get("link_object_value"))
    links = linked_tickets(ctx, ticket["id"])
    ids = [entry["link_object_value"] for entry in links]
    assets = Assets(ctx).add("Ticket", ids).data if ids else {}
    return {"links": links, "assets": assets}


def _no_such_object() -> ApiError:
    return ApiError(422, {"error": "No such object!"})


def links_add(ctx: Ctx) -> Any:
    """``POST /links/add`` → 201 link row (source by number, target by id)."""
    ctx.require("ticket.agent")
    number = ctx.get("link_object_source_number")
    source = (
        ctx.one("SELECT id FROM tickets WHERE number = ?", (str(number),)) if number is not None else None
    )
    if source is None and ctx.get("link_object_source_value") is not None:
        source = ctx.one(
            "SELECT id FROM tickets WHERE id = ?", (ctx.int_param("link_object_source_value", -1),)
        )
    target = ctx.one("SELECT id FROM tickets WHERE id = ?", (ctx.int_param("link_object_target_value", -1),))
    if source is None or target is None:
        raise _no_such_object()
    ticket_row(ctx, source[0], change=True)
    ticket_row(ctx, target[0], change=True)
    return Reply(link_tickets(ctx, str(ctx.get("link_type") or "normal"), source[0], target[0]), 201)


def links_remove(ctx: Ctx) -> Any:
    """``DELETE /links/remove`` → 201 list of deleted rows (the mirrored row counts too)."""
    ctx.require("ticket.agent")
    link_type = str(ctx.get("link_type") or "normal")
    if link_type not in MIRROR:
        raise ApiError(422, {"error": f"Invalid link type '{link_type}'"})
    source = ctx.int_param("link_object_source_value", -1)
    target = ctx.int_param("link_object_target_value", -1)
    deleted = []
    for kind, src, dst in ((link_type, source, target), (MIRROR[link_type], target, source)):
        rows = ctx.conn.execute(
            "SELECT l.* FROM links l JOIN link_types t ON t.id = l.link_type_id WHERE t.name = ?"
            " AND l.link_object_source_value = ? AND l.link_object_target_value = ?",
            (kind, src, dst),
        ).fetchall()
        for row in rows:
            deleted.append(link_record(row))
            ctx.conn.execute("DELETE FROM links WHERE id = ?", (row["id"],))
    stamp = now_ts()
    for ticket_id in {source, target}:
        if ctx.one("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)):
            ctx.touch_ticket(ticket_id, now=stamp)
    return Reply(deleted, 201)


ROUTES: list[Route] = [
    ("/links", "GET", links_list),
    ("/links/add", "POST", links_add),
    ("/links/remove", "DELETE", links_remove),
]
