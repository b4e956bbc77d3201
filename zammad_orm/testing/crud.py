"""Generic resource operations of the emulator: index (pagination, sorting), show, create, update, history.

These mirror Zammad's ``model_index_render`` / ``model_show_render`` / ``model_create_render`` /
``model_update_render`` (spec §2.2–§2.5), including name-to-id lookups (§2.3) and their 422 messages.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zammad_orm.testing.assets import Assets
from zammad_orm.testing.core import Ctx, Reply
from zammad_orm.testing.render import SPECS, ResourceSpec, columns_of, expand, fetch, render, render_many
from zammad_orm.testing.store import now_ts

__all__ = [
    "index",
    "insert",
    "lookup_id",
    "order_clause",
    "paginate",
    "record_history",
    "resolve_refs",
    "show",
    "show_many",
    "update",
    "values_from",
]

_LOOKUP_COLUMN = {"User": "login", "Ticket": "number"}


def paginate(ctx: Ctx, default: int, maximum: int) -> tuple[int, int]:
    """``(limit, offset)`` from ``page`` and ``per_page``/``limit`` (clamped; Ruby ``to_i`` semantics)."""
    per_page = ctx.int_param("per_page", ctx.int_param("limit", default))
    per_page = min(per_page, maximum)
    page = ctx.int_param("page", 1)
    offset = (page - 1) * per_page
    if per_page < 0 or offset < 0:
        # The database refuses a negative LIMIT/OFFSET; Zammad maps StatementInvalid to 422 (not humanized).
        ctx.raw_error(422, "PG::InvalidRowCountInResultOffsetClause: ERROR:  OFFSET must not be negative")
    return per_page, offset


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [part.strip() for part in str(value).split(",")]


def sort_pairs(ctx: Ctx, columns: Sequence[str]) -> list[tuple[str, str]]:
    """Return validated ``(column, ASC|DESC)`` pairs of ``sort_by``/``order_by`` (spec §2.5, 500s)."""
    sort_by = [s for s in _as_list(ctx.get("sort_by")) if s]
    order_by = [o for o in _as_list(ctx.get("order_by")) if o]
    pairs = []
    for index, column in enumerate(sort_by):
        if column not in columns:
            ctx.raw_error(500, f"Found invalid column '{column}' for sorting.")
        if index >= len(order_by):
            continue
        direction = order_by[index].lower()
        if direction not in ("asc", "desc"):
            ctx.raw_error(500, f"Found invalid order by value {order_by[index]}. Please use 'asc' or 'desc'.")
        pairs.append((column, direction.upper()))
    # order_by entries without a sort_by partner are validated too (Zammad checks the whole list).
    for direction in order_by[len(sort_by) :]:
        if direction.lower() not in ("asc", "desc"):
            ctx.raw_error(500, f"Found invalid order by value {direction}. Please use 'asc' or 'desc'.")
    return pairs


def order_clause(ctx: Ctx, spec: ResourceSpec, default: str = "id ASC") -> str:
    """Return SQL ORDER BY text for the request's sort parameters."""
    pairs = sort_pairs(ctx, columns_of(ctx, spec))
    if not pairs:
        return default
    return ", ".join(f'"{column}" {direction}' for column, direction in pairs) + ", id ASC"


def show_many(
    ctx: Ctx, spec: ResourceSpec, rows: Sequence[sqlite3.Row], *, ids: bool = True, total: int | None = None
) -> Any:
    """Return A list in plain / expand / full form."""
    if ctx.flag("full"):
        assets = Assets(ctx).add(spec.name, [row["id"] for row in rows]).data
        out: dict[str, Any] = {"record_ids": [row["id"] for row in rows], "assets": assets}
        out["total_count"] = total if total is not None else len(rows)
        return out
    records = render_many(ctx, spec, rows, ids=ids or ctx.flag("expand"))
    if ctx.flag("expand"):
        records = [expand(ctx, spec, record) for record in records]
    return records


def show(ctx: Ctx, spec: ResourceSpec, row: sqlite3.Row, *, ids: bool = True, status: int = 200) -> Any:
    """One record in plain / expand / full form."""
    if ctx.flag("full"):
        body: Any = {"id": row["id"], "assets": Assets(ctx).add(spec.name, [row["id"]]).data}
    else:
        expanded = ctx.flag("expand")
        body = render(ctx, spec, row, ids=ids or expanded)
        if expanded:
            body = expand(ctx, spec, body)
    return Reply(body, status) if status != 200 else body


def index(
    ctx: Ctx,
    spec: ResourceSpec,
    *,
    where: str = "1=1",
    args: Iterable[Any] = (),
    default: int = 500,
    maximum: int = 1000,
    ids: bool = True,
    sortable: bool = True,
) -> Any:
    """Return generic index: paginated, sortable, plain / expand / full."""
    limit, offset = paginate(ctx, default, maximum)
    order = order_clause(ctx, spec) if sortable else "id ASC"
    args = tuple(args)
    rows = ctx.conn.execute(
        f"SELECT * FROM {spec.table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", (*args, limit, offset)
    ).fetchall()
    total = None
    if ctx.flag("full"):
        total = ctx.conn.execute(f"SELECT COUNT(*) FROM {spec.table} WHERE {where}", args).fetchone()[0]
    return show_many(ctx, spec, rows, ids=ids, total=total)


def lookup_id(ctx: Ctx, assoc: str, target: str, value: Any) -> int:
    """Resolve a name given for a belongs_to association (spec §2.3); 422 when unknown."""
    spec = SPECS[target]
    if target == "User":
        if not isinstance(value, str):
            ctx.unprocessable(f"String is needed as ref value {value!r} for '{assoc}'")
        row = ctx.one(
            "SELECT id FROM users WHERE login = ? COLLATE NOCASE ORDER BY id LIMIT 1", (value.strip(),)
        ) or (  # an empty name is no email: users without one have "" there
            ctx.one(
                "SELECT id FROM users WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT 1", (value.strip(),)
            )
            if value.strip()
            else None
        )
    else:
        row = ctx.one(f"SELECT id FROM {spec.table} WHERE name = ? ORDER BY id LIMIT 1", (str(value),))
    if row is None:
        ctx.unprocessable(f"No lookup value found for '{assoc}': {json.dumps(value, ensure_ascii=False)}")
    return int(row[0])


def resolve_refs(
    ctx: Ctx, spec: ResourceSpec, data: dict[str, Any], extra: Mapping[str, tuple[str, str]] | None = None
) -> None:
    """Replace ``group: "Users"`` style keys by their ``*_id`` (the id wins when both are given)."""
    lookups = dict(spec.lookups)
    lookups.update(extra or {})
    for assoc, (target, column) in lookups.items():
        if assoc in data:
            value = data.pop(assoc)
            if column in data or value is None or value == "":
                continue
            data[column] = lookup_id(ctx, assoc, target, value)


def _check_exists(ctx: Ctx, column: str, value: Any) -> None:
    targets = {
        "group_id": "Group",
        "state_id": "TicketState",
        "priority_id": "TicketPriority",
        "organization_id": "Organization",
        "owner_id": "User",
        "customer_id": "User",
        "type_id": None,
        "state_type_id": None,
        "next_state_id": "TicketState",
    }
    target = targets.get(column)
    if target is None or value is None:
        return
    spec = SPECS[target]
    if ctx.one(f"SELECT 1 FROM {spec.table} WHERE id = ?", (value,)) is None:
        ctx.unprocessable(f"No lookup value found for '{column[:-3]}': {json.dumps(value)}")


def values_from(
    ctx: Ctx, spec: ResourceSpec, data: Mapping[str, Any], writable: Iterable[str]
) -> dict[str, Any]:
    """Column values from a request body: only writable/custom columns, typed, references checked."""
    allowed = set(writable) | set(ctx.store.custom_columns.get(spec.custom or "", []))
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            continue
        if key in ctx.store.custom_columns.get(spec.custom or "", []):
            out[key] = None if value is None else json.dumps(value)
            continue
        if key in spec.bools:
            if value is not None and not isinstance(value, bool):
                if str(value).lower() in ("true", "1", "t", "yes", "on"):
                    value = True
                elif str(value).lower() in ("false", "0", "f", "no", "off", ""):
                    value = False
                else:
                    ctx.unprocessable(f"Invalid value {value!r} for field '{key}'!")
            out[key] = None if value is None else int(value)
        elif key in spec.jsons:
            if value is not None and not isinstance(value, dict):
                ctx.unprocessable(f"Invalid value {value!r} for field '{key}'!")
            out[key] = json.dumps(value if value is not None else {})
        elif key.endswith("_id") or key in ("position", "assignment_timeout", "reopen_time_in_days"):
            if value is not None and value != "":
                try:
                    if isinstance(value, bool):
                        raise ValueError
                    value = int(value)
                except (TypeError, ValueError):
                    ctx.unprocessable(f"Invalid value {value!r} for field '{key}'!")
                _check_exists(ctx, key, value)
            out[key] = None if value == "" else value
        else:
            if isinstance(value, (dict, list)):
                ctx.unprocessable(f"Invalid value {json.dumps(value)} for field '{key}'!")
            out[key] = value if value is None or isinstance(value, str) else str(value)
    return out


def insert(ctx: Ctx, spec: ResourceSpec, values: Mapping[str, Any], *, stamps: bool = True) -> int:
    """Insert a row (adding ``created_*``/``updated_*``) and return its id."""
    row = dict(values)
    if stamps:
        now = now_ts()
        row.setdefault("created_at", now)
        row.setdefault("updated_at", now)
        if "created_by_id" in spec.columns:
            row.setdefault("created_by_id", ctx.uid)
        if "updated_by_id" in spec.columns:
            row.setdefault("updated_by_id", ctx.uid)
    columns = ", ".join(f'"{c}"' for c in row)
    cursor = ctx.conn.execute(
        f"INSERT INTO {spec.table} ({columns}) VALUES ({','.join('?' * len(row))})", tuple(row.values())
    )
    return int(cursor.lastrowid or 0)


def update(
    ctx: Ctx, spec: ResourceSpec, ident: int, values: Mapping[str, Any], *, stamps: bool = True
) -> None:
    """Update columns of a row (adding ``updated_at``/``updated_by_id``); no changes, no write."""
    current = ctx.one(f"SELECT * FROM {spec.table} WHERE id = ?", (ident,))
    row = {key: value for key, value in values.items() if current is None or current[key] != value}
    if not row:
        # Like ActiveRecord: saving unchanged attributes does not touch updated_at.
        return
    if stamps:
        row["updated_at"] = now_ts()
        if "updated_by_id" in spec.columns:
            row["updated_by_id"] = ctx.uid
    assignments = ", ".join(f'"{c}" = ?' for c in row)
    ctx.conn.execute(f"UPDATE {spec.table} SET {assignments} WHERE id = ?", (*row.values(), ident))


def references(ctx: Ctx, checks: Iterable[tuple[str, str]], ident: int) -> None:
    """422 ``Can't delete, object has references.`` when any ``(table, column)`` refers to ``ident``."""
    for table, column in checks:
        if ctx.one(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (ident,)) is not None:
            ctx.unprocessable("Can't delete, object has references.")


def get_row(ctx: Ctx, spec: ResourceSpec, ident: Any) -> sqlite3.Row:
    """Row or 404 (re-exported for route modules)."""
    return fetch(ctx, spec, ident)


def record_history(ctx: Ctx, obj: str, o_id: int) -> Any:
    """Return the history of one user or organization: ``{"history": [...], "assets": {...}}``.

    Args:
        ctx: the request.
        obj: Zammad's object name (``"User"``, ``"Organization"``).
        o_id: the record's id.

    """
    rows = ctx.conn.execute(
        "SELECT * FROM histories WHERE object = ? AND o_id = ? ORDER BY created_at, id", (obj, o_id)
    ).fetchall()
    entries = []
    for h in rows:
        entry = {
            k: h[k]
            for k in (
                "id",
                "history_attribute_id",
                "sourceable_type",
                "sourceable_id",
                "sourceable_name",
                "o_id",
                "related_history_object_id",
                "created_by_id",
                "created_at",
                "object",
                "type",
            )
        }
        entry.update(
            {
                k: h[k]
                for k in (
                    "related_o_id",
                    "related_object",
                    "attribute",
                    "value_from",
                    "value_to",
                    "id_from",
                    "id_to",
                )
                if h[k] is not None
            }
        )
        entries.append(entry)
    assets = Assets(ctx).add(obj, [o_id]).add("User", [h["created_by_id"] for h in rows])
    return {"history": entries, "assets": assets.data}
