"""Emulator routes for tags, links, time accounting, online notifications and mentions (spec §5.4–§5.13)."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.assets import Assets
from zammad_orm.testing.core import ApiError, Ctx, Reply
from zammad_orm.testing.crud import get_row, index, insert, lookup_id, show, show_many, update, values_from
from zammad_orm.testing.render import SPECS
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import (
    MIRROR,
    add_tags,
    decimal_text,
    history,
    link_record,
    link_tickets,
    linked_tickets,
    recompute_time,
    tag_names,
    ticket_row,
)

__all__ = ["ROUTES"]


# --- tags ----------------------------------------------------------------------------------------------
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


# --- links ---------------------------------------------------------------------------------------------
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


# --- time accounting -----------------------------------------------------------------------------------
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


# --- online notifications ------------------------------------------------------------------------------
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


# --- mentions ------------------------------------------------------------------------------------------
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


ROUTES = [
    ("/tags", "GET", tags_list),
    ("/tags/add", "POST", tags_add),
    ("/tags/remove", "DELETE", tags_remove),
    ("/tag_list", "GET", tag_list),
    ("/tag_list", "POST", tag_list_create),
    ("/tag_list/<ident>", "PUT", tag_list_rename),
    ("/tag_list/<ident>", "DELETE", tag_list_delete),
    ("/tag_search", "GET", tag_search),
    ("/links", "GET", links_list),
    ("/links/add", "POST", links_add),
    ("/links/remove", "DELETE", links_remove),
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
    ("/online_notifications", "GET", notes_index),
    ("/online_notifications/mark_all_as_read", "POST", notes_mark_all),
    ("/online_notifications/<ident>", "GET", notes_show),
    ("/online_notifications/<ident>", "PUT", notes_update),
    ("/online_notifications/<ident>", "DELETE", notes_delete),
    ("/mentions", "GET", mentions_index),
    ("/mentions", "POST", mentions_create),
    ("/mentions/<ident>", "DELETE", mentions_delete),
]
