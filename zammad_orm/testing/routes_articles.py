"""Emulator routes for ticket articles and attachment downloads (spec §5.2, §5.3)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from zammad_orm.testing.core import Ctx, Reply, Route
from zammad_orm.testing.crud import get_row, paginate
from zammad_orm.testing.render import SPECS, article_expanded
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import can_change, create_article, notify, ticket_row

__all__ = ["ROUTES"]

ARTICLE = SPECS["TicketArticle"]


def _visible(ctx: Ctx, internal: Any) -> bool:
    return ctx.is_agent or not internal


def articles_by_ticket(ctx: Ctx, ident: str) -> Any:
    """``GET /ticket_articles/by_ticket/:ticket_id``: expanded articles, ``created_at, id`` order."""
    ctx.require("ticket.agent", "ticket.customer")
    ticket = ticket_row(ctx, ident)
    rows = ctx.conn.execute(
        "SELECT * FROM ticket_articles WHERE ticket_id = ? ORDER BY created_at, id", (ticket["id"],)
    ).fetchall()
    rows = [row for row in rows if _visible(ctx, row["internal"])]
    return article_expanded(ctx, rows)


def _article(ctx: Ctx, ident: Any, *, change: bool = False) -> Any:
    row = get_row(ctx, ARTICLE, ident)
    ticket_row(ctx, row["ticket_id"], change=change)
    if not _visible(ctx, row["internal"]):
        ctx.forbidden()
    return row


def articles_show(ctx: Ctx, ident: str) -> Any:
    """``GET /ticket_articles/:id`` (always expanded)."""
    ctx.require("ticket.agent", "ticket.customer")
    return article_expanded(ctx, [_article(ctx, ident)])[0]


def articles_index(ctx: Ctx) -> Any:
    """``GET /ticket_articles``: generic index (admin)."""
    ctx.require("admin")
    limit, offset = paginate(ctx, 500, 1000)
    rows = ctx.conn.execute(
        "SELECT * FROM ticket_articles ORDER BY id LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return article_expanded(ctx, rows)


def articles_create(ctx: Ctx) -> Any:
    """``POST /ticket_articles`` → 201 expanded article."""
    ctx.require("ticket.agent", "ticket.customer")
    data = dict(ctx.params)
    if data.get("ticket_id") in (None, ""):
        ctx.not_found("Ticket", "")
    ticket = ticket_row(ctx, data["ticket_id"], change=True)
    article_id = create_article(ctx, ticket, data)
    notify(ctx, get_row(ctx, SPECS["Ticket"], ticket["id"]), "update")
    return Reply(article_expanded(ctx, [get_row(ctx, ARTICLE, article_id)])[0], 201)


def articles_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /ticket_articles/:id``: only ``internal`` and ``preferences.highlight`` change (spec §5.2)."""
    ctx.require("ticket.agent")
    row = _article(ctx, ident, change=True)
    sets: dict[str, Any] = {}
    if "internal" in ctx.params:
        value = ctx.params["internal"]
        sets["internal"] = int(value if isinstance(value, bool) else str(value).lower() in ("true", "1"))
    prefs = ctx.params.get("preferences")
    if isinstance(prefs, dict) and "highlight" in prefs:
        merged = json.loads(row["preferences"] or "{}")
        merged["highlight"] = prefs["highlight"]
        sets["preferences"] = json.dumps(merged)
    if sets:
        sets.update(updated_at=now_ts(), updated_by_id=ctx.uid)
        assignments = ", ".join(f"{key} = ?" for key in sets)
        ctx.conn.execute(
            f"UPDATE ticket_articles SET {assignments} WHERE id = ?", (*sets.values(), row["id"])
        )
        ctx.touched_tickets.add(row["ticket_id"])
    return article_expanded(ctx, [get_row(ctx, ARTICLE, row["id"])])[0]


def articles_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /ticket_articles/:id`` → ``{}`` (agents with change access, or admins)."""
    ctx.require("ticket.agent", "admin")
    row = get_row(ctx, ARTICLE, ident)
    ticket = get_row(ctx, SPECS["Ticket"], row["ticket_id"])
    if not (ctx.has("admin") or can_change(ctx, ticket)):
        ctx.forbidden()
    ctx.conn.execute("DELETE FROM attachments WHERE article_id = ?", (row["id"],))
    ctx.conn.execute("DELETE FROM ticket_articles WHERE id = ?", (row["id"],))
    ctx.conn.execute(
        "UPDATE tickets SET article_count = (SELECT COUNT(*) FROM ticket_articles WHERE ticket_id = ?)"
        " WHERE id = ?",
        (row["ticket_id"], row["ticket_id"]),
    )
    ctx.touched_tickets.add(row["ticket_id"])
    return {}


def attachment(ctx: Ctx, ticket_id: str, article_id: str, ident: str) -> Any:
    """``GET /ticket_attachment/:ticket_id/:article_id/:id``: the raw bytes (spec §5.3)."""
    ctx.require("ticket.agent", "ticket.customer")
    ticket = ticket_row(ctx, ticket_id)
    article = get_row(ctx, ARTICLE, article_id)
    att = ctx.one("SELECT * FROM attachments WHERE id = ?", (int(ident) if ident.isdigit() else -1,))
    if att is None:
        ctx.not_found("Store", ident)
    if article["ticket_id"] != ticket["id"]:
        ctx.forbidden("The article does not belong to the specified ticket.")
    if att["article_id"] != article["id"]:
        ctx.forbidden("The file does not belong to the specified article.")
    if not _visible(ctx, article["internal"]):
        ctx.forbidden()
    data = ctx.one("SELECT data FROM store_files WHERE id = ?", (att["store_file_id"],))
    prefs = json.loads(att["preferences"] or "{}")
    mime = prefs.get("Mime-Type") or "application/octet-stream"
    filename = att["filename"]
    disposition = "inline" if ctx.get("disposition") == "inline" else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    }
    return Reply(None, raw=bytes(data[0]) if data else b"", content_type=mime, headers=headers)


def article_plain(ctx: Ctx, ident: str) -> Any:
    """``GET /ticket_article_plain/:id``: the article as an RFC 822 message (email articles only)."""
    ctx.require("ticket.agent")
    row = _article(ctx, ident)
    if row["type_id"] != 1:
        ctx.fail(404, f"No such raw article with 'id'={row['id']}")
    headers = [
        ("From", row["from"]),
        ("To", row["to"]),
        ("Cc", row["cc"]),
        ("Subject", row["subject"]),
        ("Message-ID", row["message_id"]),
        ("In-Reply-To", row["in_reply_to"]),
        ("Date", row["created_at"]),
        ("Content-Type", f"{row['content_type']}; charset=UTF-8"),
    ]
    lines = [f"{name}: {value}" for name, value in headers if value]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + (row["body"] or "")).encode("utf-8")
    disposition = {"Content-Disposition": f'attachment; filename="ticket-{row["ticket_id"]}-{row["id"]}.eml"'}
    return Reply(None, raw=raw, content_type="message/rfc822", headers=disposition)


ROUTES: list[Route] = [
    ("/ticket_articles", "GET", articles_index),
    ("/ticket_articles", "POST", articles_create),
    ("/ticket_articles/by_ticket/<ident>", "GET", articles_by_ticket),
    ("/ticket_articles/<ident>", "GET", articles_show),
    ("/ticket_articles/<ident>", "PUT", articles_update),
    ("/ticket_articles/<ident>", "DELETE", articles_delete),
    ("/ticket_attachment/<ticket_id>/<article_id>/<ident>", "GET", attachment),
    ("/ticket_article_plain/<ident>", "GET", article_plain),
]
