"""Emulator routes for time accounting reports: ``GET /time_accounting/log/<report>/:year/:month``.

The reports ``by_activity``, ``by_ticket``, ``by_customer`` and ``by_organization`` are Zammad's admin reports
(spec §5.11) over the time accountings *created* in one calendar month (UTC), as
JSON (the Excel download of the admin UI is not emulated). Decimal sums are strings (``"12.5"``) as Rails
renders ``BigDecimal``; ``limit`` keeps the last N rows. All four need ``admin.time_accounting``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from zammad_orm.testing.core import ApiError, Ctx, Route, masked_error
from zammad_orm.testing.render import SPECS, render
from zammad_orm.testing.tickets import decimal_text

__all__ = ["ROUTES"]

TICKET = SPECS["Ticket"]


def _month(ctx: Ctx, year: str, month: str) -> tuple[str, str]:
    """Return the ISO bounds ``[start, end)`` of the month; Zammad's errors for a bad year or month."""
    if not (year.isdigit() and month.isdigit()):
        # Time.zone.parse gives nil, nil.end_of_month raises NoMethodError: a 500.
        message = "undefined method `end_of_month' for nil:NilClass"
        raise ApiError(500, masked_error(message, admin=ctx.is_admin))
    y, m = int(year), int(month)
    if not (1 <= m <= 12 and 1 <= y <= 9999):
        ctx.unprocessable("argument out of range")
    end = f"{y + 1:04d}-01-01" if m == 12 else f"{y:04d}-{m + 1:02d}-01"
    return f"{y:04d}-{m:02d}-01", end


def _records(ctx: Ctx, year: str, month: str) -> list[sqlite3.Row]:
    ctx.require("admin.time_accounting")
    start, end = _month(ctx, year, month)
    return ctx.conn.execute(
        "SELECT * FROM time_accountings WHERE created_at >= ? AND created_at < ? ORDER BY id", (start, end)
    ).fetchall()


def _limited(ctx: Ctx, results: list[Any]) -> list[Any]:
    if ctx.params.get("download") not in (None, "", "false", False):
        ctx.unprocessable("The emulator does not generate Excel downloads of time accounting reports.")
    if ctx.params.get("limit") not in (None, ""):
        count = ctx.int_param("limit", 0)
        return results[-count:] if count > 0 else []
    return results


def _fullname(user: sqlite3.Row | None) -> str:
    """Zammad's ``User#fullname``: first and last name, else the email, else the login."""
    if user is None:
        return "-"
    name = " ".join(part for part in (user["firstname"], user["lastname"]) if part)
    return name or user["email"] or user["login"] or ""


class _Lookups:
    """Memoised lookups of tickets, users, organizations and types (a report meets each many times)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.cache: dict[tuple[str, Any], Any] = {}

    def _get(self, kind: str, ident: Any, load: Callable[[], Any]) -> Any:
        key = (kind, ident)
        if key not in self.cache:
            self.cache[key] = None if ident is None else load()
        return self.cache[key]

    def _row(self, table: str, ident: Any) -> Any:
        return self._get(table, ident, lambda: self.ctx.one(f"SELECT * FROM {table} WHERE id = ?", (ident,)))

    def ticket(self, ident: int) -> Any:
        return self._row("tickets", ident)

    def ticket_record(self, row: sqlite3.Row) -> Any:
        return self._get("ticket_record", row["id"], lambda: render(self.ctx, TICKET, row, ids=False))

    def user(self, ident: Any) -> Any:
        return self._row("users", ident)

    def user_record(self, ident: int) -> Any:
        return self._get("user_record", ident, lambda: render(self.ctx, SPECS["User"], self.user(ident)))

    def org_name(self, ident: Any) -> Any:
        row = self._row("organizations", ident)
        return None if row is None else row["name"]

    def org_record(self, ident: Any) -> Any:
        row = self._row("organizations", ident)
        if row is None:
            return None
        return self._get("org_record", ident, lambda: render(self.ctx, SPECS["Organization"], row))

    def type_name(self, ident: Any) -> Any:
        row = self._row("time_accounting_types", ident)
        return None if row is None else row["name"]


def _sums(records: list[sqlite3.Row]) -> dict[int, tuple[Decimal, int]]:
    """Per ticket (in order of the first accounting): the summed units and the first accounting's agent."""
    sums: dict[int, tuple[Decimal, int]] = {}
    for record in records:
        total, agent = sums.get(record["ticket_id"], (Decimal(0), record["created_by_id"]))
        sums[record["ticket_id"]] = (total + Decimal(record["time_unit"] or 0), agent)
    return sums


def _units(ctx: Ctx, value: Decimal) -> str:
    return decimal_text(value, "time_unit", ctx)


def by_activity(ctx: Ctx, year: str, month: str) -> Any:
    """One row per accounting: ticket, units, activity type, customer, organization, agent, time."""
    look = _Lookups(ctx)
    results: list[Any] = []
    for record in _records(ctx, year, month):
        ticket = look.ticket(record["ticket_id"])
        if ticket is None:
            continue
        row: dict[str, Any] = {
            "ticket": look.ticket_record(ticket),
            "time_unit": _units(ctx, Decimal(record["time_unit"] or 0)),
            "type": look.type_name(record["type_id"]) or "-",
            "customer": _fullname(look.user(ticket["customer_id"])) or "-",
            "organization": look.org_name(ticket["organization_id"]) or "-",
            "agent": _fullname(look.user(record["created_by_id"])),
            "created_at": record["created_at"],
        }
        results.append(row)
    return _limited(ctx, results)


def by_ticket(ctx: Ctx, year: str, month: str) -> Any:
    """One row per ticket accounted in the month: ticket, summed units, customer, organization, agent."""
    look = _Lookups(ctx)
    results: list[Any] = []
    for ticket_id, (total, agent) in _sums(_records(ctx, year, month)).items():
        ticket = look.ticket(ticket_id)
        if ticket is None:
            continue
        results.append(
            {
                "ticket": look.ticket_record(ticket),
                "time_unit": _units(ctx, total),
                "customer": _fullname(look.user(ticket["customer_id"])) or "-",
                "organization": look.org_name(ticket["organization_id"]) or "-",
                "agent": _fullname(look.user(agent)),
            }
        )
    return _limited(ctx, results)


def by_customer(ctx: Ctx, year: str, month: str) -> Any:
    """One row per (customer, organization): the customer and organization records and the summed units."""
    look = _Lookups(ctx)
    groups: dict[tuple[int, Any], Decimal] = {}
    for ticket_id, (total, _agent) in _sums(_records(ctx, year, month)).items():
        ticket = look.ticket(ticket_id)
        if ticket is None:
            continue
        key = (ticket["customer_id"], ticket["organization_id"])
        groups[key] = groups.get(key, Decimal(0)) + total
    results = [
        {
            "customer": look.user_record(customer),
            "organization": look.org_record(org),
            "time_unit": _units(ctx, total),
        }
        for (customer, org), total in groups.items()
    ]
    return _limited(ctx, results)


def by_organization(ctx: Ctx, year: str, month: str) -> Any:
    """One row per organization (tickets without one are left out): its record and the summed units."""
    look = _Lookups(ctx)
    groups: dict[int, Decimal] = {}
    for ticket_id, (total, _agent) in _sums(_records(ctx, year, month)).items():
        ticket = look.ticket(ticket_id)
        if ticket is None or ticket["organization_id"] is None:
            continue
        groups[ticket["organization_id"]] = groups.get(ticket["organization_id"], Decimal(0)) + total
    results = [
        {"organization": look.org_record(org), "time_unit": _units(ctx, total)}
        for org, total in groups.items()
    ]
    return _limited(ctx, results)


ROUTES: list[Route] = [
    ("/time_accounting/log/by_activity/<year>/<month>", "GET", by_activity),
    ("/time_accounting/log/by_ticket/<year>/<month>", "GET", by_ticket),
    ("/time_accounting/log/by_customer/<year>/<month>", "GET", by_customer),
    ("/time_accounting/log/by_organization/<year>/<month>", "GET", by_organization),
]
