"""Emulator routes for organizations: ``/organizations`` and ``/organizations/history`` (spec §5.7)."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.core import Ctx, Route
from zammad_orm.testing.crud import (
    get_row,
    index,
    insert,
    lookup_id,
    record_history,
    references,
    show,
    update,
    values_from,
)
from zammad_orm.testing.render import SPECS
from zammad_orm.testing.tickets import history

__all__ = ["ROUTES"]

USER = SPECS["User"]
ORG = SPECS["Organization"]
_ORG_FIELDS = ["name", "shared", "domain", "domain_assignment", "active", "vip", "note"]


def orgs_index(ctx: Ctx) -> Any:
    """``GET /organizations``: all for agents/admins, own organizations for customers."""
    if ctx.has("ticket.agent", "admin.organization"):
        return index(ctx, ORG)
    mine = ctx.organization_ids()
    if not mine:
        return index(ctx, ORG, where="0")
    return index(ctx, ORG, where=f"id IN ({','.join('?' * len(mine))})", args=mine)


def orgs_show(ctx: Ctx, ident: str) -> Any:
    """``GET /organizations/:id`` (a user without organization gets ``{}`` for a foreign one)."""
    row = get_row(ctx, ORG, ident)
    if not ctx.has("ticket.agent", "admin.organization"):
        mine = ctx.organization_ids()
        if row["id"] not in mine:
            if not mine:
                return {}
            ctx.forbidden()
    return show(ctx, ORG, row)


def _org_members(ctx: Ctx, org_id: int, data: dict[str, Any]) -> None:
    members = data.get("member_ids")
    if members is None and isinstance(data.get("members"), list):
        members = [lookup_id(ctx, "members", "User", login) for login in data["members"]]
    if isinstance(members, list):
        ids = [int(get_row(ctx, USER, m)["id"]) for m in members]
        ctx.conn.execute("UPDATE users SET organization_id = NULL WHERE organization_id = ?", (org_id,))
        for uid in ids:
            ctx.conn.execute("UPDATE users SET organization_id = ? WHERE id = ?", (org_id, uid))


def orgs_create(ctx: Ctx) -> Any:
    """``POST /organizations`` → 201."""
    ctx.require("admin.organization", "ticket.agent")
    data = dict(ctx.params)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        ctx.unprocessable("Name can't be blank")
    if ctx.one("SELECT 1 FROM organizations WHERE name = ? COLLATE NOCASE", (name.strip(),)):
        ctx.unprocessable("Name has already been taken")
    values = {"shared": 1, "domain": "", "domain_assignment": 0, "active": 1, "vip": 0, "note": ""}
    values.update(values_from(ctx, ORG, data, _ORG_FIELDS))
    org_id = insert(ctx, ORG, values)
    history(ctx, "Organization", org_id, "created")
    _org_members(ctx, org_id, data)
    ctx.touched_shared = True
    return show(ctx, ORG, get_row(ctx, ORG, org_id), status=201)


def orgs_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /organizations/:id``."""
    ctx.require("admin.organization", "ticket.agent")
    row = get_row(ctx, ORG, ident)
    data = dict(ctx.params)
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            ctx.unprocessable("Name can't be blank")
        if ctx.one(
            "SELECT 1 FROM organizations WHERE name = ? COLLATE NOCASE AND id != ?", (name.strip(), row["id"])
        ):
            ctx.unprocessable("Name has already been taken")
    update(ctx, ORG, row["id"], values_from(ctx, ORG, data, _ORG_FIELDS))
    _org_members(ctx, row["id"], data)
    ctx.touched_shared = True
    return show(ctx, ORG, get_row(ctx, ORG, row["id"]))


def orgs_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /organizations/:id`` → ``{}``; 422 when referenced."""
    ctx.require("admin.organization")
    row = get_row(ctx, ORG, ident)
    references(ctx, [("tickets", "organization_id"), ("users", "organization_id")], row["id"])
    ctx.conn.execute("DELETE FROM user_organizations WHERE organization_id = ?", (row["id"],))
    ctx.conn.execute("DELETE FROM organizations WHERE id = ?", (row["id"],))
    ctx.touched_shared = True
    return {}


def orgs_history(ctx: Ctx, ident: str) -> Any:
    """``GET /organizations/history/:id``."""
    ctx.require("admin.organization", "ticket.agent")
    return record_history(ctx, "Organization", int(get_row(ctx, ORG, ident)["id"]))


ROUTES: list[Route] = [
    ("/organizations", "GET", orgs_index),
    ("/organizations", "POST", orgs_create),
    ("/organizations/<ident>", "GET", orgs_show),
    ("/organizations/<ident>", "PUT", orgs_update),
    ("/organizations/<ident>", "DELETE", orgs_delete),
    ("/organizations/history/<ident>", "GET", orgs_history),
]
