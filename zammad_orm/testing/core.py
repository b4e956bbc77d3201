"""Request context and the error vocabulary shared by every route module of the emulator.

A :class:`Ctx` is what a route handler gets: the authenticated (or impersonated) user with its permissions,
the merged parameters (query string + JSON body, like Rails' ``params``), the database connection of the
request's transaction, and helpers that raise :class:`ApiError` with Zammad's status and message.
"""

from __future__ import annotations

import functools
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from zammad_orm.testing.store import Store

__all__ = ["ApiError", "Ctx", "Reply", "Route", "bool_param", "error_body", "masked_error"]

#: One entry of a routes module's ``ROUTES``: the rule below ``/api/v1`` (werkzeug syntax), the HTTP methods
#: separated by spaces, and the handler, called as ``handler(ctx, **url_arguments)``.
Route = tuple[str, str, Callable[..., Any]]


class ApiError(Exception):
    """An error answer: HTTP status plus JSON body (or a raw body for ad-hoc replies)."""

    def __init__(self, status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class Reply:
    """A non-default answer of a handler: another status, a raw body or content type."""

    def __init__(
        self,
        body: Any,
        status: int = 200,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.body = body
        self.status = status
        self.raw = raw
        self.content_type = content_type
        self.headers = headers or {}


def error_body(message: str) -> dict[str, str]:
    """Zammad's humanized error body: ``error`` and ``error_human`` carry the same text."""
    return {"error": message, "error_human": message}


def masked_error(message: str, *, admin: bool) -> dict[str, str]:
    """Body of an unhandled error: the raw message for admins, an opaque error id for everyone else."""
    if admin:
        return {"error": message}
    token = secrets.token_urlsafe(6)[:8]
    return {"error": f"Error ID {token}: Please contact your administrator."}


def bool_param(value: Any) -> bool:
    """Zammad 6.0–6.4 truthiness of ``expand``/``full``/``all``: only ``true`` and ``1`` are true."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1")


def _implied(permission: str) -> list[str]:
    parts = permission.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


class Ctx:
    """Everything a route handler needs for one request."""

    def __init__(
        self,
        store: Store,
        conn: sqlite3.Connection,
        method: str,
        path: str,
        params: dict[str, Any],
        body: Any,
        *,
        zammad_version: str,
        search_backend: str,
    ) -> None:
        self.store = store
        self.conn = conn
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.zammad_version = zammad_version
        self.search_backend = search_backend
        self.user: sqlite3.Row | None = None
        self.real_user: sqlite3.Row | None = None
        self.permissions: frozenset[str] = frozenset()
        self.touched_tickets: set[int] = set()
        self.touched_shared = False

    def version_at_least(self, major: int, minor: int) -> bool:
        """Whether the imitated Zammad version is ``major.minor`` or newer (``"6.5"`` ≥ ``(6, 4)``)."""
        return version_tuple(self.zammad_version) >= (major, minor)

    @property
    def checklists(self) -> bool:
        """Whether the imitated version has checklists (Zammad 6.4+; spec §5.15)."""
        return self.version_at_least(6, 4)

    # --- identity and permissions ---------------------------------------------------------------------
    @property
    def uid(self) -> int:
        """Id of the acting user."""
        assert self.user is not None
        return int(self.user["id"])

    def set_user(self, user: sqlite3.Row) -> None:
        """Make ``user`` the acting user and load its permission names."""
        self.user = user
        rows = self.conn.execute(
            "SELECT DISTINCT p.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id AND r.active = 1"
            " JOIN role_permissions rp ON rp.role_id = r.id JOIN permissions p ON p.id = rp.permission_id"
            " WHERE ur.user_id = ?",
            (user["id"],),
        )
        self.permissions = frozenset(row[0] for row in rows)

    def has(self, *permissions: str) -> bool:
        """Return True when the acting user holds one of ``permissions`` (parents imply children)."""
        return any(
            any(implied in self.permissions for implied in _implied(permission)) for permission in permissions
        )

    @property
    def is_agent(self) -> bool:
        """Holds ``ticket.agent``."""
        return self.has("ticket.agent")

    @property
    def is_admin(self) -> bool:
        """Holds ``admin`` (sees raw error messages)."""
        return "admin" in self.permissions

    @property
    def is_customer_view(self) -> bool:
        """Users are shown reduced (spec §6.2): the acting user is neither agent nor user admin."""
        return not self.has("ticket.agent", "admin.user")

    def require(self, *permissions: str) -> None:
        """403 ``Not authorized`` unless one of ``permissions`` is held."""
        if not self.has(*permissions):
            self.forbidden()

    def group_ids(self, *accesses: str) -> list[int]:
        """Return groups on which the acting user has one of ``accesses`` (``full`` always counts)."""
        wanted = {"full", *accesses}
        marks = ",".join("?" * len(wanted))
        rows = self.conn.execute(
            f"SELECT DISTINCT group_id FROM user_groups WHERE user_id = ? AND access IN ({marks})",
            (self.uid, *wanted),
        )
        return [row[0] for row in rows]

    def organization_ids(self, user_id: int | None = None) -> list[int]:
        """Primary and secondary organizations of a user (default: the acting user)."""
        uid = self.uid if user_id is None else user_id
        rows = self.conn.execute(
            "SELECT organization_id FROM users WHERE id = ? AND organization_id IS NOT NULL"
            " UNION SELECT organization_id FROM user_organizations WHERE user_id = ?",
            (uid, uid),
        )
        return [row[0] for row in rows]

    # --- parameters -----------------------------------------------------------------------------------
    def flag(self, name: str) -> bool:
        """Return A boolean parameter (``expand``, ``full``...)."""
        return name in self.params and bool_param(self.params[name])

    def get(self, name: str, default: Any = None) -> Any:
        """Return A parameter from the query string or JSON body."""
        return self.params.get(name, default)

    def int_param(self, name: str, default: int) -> int:
        """Return an integer parameter, converted like Ruby's ``to_i`` (garbage becomes 0)."""
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return int(value)
        text = str(value).strip()
        digits = ""
        for index, char in enumerate(text):
            if char.isdigit() or (index == 0 and char in "+-"):
                digits += char
            else:
                break
        try:
            return int(digits)
        except ValueError:
            return 0

    # --- errors ---------------------------------------------------------------------------------------
    def fail(self, status: int, message: str) -> NoReturn:
        """Raise a humanized error (``error`` == ``error_human``)."""
        headers = {"X-Failure": message} if status in (401, 403) else None
        raise ApiError(status, error_body(message), headers=headers)

    def forbidden(self, message: str = "Not authorized") -> NoReturn:
        """403 with Zammad's default policy message."""
        self.fail(403, message)

    def not_found(self, cls: str, ident: Any) -> NoReturn:
        """ActiveRecord's ``Couldn't find <Class> with 'id'=<id>``."""
        self.fail(404, f"Couldn't find {cls} with 'id'={ident}")

    def unprocessable(self, message: str) -> NoReturn:
        """422 with a humanized message."""
        self.fail(422, message)

    def raw_error(self, status: int, message: str) -> NoReturn:
        """Return an error Zammad does not humanize: raw message for admins, masked for everyone else."""
        raise ApiError(status, masked_error(message, admin=self.is_admin))

    # --- small db helpers -----------------------------------------------------------------------------
    def one(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Row | None:
        """First row of a query or ``None``."""
        row: sqlite3.Row | None = self.conn.execute(sql, tuple(args)).fetchone()
        return row

    def column(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        """First column of every row of a query."""
        return [row[0] for row in self.conn.execute(sql, tuple(args))]

    def touch_ticket(self, ticket_id: int, *, now: str, by: int | None = None) -> None:
        """Bump a ticket's ``updated_at`` (spec §7.3) and mark its search document stale."""
        if by is None:
            self.conn.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (now, ticket_id))
        else:
            self.conn.execute(
                "UPDATE tickets SET updated_at = ?, updated_by_id = ? WHERE id = ?", (now, by, ticket_id)
            )
        self.touched_tickets.add(ticket_id)


@functools.lru_cache(maxsize=32)
def version_tuple(text: str) -> tuple[int, ...]:
    """Return the numbers of a version string: ``"6.5.0-1"`` → ``(6, 5, 0)``."""
    numbers = re.findall(r"\d+", text)
    return tuple(int(n) for n in numbers[:3]) or (0,)
