"""Search documents of the emulator: what Zammad indexes into Elasticsearch per ticket, user, organization.

Shapes follow contracts §3 / spec §4.4: the object's columns with Python values (aware UTC datetimes for
timestamps), nested dicts for every reference, ``tags`` and ``article`` lists for tickets, custom attributes
as top-level keys. Ticket documents are cached per ticket (:attr:`Store.ticket_docs`) and rebuilt only for
tickets a write touched, so searching 100 000 tickets repeatedly stays cheap.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from zammad_orm.testing.core import Ctx
from zammad_orm.testing.render import SPECS
from zammad_orm.testing.store import parse_ts

__all__ = ["organization_docs", "table_docs", "ticket_docs", "user_docs"]

_TS_SUFFIX = ("_at", "_time")
# Zammad's User.search_index_attributes_ignored (newer versions also drop the free-form preferences hash).
_HIDDEN_USER = ("password", "token", "image", "image_source", "source", "login_failed", "preferences")


_PLANS: dict[tuple[str, tuple[str, ...], frozenset[str]], list[tuple[str, int]]] = {}


def _plan(model_name: str, keys: tuple[str, ...], custom: frozenset[str]) -> list[tuple[str, int]]:
    # (column, kind): 0 as stored, 1 boolean, 2 JSON text, 3 timestamp; computed once per column set.
    plan = _PLANS.get((model_name, keys, custom))
    if plan is None:
        spec = SPECS.get(model_name)
        plan = []
        for key in keys:
            if key in custom or (spec is not None and key in spec.jsons):
                kind = 2
            elif spec is not None and key in spec.bools:
                kind = 1
            elif key.endswith(_TS_SUFFIX):
                kind = 3
            else:
                kind = 0
            plan.append((key, kind))
        _PLANS[(model_name, keys, custom)] = plan
    return plan


def _timestamp(value: Any) -> Any:
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return value
    try:
        return parse_ts(value)
    except ValueError:
        return value


def _docs(
    ctx: Ctx, model_name: str, cursor: sqlite3.Cursor, skip: Iterable[str] = ()
) -> Iterator[dict[str, Any]]:
    """Yield a document per row of ``cursor`` (the conversion plan is computed once per query)."""
    spec = SPECS.get(model_name)
    custom = (
        frozenset(ctx.store.custom_columns.get(spec.custom or "", []))
        if spec and spec.custom
        else frozenset()
    )
    names = tuple(column[0] for column in cursor.description)
    plan = _plan(model_name, names, custom)
    skipped = set(skip)
    plain = [(index, key) for index, (key, kind) in enumerate(plan) if kind == 0 and key not in skipped]
    typed = [(index, key, kind) for index, (key, kind) in enumerate(plan) if kind and key not in skipped]
    loads = json.loads
    for row in cursor:
        out = {key: row[index] for index, key in plain}
        for index, key, kind in typed:
            value = row[index]
            if value is not None:
                value = bool(value) if kind == 1 else loads(value) if kind == 2 else _timestamp(value)
            out[key] = value
        yield out


def _table_docs(ctx: Ctx, model_name: str, table: str, skip: Iterable[str] = ()) -> dict[int, dict[str, Any]]:
    key = ("docs", table)
    cached = ctx.store.cache.get(key)
    if cached is None:
        cached = {
            doc["id"]: doc for doc in _docs(ctx, model_name, ctx.conn.execute(f"SELECT * FROM {table}"), skip)
        }
        ctx.store.cache[key] = cached
    return cached


def table_docs(ctx: Ctx, model_name: str) -> dict[int, dict[str, Any]]:
    """Return plain column documents of every row of a resource's table (groups, roles...)."""
    return _table_docs(ctx, model_name, SPECS[model_name].table)


def _refs(ctx: Ctx) -> dict[str, dict[int, dict[str, Any]]]:
    return {
        "group": _table_docs(ctx, "Group", "groups"),
        "organization": _table_docs(ctx, "Organization", "organizations"),
        "state": _table_docs(ctx, "TicketState", "ticket_states"),
        "priority": _table_docs(ctx, "TicketPriority", "ticket_priorities"),
        "user": _table_docs(ctx, "User", "users", _HIDDEN_USER),
        "create_article_type": _table_docs(ctx, "TicketArticleType", "ticket_article_types"),
        "create_article_sender": _table_docs(ctx, "TicketArticleSender", "ticket_article_senders"),
    }


_USER_COLUMNS = frozenset({"owner_id", "customer_id", "created_by_id", "updated_by_id"})
_REF_COLUMNS = {
    "group": "group_id",
    "organization": "organization_id",
    "state": "state_id",
    "priority": "priority_id",
    "owner": "owner_id",
    "customer": "customer_id",
    "created_by": "created_by_id",
    "updated_by": "updated_by_id",
    "create_article_type": "create_article_type_id",
    "create_article_sender": "create_article_sender_id",
}


def _build_ticket_docs(ctx: Ctx, ids: list[int] | None) -> dict[int, dict[str, Any]]:
    where: str = ""
    args: tuple[int, ...] = ()
    if ids is not None:
        if not ids:
            return {}
        where = f" WHERE id IN ({','.join('?' * len(ids))})"
        args = tuple(ids)
    tickets = _docs(ctx, "Ticket", ctx.conn.execute(f"SELECT * FROM tickets{where}", args))
    refs = _refs(ctx)
    art_where = where.replace("WHERE id", "WHERE ticket_id")
    articles: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for doc in _docs(
        ctx,
        "TicketArticle",
        ctx.conn.execute(
            'SELECT id, ticket_id, type_id, sender_id, "from", "to", cc, subject, body, internal,'
            " content_type, created_by_id, created_at, updated_at"
            f" FROM ticket_articles{art_where} ORDER BY id",
            args,
        ),
    ):
        articles[doc["ticket_id"]].append(doc)
    tags: dict[int, list[str]] = defaultdict(list)
    tag_where = where.replace("WHERE id", "AND t.o_id")
    for o_id, name in ctx.conn.execute(
        f"SELECT t.o_id, i.name FROM tags t JOIN tag_items i ON i.id = t.tag_item_id WHERE t.object ="
        f" 'Ticket'{tag_where}"
        " ORDER BY t.id",
        args,
    ):
        tags[o_id].append(name)
    mentions: dict[int, list[int]] = defaultdict(list)
    for o_id, user_id in ctx.conn.execute(
        "SELECT mentionable_id, user_id FROM mentions WHERE mentionable_type = 'Ticket'"
    ):
        mentions[o_id].append(user_id)
    out = {}
    for doc in tickets:
        for name, column in _REF_COLUMNS.items():
            table = "user" if column in _USER_COLUMNS else name
            ref = doc[column]
            doc[name] = refs[table].get(ref) if ref is not None else None
        tid = doc["id"]
        doc["tags"] = tags.get(tid, [])
        doc["article"] = articles.get(tid, [])
        doc["mention_user_ids"] = mentions.get(tid, [])
        out[tid] = doc
    return out


def ticket_docs(ctx: Ctx, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Documents for these ticket ids (built for the missing ones, cached for the rest)."""
    cache = ctx.store.ticket_docs
    missing = [i for i in ids if i not in cache]
    if missing:
        # Building everything at once is far cheaper than many small builds on a cold cache.
        bulk = len(missing) > 2000
        built = _build_ticket_docs(ctx, None if bulk else missing)
        cache.update(built)
        if bulk:
            # Hundreds of thousands of long-lived document objects would make every full garbage
            # collection crawl them; freezing moves them out of the collector's way.
            gc.freeze()
    return {i: cache[i] for i in ids if i in cache}


def user_docs(ctx: Ctx) -> dict[int, dict[str, Any]]:
    """Documents of all users: columns + ``organization`` + ``role_ids`` + ``permissions``."""
    cached = ctx.store.cache.get(("docs", "user_search"))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    orgs = _table_docs(ctx, "Organization", "organizations")
    base = _table_docs(ctx, "User", "users", _HIDDEN_USER)
    roles: dict[int, list[int]] = defaultdict(list)
    for user_id, role_id in ctx.conn.execute("SELECT user_id, role_id FROM user_roles ORDER BY role_id"):
        roles[user_id].append(role_id)
    perms: dict[int, list[str]] = defaultdict(list)
    for role_id, name in ctx.conn.execute(
        "SELECT rp.role_id, p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id"
    ):
        perms[role_id].append(name)
    out = {}
    for uid, doc in base.items():
        full = dict(doc)
        full["organization"] = orgs.get(doc["organization_id"]) if doc["organization_id"] else None
        full["role_ids"] = roles.get(uid, [])
        full["permissions"] = sorted({p for r in full["role_ids"] for p in perms.get(r, [])})
        out[uid] = full
    ctx.store.cache[("docs", "user_search")] = out
    return out


def organization_docs(ctx: Ctx) -> dict[int, dict[str, Any]]:
    """Documents of all organizations: columns + ``members`` (user documents)."""
    cached = ctx.store.cache.get(("docs", "org_search"))
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    users = _table_docs(ctx, "User", "users", _HIDDEN_USER)
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for doc in users.values():
        if doc["organization_id"] is not None:
            members[doc["organization_id"]].append(doc)
    out = {}
    for oid, doc in _table_docs(ctx, "Organization", "organizations").items():
        out[oid] = {**doc, "members": members.get(oid, [])}
    ctx.store.cache[("docs", "org_search")] = out
    return out


def sort_key_value(value: Any) -> Any:
    """Return comparable form of a document value (datetimes as timestamps, dicts as JSON)."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value
