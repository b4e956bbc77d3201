"""Emulator routes for admin resources: groups, roles, states, priorities, object attributes, version."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from zammad_orm.testing.core import Ctx
from zammad_orm.testing.crud import (
    get_row,
    index,
    insert,
    lookup_id,
    references,
    show,
    update,
    values_from,
)
from zammad_orm.testing.render import SPECS, render_many
from zammad_orm.testing.store import CUSTOM_TABLES

__all__ = ["ROUTES"]

VERSIONS = {"6.2": "6.2.0-1709189301.4a2dd7d0.focal", "6.5": "6.5.0-1746531111.2b0b1b6d.noble"}

_GROUP_FIELDS = [
    "signature_id",
    "email_address_id",
    "name",
    "assignment_timeout",
    "follow_up_possible",
    "reopen_time_in_days",
    "follow_up_assignment",
    "active",
    "shared_drafts",
    "note",
    "parent_id",
]
_STATE_FIELDS = [
    "state_type_id",
    "name",
    "next_state_id",
    "ignore_escalation",
    "default_create",
    "default_follow_up",
    "note",
    "active",
]
_PRIORITY_FIELDS = ["name", "default_create", "ui_icon", "ui_color", "note", "active"]
_ROLE_FIELDS = ["name", "preferences", "default_at_signup", "active", "note"]


def _body(ctx: Ctx) -> dict[str, Any]:
    return dict(ctx.params)


def _unique(ctx: Ctx, table: str, name: Any, ident: int | None = None) -> None:
    if not isinstance(name, str) or not name.strip():
        ctx.unprocessable("Name can't be blank")
    row = ctx.one(f"SELECT id FROM {table} WHERE name = ? COLLATE NOCASE", (name,))
    if row is not None and row[0] != ident:
        ctx.unprocessable("This object already exists.")


# --- version -----------------------------------------------------------------------------------------
def version(ctx: Ctx) -> Any:
    """``GET /version``."""
    known = VERSIONS.get(ctx.zammad_version)
    if known is None:
        # Other 6.x versions answer in the same format, with their own number.
        release = ctx.zammad_version if ctx.zammad_version.count(".") >= 2 else ctx.zammad_version + ".0"
        known = f"{release}-1709189301.4a2dd7d0.noble"
    return {"version": known}


# --- groups ------------------------------------------------------------------------------------------
def _group_names(ctx: Ctx, values: dict[str, Any]) -> None:
    name = values.get("name")
    if isinstance(name, str) and "::" in name:
        parent_name, _, last = name.rpartition("::")
        values["name_last"] = last
        parent = ctx.one("SELECT id FROM groups WHERE name = ?", (parent_name,))
        if parent is None:
            ctx.unprocessable(f"No lookup value found for 'parent': \"{parent_name}\"")
        values["parent_id"] = parent[0]
    elif isinstance(name, str):
        values["name_last"] = name


def groups_index(ctx: Ctx) -> Any:
    """``GET /groups``."""
    ctx.require("admin.group", "ticket.agent", "ticket.customer")
    return index(ctx, SPECS["Group"])


def groups_show(ctx: Ctx, ident: str) -> Any:
    """``GET /groups/:id``."""
    ctx.require("admin.group", "ticket.agent", "ticket.customer")
    return show(ctx, SPECS["Group"], get_row(ctx, SPECS["Group"], ident))


def groups_create(ctx: Ctx) -> Any:
    """``POST /groups`` → 201."""
    ctx.require("admin.group")
    data = _body(ctx)
    _unique(ctx, "groups", data.get("name"))
    values = values_from(ctx, SPECS["Group"], data, _GROUP_FIELDS)
    _group_names(ctx, values)
    ident = insert(ctx, SPECS["Group"], values)
    ctx.touched_shared = True
    return show(ctx, SPECS["Group"], get_row(ctx, SPECS["Group"], ident), status=201)


def groups_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /groups/:id``."""
    ctx.require("admin.group")
    row = get_row(ctx, SPECS["Group"], ident)
    data = _body(ctx)
    if "name" in data:
        _unique(ctx, "groups", data["name"], row["id"])
    values = values_from(ctx, SPECS["Group"], data, _GROUP_FIELDS)
    _group_names(ctx, values)
    update(ctx, SPECS["Group"], row["id"], values)
    ctx.touched_shared = True
    return show(ctx, SPECS["Group"], get_row(ctx, SPECS["Group"], row["id"]))


def groups_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /groups/:id`` → ``{}``."""
    ctx.require("admin.group")
    row = get_row(ctx, SPECS["Group"], ident)
    references(ctx, [("tickets", "group_id"), ("groups", "parent_id")], row["id"])
    ctx.conn.execute("DELETE FROM user_groups WHERE group_id = ?", (row["id"],))
    ctx.conn.execute("DELETE FROM groups WHERE id = ?", (row["id"],))
    ctx.touched_shared = True
    return {}


# --- roles -------------------------------------------------------------------------------------------
def _role_permissions(ctx: Ctx, role_id: int, data: dict[str, Any]) -> None:
    ids: list[int] | None = None
    if isinstance(data.get("permission_ids"), list):
        ids = []
        for value in data["permission_ids"]:
            if ctx.one("SELECT 1 FROM permissions WHERE id = ?", (value,)) is None:
                ctx.unprocessable(f"No lookup value found for 'permission_ids': {value!r}")
            ids.append(int(value))
    elif isinstance(data.get("permissions"), list):
        ids = []
        for name in data["permissions"]:
            row = ctx.one("SELECT id FROM permissions WHERE name = ?", (str(name),))
            if row is None:
                ctx.unprocessable(f"No lookup value found for 'permissions': \"{name}\"")
            ids.append(row[0])
    if ids is not None:
        ctx.conn.execute("DELETE FROM role_permissions WHERE role_id = ?", (role_id,))
        ctx.conn.executemany(
            "INSERT OR IGNORE INTO role_permissions (role_id, permission_id) VALUES (?, ?)",
            [(role_id, pid) for pid in ids],
        )


def roles_index(ctx: Ctx) -> Any:
    """``GET /roles``."""
    ctx.require("admin.role", "ticket.agent")
    return index(ctx, SPECS["Role"])


def roles_show(ctx: Ctx, ident: str) -> Any:
    """``GET /roles/:id``."""
    ctx.require("admin.role", "ticket.agent")
    return show(ctx, SPECS["Role"], get_row(ctx, SPECS["Role"], ident))


def roles_create(ctx: Ctx) -> Any:
    """``POST /roles`` → 201 (unknown keys such as ``id`` are ignored)."""
    ctx.require("admin.role")
    data = _body(ctx)
    _unique(ctx, "roles", data.get("name"))
    ident = insert(ctx, SPECS["Role"], values_from(ctx, SPECS["Role"], data, _ROLE_FIELDS))
    _role_permissions(ctx, ident, data)
    ctx.touched_shared = True
    return show(ctx, SPECS["Role"], get_row(ctx, SPECS["Role"], ident), status=201)


def roles_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /roles/:id``."""
    ctx.require("admin.role")
    row = get_row(ctx, SPECS["Role"], ident)
    data = _body(ctx)
    if "name" in data:
        _unique(ctx, "roles", data["name"], row["id"])
    update(ctx, SPECS["Role"], row["id"], values_from(ctx, SPECS["Role"], data, _ROLE_FIELDS))
    _role_permissions(ctx, row["id"], data)
    ctx.touched_shared = True
    return show(ctx, SPECS["Role"], get_row(ctx, SPECS["Role"], row["id"]))


# --- ticket states -------------------------------------------------------------------------------------
def _state_values(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    if "state_type" in data and "state_type_id" not in data:
        name = data.pop("state_type")
        row = ctx.one("SELECT id FROM ticket_state_types WHERE name = ?", (str(name),))
        if row is None:
            ctx.unprocessable(f"No lookup value found for 'state_type': \"{name}\"")
        data["state_type_id"] = row[0]
    if "next_state" in data and "next_state_id" not in data:
        data["next_state_id"] = lookup_id(ctx, "next_state", "TicketState", data.pop("next_state"))
    values = values_from(ctx, SPECS["TicketState"], data, _STATE_FIELDS)
    stype = values.get("state_type_id")
    if stype is not None and ctx.one("SELECT 1 FROM ticket_state_types WHERE id = ?", (stype,)) is None:
        ctx.unprocessable(f"No lookup value found for 'state_type': {stype}")
    return values


def _only_one_default(ctx: Ctx, table: str, ident: int, values: dict[str, Any]) -> None:
    # Zammad keeps exactly one default_create (and one default_follow_up) record.
    for flag in ("default_create", "default_follow_up"):
        if values.get(flag):
            ctx.conn.execute(f"UPDATE {table} SET {flag} = 0 WHERE id != ?", (ident,))


def states_index(ctx: Ctx) -> Any:
    """``GET /ticket_states``."""
    ctx.require("admin.object", "ticket.agent", "ticket.customer")
    return index(ctx, SPECS["TicketState"])


def states_show(ctx: Ctx, ident: str) -> Any:
    """``GET /ticket_states/:id``."""
    ctx.require("admin.object", "ticket.agent", "ticket.customer")
    return show(ctx, SPECS["TicketState"], get_row(ctx, SPECS["TicketState"], ident))


def states_create(ctx: Ctx) -> Any:
    """``POST /ticket_states`` → 201."""
    ctx.require("admin.object")
    data = _body(ctx)
    _unique(ctx, "ticket_states", data.get("name"))
    values = _state_values(ctx, data)
    if values.get("state_type_id") is None:
        ctx.unprocessable("State type can't be blank")
    ident = insert(ctx, SPECS["TicketState"], values)
    _only_one_default(ctx, "ticket_states", ident, values)
    ctx.touched_shared = True
    return show(ctx, SPECS["TicketState"], get_row(ctx, SPECS["TicketState"], ident), status=201)


def states_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /ticket_states/:id``."""
    ctx.require("admin.object")
    row = get_row(ctx, SPECS["TicketState"], ident)
    data = _body(ctx)
    if "name" in data:
        _unique(ctx, "ticket_states", data["name"], row["id"])
    values = _state_values(ctx, data)
    update(ctx, SPECS["TicketState"], row["id"], values)
    _only_one_default(ctx, "ticket_states", row["id"], values)
    ctx.touched_shared = True
    return show(ctx, SPECS["TicketState"], get_row(ctx, SPECS["TicketState"], row["id"]))


def states_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /ticket_states/:id`` → ``{}``; 422 when tickets use it."""
    ctx.require("admin.object")
    row = get_row(ctx, SPECS["TicketState"], ident)
    references(ctx, [("tickets", "state_id"), ("ticket_states", "next_state_id")], row["id"])
    ctx.conn.execute("DELETE FROM ticket_states WHERE id = ?", (row["id"],))
    ctx.touched_shared = True
    return {}


# --- ticket priorities -------------------------------------------------------------------------------
def priorities_index(ctx: Ctx) -> Any:
    """``GET /ticket_priorities``."""
    ctx.require("admin.object", "ticket.agent", "ticket.customer")
    return index(ctx, SPECS["TicketPriority"])


def priorities_show(ctx: Ctx, ident: str) -> Any:
    """``GET /ticket_priorities/:id``."""
    ctx.require("admin.object", "ticket.agent", "ticket.customer")
    return show(ctx, SPECS["TicketPriority"], get_row(ctx, SPECS["TicketPriority"], ident))


def priorities_create(ctx: Ctx) -> Any:
    """``POST /ticket_priorities`` → 201."""
    ctx.require("admin.object")
    data = _body(ctx)
    _unique(ctx, "ticket_priorities", data.get("name"))
    values = values_from(ctx, SPECS["TicketPriority"], data, _PRIORITY_FIELDS)
    ident = insert(ctx, SPECS["TicketPriority"], values)
    _only_one_default(ctx, "ticket_priorities", ident, values)
    ctx.touched_shared = True
    return show(ctx, SPECS["TicketPriority"], get_row(ctx, SPECS["TicketPriority"], ident), status=201)


def priorities_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /ticket_priorities/:id``."""
    ctx.require("admin.object")
    row = get_row(ctx, SPECS["TicketPriority"], ident)
    data = _body(ctx)
    if "name" in data:
        _unique(ctx, "ticket_priorities", data["name"], row["id"])
    values = values_from(ctx, SPECS["TicketPriority"], data, _PRIORITY_FIELDS)
    update(ctx, SPECS["TicketPriority"], row["id"], values)
    _only_one_default(ctx, "ticket_priorities", row["id"], values)
    ctx.touched_shared = True
    return show(ctx, SPECS["TicketPriority"], get_row(ctx, SPECS["TicketPriority"], row["id"]))


def priorities_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /ticket_priorities/:id`` → ``{}``; 422 when tickets use it."""
    ctx.require("admin.object")
    row = get_row(ctx, SPECS["TicketPriority"], ident)
    references(ctx, [("tickets", "priority_id")], row["id"])
    ctx.conn.execute("DELETE FROM ticket_priorities WHERE id = ?", (row["id"],))
    ctx.touched_shared = True
    return {}


# --- object manager attributes -------------------------------------------------------------------------
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
    data = _body(ctx)
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
    data = {k: v for k, v in _body(ctx).items() if k not in ("name", "object", "data_type")}
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


ROUTES = [
    ("/version", "GET", version),
    ("/groups", "GET", groups_index),
    ("/groups", "POST", groups_create),
    ("/groups/<ident>", "GET", groups_show),
    ("/groups/<ident>", "PUT", groups_update),
    ("/groups/<ident>", "DELETE", groups_delete),
    ("/roles", "GET", roles_index),
    ("/roles", "POST", roles_create),
    ("/roles/<ident>", "GET", roles_show),
    ("/roles/<ident>", "PUT", roles_update),
    ("/ticket_states", "GET", states_index),
    ("/ticket_states", "POST", states_create),
    ("/ticket_states/<ident>", "GET", states_show),
    ("/ticket_states/<ident>", "PUT", states_update),
    ("/ticket_states/<ident>", "DELETE", states_delete),
    ("/ticket_priorities", "GET", priorities_index),
    ("/ticket_priorities", "POST", priorities_create),
    ("/ticket_priorities/<ident>", "GET", priorities_show),
    ("/ticket_priorities/<ident>", "PUT", priorities_update),
    ("/ticket_priorities/<ident>", "DELETE", priorities_delete),
    ("/object_manager_attributes", "GET", attributes_index),
    ("/object_manager_attributes", "POST", attributes_create),
    ("/object_manager_attributes/<ident>", "GET", attributes_show),
    ("/object_manager_attributes/<ident>", "PUT", attributes_update),
    ("/object_manager_attributes/<ident>", "DELETE", attributes_delete),
    ("/object_manager_attributes_execute_migrations", "POST", attributes_migrate),
    ("/object_manager_attributes_discard_changes", "POST", attributes_discard),
]
