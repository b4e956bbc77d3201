"""Emulator routes for users: ``/users``, ``/users/me``, ``/users/unlock``, ``/users/history`` (spec §5.6)."""

from __future__ import annotations

import json
import re
import uuid
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
_USER_FIELDS = [
    "organization_id",
    "login",
    "firstname",
    "lastname",
    "email",
    "image",
    "image_source",
    "web",
    "phone",
    "fax",
    "mobile",
    "department",
    "street",
    "zip",
    "city",
    "country",
    "address",
    "vip",
    "verified",
    "active",
    "note",
    "out_of_office",
    "out_of_office_start_at",
    "out_of_office_end_at",
    "out_of_office_replacement_id",
    "preferences",
    "source",
]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_ACCESS = {"full", "read", "create", "change", "overview"}


def _can_admin_users(ctx: Ctx) -> bool:
    return ctx.has("admin.user")


def _readable_user(ctx: Ctx, row: Any) -> bool:
    if ctx.has("ticket.agent", "admin.user") or row["id"] == ctx.uid:
        return True
    mine = set(ctx.organization_ids())
    return bool(mine & set(ctx.organization_ids(row["id"])))


def users_me(ctx: Ctx) -> Any:
    """``GET /users/me``: the acting (possibly impersonated) user."""
    return show(ctx, USER, get_row(ctx, USER, ctx.uid))


def users_index(ctx: Ctx) -> Any:
    """``GET /users``: all users for agents and user admins (id ASC, incl. user 1); customers: themselves."""
    if ctx.has("ticket.agent", "admin.user"):
        return index(ctx, USER, default=100, maximum=1000, sortable=False)
    return index(ctx, USER, where="id = ?", args=(ctx.uid,), default=100, maximum=1000, sortable=False)


def users_show(ctx: Ctx, ident: str) -> Any:
    """``GET /users/:id``."""
    row = get_row(ctx, USER, ident)
    if not _readable_user(ctx, row):
        ctx.forbidden()
    return show(ctx, USER, row)


def _identifiers(ctx: Ctx, merged: dict[str, Any]) -> None:
    if not any(merged.get(key) for key in ("firstname", "lastname", "phone", "mobile", "email")):
        ctx.unprocessable(
            "At least one identifier (firstname, lastname, phone, mobile or email) for user is required."
        )
    email = merged.get("email")
    if email:
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            ctx.unprocessable(f"Invalid email '{email}'")
        other = ctx.one(
            "SELECT id FROM users WHERE email = ? COLLATE NOCASE AND id != ?",
            (email.strip(), merged.get("id") or 0),
        )
        if other is not None:
            ctx.unprocessable(f"Email address '{email.strip().lower()}' is already used for another user.")


def _free_login(ctx: Ctx, login: str, ident: int = 0) -> str:
    candidate, n = login, 0
    while ctx.one("SELECT 1 FROM users WHERE login = ? COLLATE NOCASE AND id != ?", (candidate, ident)):
        n += 1
        candidate = f"{login}{n}"
    return candidate


def _user_relations(ctx: Ctx, user_id: int, data: dict[str, Any], *, creating: bool) -> None:
    privileged = _can_admin_users(ctx)
    role_ids: list[int] | None = None
    if privileged and isinstance(data.get("role_ids"), list):
        role_ids = [int(get_row(ctx, SPECS["Role"], r)["id"]) for r in data["role_ids"]]
    elif privileged and isinstance(data.get("roles"), list):
        role_ids = [lookup_id(ctx, "roles", "Role", name) for name in data["roles"]]
    if role_ids is None and creating:
        role_ids = ctx.column("SELECT id FROM roles WHERE default_at_signup = 1 AND active = 1 ORDER BY id")
    if role_ids is not None:
        ctx.conn.execute("DELETE FROM user_roles WHERE user_id = ?", (user_id,))
        ctx.conn.executemany(
            "INSERT OR IGNORE INTO user_roles (user_id, role_id) VALUES (?, ?)",
            [(user_id, r) for r in role_ids],
        )
    groups = data.get("group_ids", data.get("groups")) if privileged else None
    if isinstance(groups, dict):
        ctx.conn.execute("DELETE FROM user_groups WHERE user_id = ?", (user_id,))
        for key, accesses in groups.items():
            gid = int(key) if str(key).isdigit() else lookup_id(ctx, "groups", "Group", key)
            get_row(ctx, SPECS["Group"], gid)
            for access in [accesses] if isinstance(accesses, str) else list(accesses or []):
                if not isinstance(access, str) or access not in _ACCESS:
                    ctx.unprocessable(f"Invalid value '{access}' for field 'group_ids'!")
                ctx.conn.execute(
                    "INSERT OR IGNORE INTO user_groups (user_id, group_id, access) VALUES (?, ?, ?)",
                    (user_id, gid, access),
                )
    orgs = data.get("organization_ids")
    if orgs is None and isinstance(data.get("organizations"), list):
        orgs = [lookup_id(ctx, "organizations", "Organization", name) for name in data["organizations"]]
    if isinstance(orgs, list):
        primary = ctx.one("SELECT organization_id FROM users WHERE id = ?", (user_id,))
        if orgs and (primary is None or primary[0] is None):
            ctx.unprocessable(
                "Secondary organizations are only allowed when the primary organization is given."
            )
        ctx.conn.execute("DELETE FROM user_organizations WHERE user_id = ?", (user_id,))
        for org in orgs:
            oid = int(get_row(ctx, ORG, org)["id"])
            if primary is not None and oid != primary[0]:
                ctx.conn.execute(
                    "INSERT OR IGNORE INTO user_organizations (user_id, organization_id) VALUES (?, ?)",
                    (user_id, oid),
                )


def users_create(ctx: Ctx) -> Any:
    """``POST /users`` → 201; without ``role_ids`` the signup roles (Customer) apply."""
    ctx.require("admin.user", "ticket.agent")
    data = dict(ctx.params)
    if "organization" in data and "organization_id" not in data and data["organization"]:
        data["organization_id"] = lookup_id(ctx, "organization", "Organization", data.pop("organization"))
    # The string columns Zammad defaults to "" (firstname, lastname and email too: a user made with only
    # some identifiers gets "" for the others); department and address stay null.
    values = {
        "firstname": "",
        "lastname": "",
        "email": "",
        "web": "",
        "phone": "",
        "fax": "",
        "mobile": "",
        "street": "",
        "zip": "",
        "city": "",
        "country": "",
        "note": "",
        "preferences": json.dumps({"locale": "en-us"}),
    }
    values.update(values_from(ctx, USER, data, _USER_FIELDS))
    _identifiers(ctx, values)
    login = values.get("login") or (values.get("email") or "").strip().lower() or f"auto-{uuid.uuid4()}"
    values["login"] = _free_login(ctx, str(login).strip())
    if isinstance(values.get("email"), str):
        values["email"] = values["email"].strip()
    if _can_admin_users(ctx) and data.get("password"):
        values["password"] = str(data["password"])
    user_id = insert(ctx, USER, values)
    history(ctx, "User", user_id, "created")
    _user_relations(ctx, user_id, data, creating=True)
    ctx.touched_shared = True
    return show(ctx, USER, get_row(ctx, USER, user_id), status=201)


def users_update(ctx: Ctx, ident: str) -> Any:
    """``PUT /users/:id``."""
    row = get_row(ctx, USER, ident)
    if not (ctx.has("admin.user", "ticket.agent") or row["id"] == ctx.uid):
        ctx.forbidden()
    data = dict(ctx.params)
    if not ctx.has("admin.user", "ticket.agent"):
        for key in (
            "organization",
            "organization_id",
            "organization_ids",
            "role_ids",
            "roles",
            "group_ids",
            "groups",
            "active",
            "login",
        ):
            data.pop(key, None)
    if "organization" in data and "organization_id" not in data:
        name = data.pop("organization")
        data["organization_id"] = lookup_id(ctx, "organization", "Organization", name) if name else None
    values = values_from(ctx, USER, data, _USER_FIELDS)
    if "preferences" in values:
        merged = json.loads(row["preferences"] or "{}")
        merged.update(json.loads(values["preferences"]))
        values["preferences"] = json.dumps(merged)
    _identifiers(ctx, {**dict(row), **values})
    if "login" in values:
        values["login"] = _free_login(ctx, str(values["login"] or row["login"]).strip(), row["id"])
    if _can_admin_users(ctx) and data.get("password"):
        values["password"] = str(data["password"])
    update(ctx, USER, row["id"], values)
    _user_relations(ctx, row["id"], data, creating=False)
    ctx.touched_shared = True
    return show(ctx, USER, get_row(ctx, USER, row["id"]))


def users_delete(ctx: Ctx, ident: str) -> Any:
    """``DELETE /users/:id`` → ``{}``; 422 when tickets refer to the user."""
    ctx.require("admin.user")
    row = get_row(ctx, USER, ident)
    references(
        ctx,
        [("tickets", "customer_id"), ("tickets", "owner_id"), ("ticket_articles", "created_by_id")],
        row["id"],
    )
    for table in ("user_roles", "user_groups", "user_organizations"):
        ctx.conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (row["id"],))
    ctx.conn.execute("DELETE FROM online_notifications WHERE user_id = ?", (row["id"],))
    ctx.conn.execute("DELETE FROM users WHERE id = ?", (row["id"],))
    ctx.touched_shared = True
    return {}


def users_unlock(ctx: Ctx, ident: str) -> Any:
    """``PUT /users/unlock/:id`` → ``{"message": "ok"}``."""
    ctx.require("admin.user")
    row = get_row(ctx, USER, ident)
    ctx.conn.execute("UPDATE users SET login_failed = 0 WHERE id = ?", (row["id"],))
    return {"message": "ok"}


def users_history(ctx: Ctx, ident: str) -> Any:
    """``GET /users/history/:id``."""
    ctx.require("admin.user", "ticket.agent")
    return record_history(ctx, "User", int(get_row(ctx, USER, ident)["id"]))


ROUTES: list[Route] = [
    ("/users/me", "GET", users_me),
    ("/users", "GET", users_index),
    ("/users", "POST", users_create),
    ("/users/<ident>", "GET", users_show),
    ("/users/<ident>", "PUT", users_update),
    ("/users/<ident>", "DELETE", users_delete),
    ("/users/unlock/<ident>", "PUT", users_unlock),
    ("/users/history/<ident>", "GET", users_history),
]
