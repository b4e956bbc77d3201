"""Emulator routes for reference data: ``/groups``, ``/roles``, ``/ticket_states``, ``/ticket_priorities``.

The four resources share one set of handlers (:func:`index`, :func:`show`, :func:`create`, :func:`update`,
:func:`delete`); what differs between them is one row of :data:`TABLES`: path, permissions, writable fields,
name lookups and checks, what a write also changes, and what blocks a delete. Names are unique
(case-insensitive) in all four tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from zammad_orm.testing import crud
from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import get_row, lookup_id, values_from
from zammad_orm.testing.render import SPECS, ResourceSpec

__all__ = ["ROUTES", "TABLES", "Table", "create", "delete", "index", "show", "update"]


@dataclass(frozen=True)
class Table:
    """One reference-data resource: what its generic handlers need to know.

    Attributes:
        path: the collection's path below ``/api/v1``; a record is ``<path>/<ident>``.
        spec: how the resource is stored and shown.
        read: permissions of which one is needed to list and show.
        write: permissions of which one is needed to create, update and delete.
        fields: the writable columns of a request body.
        resolve: turns names in the body into ids before the values are taken (``state_type: "open"``).
        check: checks or completes the column values; gets ``creating`` (True for POST).
        after_write: what a create or update also changes, given the id, the body and the values.
        one_default: Zammad keeps exactly one ``default_create`` (and ``default_follow_up``) record: setting
            the flag on one record clears it on the others.
        deletable: whether Zammad routes ``DELETE <path>/<ident>`` (roles cannot be deleted).
        references: ``(table, column)`` pairs that make a delete fail with 422 while they point at the record.
        cascade: ``(table, column)`` pairs whose rows go with the record.

    """

    path: str
    spec: ResourceSpec
    read: tuple[str, ...]
    write: tuple[str, ...]
    fields: tuple[str, ...]
    resolve: Callable[[Ctx, dict[str, Any]], None] | None = None
    check: Callable[[Ctx, dict[str, Any], bool], None] | None = None
    after_write: Callable[[Ctx, int, dict[str, Any], dict[str, Any]], None] | None = None
    one_default: bool = False
    deletable: bool = True
    references: tuple[tuple[str, str], ...] = ()
    cascade: tuple[tuple[str, str], ...] = ()


# --- the differences ---------------------------------------------------------------------------------
def _group_names(ctx: Ctx, values: dict[str, Any], creating: bool) -> None:
    # "Parent::Child" names a subgroup: name_last is the last part, parent_id the group named by the rest.
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


def _role_permissions(ctx: Ctx, role_id: int, data: dict[str, Any], values: dict[str, Any]) -> None:
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


def _state_names(ctx: Ctx, data: dict[str, Any]) -> None:
    if "state_type" in data and "state_type_id" not in data:
        name = data.pop("state_type")
        row = ctx.one("SELECT id FROM ticket_state_types WHERE name = ?", (str(name),))
        if row is None:
            ctx.unprocessable(f"No lookup value found for 'state_type': \"{name}\"")
        data["state_type_id"] = row[0]
    if "next_state" in data and "next_state_id" not in data:
        data["next_state_id"] = lookup_id(ctx, "next_state", "TicketState", data.pop("next_state"))


def _state_type(ctx: Ctx, values: dict[str, Any], creating: bool) -> None:
    stype = values.get("state_type_id")
    if stype is not None and ctx.one("SELECT 1 FROM ticket_state_types WHERE id = ?", (stype,)) is None:
        ctx.unprocessable(f"No lookup value found for 'state_type': {stype}")
    if creating and stype is None:
        ctx.unprocessable("State type can't be blank")


TABLES: tuple[Table, ...] = (
    Table(
        "/groups",
        SPECS["Group"],
        read=("admin.group", "ticket.agent", "ticket.customer"),
        write=("admin.group",),
        fields=(
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
        ),
        check=_group_names,
        references=(("tickets", "group_id"), ("groups", "parent_id")),
        cascade=(("user_groups", "group_id"),),
    ),
    Table(
        "/roles",
        SPECS["Role"],
        read=("admin.role", "ticket.agent"),
        write=("admin.role",),
        fields=("name", "preferences", "default_at_signup", "active", "note"),
        after_write=_role_permissions,
        deletable=False,
    ),
    Table(
        "/ticket_states",
        SPECS["TicketState"],
        read=("admin.object", "ticket.agent", "ticket.customer"),
        write=("admin.object",),
        fields=(
            "state_type_id",
            "name",
            "next_state_id",
            "ignore_escalation",
            "default_create",
            "default_follow_up",
            "note",
            "active",
        ),
        resolve=_state_names,
        check=_state_type,
        one_default=True,
        references=(("tickets", "state_id"), ("ticket_states", "next_state_id")),
    ),
    Table(
        "/ticket_priorities",
        SPECS["TicketPriority"],
        read=("admin.object", "ticket.agent", "ticket.customer"),
        write=("admin.object",),
        fields=("name", "default_create", "ui_icon", "ui_color", "note", "active"),
        one_default=True,
        references=(("tickets", "priority_id"),),
    ),
)


# --- the handlers --------------------------------------------------------------------------------------
def _unique(ctx: Ctx, table: Table, name: Any, ident: int | None = None) -> None:
    if not isinstance(name, str) or not name.strip():
        ctx.unprocessable("Name can't be blank")
    row = ctx.one(f"SELECT id FROM {table.spec.table} WHERE name = ? COLLATE NOCASE", (name,))
    if row is not None and row[0] != ident:
        ctx.unprocessable("This object already exists.")


def _values(ctx: Ctx, table: Table, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    if table.resolve is not None:
        table.resolve(ctx, data)
    values = values_from(ctx, table.spec, data, table.fields)
    if table.check is not None:
        table.check(ctx, values, creating)
    return values


def _after_write(ctx: Ctx, table: Table, ident: int, data: dict[str, Any], values: dict[str, Any]) -> None:
    if table.one_default:
        for flag in ("default_create", "default_follow_up"):
            if values.get(flag):
                ctx.conn.execute(f"UPDATE {table.spec.table} SET {flag} = 0 WHERE id != ?", (ident,))
    if table.after_write is not None:
        table.after_write(ctx, ident, data, values)
    ctx.touched_shared = True


def index(ctx: Ctx, *, table: Table) -> Any:
    """``GET <path>``: every record, paginated and sortable."""
    ctx.require(*table.read)
    return crud.index(ctx, table.spec)


def show(ctx: Ctx, ident: str, *, table: Table) -> Any:
    """``GET <path>/:id``."""
    ctx.require(*table.read)
    return crud.show(ctx, table.spec, get_row(ctx, table.spec, ident))


def create(ctx: Ctx, *, table: Table) -> Any:
    """``POST <path>`` → 201 (unknown keys such as ``id`` are ignored)."""
    ctx.require(*table.write)
    data = dict(ctx.params)
    _unique(ctx, table, data.get("name"))
    values = _values(ctx, table, data, creating=True)
    ident = crud.insert(ctx, table.spec, values)
    _after_write(ctx, table, ident, data, values)
    return crud.show(ctx, table.spec, get_row(ctx, table.spec, ident), status=201)


def update(ctx: Ctx, ident: str, *, table: Table) -> Any:
    """``PUT <path>/:id``."""
    ctx.require(*table.write)
    row = get_row(ctx, table.spec, ident)
    data = dict(ctx.params)
    if "name" in data:
        _unique(ctx, table, data["name"], row["id"])
    values = _values(ctx, table, data, creating=False)
    crud.update(ctx, table.spec, row["id"], values)
    _after_write(ctx, table, row["id"], data, values)
    return crud.show(ctx, table.spec, get_row(ctx, table.spec, row["id"]))


def delete(ctx: Ctx, ident: str, *, table: Table) -> Any:
    """``DELETE <path>/:id`` → ``{}``; 422 while other records refer to it."""
    ctx.require(*table.write)
    row = get_row(ctx, table.spec, ident)
    crud.references(ctx, table.references, row["id"])
    for other, column in table.cascade:
        ctx.conn.execute(f"DELETE FROM {other} WHERE {column} = ?", (row["id"],))
    ctx.conn.execute(f"DELETE FROM {table.spec.table} WHERE id = ?", (row["id"],))
    ctx.touched_shared = True
    return {}


def _routes(table: Table) -> list[Route]:
    routes: list[Route] = [
        (table.path, "GET", partial(index, table=table)),
        (table.path, "POST", partial(create, table=table)),
        (table.path + "/<ident>", "GET", partial(show, table=table)),
        (table.path + "/<ident>", "PUT", partial(update, table=table)),
    ]
    if table.deletable:
        routes.append((table.path + "/<ident>", "DELETE", partial(delete, table=table)))
    return routes


ROUTES: list[Route] = [route for table in TABLES for route in _routes(table)]
