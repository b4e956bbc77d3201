"""Emulator route ``GET /ticket_history/:id``: a ticket's history with the assets it names (spec §6.10)."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.assets import Assets
from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.tickets import ticket_row

__all__ = ["ROUTES"]


def ticket_history(ctx: Ctx, ident: str) -> Any:
    """``GET /ticket_history/:id`` → ``{"history": [...], "assets": {...}}`` (spec §6.10)."""
    ctx.require("ticket.agent")
    row = ticket_row(ctx, ident)
    rows = ctx.conn.execute(
        "SELECT * FROM histories WHERE (object = 'Ticket' AND o_id = ?) OR (related_object = 'Ticket' AND"
        " related_o_id = ?)"
        " ORDER BY created_at, id",
        (row["id"], row["id"]),
    ).fetchall()
    entries = []
    base = ["id", "history_attribute_id", "sourceable_type", "sourceable_id", "sourceable_name", "o_id"]
    for h in rows:
        entry = {key: h[key] for key in base}
        # History.list shows related_o_id in place of related_history_object_id when there is one.
        if h["related_o_id"] is not None:
            entry["related_o_id"] = h["related_o_id"]
        else:
            entry["related_history_object_id"] = h["related_history_object_id"]
        entry.update(
            created_by_id=h["created_by_id"], created_at=h["created_at"], object=h["object"], type=h["type"]
        )
        for key in ("related_object", "attribute", "value_from", "value_to", "id_from", "id_to"):
            if h[key] is not None:
                entry[key] = h[key]
        entries.append(entry)
    assets = Assets(ctx).add("User", [h["created_by_id"] for h in rows]).add("Ticket", [row["id"]])
    assets.add(
        "TicketArticle",
        ctx.column("SELECT id FROM ticket_articles WHERE ticket_id = ? ORDER BY id", (row["id"],)),
    )
    return {"history": entries, "assets": assets.data}


ROUTES: list[Route] = [("/ticket_history/<ident>", "GET", ticket_history)]
