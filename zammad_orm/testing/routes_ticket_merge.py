"""Emulator route ``PUT /ticket_merge/:source_id/:target_number``: merge two tickets (spec §5.1.3)."""

from __future__ import annotations

import json
from typing import Any

from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import get_row
from zammad_orm.testing.render import SPECS, render
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import (
    can_change,
    create_article,
    history,
    link_tickets,
    update_customer_counters,
)

__all__ = ["ROUTES"]

TICKET = SPECS["Ticket"]


def ticket_merge(ctx: Ctx, source: str, target: str) -> Any:
    """``PUT /ticket_merge/:source_id/:target_number`` (spec §5.1.3)."""
    ctx.require("ticket.agent")
    target_row = ctx.one("SELECT * FROM tickets WHERE number = ?", (target,))
    if target_row is None:
        return {"result": "failed", "message": "The target ticket number could not be found."}
    source_row = ctx.one("SELECT * FROM tickets WHERE id = ?", (int(source) if source.isdigit() else -1,))
    if source_row is None:
        return {"result": "failed", "message": "The source ticket could not be found."}
    if not can_change(ctx, source_row) or not can_change(ctx, target_row):
        ctx.forbidden()
    if source_row["id"] == target_row["id"]:
        ctx.unprocessable("A ticket cannot be merged into itself.")
    merged_state = ctx.column(
        "SELECT s.id FROM ticket_states s JOIN ticket_state_types st ON st.id = s.state_type_id WHERE"
        " st.name = 'merged' ORDER BY s.id LIMIT 1"
    )
    if target_row["state_id"] in merged_state:
        ctx.unprocessable("It is not possible to merge into an already merged ticket.")
    stamp = now_ts()
    sid, tid = source_row["id"], target_row["id"]
    ctx.conn.execute("UPDATE ticket_articles SET ticket_id = ? WHERE ticket_id = ?", (tid, sid))
    ctx.conn.execute("UPDATE time_accountings SET ticket_id = ? WHERE ticket_id = ?", (tid, sid))
    ctx.conn.execute(
        "UPDATE mentions SET mentionable_id = ? WHERE mentionable_type = 'Ticket' AND mentionable_id = ?"
        " AND user_id NOT IN (SELECT user_id FROM mentions WHERE mentionable_type = 'Ticket' AND"
        " mentionable_id = ?)",
        (tid, sid, tid),
    )
    ctx.conn.execute("DELETE FROM mentions WHERE mentionable_type = 'Ticket' AND mentionable_id = ?", (sid,))
    ctx.conn.execute(
        "UPDATE links SET link_object_source_value = ? WHERE link_object_source_id = 1 AND"
        " link_object_source_value = ?"
        " AND link_object_target_value != ?",
        (tid, sid, tid),
    )
    ctx.conn.execute(
        "UPDATE links SET link_object_target_value = ? WHERE link_object_target_id = 1 AND"
        " link_object_target_value = ?"
        " AND link_object_source_value != ?",
        (tid, sid, tid),
    )
    link_tickets(ctx, "parent", tid, sid, now=stamp, touch=False)
    ctx.conn.execute(
        "UPDATE tickets SET article_count = 0, create_article_type_id = create_article_type_id WHERE id = ?",
        (sid,),
    )
    create_article(
        ctx,
        get_row(ctx, TICKET, sid),
        {"body": "merged", "type": "note", "sender": "Agent", "internal": False},
    )
    ctx.conn.execute(
        "UPDATE tickets SET state_id = ?, owner_id = 1, updated_at = ?, updated_by_id = ? WHERE id = ?",
        (merged_state[0], now_ts(), ctx.uid, sid),
    )
    history(
        ctx,
        "Ticket",
        tid,
        "received_merge",
        now=stamp,
        id_from=sid,
        id_to=tid,
        value_from=source_row["number"],
        value_to=target_row["number"],
    )
    history(
        ctx,
        "Ticket",
        sid,
        "merged_into",
        now=stamp,
        id_from=sid,
        id_to=tid,
        value_from=source_row["number"],
        value_to=target_row["number"],
    )
    ctx.touched_tickets.update((sid, tid))
    update_customer_counters(ctx, source_row["customer_id"])
    reply = {
        "result": "success",
        "target_ticket": render(ctx, TICKET, get_row(ctx, TICKET, tid), ids=False),
        "source_ticket": render(ctx, TICKET, get_row(ctx, TICKET, sid), ids=False),
    }
    # Zammad touches the target (as the system user) and disables the source's escalation in later
    # callbacks: the reply still shows both tickets before those changes.
    ctx.conn.execute("UPDATE tickets SET updated_at = ?, updated_by_id = 1 WHERE id = ?", (now_ts(), tid))
    prefs = json.loads(source_row["preferences"] or "{}")
    prefs.setdefault("escalation_calculation", {})["escalation_disabled"] = True
    ctx.conn.execute("UPDATE tickets SET preferences = ? WHERE id = ?", (json.dumps(prefs), sid))
    return reply


ROUTES: list[Route] = [("/ticket_merge/<source>/<target>", "PUT", ticket_merge)]
