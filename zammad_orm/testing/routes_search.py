"""Emulator routes for search: tickets, users, organizations and the global ``/search`` (spec §4).

The Elasticsearch path parses the query with :mod:`zammad_orm.testing.search` and filters the search
documents of :mod:`zammad_orm.testing.searchdocs`; the database path imitates Zammad's SQL ``LIKE``
fallback (§4.6). The ordered list of matching ids is cached per (query, sort, user, store generation), so
further pages of a result cost one slice plus rendering. Both reply generations (6.0–6.4 and 6.5+) exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from zammad_orm.testing.assets import Assets
from zammad_orm.testing.core import Ctx, Reply, Route
from zammad_orm.testing.crud import paginate, sort_pairs
from zammad_orm.testing.render import SPECS, ResourceSpec, columns_of, expand, render_many
from zammad_orm.testing.search import compile_query, condition_match, prepare
from zammad_orm.testing.searchdocs import (
    organization_docs,
    sort_key_value,
    table_docs,
    ticket_docs,
    user_docs,
)
from zammad_orm.testing.tickets import read_filter

__all__ = ["ROUTES"]

MAX_RESULT_WINDOW = 10_000
_CACHE_LIMIT = 128


def _unified(ctx: Ctx) -> bool:
    return ctx.version_at_least(6, 5)


def _order(
    docs: Mapping[int, Mapping[str, Any]], ids: list[int], pairs: Sequence[tuple[str, str]]
) -> list[int]:
    ordered = sorted(ids)
    for column, direction in reversed(pairs):
        present = [i for i in ordered if docs[i].get(column) is not None]
        missing = [i for i in ordered if docs[i].get(column) is None]
        try:
            present.sort(key=lambda i: sort_key_value(docs[i][column]), reverse=direction == "DESC")
        except TypeError:
            present.sort(key=lambda i: str(docs[i][column]), reverse=direction == "DESC")
        # Elasticsearch puts documents without the sort field last in both directions.
        ordered = present + missing
    return ordered


def _cached(ctx: Ctx, key: tuple[Any, ...], compute: Callable[[], list[int]]) -> list[int]:
    results: dict[tuple[Any, ...], list[int]] = ctx.store.cache.setdefault("search_results", {})
    full_key = (ctx.store.generation, *key)
    if full_key not in results:
        if len(results) >= _CACHE_LIMIT:
            results.pop(next(iter(results)))
        results[full_key] = compute()
    return results[full_key]


def _es_match(
    ctx: Ctx, query: str, docs: Mapping[int, Mapping[str, Any]], candidates: Sequence[int]
) -> list[int]:
    if not query:
        return []
    predicate = compile_query(query, now=datetime.now(timezone.utc))
    if predicate is None:
        return []
    return [i for i in candidates if predicate(docs[i])]


# --- tickets -------------------------------------------------------------------------------------------
def _db_ticket_ids(ctx: Ctx, query: str, where: str, args: list[Any]) -> list[int]:
    text = query.replace("*", "")
    # PostgreSQL LIKE is case-sensitive before 6.5 (ILIKE after): instr() is a byte-exact substring test.
    like = "lower({col}) LIKE '%' || lower(?) || '%'" if _unified(ctx) else "instr({col}, ?) > 0"
    columns = ["tickets.title", "tickets.number", "a.body", 'a."from"', 'a."to"', "a.subject"]
    match = " OR ".join(like.format(col=col) for col in columns)
    rows = ctx.conn.execute(
        f"SELECT DISTINCT tickets.id FROM tickets JOIN ticket_articles a ON a.ticket_id = tickets.id"
        f" WHERE {where} AND ({match})",
        (*args, *([text] * len(columns))),
    )
    return [row[0] for row in rows]


def tickets_search(ctx: Ctx) -> Any:
    """``GET|POST /tickets/search``."""
    ctx.require("ticket.agent", "ticket.customer")
    limit, offset = paginate(ctx, 50, 200)
    pairs = sort_pairs(ctx, columns_of(ctx, SPECS["Ticket"])) or [("updated_at", "DESC")]
    raw = str(ctx.get("query", ctx.get("term", "")) or "")
    condition = ctx.get("condition")
    where, args = read_filter(ctx)
    use_es = ctx.search_backend == "elasticsearch" and raw.strip() and not (condition and not _unified(ctx))
    query = prepare(raw, zammad_version=ctx.zammad_version)

    def compute() -> list[int]:
        readable = ctx.column(f"SELECT id FROM tickets WHERE {where}", args)
        if use_es:
            docs = ticket_docs(ctx, readable)
            ids = _es_match(ctx, query, docs, readable)
        elif raw.strip():
            # No Elasticsearch (or a 6.0–6.4 search with a condition): Zammad's SQL LIKE fallback.
            ids = _db_ticket_ids(ctx, raw.strip(), where, args)
            docs = ticket_docs(ctx, ids)
        elif ctx.search_backend == "elasticsearch" and not _unified(ctx) and not condition:
            ids, docs = [], {}  # 6.0–6.4 with Elasticsearch: an empty query finds nothing
        else:
            docs = ticket_docs(ctx, readable)
            ids = readable
        if condition:
            keep = condition_match(condition)
            ids = [i for i in ids if keep(docs[i])]
        return _order(docs, ids, pairs)

    key = ("tickets", query if use_es else raw, repr(condition), tuple(pairs), ctx.uid, ctx.search_backend)
    ordered = _cached(ctx, key, compute)
    if use_es and offset + limit > MAX_RESULT_WINDOW:
        page: list[int] = []  # Elasticsearch refuses from + size beyond index.max_result_window.
    else:
        page = ordered[offset : offset + limit]
    return _ticket_reply(ctx, page, len(ordered))


def _tickets(ctx: Ctx, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    rows = ctx.conn.execute(f"SELECT * FROM tickets WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
    by_id = {row["id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _labels_65(ctx: Ctx, kind: str, ids: list[int], docs: Mapping[int, Mapping[str, Any]]) -> list[Any]:
    """6.5+ ``label``/``term`` items: the full name (users: with the email), else the name, else the id."""
    out: list[Any] = []
    for i in ids:
        doc = docs.get(i, {})
        if kind == "User":
            name = " ".join(p for p in (doc.get("firstname"), doc.get("lastname")) if p)
            realname: Any = (
                f"{name} <{doc['email']}>" if name and doc.get("email") else name or doc.get("email")
            )
        else:
            realname = doc.get("name") or i
        if ctx.get("term") is not None and kind != "Ticket":
            item = {"id": i, "label": realname, "value": doc.get("email") or realname}
            item["inactive"] = not doc.get("active")
        else:
            item = {"id": i, "label": realname, "value": realname}
        out.append(item)
    return out


def _unified_list(ctx: Ctx, records: list[Any], total: int) -> Any:
    """Return a 6.5+ list reply, wrapped as ``{"records", "total_count"}`` for ``with_total_count=true``."""
    return {"records": records, "total_count": total} if ctx.flag("with_total_count") else records


def _ticket_reply(ctx: Ctx, ids: list[int], total: int) -> Any:
    spec = SPECS["Ticket"]
    if _unified(ctx):
        if ctx.flag("only_total_count"):
            return {"total_count": total}
        if ctx.flag("full"):
            return {"record_ids": ids, "assets": Assets(ctx).add("Ticket", ids).data, "total_count": total}
        records = render_many(ctx, spec, _tickets(ctx, ids))
        if ctx.flag("expand"):
            return _unified_list(ctx, [expand(ctx, spec, r) for r in records], total)
        if ctx.get("label") is not None or ctx.get("term") is not None:
            return _unified_list(ctx, _labels_65(ctx, "Ticket", ids, {}), total)
        return _unified_list(ctx, records, total)
    if ctx.flag("expand"):
        return [expand(ctx, spec, r) for r in render_many(ctx, spec, _tickets(ctx, ids))]
    assets = Assets(ctx).add("Ticket", ids).dumps()
    # Built as text: the asset records' JSON is cached per store generation, which keeps deep pages cheap.
    text = f'{{"tickets":{json.dumps(ids)},"tickets_count":{len(ids)},"assets":{assets}}}'
    return Reply(None, raw=text.encode("utf-8"))


# --- users and organizations ---------------------------------------------------------------------------
def _ints(values: list[Any]) -> set[int]:
    # Ruby's to_i would turn garbage into 0, which matches no record: skipping it is equivalent.
    return {int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.strip().isdigit())}


def _user_filters(ctx: Ctx, docs: Mapping[int, Mapping[str, Any]], ids: list[int]) -> list[int]:
    role_ids = ctx.get("role_ids")
    if role_ids not in (None, "", []):
        wanted = _ints(role_ids if isinstance(role_ids, list) else [role_ids])
        ids = [i for i in ids if wanted & set(docs[i]["role_ids"])]
    wanted_ids = ctx.get("ids")
    if wanted_ids not in (None, "", []):
        keep = _ints(wanted_ids if isinstance(wanted_ids, list) else str(wanted_ids).split(","))
        ids = [i for i in ids if i in keep]
    groups = ctx.get("group_ids")
    if isinstance(groups, dict) and groups:
        allowed = set()
        for gid, access in groups.items():
            if not str(gid).isdigit() or not isinstance(access, (str, list)):
                continue
            accesses = [access] if isinstance(access, str) else list(access)
            marks = ",".join("?" * len(accesses))
            sql = f"SELECT user_id FROM user_groups WHERE group_id = ? AND access IN ({marks})"
            allowed |= set(ctx.column(sql, (int(gid), *accesses)))
        ids = [i for i in ids if i in allowed]
    return ids


def _object_search(
    ctx: Ctx, kind: str, docs: Mapping[int, Mapping[str, Any]], candidates: list[int]
) -> tuple[list[int], int]:
    unified = _unified(ctx)
    limit, offset = paginate(ctx, 50 if unified else 100, 200 if unified else 500)
    spec = SPECS[kind]
    pairs = sort_pairs(ctx, columns_of(ctx, spec)) or [("active", "DESC"), ("updated_at", "DESC")]
    raw = str(ctx.get("query", ctx.get("term", "")) or "")
    use_es = ctx.search_backend == "elasticsearch" and raw.strip()
    query = prepare(raw, zammad_version=ctx.zammad_version)

    def compute() -> list[int]:
        if use_es:
            ids = _es_match(ctx, query, docs, candidates)
        elif raw.strip():
            text = raw.replace("*", "").strip().lower()
            fields = ("firstname", "lastname", "email", "login") if kind == "User" else ("name", "note")
            ids = [i for i in candidates if any(text in str(docs[i].get(f) or "").lower() for f in fields)]
            if kind == "Organization" and len(ids) <= 3 and ctx.get("page") in (None, "", "1", 1):
                users = user_docs(ctx)
                extra = {
                    u["organization_id"]
                    for u in users.values()
                    if u["organization_id"]
                    and any(text in str(u.get(f) or "").lower() for f in ("firstname", "lastname", "email"))
                }
                ids += [i for i in candidates if i in extra and i not in ids]
        else:
            ids = list(candidates)
        if kind == "User":
            ids = _user_filters(ctx, docs, ids)
        return _order(docs, ids, pairs)

    key = (
        kind,
        query if use_es else raw,
        tuple(pairs),
        ctx.uid,
        ctx.search_backend,
        repr(sorted(ctx.params.items())),
    )
    ordered = _cached(ctx, key, compute)
    if use_es and offset + limit > MAX_RESULT_WINDOW:
        return [], len(ordered)
    return ordered[offset : offset + limit], len(ordered)


def _object_reply(
    ctx: Ctx, kind: str, ids: list[int], total: int, docs: Mapping[int, Mapping[str, Any]]
) -> Any:
    spec = SPECS[kind]
    if _unified(ctx):
        return _object_reply_65(ctx, kind, ids, total, docs)
    if (ctx.get("term") is not None and ctx.get("query") is None) or ctx.get("label") is not None:
        out = []
        for i in ids:
            doc = docs[i]
            if kind == "User":
                name = " ".join(p for p in (doc.get("firstname"), doc.get("lastname")) if p)
                label = f"{name} <{doc['email']}>" if doc.get("email") else name
                item = {"id": i, "label": label, "value": doc.get("email") or doc.get("login")}
                if ctx.get("term") is not None:
                    item["inactive"] = not doc.get("active")
            else:
                item = {"id": i, "label": doc["name"], "value": doc["name"]}
            out.append(item)
        return out
    if ctx.flag("full"):
        key = "user_ids" if kind == "User" else "organization_ids"
        return {"assets": Assets(ctx).add(kind, ids).data, key: ids}
    records = _object_records(ctx, spec, ids)
    return [expand(ctx, spec, r) for r in records] if ctx.flag("expand") else records


def _object_records(ctx: Ctx, spec: ResourceSpec, ids: list[int]) -> list[dict[str, Any]]:
    rows = (
        ctx.conn.execute(
            f"SELECT * FROM {spec.table} WHERE id IN ({','.join('?' * len(ids))})", ids
        ).fetchall()
        if ids
        else []
    )
    by_id = {row["id"]: row for row in rows}
    return render_many(ctx, spec, [by_id[i] for i in ids if i in by_id])


def _object_reply_65(
    ctx: Ctx, kind: str, ids: list[int], total: int, docs: Mapping[int, Mapping[str, Any]]
) -> Any:
    # Zammad 6.5+ (model_search_render): only_total_count, full, expand, label/term, plain, in that order.
    spec = SPECS[kind]
    if ctx.flag("only_total_count"):
        return {"total_count": total}
    if ctx.flag("full"):
        return {"record_ids": ids, "assets": Assets(ctx).add(kind, ids).data, "total_count": total}
    if ctx.flag("expand"):
        return _unified_list(ctx, [expand(ctx, spec, r) for r in _object_records(ctx, spec, ids)], total)
    if ctx.get("label") is not None or ctx.get("term") is not None:
        return _unified_list(ctx, _labels_65(ctx, kind, ids, docs), total)
    return _unified_list(ctx, _object_records(ctx, spec, ids), total)


def users_search(ctx: Ctx) -> Any:
    """``GET|POST /users/search``."""
    ctx.require("ticket.agent", "admin.user")
    docs = user_docs(ctx)
    candidates = [i for i in docs if i != 1]
    ids, total = _object_search(ctx, "User", docs, candidates)
    return _object_reply(ctx, "User", ids, total, docs)


def organizations_search(ctx: Ctx) -> Any:
    """``GET|POST /organizations/search`` (customers: only their own organizations)."""
    ctx.require("ticket.agent", "ticket.customer", "admin.organization")
    docs = organization_docs(ctx)
    if ctx.has("ticket.agent", "admin.organization"):
        candidates = list(docs)
    else:
        candidates = [i for i in ctx.organization_ids() if i in docs]
    ids, total = _object_search(ctx, "Organization", docs, candidates)
    return _object_reply(ctx, "Organization", ids, total, docs)


def _table_search(ctx: Ctx, kind: str) -> Any:
    if not _unified(ctx):
        # Before 6.5 the path is the show route with id "search".
        ctx.not_found(SPECS[kind].cls, "search")
    docs = table_docs(ctx, kind)
    ids, total = _object_search(ctx, kind, docs, list(docs))
    return _object_reply(ctx, kind, ids, total, docs)


def groups_search(ctx: Ctx) -> Any:
    """``GET|POST /groups/search`` (Zammad 6.5+ unified search)."""
    ctx.require("admin.group", "ticket.agent")
    return _table_search(ctx, "Group")


def roles_search(ctx: Ctx) -> Any:
    """``GET|POST /roles/search`` (Zammad 6.5+ unified search)."""
    ctx.require("admin.role", "ticket.agent")
    return _table_search(ctx, "Role")


def global_search(ctx: Ctx) -> Any:
    """``GET|POST /search``: tickets, users, organizations → ``{"assets", "result": [{"type","id"}]}``."""
    limit = max(ctx.int_param("limit", 10), 0)
    raw = str(ctx.get("query", ctx.get("term", "")) or "")
    if not raw.strip():
        return {"assets": {}, "result": []}
    assets = Assets(ctx)
    result: list[dict[str, Any]] = []
    params = dict(ctx.params)
    ctx.params = {"query": raw, "per_page": limit, "page": 1}
    try:
        if ctx.has("ticket.agent", "ticket.customer"):
            where, args = read_filter(ctx)
            readable = ctx.column(f"SELECT id FROM tickets WHERE {where}", args)
            if ctx.search_backend == "database":
                ids = _db_ticket_ids(ctx, raw.strip(), where, args)
                docs = ticket_docs(ctx, ids)
            else:
                docs = ticket_docs(ctx, readable)
                ids = _es_match(ctx, prepare(raw, zammad_version=ctx.zammad_version), docs, readable)
            ids = _order(docs, ids, [("updated_at", "DESC")])[:limit]
            assets.add("Ticket", ids)
            result += [{"type": "Ticket", "id": i} for i in ids]
        if ctx.has("ticket.agent", "admin.user"):
            udocs = user_docs(ctx)
            ids, _ = _object_search(ctx, "User", udocs, [i for i in udocs if i != 1])
            assets.add("User", ids)
            result += [{"type": "User", "id": i} for i in ids]
        if ctx.has("ticket.agent", "admin.organization"):
            odocs = organization_docs(ctx)
            ids, _ = _object_search(ctx, "Organization", odocs, list(odocs))
            assets.add("Organization", ids)
            result += [{"type": "Organization", "id": i} for i in ids]
    finally:
        ctx.params = params
    return {"assets": assets.data, "result": result}


ROUTES: list[Route] = [
    ("/tickets/search", "GET POST", tickets_search),
    ("/users/search", "GET POST", users_search),
    ("/organizations/search", "GET POST", organizations_search),
    ("/search", "GET POST", global_search),
    ("/groups/search", "GET POST", groups_search),
    ("/roles/search", "GET POST", roles_search),
]
