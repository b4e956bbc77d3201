"""Checklists of Zammad 6.4+ (spec §5.15): ``checklists``, ``checklist_items``, ``checklist_templates``.

Served only when the emulator imitates 6.4 or later (:data:`MIN_VERSION`); a 6.2 emulator answers these
paths with ``404 No route matches``, as a 6.2 server does. A ticket has at most one checklist
(``tickets.checklist_id``); an item whose text is a ticket number (``67001`` or ``Ticket#67001``) references
that ticket, is checked while the ticket is closed or merged, and makes the ticket list the checklist in
``referencing_checklist_ids``. Every write touches the checklist's ticket. Agents need change access to the
ticket; templates are read by agents and written by admins (``admin.checklist``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from zammad_orm.testing.core import Ctx, Reply, Route
from zammad_orm.testing.crud import get_row, insert, update
from zammad_orm.testing.render import ResourceSpec, row_dicts
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import ticket_row

__all__ = ["MIN_VERSION", "ROUTES"]

#: The first Zammad version with checklists.
MIN_VERSION = (6, 4)

_STAMPS = ("updated_by_id", "created_by_id", "created_at", "updated_at")
CHECKLIST = ResourceSpec(
    "Checklist", "checklists", "Checklist", "Checklist", ("id", "name", "sorted_item_ids", *_STAMPS),
    jsons=frozenset({"sorted_item_ids"}),
)  # fmt: skip
ITEM = ResourceSpec(
    "ChecklistItem", "checklist_items", "Checklist::Item", "ChecklistItem",
    ("id", "text", "checked", "checklist_id", "ticket_id", *_STAMPS), bools=frozenset({"checked"}),
)  # fmt: skip
TEMPLATE = ResourceSpec(
    "ChecklistTemplate", "checklist_templates", "ChecklistTemplate", "ChecklistTemplate",
    ("id", "name", "active", "sorted_item_ids", *_STAMPS),
    bools=frozenset({"active"}), jsons=frozenset({"sorted_item_ids"}),
)  # fmt: skip
TEMPLATE_ITEM = ResourceSpec(
    "ChecklistTemplateItem", "checklist_template_items", "ChecklistTemplate::Item", "ChecklistTemplateItem",
    ("id", "checklist_template_id", "text", *_STAMPS),
)  # fmt: skip

_MAX_ITEMS = 100
_CLOSED_TYPES = ("closed", "merged")


# --- rendering --------------------------------------------------------------------------------------------
def _records(ctx: Ctx, spec: ResourceSpec, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    records = row_dicts(ctx, spec, rows)
    if spec in (CHECKLIST, TEMPLATE):
        child, parent = (
            (ITEM, "checklist_id") if spec is CHECKLIST else (TEMPLATE_ITEM, "checklist_template_id")
        )
        for record in records:
            record["item_ids"] = ctx.column(
                f"SELECT id FROM {child.table} WHERE {parent} = ? ORDER BY id", (record["id"],)
            )
    return records


def _record(ctx: Ctx, spec: ResourceSpec, ident: int) -> dict[str, Any]:
    return _records(ctx, spec, [get_row(ctx, spec, ident)])[0]


def _assets(ctx: Ctx, checklist_id: int) -> dict[str, Any]:
    items = ctx.conn.execute(
        "SELECT * FROM checklist_items WHERE checklist_id = ? ORDER BY id", (checklist_id,)
    ).fetchall()
    return {
        "Checklist": {str(checklist_id): _record(ctx, CHECKLIST, checklist_id)},
        "ChecklistItem": {str(r["id"]): r for r in _records(ctx, ITEM, items)},
    }


def _show(ctx: Ctx, spec: ResourceSpec, ident: int, status: int = 200) -> Any:
    if spec is CHECKLIST and ctx.flag("full"):
        body: Any = {"id": ident, "assets": _assets(ctx, ident)}
    else:
        body = _record(ctx, spec, ident)
    return Reply(body, status) if status != 200 else body


# --- checklists -------------------------------------------------------------------------------------------
def _checklist(ctx: Ctx, ident: Any, *, change: bool) -> tuple[sqlite3.Row, sqlite3.Row]:
    """Return the checklist and its ticket, checking the agent's access to the ticket."""
    ctx.require("ticket.agent")
    checklist = get_row(ctx, CHECKLIST, ident)
    ticket = ctx.one("SELECT id FROM tickets WHERE checklist_id = ?", (checklist["id"],))
    if ticket is None:
        ctx.not_found("Ticket", "")
    return checklist, ticket_row(ctx, ticket["id"], change=change)


def _touch(ctx: Ctx, checklist_id: int) -> None:
    """Touch the checklist and its ticket after an item changed (Zammad saves both)."""
    now = now_ts()
    ctx.conn.execute(
        "UPDATE checklists SET updated_at = ?, updated_by_id = ? WHERE id = ?", (now, ctx.uid, checklist_id)
    )
    for ticket_id in ctx.column("SELECT id FROM tickets WHERE checklist_id = ?", (checklist_id,)):
        ctx.touch_ticket(ticket_id, now=now, by=ctx.uid)


def _sorted_ids(ctx: Ctx, checklist_id: int) -> list[str]:
    row = ctx.one("SELECT sorted_item_ids FROM checklists WHERE id = ?", (checklist_id,))
    return list(json.loads(row[0] or "[]")) if row else []


def _set_sorted(ctx: Ctx, table: str, ident: int, ids: list[str]) -> None:
    ctx.conn.execute(f"UPDATE {table} SET sorted_item_ids = ? WHERE id = ?", (json.dumps(ids), ident))


def checklists_show(ctx: Ctx, ident: str) -> Any:
    """``GET /checklists/:id`` (plain with ``item_ids``, or ``full=true``)."""
    checklist, _ticket = _checklist(ctx, ident, change=False)
    return _show(ctx, CHECKLIST, checklist["id"])


def checklists_create(ctx: Ctx) -> Any:
    """``POST /checklists`` ``{"ticket_id", "template_id"?}`` → 201 ``{"id", "assets"}``."""
    ctx.require("ticket.agent")
    ticket = ticket_row(ctx, ctx.get("ticket_id"), change=True)
    template_id = ctx.get("template_id")
    texts: list[str] = [""]
    name = ""
    if template_id not in (None, ""):
        template = get_row(ctx, TEMPLATE, template_id)
        if not template["active"]:
            ctx.unprocessable("Checklist template must be active to use as a checklist starting point.")
        name = template["name"]
        by_id = dict(
            ctx.conn.execute(
                "SELECT id, text FROM checklist_template_items WHERE checklist_template_id = ?",
                (template["id"],),
            ).fetchall()
        )
        order = [int(i) for i in json.loads(template["sorted_item_ids"] or "[]") if int(i) in by_id]
        texts = [by_id[i] for i in order + sorted(set(by_id) - set(order))]
    checklist_id = insert(ctx, CHECKLIST, {"name": name, "sorted_item_ids": "[]"})
    # has_one: the ticket now points at the new checklist (an older one loses its ticket).
    ctx.conn.execute("UPDATE tickets SET checklist_id = ? WHERE id = ?", (checklist_id, ticket["id"]))
    for text in texts:
        _insert_item(ctx, checklist_id, ticket["id"], text, detect=template_id in (None, ""))
    _touch(ctx, checklist_id)
    ctx.touched_tickets.add(ticket["id"])
    return Reply({"id": checklist_id, "assets": _assets(ctx, checklist_id)}, 201)


def checklists_update(ctx: Ctx, ident: str) -> Any:
    """``PUT``/``PATCH /checklists/:id``: ``name`` and ``sorted_item_ids``."""
    checklist, ticket = _checklist(ctx, ident, change=True)
    values: dict[str, Any] = {}
    if "name" in ctx.params:
        name = ctx.params["name"]
        if name is not None and not isinstance(name, str):
            ctx.unprocessable(f"Invalid value '{name}' for field 'name'!")
        if name and len(name) > 250:
            ctx.unprocessable("Name is too long (maximum is 250 characters)")
        values["name"] = name or ""
    if "sorted_item_ids" in ctx.params:
        ids = ctx.params["sorted_item_ids"]
        if not isinstance(ids, list) or not all(str(i).isdigit() for i in ids):
            ctx.unprocessable(f"Invalid value '{ids}' for field 'sorted_item_ids'!")
        values["sorted_item_ids"] = json.dumps([str(i) for i in ids])
    update(ctx, CHECKLIST, checklist["id"], values)
    if values:
        ctx.touch_ticket(ticket["id"], now=now_ts(), by=ctx.uid)
    return _show(ctx, CHECKLIST, checklist["id"])


def delete_checklist_rows(ctx: Ctx, checklist_id: int) -> None:
    """Remove a checklist and its items; its ticket no longer has one."""
    ctx.conn.execute("DELETE FROM checklist_items WHERE checklist_id = ?", (checklist_id,))
    ctx.conn.execute("DELETE FROM checklists WHERE id = ?", (checklist_id,))
    ctx.conn.execute("UPDATE tickets SET checklist_id = NULL WHERE checklist_id = ?", (checklist_id,))


def checklists_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /checklists/:id`` → ``{}``."""
    checklist, ticket = _checklist(ctx, ident, change=True)
    delete_checklist_rows(ctx, checklist["id"])
    ctx.touch_ticket(ticket["id"], now=now_ts(), by=ctx.uid)
    return {}


# --- items ------------------------------------------------------------------------------------------------
_REFERENCE = re.compile(r"^\s*(?:Ticket#)?(\d+)\s*$", re.IGNORECASE)


def _referenced_ticket(ctx: Ctx, text: str) -> sqlite3.Row | None:
    match = _REFERENCE.match(text or "")
    if match is None:
        return None
    return ctx.one(
        "SELECT tickets.id, ticket_state_types.name AS state_type FROM tickets"
        " JOIN ticket_states ON ticket_states.id = tickets.state_id"
        " JOIN ticket_state_types ON ticket_state_types.id = ticket_states.state_type_id"
        " WHERE tickets.number = ?",
        (match.group(1),),
    )


def _reference_values(ctx: Ctx, own_ticket_id: int, text: str) -> dict[str, Any]:
    referenced = _referenced_ticket(ctx, text)
    if referenced is None:
        return {"ticket_id": None}
    if referenced["id"] == own_ticket_id:
        ctx.unprocessable("Ticket reference must not be the checklist ticket.")
    ctx.touched_tickets.add(referenced["id"])
    return {"ticket_id": referenced["id"], "checked": int(referenced["state_type"] in _CLOSED_TYPES)}


def _text(ctx: Ctx, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        ctx.unprocessable(f"Invalid value '{value}' for field 'text'!")
    return value


def _insert_item(ctx: Ctx, checklist_id: int, ticket_id: int, text: str, *, detect: bool = True) -> int:
    count = ctx.one("SELECT COUNT(*) FROM checklist_items WHERE checklist_id = ?", (checklist_id,))
    if count is not None and count[0] >= _MAX_ITEMS:
        ctx.unprocessable("Checklist items are limited to 100 items per checklist.")
    values: dict[str, Any] = {"checklist_id": checklist_id, "text": text, "checked": 0}
    if detect:
        values.update(_reference_values(ctx, ticket_id, text))
    ident = insert(ctx, ITEM, values)
    _set_sorted(ctx, "checklists", checklist_id, [*_sorted_ids(ctx, checklist_id), str(ident)])
    return ident


def _item(ctx: Ctx, ident: Any, *, change: bool) -> tuple[sqlite3.Row, sqlite3.Row]:
    ctx.require("ticket.agent")
    item = get_row(ctx, ITEM, ident)
    _checklist_row, ticket = _checklist(ctx, item["checklist_id"], change=change)
    return item, ticket


def items_show(ctx: Ctx, ident: str) -> Any:
    """``GET /checklist_items/:id``."""
    item, _ticket = _item(ctx, ident, change=False)
    return _show(ctx, ITEM, item["id"])


def items_create(ctx: Ctx) -> Any:
    """``POST /checklist_items`` ``{"checklist_id", "text"}`` → 201 item."""
    ctx.require("ticket.agent")
    if ctx.get("checklist_id") in (None, ""):
        ctx.unprocessable("Checklist must exist")
    checklist, ticket = _checklist(ctx, ctx.get("checklist_id"), change=True)
    ident = _insert_item(ctx, checklist["id"], ticket["id"], _text(ctx, ctx.get("text")))
    _touch(ctx, checklist["id"])
    return _show(ctx, ITEM, ident, status=201)


def items_update(ctx: Ctx, ident: str) -> Any:
    """``PUT``/``PATCH /checklist_items/:id``: ``text`` and ``checked``."""
    item, ticket = _item(ctx, ident, change=True)
    values: dict[str, Any] = {}
    if "text" in ctx.params:
        values["text"] = _text(ctx, ctx.params["text"])
        if item["ticket_id"] is not None:
            ctx.touched_tickets.add(item["ticket_id"])
        values.update(_reference_values(ctx, ticket["id"], values["text"]))
    if "checked" in ctx.params:
        checked = ctx.params["checked"]
        if not isinstance(checked, bool) and checked not in ("true", "false", 0, 1):
            ctx.unprocessable(f"Invalid value '{checked}' for field 'checked'!")
        values["checked"] = int(checked in (True, "true", 1))
    update(ctx, ITEM, item["id"], values)
    _touch(ctx, item["checklist_id"])
    return _show(ctx, ITEM, item["id"])


def items_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /checklist_items/:id`` → ``{}``."""
    item, _ticket = _item(ctx, ident, change=True)
    ctx.conn.execute("DELETE FROM checklist_items WHERE id = ?", (item["id"],))
    remaining = [i for i in _sorted_ids(ctx, item["checklist_id"]) if i != str(item["id"])]
    _set_sorted(ctx, "checklists", item["checklist_id"], remaining)
    if item["ticket_id"] is not None:
        ctx.touched_tickets.add(item["ticket_id"])
    _touch(ctx, item["checklist_id"])
    return {}


# --- templates --------------------------------------------------------------------------------------------
def templates_index(ctx: Ctx) -> Any:
    """``GET /checklist_templates`` (agents)."""
    ctx.require("ticket.agent", "admin.checklist")
    rows = ctx.conn.execute("SELECT * FROM checklist_templates ORDER BY id").fetchall()
    return _records(ctx, TEMPLATE, rows)


def templates_show(ctx: Ctx, ident: str) -> Any:
    """``GET /checklist_templates/:id``."""
    ctx.require("ticket.agent", "admin.checklist")
    return _show(ctx, TEMPLATE, get_row(ctx, TEMPLATE, ident)["id"])


def _template_values(ctx: Ctx) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in ctx.params:
        values["name"] = _text(ctx, ctx.params["name"])
    if "active" in ctx.params:
        active = ctx.params["active"]
        if not isinstance(active, bool):
            ctx.unprocessable(f"Invalid value '{active}' for field 'active'!")
        values["active"] = int(active)
    return values


def _replace_template_items(ctx: Ctx, template_id: int) -> None:
    texts = ctx.params.get("items")
    if not texts:
        return
    if not isinstance(texts, list) or not all(isinstance(t, str) or t is None for t in texts):
        ctx.unprocessable(f"Invalid value '{texts}' for field 'items'!")
    ctx.conn.execute("DELETE FROM checklist_template_items WHERE checklist_template_id = ?", (template_id,))
    ids = [
        str(insert(ctx, TEMPLATE_ITEM, {"checklist_template_id": template_id, "text": text}))
        for text in texts
        if text
    ]
    _set_sorted(ctx, "checklist_templates", template_id, ids)


def templates_create(ctx: Ctx) -> Any:
    """``POST /checklist_templates`` ``{"name", "active", "items": [texts]}`` → 201."""
    ctx.require("admin.checklist")
    ident = insert(ctx, TEMPLATE, {"active": 1, "sorted_item_ids": "[]", **_template_values(ctx)})
    _replace_template_items(ctx, ident)
    return _show(ctx, TEMPLATE, ident, status=201)


def templates_update(ctx: Ctx, ident: str) -> Any:
    """``PUT``/``PATCH /checklist_templates/:id``; ``items`` replaces the items."""
    ctx.require("admin.checklist")
    template = get_row(ctx, TEMPLATE, ident)
    update(ctx, TEMPLATE, template["id"], _template_values(ctx))
    _replace_template_items(ctx, template["id"])
    return _show(ctx, TEMPLATE, template["id"])


def templates_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /checklist_templates/:id`` → ``{}``."""
    ctx.require("admin.checklist")
    template = get_row(ctx, TEMPLATE, ident)
    ctx.conn.execute(
        "DELETE FROM checklist_template_items WHERE checklist_template_id = ?", (template["id"],)
    )
    ctx.conn.execute("DELETE FROM checklist_templates WHERE id = ?", (template["id"],))
    return {}


ROUTES: list[Route] = [
    ("/checklists", "POST", checklists_create),
    ("/checklists/<ident>", "GET", checklists_show),
    ("/checklists/<ident>", "PUT PATCH", checklists_update),
    ("/checklists/<ident>", "DELETE", checklists_delete),
    ("/checklist_items", "POST", items_create),
    ("/checklist_items/<ident>", "GET", items_show),
    ("/checklist_items/<ident>", "PUT PATCH", items_update),
    ("/checklist_items/<ident>", "DELETE", items_delete),
    ("/checklist_templates", "GET", templates_index),
    ("/checklist_templates", "POST", templates_create),
    ("/checklist_templates/<ident>", "GET", templates_show),
    ("/checklist_templates/<ident>", "PUT PATCH", templates_update),
    ("/checklist_templates/<ident>", "DELETE", templates_delete),
]
