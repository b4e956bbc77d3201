"""Emulator routes for tags: ``/tags`` of a ticket, the admin's ``/tag_list`` and ``/tag_search``."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.core import Ctx, Reply, Route
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import add_tags, history, tag_names, ticket_row

__all__ = ["ROUTES"]


def _tag_target(ctx: Ctx, *, change: bool) -> tuple[str, int]:
    obj = str(ctx.get("object") or "Ticket")
    o_id = ctx.get("o_id")
    if obj != "Ticket":
        ctx.unprocessable(f"Invalid value '{obj}' for field 'object'!")
    if o_id in (None, ""):
        ctx.not_found("Ticket", "")
    return obj, int(ticket_row(ctx, o_id, change=change)["id"])


def tags_list(ctx: Ctx) -> Any:
    """``GET /tags?object=Ticket&o_id=1`` → ``{"tags": [...]}`` in insertion order."""
    ctx.require("ticket.agent", "ticket.customer", "admin.tag")
    obj, o_id = _tag_target(ctx, change=False)
    return {"tags": tag_names(ctx, obj, o_id)}


def tags_add(ctx: Ctx) -> Any:
    """``POST /tags/add`` → 201 ``true`` (adding a present tag is a no-op)."""
    ctx.require("ticket.agent", "admin.tag")
    obj, o_id = _tag_target(ctx, change=True)
    item = ctx.get("item")
    if not isinstance(item, str) or not item.strip():
        ctx.unprocessable("Need item param!")
    if add_tags(ctx, obj, o_id, [item]):
        ctx.touch_ticket(o_id, now=now_ts())
    return Reply(True, 201)


def tags_remove(ctx: Ctx) -> Any:
    """``DELETE /tags/remove`` → 200 ``true`` (unknown tags too)."""
    ctx.require("ticket.agent", "admin.tag")
    obj, o_id = _tag_target(ctx, change=True)
    name = str(ctx.get("item") or "").strip()
    cursor = ctx.conn.execute(
        "DELETE FROM tags WHERE object = ? AND o_id = ? AND tag_item_id IN (SELECT id FROM tag_items WHERE"
        " name_downcase = ?)",
        (obj, o_id, name.lower()),
    )
    if cursor.rowcount:
        history(ctx, obj, o_id, "removed", attribute="tag", value_from=name)
        ctx.touch_ticket(o_id, now=now_ts())
    return True


def tag_list(ctx: Ctx) -> Any:
    """``GET /tag_list`` → ``[{"id","name","count"}]`` by name (byte order)."""
    ctx.require("admin.tag")
    rows = ctx.conn.execute(
        "SELECT i.id, i.name, (SELECT COUNT(*) FROM tags t WHERE t.tag_item_id = i.id) AS count FROM"
        " tag_items i"
        " ORDER BY i.name COLLATE BINARY LIMIT ?",
        (ctx.int_param("limit", 1000),),
    )
    return [{"id": row[0], "name": row[1], "count": row[2]} for row in rows]


def tag_list_create(ctx: Ctx) -> Any:
    """``POST /tag_list`` (``name`` in body or query) → ``{}``; idempotent."""
    ctx.require("admin.tag")
    name = str(ctx.get("name") or "").strip()
    if not name:
        ctx.unprocessable("Name can't be blank")
    if ctx.one("SELECT 1 FROM tag_items WHERE name_downcase = ?", (name.lower(),)) is None:
        ctx.conn.execute("INSERT INTO tag_items (name, name_downcase) VALUES (?, ?)", (name, name.lower()))
    return {}


def tag_list_rename(ctx: Ctx, ident: str) -> Any:
    """``PUT /tag_list/:id`` → ``{}``; renaming onto an existing name merges the two tags."""
    ctx.require("admin.tag")
    item = _tag_item(ctx, ident)
    name = str(ctx.get("name") or "").strip()
    if not name:
        ctx.unprocessable("Name can't be blank")
    other = ctx.one(
        "SELECT id FROM tag_items WHERE name_downcase = ? AND id != ?", (name.lower(), item["id"])
    )
    if other is not None:
        ctx.conn.execute(
            "DELETE FROM tags WHERE tag_item_id = ? AND EXISTS (SELECT 1 FROM tags t2 WHERE t2.tag_item_id"
            " = ?"
            " AND t2.object = tags.object AND t2.o_id = tags.o_id)",
            (item["id"], other[0]),
        )
        ctx.conn.execute("UPDATE tags SET tag_item_id = ? WHERE tag_item_id = ?", (other[0], item["id"]))
        ctx.conn.execute("DELETE FROM tag_items WHERE id = ?", (item["id"],))
        target = other[0]
    else:
        ctx.conn.execute(
            "UPDATE tag_items SET name = ?, name_downcase = ? WHERE id = ?", (name, name.lower(), item["id"])
        )
        target = item["id"]
    stamp = now_ts()
    for (o_id,) in ctx.conn.execute(
        "SELECT o_id FROM tags WHERE tag_item_id = ? AND object = 'Ticket'", (target,)
    ).fetchall():
        ctx.touch_ticket(o_id, now=stamp)
    ctx.touched_shared = True
    return {}


def _tag_item(ctx: Ctx, ident: str) -> Any:
    row = ctx.one("SELECT * FROM tag_items WHERE id = ?", (int(ident) if ident.isdigit() else -1,))
    if row is None:
        ctx.not_found("Tag::Item", ident)
    return row


def tag_list_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /tag_list/:id`` → ``{}``; removes the tag from every object."""
    ctx.require("admin.tag")
    item = _tag_item(ctx, ident)
    stamp = now_ts()
    for (o_id,) in ctx.conn.execute(
        "SELECT o_id FROM tags WHERE tag_item_id = ? AND object = 'Ticket'", (item["id"],)
    ).fetchall():
        ctx.touch_ticket(o_id, now=stamp)
    ctx.conn.execute("DELETE FROM tags WHERE tag_item_id = ?", (item["id"],))
    ctx.conn.execute("DELETE FROM tag_items WHERE id = ?", (item["id"],))
    ctx.touched_shared = True
    return {}


def tag_search(ctx: Ctx) -> Any:
    """``GET /tag_search?term=x&limit=10`` → ``[{"id","value"}]``."""
    ctx.require("ticket.agent", "admin.tag")
    term = str(ctx.get("term") or "").strip().lower()
    limit = ctx.int_param("limit", 10)
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = ctx.conn.execute(
            "SELECT id, name FROM tag_items WHERE name_downcase LIKE ? ESCAPE '\\' ORDER BY name COLLATE"
            " BINARY LIMIT ?",
            (f"%{escaped}%", limit),
        )
    else:
        rows = ctx.conn.execute(
            "SELECT i.id, i.name FROM tag_items i LEFT JOIN tags t ON t.tag_item_id = i.id GROUP BY i.id"
            " ORDER BY COUNT(t.id) DESC, i.name COLLATE BINARY LIMIT ?",
            (limit,),
        )
    return [{"id": row[0], "value": row[1]} for row in rows]


ROUTES: list[Route] = [
    ("/tags", "GET", tags_list),
    ("/tags/add", "POST", tags_add),
    ("/tags/remove", "DELETE", tags_remove),
    ("/tag_list", "GET", tag_list),
    ("/tag_list", "POST", tag_list_create),
    ("/tag_list/<ident>", "PUT", tag_list_rename),
    ("/tag_list/<ident>", "DELETE", tag_list_delete),
    ("/tag_search", "GET", tag_search),
]
