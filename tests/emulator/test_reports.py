"""Time accounting reports (``/time_accounting/log/...``, spec §5.11) over a fresh emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from zammad_orm.testing import Emulator

from .conftest import Api


class Month:
    """The module's emulator: three tickets with accountings in the current month."""

    def __init__(self, z: Emulator) -> None:
        self.admin = Api.of(z)
        self.agent = Api.of(z, z.user_tokens["agent1@example.com"])
        self.customer = Api.of(z, z.user_tokens["nicole.braun@zammad.org"])
        now = datetime.now(timezone.utc)
        self.year, self.month = now.year, now.month
        self.org = self._ok(self.admin.post("/organizations", json={"name": "Report Org"}))
        self._ok(
            self.admin.post(
                "/users",
                json={
                    "login": "rc@x.test",
                    "firstname": "Rita",
                    "lastname": "Customer",
                    "organization_id": self.org["id"],
                },
            )
        )
        kind = self._ok(self.admin.post("/time_accounting/types", json={"name": "Consulting"}))
        self.a = self._ticket("A", "rc@x.test")
        self.b = self._ticket("B", "nicole.braun@zammad.org")
        self.c = self._ticket("C", "guess:solo@x.test")
        for ticket, units, extra in (
            (self.a, "1.5", {"type_id": kind["id"]}),
            (self.b, "3", {}),
            (self.a, "2.25", {}),
            (self.c, "0.5", {}),
        ):
            self._ok(
                self.admin.post(
                    "/time_accountings", json={"ticket_id": ticket["id"], "time_unit": units, **extra}
                )
            )

    @staticmethod
    def _ok(reply: Any) -> Any:
        assert reply.status_code in (200, 201), reply.text
        return reply.json()

    def _ticket(self, title: str, customer: str) -> dict[str, Any]:
        key = "customer_id" if customer.startswith("guess:") else "customer"
        return self._ok(self.admin.post("/tickets", json={"title": title, "group": "Users", key: customer}))  # type: ignore[no-any-return]

    def report(self, name: str, api: Api | None = None, **params: Any) -> Any:
        return (api or self.admin).get(f"/time_accounting/log/{name}/{self.year}/{self.month}", params=params)


@pytest.fixture(scope="module")
def month() -> Iterator[Month]:
    with Emulator() as z:
        data = Month(z)
        yield data
        for api in (data.admin, data.agent, data.customer):
            api.close()


def test_by_activity_lists_every_accounting_of_the_month(month: Month) -> None:
    rows = month.report("by_activity").json()
    assert [(r["ticket"]["title"], r["time_unit"], r["type"]) for r in rows] == [
        ("A", "1.5", "Consulting"),
        ("B", "3.0", "-"),
        ("A", "2.25", "-"),
        ("C", "0.5", "-"),
    ]
    first = rows[0]
    assert set(first) == {"ticket", "time_unit", "type", "customer", "organization", "agent", "created_at"}
    assert first["customer"] == "Rita Customer"
    assert first["organization"] == "Report Org"
    assert first["agent"] == "Admin Example"
    assert rows[3]["organization"] == "-"
    assert rows[3]["customer"] == "solo@x.test"  # no name: the email
    # The ticket is the bare model: columns, no id lists.
    assert first["ticket"]["id"] == month.a["id"]
    assert "article_ids" not in first["ticket"]
    assert first["ticket"]["time_unit"] == "3.75"
    assert first["created_at"].endswith("Z")


def test_by_ticket_sums_per_ticket(month: Month) -> None:
    rows = month.report("by_ticket").json()
    assert [(r["ticket"]["id"], r["time_unit"]) for r in rows] == [
        (month.a["id"], "3.75"),
        (month.b["id"], "3.0"),
        (month.c["id"], "0.5"),
    ]
    assert set(rows[0]) == {"ticket", "time_unit", "customer", "organization", "agent"}
    assert rows[1]["organization"] == "Zammad Foundation"


def test_by_customer_and_by_organization(month: Month) -> None:
    customers = month.report("by_customer").json()
    assert [
        (r["customer"]["login"], r["organization"] and r["organization"]["name"], r["time_unit"])
        for r in customers
    ] == [
        ("rc@x.test", "Report Org", "3.75"),
        ("nicole.braun@zammad.org", "Zammad Foundation", "3.0"),
        ("solo@x.test", None, "0.5"),
    ]
    assert "password" not in customers[0]["customer"]
    assert "member_ids" in customers[0]["organization"]
    organizations = month.report("by_organization").json()
    assert [(r["organization"]["id"], r["time_unit"]) for r in organizations] == [
        (month.org["id"], "3.75"),
        (1, "3.0"),
    ]


def test_limit_keeps_the_last_rows_and_other_months_are_empty(month: Month) -> None:
    assert [r["time_unit"] for r in month.report("by_activity", limit=2).json()] == ["2.25", "0.5"]
    assert month.admin.get("/time_accounting/log/by_ticket/2001/2").json() == []
    assert month.admin.get("/time_accounting/log/by_ticket/2001/12").json() == []


def test_reports_need_admin_time_accounting(month: Month) -> None:
    for api in (month.agent, month.customer):
        denied = month.report("by_ticket", api)
        assert denied.status_code == 403
        assert denied.json()["error"] == "Not authorized"


def test_bad_periods_and_downloads(month: Month) -> None:
    assert month.admin.get("/time_accounting/log/by_ticket/2024/13").status_code == 422
    garbage = month.admin.get("/time_accounting/log/by_ticket/year/month")
    assert garbage.status_code == 500
    assert "end_of_month" in garbage.json()["error"]
    download = month.report("by_activity", download="true")
    assert download.status_code == 422
    assert "Excel" in download.json()["error"]
    assert month.admin.get("/time_accounting/log/by_nothing/2024/1").status_code == 404
