"""Ticket domain logic of the emulator: access rules, numbers, articles, history, time-unit recompute.

Shared by the ticket, article, tag, link and time-accounting routes, so that every side effect of spec
§5 (article counters, ``updated_at`` touches, history entries, customer counters) happens in one place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from decimal import Decimal, InvalidOperation
from typing import Any

from zammad_orm.testing.core import ApiError, Ctx
from zammad_orm.testing.crud import insert, lookup_id
from zammad_orm.testing.render import SPECS, fetch
from zammad_orm.testing.store import now_ts

__all__ = [
    "MIRROR",
    "add_tags",
    "can_change",
    "can_read",
    "create_article",
    "history",
    "link_record",
    "link_tickets",
    "linked_tickets",
    "next_number",
    "notify",
    "read_filter",
    "recompute_time",
    "tag_names",
    "ticket_row",
    "update_customer_counters",
]

OPEN_STATE_TYPES = ("new", "open", "pending reminder", "pending action")


def read_filter(ctx: Ctx, alias: str = "tickets") -> tuple[str, list[Any]]:
    """Return the SQL condition (and args) selecting the tickets the acting user may read (spec §4.4)."""
    clauses: list[str] = []
    args: list[Any] = []
    if ctx.is_agent:
        groups = ctx.group_ids("read", "change", "overview")
        if groups:
            clauses.append(f"{alias}.group_id IN ({','.join('?' * len(groups))})")
            args += groups
    if ctx.has("ticket.customer"):
        clauses.append(f"{alias}.customer_id = ?")
        args.append(ctx.uid)
        orgs = [
            org
            for org in ctx.organization_ids()
            if (row := ctx.one("SELECT shared FROM organizations WHERE id = ?", (org,))) and row[0]
        ]
        if orgs:
            clauses.append(f"{alias}.organization_id IN ({','.join('?' * len(orgs))})")
            args += orgs
    if not clauses:
        return "0", []
    return "(" + " OR ".join(clauses) + ")", args


def can_read(ctx: Ctx, row: sqlite3.Row) -> bool:
    """Return the acting user may read this ticket."""
    where, args = read_filter(ctx, "t")
    return ctx.one(f"SELECT 1 FROM tickets t WHERE t.id = ? AND {where}", (row["id"], *args)) is not None


def can_change(ctx: Ctx, row: sqlite3.Row) -> bool:
    """Return the acting user may update this ticket (agent with change/full access, or its customer side)."""
    if ctx.is_agent and row["group_id"] in ctx.group_ids("change"):
        return True
    if ctx.has("ticket.customer"):
        return can_read(ctx, row)
    return False


def ticket_row(ctx: Ctx, ident: Any, *, change: bool = False) -> sqlite3.Row:
    """Return the ticket or 404; 403 ``Not authorized`` when the user may not read (or change) it."""
    row = fetch(ctx, SPECS["Ticket"], ident)
    if not can_read(ctx, row) or (change and not can_change(ctx, row)):
        ctx.forbidden()
    if change and not ctx.is_agent and _closed_for_follow_up(ctx, row):
        ctx.unprocessable("Cannot follow-up on a closed ticket. Please create a new ticket.")
    return row


def _closed_for_follow_up(ctx: Ctx, row: sqlite3.Row) -> bool:
    # Customers cannot follow up on closed tickets of groups that want a new ticket instead.
    group = ctx.one("SELECT follow_up_possible FROM groups WHERE id = ?", (row["group_id"],))
    if group is None or group[0] != "new_ticket":
        return False
    state = ctx.one(
        "SELECT st.name FROM ticket_states s JOIN ticket_state_types st ON st.id = s.state_type_id WHERE"
        " s.id = ?",
        (row["state_id"],),
    )
    return state is not None and state[0] == "closed"


def next_number(ctx: Ctx) -> str:
    """``Ticket::Number::Increment`` with ``min_size: 5`` and the system id (spec §7.2)."""
    system_id = ctx.one("SELECT value FROM settings WHERE name = 'system_id'")
    sid = str(system_id[0]) if system_id else "67"
    counter = str(ctx.store.next_counter("ticket_number"))
    return sid + "0" * max(0, 5 - len(sid) - len(counter)) + counter


def history(ctx: Ctx, obj: str, o_id: int, kind: str, *, now: str | None = None, **extra: Any) -> None:
    """Append a history entry (``created``, ``updated``, ``merged_into``...)."""
    values = {
        "o_id": o_id,
        "object": obj,
        "type": kind,
        "created_by_id": ctx.uid,
        "created_at": now or now_ts(),
    }
    values.update({key: value for key, value in extra.items() if value is not None})
    columns = ", ".join(values)
    ctx.conn.execute(
        f"INSERT INTO histories ({columns}) VALUES ({','.join('?' * len(values))})", tuple(values.values())
    )


def decimal_text(value: Any, field: str, ctx: Ctx) -> str:
    """Return A time unit as Zammad's decimal string (``"1.0"``, ``"12.3"``)."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        ctx.unprocessable(f"Invalid value {value!r} for field '{field}'!")
    if not number.is_finite():
        ctx.unprocessable(f"Invalid value {value!r} for field '{field}'!")
    text = format(number.normalize(), "f")
    return text if "." in text else text + ".0"


def recompute_time(ctx: Ctx, ticket_id: int, *, now: str | None = None) -> None:
    """Sum the ticket's accountings into ``tickets.time_unit`` and touch the ticket (spec §5.11)."""
    units = ctx.column("SELECT time_unit FROM time_accountings WHERE ticket_id = ?", (ticket_id,))
    total = sum((Decimal(u) for u in units if u is not None), Decimal("0"))
    ctx.conn.execute(
        "UPDATE tickets SET time_unit = ? WHERE id = ?", (decimal_text(total, "time_unit", ctx), ticket_id)
    )
    ctx.touch_ticket(ticket_id, now=now or now_ts())


def update_customer_counters(ctx: Ctx, customer_id: int | None) -> None:
    """Refresh a customer's ``preferences.tickets_open/closed`` and touch it when they change (spec §7.3)."""
    if customer_id is None:
        return
    user = ctx.one("SELECT preferences FROM users WHERE id = ?", (customer_id,))
    if user is None:
        return
    counts = dict(
        ctx.conn.execute(
            "SELECT CASE WHEN st.name IN ('new', 'open', 'pending reminder', 'pending action') THEN 'open'"
            " WHEN st.name = 'closed' THEN 'closed' ELSE 'other' END AS k, COUNT(*) FROM tickets t"
            " JOIN ticket_states s ON s.id = t.state_id JOIN ticket_state_types st ON st.id = s.state_type_id"
            " WHERE t.customer_id = ? GROUP BY k",
            (customer_id,),
        ).fetchall()
    )
    prefs = json.loads(user[0] or "{}")
    new = {"tickets_closed": counts.get("closed", 0), "tickets_open": counts.get("open", 0)}
    if any(prefs.get(key) != value for key, value in new.items()):
        prefs.update(new)
        ctx.conn.execute(
            "UPDATE users SET preferences = ?, updated_at = ? WHERE id = ?",
            (json.dumps(prefs), now_ts(), customer_id),
        )
        for (ticket_id,) in ctx.conn.execute("SELECT id FROM tickets WHERE customer_id = ?", (customer_id,)):
            ctx.touched_tickets.add(ticket_id)


def _store_file(ctx: Ctx, data: bytes) -> int:
    sha = hashlib.sha256(data).hexdigest()
    row = ctx.one("SELECT id FROM store_files WHERE sha = ?", (sha,))
    if row is not None:
        return int(row[0])
    cursor = ctx.conn.execute("INSERT INTO store_files (sha, data) VALUES (?, ?)", (sha, data))
    return int(cursor.lastrowid or 0)


def _attachments(ctx: Ctx, items: Any) -> list[tuple[str, bytes, dict[str, Any]]]:
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        ctx.unprocessable("Invalid value for field 'attachments'!")
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            ctx.unprocessable(f"Attachment needs 'data' param for attachment with index '{index}'")
        for key in ("data", "filename", "mime-type"):
            if not item.get(key):
                ctx.unprocessable(f"Attachment needs '{key}' param for attachment with index '{index}'")
        try:
            raw = base64.b64decode("".join(str(item["data"]).split()), validate=True)
        except (binascii.Error, ValueError):
            ctx.unprocessable(f"Invalid base64 for attachment with index '{index}'")
        prefs: dict[str, Any] = {"Mime-Type": item["mime-type"]}
        if item.get("charset"):
            prefs["Charset"] = item["charset"]
        out.append((str(item["filename"]), raw, prefs))
    return out


def create_article(ctx: Ctx, ticket: sqlite3.Row, data: dict[str, Any], *, now: str | None = None) -> int:
    """Create an article with its attachments and time accounting; update the ticket's counters."""
    data = dict(data)
    body = data.get("body")
    if body is None or body == "":
        ctx.unprocessable("Need at least an 'article body' field.")
    if not isinstance(body, str):
        ctx.unprocessable(f"Invalid value {body!r} for field 'body'!")
    agent = ctx.is_agent
    if "type" in data and "type_id" not in data:
        data["type_id"] = lookup_id(ctx, "type", "TicketArticleType", data.pop("type"))
    if "sender" in data and "sender_id" not in data:
        data["sender_id"] = lookup_id(ctx, "sender", "TicketArticleSender", data.pop("sender"))
    type_id = data.get("type_id") or 10
    if ctx.one("SELECT 1 FROM ticket_article_types WHERE id = ?", (type_id,)) is None:
        ctx.unprocessable(f"No lookup value found for 'type': {json.dumps(type_id)}")
    sender_id = data.get("sender_id") or (1 if agent else 2)
    if ctx.one("SELECT 1 FROM ticket_article_senders WHERE id = ?", (sender_id,)) is None:
        ctx.unprocessable(f"No lookup value found for 'sender': {json.dumps(sender_id)}")
    internal = data.get("internal", False)
    if not isinstance(internal, bool):
        internal = str(internal).lower() in ("true", "1")
    if not agent:
        # Customers write public notes/web articles as Customer (spec §5.2).
        sender_id, internal = 2, False
        type_id = type_id if type_id in (10, 11) else 10
    me = ctx.one("SELECT firstname, lastname, email FROM users WHERE id = ?", (ctx.uid,))
    full_name = " ".join(part for part in (me["firstname"], me["lastname"]) if part) if me else ""
    sender_from = data.get("from")
    if sender_from is None and type_id == 10:
        sender_from = full_name
    attachments = _attachments(ctx, data.get("attachments"))
    stamp = now or now_ts()
    values = {
        "ticket_id": ticket["id"],
        "type_id": type_id,
        "sender_id": sender_id,
        "from": sender_from,
        "to": data.get("to"),
        "cc": data.get("cc"),
        "subject": data.get("subject"),
        "reply_to": data.get("reply_to"),
        "message_id": data.get("message_id"),
        "in_reply_to": data.get("in_reply_to"),
        "content_type": data.get("content_type") or "text/plain",
        "references": data.get("references"),
        "body": body,
        "internal": int(internal),
        "preferences": json.dumps(
            data.get("preferences") if isinstance(data.get("preferences"), dict) else {}
        ),
        "origin_by_id": data.get("origin_by_id"),
        "created_at": stamp,
        "updated_at": stamp,
    }
    if values["message_id"]:
        values["message_id_md5"] = hashlib.md5(str(values["message_id"]).encode()).hexdigest()
    for key in ("to", "cc", "subject", "reply_to", "message_id", "in_reply_to", "references"):
        if values[key] is not None and not isinstance(values[key], str):
            ctx.unprocessable(f"Invalid value {values[key]!r} for field '{key}'!")
    article_id = insert(ctx, SPECS["TicketArticle"], values)
    for filename, raw, prefs in attachments:
        ctx.conn.execute(
            "INSERT INTO attachments (article_id, store_file_id, filename, size, preferences) VALUES (?,"
            " ?, ?, ?, ?)",
            (article_id, _store_file(ctx, raw), filename, str(len(raw)), json.dumps(prefs)),
        )
    _article_side_effects(ctx, ticket, type_id, sender_id, stamp)
    history(
        ctx,
        "Ticket::Article",
        article_id,
        "created",
        now=stamp,
        related_o_id=ticket["id"],
        related_object="Ticket",
    )
    if data.get("time_unit") not in (None, ""):
        type_ref = data.get("accounted_time_type_id")
        if type_ref is None and data.get("accounted_time_type"):
            type_ref = lookup_id(
                ctx, "accounted_time_type", "TimeAccountingType", data["accounted_time_type"]
            )
        insert(
            ctx,
            SPECS["TimeAccounting"],
            {
                "ticket_id": ticket["id"],
                "ticket_article_id": article_id,
                "time_unit": decimal_text(data["time_unit"], "time_unit", ctx),
                "type_id": type_ref,
            },
        )
        recompute_time(ctx, ticket["id"])
    return article_id


def _article_side_effects(ctx: Ctx, ticket: sqlite3.Row, type_id: int, sender_id: int, stamp: str) -> None:
    current = ctx.one(
        "SELECT article_count, create_article_type_id, first_response_at FROM tickets WHERE id = ?",
        (ticket["id"],),
    )
    assert current is not None
    sets = {"article_count": (current["article_count"] or 0) + 1}
    if current["create_article_type_id"] is None:
        sets["create_article_type_id"] = type_id
        sets["create_article_sender_id"] = sender_id
    communication = ctx.one("SELECT communication FROM ticket_article_types WHERE id = ?", (type_id,))
    if communication and communication[0]:
        sets["last_contact_at"] = stamp
        if sender_id == 2:
            sets["last_contact_customer_at"] = stamp
        elif sender_id == 1:
            sets["last_contact_agent_at"] = stamp
            if current["first_response_at"] is None:
                sets["first_response_at"] = stamp
    assignments = ", ".join(f"{key} = ?" for key in sets)
    ctx.conn.execute(f"UPDATE tickets SET {assignments} WHERE id = ?", (*sets.values(), ticket["id"]))
    ctx.touch_ticket(ticket["id"], now=now_ts())


_DEFAULT_CRITERIA = {"owned_by_me": True, "owned_by_nobody": True, "subscribed": True, "no": False}


def notify(ctx: Ctx, ticket: sqlite3.Row, kind: str) -> None:
    """Create online notifications like Zammad's notification job (run inline here).

    Every active agent with access to the ticket's group, except the acting user, is notified when their
    notification matrix asks for it: tickets they own, unassigned tickets, tickets they are subscribed to.
    """
    owner = ticket["owner_id"]
    agents = ctx.conn.execute(
        "SELECT DISTINCT u.id, u.preferences FROM user_groups g JOIN users u ON u.id = g.user_id"
        " WHERE g.group_id = ? AND g.access IN ('full', 'read', 'overview') AND u.active = 1 AND u.id != ?",
        (ticket["group_id"], ctx.uid),
    ).fetchall()
    if not agents:
        return
    subscribed = set(
        ctx.column(
            "SELECT user_id FROM mentions WHERE mentionable_type = 'Ticket' AND mentionable_id = ?",
            (ticket["id"],),
        )
    )
    type_row = ctx.one("SELECT id FROM type_lookups WHERE name = ?", (kind,))
    type_id = type_row[0] if type_row else 3
    for agent in agents:
        matrix = json.loads(agent["preferences"] or "{}").get("notification_config", {}).get("matrix", {})
        entry = matrix.get(kind, {})
        criteria = {**_DEFAULT_CRITERIA, **entry.get("criteria", {})}
        if entry.get("channel", {}).get("online") is False:
            continue
        wanted = (
            (criteria["owned_by_me"] and owner == agent["id"])
            or (criteria["owned_by_nobody"] and owner in (None, 1))
            or (criteria["subscribed"] and agent["id"] in subscribed)
            or criteria["no"]
        )
        if wanted:
            insert(
                ctx,
                SPECS["OnlineNotification"],
                {
                    "o_id": ticket["id"],
                    "object_lookup_id": 1,
                    "type_lookup_id": type_id,
                    "user_id": agent["id"],
                    "seen": 0,
                },
            )


def add_tags(ctx: Ctx, object_name: str, o_id: int, names: list[str]) -> bool:
    """Add tags to an object (case-insensitive no-op when present); True when something changed."""
    changed = False
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        item = ctx.one("SELECT id FROM tag_items WHERE name_downcase = ?", (name.lower(),))
        item_id = (
            int(item[0])
            if item
            else int(
                ctx.conn.execute(
                    "INSERT INTO tag_items (name, name_downcase) VALUES (?, ?)", (name, name.lower())
                ).lastrowid
                or 0
            )
        )
        exists = ctx.one(
            "SELECT 1 FROM tags WHERE tag_item_id = ? AND object = ? AND o_id = ?",
            (item_id, object_name, o_id),
        )
        if exists is None:
            ctx.conn.execute(
                "INSERT INTO tags (tag_item_id, object, o_id, created_by_id, created_at) VALUES (?, ?, ?,"
                " ?, ?)",
                (item_id, object_name, o_id, ctx.uid, now_ts()),
            )
            history(ctx, object_name, o_id, "added", attribute="tag", value_to=name)
            changed = True
    return changed


def tag_names(ctx: Ctx, object_name: str, o_id: int) -> list[str]:
    """Return the tag names of an object in insertion order."""
    return ctx.column(
        "SELECT i.name FROM tags t JOIN tag_items i ON i.id = t.tag_item_id WHERE t.object = ? AND t.o_id"
        " = ? ORDER BY t.id",
        (object_name, o_id),
    )


MIRROR = {"normal": "normal", "parent": "child", "child": "parent"}


def _link_type_id(ctx: Ctx, name: str) -> int:
    if name not in MIRROR:
        raise ApiError(422, {"error": f"Invalid link type '{name}'"})
    row = ctx.one("SELECT id FROM link_types WHERE name = ?", (name,))
    if row is not None:
        return int(row[0])
    return int(ctx.conn.execute("INSERT INTO link_types (name) VALUES (?)", (name,)).lastrowid or 0)


def link_record(row: Any) -> dict[str, Any]:
    """Return the JSON form of a ``links`` row."""
    keys = (
        "id",
        "link_type_id",
        "link_object_source_id",
        "link_object_source_value",
        "link_object_target_id",
        "link_object_target_value",
        "created_at",
        "updated_at",
    )
    return {key: row[key] for key in keys}


def link_tickets(
    ctx: Ctx, link_type: str, source: int, target: int, *, now: str | None = None, touch: bool = True
) -> dict[str, Any]:
    """Store link row ``(type, source, target)`` (source "is the <type> of" target) and touch both tickets."""
    type_id = _link_type_id(ctx, link_type)
    stamp = now or now_ts()
    existing = ctx.one(
        "SELECT * FROM links WHERE link_type_id = ? AND link_object_source_value = ? AND"
        " link_object_target_value = ?",
        (type_id, source, target),
    )
    if existing is None:
        cursor = ctx.conn.execute(
            "INSERT INTO links (link_type_id, link_object_source_id, link_object_source_value,"
            " link_object_target_id,"
            " link_object_target_value, created_at, updated_at) VALUES (?, 1, ?, 1, ?, ?, ?)",
            (type_id, source, target, stamp, stamp),
        )
        existing = ctx.one("SELECT * FROM links WHERE id = ?", (cursor.lastrowid,))
    for ticket_id in (source, target) if touch else ():
        ctx.touch_ticket(ticket_id, now=now_ts())
    return link_record(existing)


def linked_tickets(ctx: Ctx, ticket_id: int) -> list[dict[str, Any]]:
    """Return the links of a ticket as ``GET /links`` lists them, seen from that ticket."""
    links = []
    for row in ctx.conn.execute(
        "SELECT l.*, t.name AS type_name FROM links l JOIN link_types t ON t.id = l.link_type_id"
        " WHERE l.link_object_source_value = ? OR l.link_object_target_value = ? ORDER BY l.id",
        (ticket_id, ticket_id),
    ):
        if row["link_object_target_value"] == ticket_id:
            kind, other = row["type_name"], row["link_object_source_value"]
        else:
            kind, other = MIRROR[row["type_name"]], row["link_object_target_value"]
        links.append({"link_type": kind, "link_object": "Ticket", "link_object_value": other})
    return links
