"""Emulator routes for tickets: ``/tickets`` and ``/tickets/:id`` (spec §5.1).

A ticket's history, merging and articles have their own modules (``routes_ticket_history``,
``routes_ticket_merge``, ``routes_articles``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from zammad_orm.testing.assets import Assets
from zammad_orm.testing.core import Ctx, Reply, Route
from zammad_orm.testing.crud import (
    get_row,
    insert,
    paginate,
    resolve_refs,
    show,
    show_many,
    update,
    values_from,
)
from zammad_orm.testing.render import SPECS, render_many
from zammad_orm.testing.store import now_ts
from zammad_orm.testing.tickets import (
    add_tags,
    create_article,
    history,
    link_tickets,
    linked_tickets,
    next_number,
    notify,
    read_filter,
    tag_names,
    ticket_row,
    update_customer_counters,
)

__all__ = ["ROUTES", "delete_ticket_rows"]

TICKET = SPECS["Ticket"]
_WRITABLE = [
    "group_id",
    "priority_id",
    "state_id",
    "organization_id",
    "title",
    "owner_id",
    "customer_id",
    "note",
    "pending_time",
    "preferences",
]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def tickets_index(ctx: Ctx) -> Any:
    """``GET /tickets``: readable tickets, id ASC, max 100 per page, plain objects without id lists."""
    ctx.require("ticket.agent", "ticket.customer")
    limit, offset = paginate(ctx, 100, 100)
    where, args = read_filter(ctx)
    rows = ctx.conn.execute(
        f"SELECT * FROM tickets WHERE {where} ORDER BY id ASC LIMIT ? OFFSET ?", (*args, limit, offset)
    ).fetchall()
    total = None
    if ctx.flag("full"):
        total = ctx.conn.execute(f"SELECT COUNT(*) FROM tickets WHERE {where}", args).fetchone()[0]
    return show_many(ctx, TICKET, rows, ids=False, total=total)


def tickets_show(ctx: Ctx, ident: str) -> Any:
    """``GET /tickets/:id`` (plain form has no ``article_ids``, spec §2.2)."""
    ctx.require("ticket.agent", "ticket.customer")
    row = ticket_row(ctx, ident)
    if ctx.flag("all"):
        return _ticket_all(ctx, row)
    return show(ctx, TICKET, row, ids=False)


def _ticket_all(ctx: Ctx, row: sqlite3.Row) -> Any:
    """Return the ``all=true`` UI bundle: ticket, articles, links, tags, mentions, time accounting."""
    tid = row["id"]
    internal = "" if ctx.is_agent else " AND internal = 0"
    article_ids = ctx.column(
        f"SELECT id FROM ticket_articles WHERE ticket_id = ?{internal} ORDER BY id", (tid,)
    )
    assets = Assets(ctx).add("Ticket", [tid]).add("TicketArticle", article_ids)
    mentions = ctx.conn.execute(
        "SELECT * FROM mentions WHERE mentionable_type = 'Ticket' AND mentionable_id = ? ORDER BY id", (tid,)
    ).fetchall()
    accountings = ctx.conn.execute(
        "SELECT * FROM time_accountings WHERE ticket_id = ? ORDER BY id", (tid,)
    ).fetchall()
    return {
        "ticket_id": tid,
        "ticket_article_ids": article_ids,
        "assets": assets.data,
        "links": linked_tickets(ctx, tid),
        "tags": tag_names(ctx, "Ticket", tid),
        "mentions": render_many(ctx, SPECS["Mention"], mentions, ids=False),
        "time_accountings": render_many(ctx, SPECS["TimeAccounting"], accountings, ids=False),
        "form_meta": {},
    }


def _guess_customer(ctx: Ctx, email: str) -> int:
    address = email.strip().lower()
    row = ctx.one("SELECT id FROM users WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT 1", (address,))
    if row is not None:
        return int(row[0])
    return _new_customer(ctx, {"email": address, "login": address, "firstname": "", "lastname": ""})


def _new_customer(ctx: Ctx, data: dict[str, Any]) -> int:
    now = now_ts()
    values = {
        "login": data.get("login") or data.get("email") or "",
        "firstname": data.get("firstname", ""),
        "lastname": data.get("lastname", ""),
        "email": data.get("email", ""),
        "web": "",
        "fax": "",
        "mobile": "",
        "phone": data.get("phone", ""),
        "street": "",
        "zip": "",
        "city": "",
        "country": "",
        "note": "",
        "active": 1,
        "preferences": json.dumps({"locale": "en-us"}),
        "created_at": now,
        "updated_at": now,
    }
    if ctx.one("SELECT 1 FROM users WHERE login = ? COLLATE NOCASE", (values["login"],)):
        ctx.unprocessable("This object already exists.")
    user_id = insert(ctx, SPECS["User"], values)
    for (role_id,) in ctx.conn.execute(
        "SELECT id FROM roles WHERE default_at_signup = 1 AND active = 1"
    ).fetchall():
        ctx.conn.execute("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", (user_id, role_id))
    return user_id


def _customer(ctx: Ctx, data: dict[str, Any]) -> None:
    value = data.get("customer_id")
    if isinstance(value, str) and value.startswith("guess:"):
        address = value[6:].strip()
        if not _EMAIL.match(address):
            from zammad_orm.testing.core import ApiError

            raise ApiError(422, {"error": f"Invalid email '{address}' of customer"})
        data["customer_id"] = _guess_customer(ctx, address)
        data.pop("customer", None)
    customer = data.get("customer")
    if isinstance(customer, dict) and "customer_id" not in data:
        data.pop("customer")
        row = None
        if customer.get("id") is not None:
            row = ctx.one("SELECT id FROM users WHERE id = ?", (customer["id"],))
        for key in ("email", "login"):
            if row is None and customer.get(key):
                row = ctx.one(f"SELECT id FROM users WHERE {key} = ? COLLATE NOCASE", (customer[key],))
        data["customer_id"] = int(row[0]) if row else _new_customer(ctx, customer)


def _state_type(ctx: Ctx, state_id: Any) -> str:
    row = ctx.one(
        "SELECT st.name FROM ticket_states s JOIN ticket_state_types st ON st.id = s.state_type_id WHERE"
        " s.id = ?",
        (state_id,),
    )
    return str(row[0]) if row else ""


def _prepare(ctx: Ctx, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    for key in ("id", "number", "article", "tags", "links", "mentions", "created_at", "updated_at"):
        data.pop(key, None)
    if not ctx.is_agent:
        for key in ("owner", "owner_id", "customer", "customer_id", "preferences"):
            data.pop(key, None)
        if not creating:
            data.pop("organization", None)
            data.pop("organization_id", None)
    else:
        _customer(ctx, data)
    resolve_refs(ctx, TICKET, data)
    if "title" in data and isinstance(data["title"], str):
        data["title"] = re.sub(r"[\s\t\r]+", " ", data["title"]).strip()
    return values_from(ctx, TICKET, data, _WRITABLE)


def _check_required(ctx: Ctx, values: dict[str, Any]) -> None:
    for field in ("title", "group_id", "customer_id"):
        if values.get(field) in (None, ""):
            ctx.raw_error(422, f"Missing required value for field '{field}'!")
    if _state_type(ctx, values.get("state_id")).startswith("pending") and not values.get("pending_time"):
        ctx.raw_error(422, "Missing required value for field 'pending_time'!")


def _create_links(ctx: Ctx, ticket_id: int, links: dict[str, Any]) -> None:
    """Apply the ``links`` hash of a ticket create: each given ticket "is the <type> of" the new one."""
    by_type = links.get("Ticket") or {}
    if not isinstance(by_type, dict):
        ctx.unprocessable("Invalid value for field 'links'!")
    for kind, targets in by_type.items():
        for target in targets if isinstance(targets, list) else [targets]:
            other = ticket_row(ctx, target)
            link_tickets(ctx, str(kind), int(other["id"]), ticket_id)


def _valid_owner(ctx: Ctx, owner_id: Any, group_id: Any) -> bool:
    if owner_id in (None, 1):
        return True
    return (
        ctx.one(
            "SELECT 1 FROM users u JOIN user_groups g ON g.user_id = u.id WHERE u.id = ? AND u.active = 1"
            " AND g.group_id = ? AND g.access = 'full'",
            (owner_id, group_id),
        )
        is not None
    )


def tickets_create(ctx: Ctx) -> Any:
    """``POST /tickets`` → 201 with ``article_ids`` (spec §5.1.1)."""
    ctx.require("ticket.agent", "ticket.customer")
    data = dict(ctx.params)
    article, tags, links, mentions = (
        data.get("article"),
        data.get("tags"),
        data.get("links"),
        data.get("mentions"),
    )
    values = _prepare(ctx, data, creating=True)
    if not ctx.is_agent:
        values["customer_id"] = ctx.uid
    if values.get("state_id") is None:
        values["state_id"] = ctx.column(
            "SELECT id FROM ticket_states WHERE default_create = 1 ORDER BY id LIMIT 1"
        )[0]
    if values.get("priority_id") is None:
        values["priority_id"] = ctx.column(
            "SELECT id FROM ticket_priorities WHERE default_create = 1 ORDER BY id LIMIT 1"
        )[0]
    values.setdefault("owner_id", 1)
    values["owner_id"] = values["owner_id"] or 1
    _check_required(ctx, values)
    if ctx.is_agent and values["group_id"] not in ctx.group_ids("create") and not ctx.has("ticket.customer"):
        ctx.forbidden()
    if not _valid_owner(ctx, values["owner_id"], values["group_id"]):
        ctx.unprocessable(f"Invalid value '{values['owner_id']}' for field 'owner_id'!")
    customer_orgs = ctx.organization_ids(values["customer_id"])
    if values.get("organization_id") not in customer_orgs:
        primary = ctx.one("SELECT organization_id FROM users WHERE id = ?", (values["customer_id"],))
        values["organization_id"] = primary[0] if primary else None
    values.setdefault("preferences", "{}")
    values["number"] = next_number(ctx)
    stamp = now_ts()
    values.update(created_at=stamp, updated_at=stamp)
    if values["owner_id"] != 1:
        values["last_owner_update_at"] = stamp
    ticket_id = insert(ctx, TICKET, values)
    ctx.touched_tickets.add(ticket_id)
    history(ctx, "Ticket", ticket_id, "created", now=stamp)
    row = get_row(ctx, TICKET, ticket_id)
    if isinstance(article, dict):
        create_article(ctx, row, article)
    elif article is not None:
        ctx.unprocessable("Invalid value for field 'article'!")
    if isinstance(tags, str):
        tags = tags.split(",")
    if isinstance(tags, list):
        add_tags(ctx, "Ticket", ticket_id, tags)
    if isinstance(links, dict):
        _create_links(ctx, ticket_id, links)
    if isinstance(mentions, list):
        for user_id in mentions:
            user = get_row(ctx, SPECS["User"], user_id)
            insert(
                ctx,
                SPECS["Mention"],
                {"mentionable_type": "Ticket", "mentionable_id": ticket_id, "user_id": user["id"]},
            )
    update_customer_counters(ctx, values["customer_id"])
    notify(ctx, get_row(ctx, TICKET, ticket_id), "create")
    return show(ctx, TICKET, get_row(ctx, TICKET, ticket_id), status=201)


_HISTORY_LABELS = {
    "state_id": "SELECT name FROM ticket_states WHERE id = ?",
    "priority_id": "SELECT name FROM ticket_priorities WHERE id = ?",
    "group_id": "SELECT name FROM groups WHERE id = ?",
    "owner_id": "SELECT trim(firstname || ' ' || lastname) FROM users WHERE id = ?",
    "customer_id": "SELECT trim(firstname || ' ' || lastname) FROM users WHERE id = ?",
    "organization_id": "SELECT name FROM organizations WHERE id = ?",
    "title": None,
}


def _history_label(ctx: Ctx, key: str, value: Any) -> str | None:
    # History shows names (``new`` → ``open``) and keeps the ids in id_from/id_to.
    sql = _HISTORY_LABELS[key]
    if value is None:
        return None
    if sql is None:
        return str(value)
    row = ctx.one(sql, (value,))
    return str(row[0]) if row else str(value)


def tickets_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /tickets/:id`` → ticket with id lists (spec §5.1.2)."""
    ctx.require("ticket.agent", "ticket.customer")
    row = ticket_row(ctx, ident, change=True)
    data = dict(ctx.params)
    article = data.get("article")
    values = _prepare(ctx, data, creating=False)
    if "preferences" in values:
        merged = json.loads(row["preferences"] or "{}")
        merged.update(json.loads(values["preferences"]))
        values["preferences"] = json.dumps(merged)
    if values.get("customer_id") not in (None, row["customer_id"]):
        # A new customer brings their organization, unless one of their organizations was given.
        orgs = ctx.organization_ids(values["customer_id"])
        if values.get("organization_id", row["organization_id"]) not in orgs:
            primary = ctx.one("SELECT organization_id FROM users WHERE id = ?", (values["customer_id"],))
            values["organization_id"] = primary[0] if primary else None
    check = {**dict(row), **values}
    _check_required(ctx, check)
    stamp = now_ts()
    old_type, new_type = _state_type(ctx, row["state_id"]), _state_type(ctx, check["state_id"])
    if old_type.startswith("pending") and not new_type.startswith("pending"):
        values["pending_time"] = None
    if new_type == "closed" and old_type != "closed":
        values["close_at"] = row["close_at"] or stamp
        values["last_close_at"] = stamp
    if "owner_id" in values and values["owner_id"] != row["owner_id"]:
        values["last_owner_update_at"] = stamp
    if not _valid_owner(ctx, check["owner_id"], check["group_id"]):
        values["owner_id"] = 1
    changed = {key: value for key, value in values.items() if row[key] != value}
    if changed:
        # Like ActiveRecord, an update without changes leaves updated_at alone.
        update(ctx, TICKET, row["id"], changed)
    for key in _HISTORY_LABELS:
        if key in changed:
            history(
                ctx,
                "Ticket",
                row["id"],
                "updated",
                now=stamp,
                attribute=key.removesuffix("_id"),
                value_from=_history_label(ctx, key, row[key]),
                value_to=_history_label(ctx, key, changed[key]),
                id_from=row[key] if key.endswith("_id") else None,
                id_to=changed[key] if key.endswith("_id") else None,
            )
    ctx.touched_tickets.add(row["id"])
    current = get_row(ctx, TICKET, row["id"])
    if isinstance(article, dict):
        create_article(ctx, current, article)
    if "state_id" in changed or "customer_id" in changed:
        update_customer_counters(ctx, current["customer_id"])
        if row["customer_id"] != current["customer_id"]:
            update_customer_counters(ctx, row["customer_id"])
    notify(ctx, current, "update")
    return show(ctx, TICKET, get_row(ctx, TICKET, row["id"]))


def delete_ticket_rows(ctx: Ctx, ticket_id: int) -> None:
    """Remove a ticket and everything hanging off it."""
    articles = ctx.column("SELECT id FROM ticket_articles WHERE ticket_id = ?", (ticket_id,))
    for article_id in articles:
        ctx.conn.execute("DELETE FROM attachments WHERE article_id = ?", (article_id,))
    for sql in (
        # The ticket's checklist goes with it; items of other checklists lose their reference to it.
        "DELETE FROM checklist_items WHERE checklist_id IN (SELECT checklist_id FROM tickets WHERE id = ?)",
        "DELETE FROM checklists WHERE id IN (SELECT checklist_id FROM tickets WHERE id = ?)",
        "UPDATE checklist_items SET ticket_id = NULL WHERE ticket_id = ?",
        "DELETE FROM ticket_articles WHERE ticket_id = ?",
        "DELETE FROM time_accountings WHERE ticket_id = ?",
        "DELETE FROM tags WHERE object = 'Ticket' AND o_id = ?",
        "DELETE FROM mentions WHERE mentionable_type = 'Ticket' AND mentionable_id = ?",
        "DELETE FROM online_notifications WHERE object_lookup_id = 1 AND o_id = ?",
        "DELETE FROM histories WHERE (object = 'Ticket' AND o_id = ?)",
        "DELETE FROM tickets WHERE id = ?",
    ):
        ctx.conn.execute(sql, (ticket_id,))
    ctx.conn.execute(
        "DELETE FROM links WHERE (link_object_source_id = 1 AND link_object_source_value = ?)"
        " OR (link_object_target_id = 1 AND link_object_target_value = ?)",
        (ticket_id, ticket_id),
    )
    ctx.touched_tickets.add(ticket_id)


def tickets_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /tickets/:id``: admin only; 200 with an empty ``text/html`` body (recorded)."""
    row = get_row(ctx, TICKET, ident)
    if not ctx.has("admin"):
        ctx.forbidden()
    delete_ticket_rows(ctx, row["id"])
    update_customer_counters(ctx, row["customer_id"])
    return Reply(None, raw=b"", content_type="text/html")


ROUTES: list[Route] = [
    ("/tickets", "GET", tickets_index),
    ("/tickets", "POST", tickets_create),
    ("/tickets/<ident>", "GET", tickets_show),
    ("/tickets/<ident>", "PUT", tickets_update),
    ("/tickets/<ident>", "DELETE", tickets_delete),
]
