"""Emulator routes for custom attributes: ``/object_manager_attributes`` and its migrations.

A new attribute is pending (``to_create``) until ``POST /object_manager_attributes_execute_migrations`` adds
its column to the table of its object; a deleted one is marked ``to_delete`` until then;
``POST /object_manager_attributes_discard_changes`` drops the pending changes.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import get_row, insert, show, update, values_from
from zammad_orm.testing.render import SPECS, render_many
from zammad_orm.testing.store import CUSTOM_TABLES

__all__ = ["ROUTES"]

_ATTR_FIELDS = [
    "name",
    "display",
    "data_type",
    "data_option",
    "data_option_new",
    "editable",
    "active",
    "screens",
    "position",
    "object",
]
_DATA_TYPES = {
    "input",
    "textarea",
    "select",
    "multiselect",
    "tree_select",
    "multi_tree_select",
    "boolean",
    "integer",
    "date",
    "datetime",
    "checkbox",
    "autocompletion_ajax",
    "autocompletion_ajax_external_data_source",
}
_RESERVED = {"id", "created_at", "updated_at", "created_by_id", "updated_by_id", "tags", "article", "number"}


def attributes_index(ctx: Ctx) -> Any:
    """``GET /object_manager_attributes`` (a plain list, not paginated)."""
    ctx.require("admin.object")
    rows = ctx.conn.execute("SELECT * FROM object_manager_attributes ORDER BY position, id").fetchall()
    return render_many(ctx, SPECS["ObjectManagerAttribute"], rows, ids=False)


def attributes_show(ctx: Ctx, ident: str) -> Any:
    """``GET /object_manager_attributes/:id``."""
    ctx.require("admin.object")
    return show(
        ctx,
        SPECS["ObjectManagerAttribute"],
        get_row(ctx, SPECS["ObjectManagerAttribute"], ident),
        ids=False,
    )


def attributes_create(ctx: Ctx) -> Any:
    """``POST /object_manager_attributes`` → 201; the column appears after execute_migrations."""
    ctx.require("admin.object")
    data = dict(ctx.params)
    name, obj = data.get("name"), data.get("object")
    if not isinstance(obj, str) or obj not in CUSTOM_TABLES:
        ctx.unprocessable(f"Invalid value {obj!r} for field 'object'!")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in _RESERVED:
        ctx.unprocessable(f"Invalid attribute name {name!r}; use lowercase letters, digits and _ only.")
    if not isinstance(data.get("data_type"), str) or data["data_type"] not in _DATA_TYPES:
        ctx.unprocessable(f"Invalid data_type {data.get('data_type')!r}")
    table = CUSTOM_TABLES[obj]
    existing = {row[1] for row in ctx.conn.execute(f"PRAGMA table_info({table})")}
    if name in existing or ctx.one(
        "SELECT 1 FROM object_manager_attributes WHERE name = ? AND object = ?", (name, obj)
    ):
        ctx.unprocessable(f"{name} already exists!")
    data.setdefault("display", name)
    data.setdefault("position", 1500)
    data.setdefault("data_option", {})
    data.setdefault("screens", {})
    values = values_from(ctx, SPECS["ObjectManagerAttribute"], data, _ATTR_FIELDS)
    values.update(to_create=1, to_migrate=1, to_config=1)
    ident = insert(ctx, SPECS["ObjectManagerAttribute"], values)
    return show(
        ctx,
        SPECS["ObjectManagerAttribute"],
        get_row(ctx, SPECS["ObjectManagerAttribute"], ident),
        ids=False,
        status=201,
    )


def attributes_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /object_manager_attributes/:id`` (name, object and data_type stay)."""
    ctx.require("admin.object")
    row = get_row(ctx, SPECS["ObjectManagerAttribute"], ident)
    data = {k: v for k, v in ctx.params.items() if k not in ("name", "object", "data_type")}
    values = values_from(ctx, SPECS["ObjectManagerAttribute"], data, _ATTR_FIELDS)
    values.update(to_migrate=1, to_config=1)
    update(ctx, SPECS["ObjectManagerAttribute"], row["id"], values)
    return show(
        ctx,
        SPECS["ObjectManagerAttribute"],
        get_row(ctx, SPECS["ObjectManagerAttribute"], row["id"]),
        ids=False,
    )


def attributes_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /object_manager_attributes/:id``: marked ``to_delete``; gone after execute_migrations."""
    ctx.require("admin.object")
    row = get_row(ctx, SPECS["ObjectManagerAttribute"], ident)
    if row["to_create"]:
        ctx.conn.execute("DELETE FROM object_manager_attributes WHERE id = ?", (row["id"],))
    else:
        ctx.conn.execute("UPDATE object_manager_attributes SET to_delete = 1 WHERE id = ?", (row["id"],))
    return {}


def attributes_migrate(ctx: Ctx) -> Any:
    """``POST /object_manager_attributes_execute_migrations``: add/drop the pending columns."""
    ctx.require("admin.object")
    rows: list[sqlite3.Row] = ctx.conn.execute("SELECT * FROM object_manager_attributes").fetchall()
    for row in rows:
        table, name = CUSTOM_TABLES[row["object"]], row["name"]
        if row["to_delete"]:
            if name in ctx.store.custom_columns[row["object"]]:
                ctx.conn.execute(f'ALTER TABLE {table} DROP COLUMN "{name}"')
                ctx.store.custom_columns[row["object"]].remove(name)
            ctx.conn.execute("DELETE FROM object_manager_attributes WHERE id = ?", (row["id"],))
        elif row["to_create"]:
            ctx.conn.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" TEXT')
            ctx.store.custom_columns[row["object"]].append(name)
    ctx.conn.execute(
        "UPDATE object_manager_attributes SET to_create = 0, to_migrate = 0, to_config = 0, to_delete = 0"
    )
    ctx.touched_shared = True
    return {}


def attributes_discard(ctx: Ctx) -> Any:
    """``POST /object_manager_attributes_discard_changes``."""
    ctx.require("admin.object")
    ctx.conn.execute("DELETE FROM object_manager_attributes WHERE to_create = 1")
    ctx.conn.execute("UPDATE object_manager_attributes SET to_delete = 0, to_migrate = 0, to_config = 0")
    return {}


ROUTES: list[Route] = [
    ("/object_manager_attributes", "GET", attributes_index),
    ("/object_manager_attributes", "POST", attributes_create),
    ("/object_manager_attributes/<ident>", "GET", attributes_show),
    ("/object_manager_attributes/<ident>", "PUT", attributes_update),
    ("/object_manager_attributes/<ident>", "DELETE", attributes_delete),
    ("/object_manager_attributes_execute_migrations", "POST", attributes_migrate),
    ("/object_manager_attributes_discard_changes", "POST", attributes_discard),
]
