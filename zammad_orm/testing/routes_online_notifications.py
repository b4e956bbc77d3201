"""Emulator routes for the acting user's ``/online_notifications``."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import get_row, show, show_many, update, values_from
from zammad_orm.testing.render import SPECS
from zammad_orm.testing.store import now_ts

__all__ = ["ROUTES"]

NOTE = SPECS["OnlineNotification"]


def _own_note(ctx: Ctx, ident: str) -> Any:
    row = get_row(ctx, NOTE, ident)
    if row["user_id"] != ctx.uid:
        ctx.forbidden()
    return row


def notes_index(ctx: Ctx) -> Any:
    """``GET /online_notifications``: the acting user's newest 200."""
    rows = ctx.conn.execute(
        "SELECT * FROM online_notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 200",
        (ctx.uid,),
    ).fetchall()
    return show_many(ctx, NOTE, rows, ids=False)


def notes_show(ctx: Ctx, ident: str) -> Any:
    """``GET /online_notifications/:id``."""
    return show(ctx, NOTE, _own_note(ctx, ident), ids=False)


def notes_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /online_notifications/:id`` (``{"seen": true}``)."""
    row = _own_note(ctx, ident)
    update(ctx, NOTE, row["id"], values_from(ctx, NOTE, dict(ctx.params), ("seen",)))
    return show(ctx, NOTE, get_row(ctx, NOTE, row["id"]), ids=False)


def notes_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /online_notifications/:id`` → ``{}``."""
    row = _own_note(ctx, ident)
    ctx.conn.execute("DELETE FROM online_notifications WHERE id = ?", (row["id"],))
    return {}


def notes_mark_all(ctx: Ctx) -> Any:
    """``POST /online_notifications/mark_all_as_read`` → ``{}``."""
    ctx.conn.execute(
        "UPDATE online_notifications SET seen = 1, updated_at = ?, updated_by_id = ? WHERE user_id = ? AND"
        " seen = 0",
        (now_ts(), ctx.uid, ctx.uid),
    )
    return {}


ROUTES: list[Route] = [
    ("/online_notifications", "GET", notes_index),
    ("/online_notifications/mark_all_as_read", "POST", notes_mark_all),
    ("/online_notifications/<ident>", "GET", notes_show),
    ("/online_notifications/<ident>", "PUT", notes_update),
    ("/online_notifications/<ident>", "DELETE", notes_delete),
]
