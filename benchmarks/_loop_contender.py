"""One contender of bench_loop.py, run in a fresh process: the obvious report loop over tickets.

Usage: ``python _loop_contender.py NAME URL TOKEN BACKEND``. Prints one JSON line: the seconds the loop
took (imports and client construction excluded), the number of rows and a digest of the rows, so the
parent can check that every contender read the same thing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import sys
import time
from typing import Any

LIMIT = 10_000


def _row(*values: Any) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in values)


def zammad_orm(url: str, token: str, backend: str, **options: Any) -> list[tuple[str, ...]]:
    import zammad_orm as zo
    from zammad_orm import Ticket

    related = options.pop("_select_related", False)
    client = zo.connect(url, http_token=token, **options)
    qs = Ticket.objects.filter(id__lte=LIMIT).order_by("id")
    if related:
        qs = qs.select_related("state", "priority", "group", "owner", "customer", "organization")
    rows = [
        _row(t.number, t.title, t.created_at.isoformat(), t.state.name, t.priority.name, t.group.name,
             t.owner.login, t.customer.email, t.organization.name if t.organization else None)
        for t in qs
    ]  # fmt: skip
    client.close()  # timed too: the disk cache's writes still queued are finished here
    return rows


def floor(url: str, token: str, backend: str) -> list[tuple[str, ...]]:
    """Plain requests: search pages of 200 with their assets (index pages without a search index)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token token={token}"
    api = f"{url}/api/v1"
    states = {r["id"]: r["name"] for r in session.get(f"{api}/ticket_states").json()}
    priorities = {r["id"]: r["name"] for r in session.get(f"{api}/ticket_priorities").json()}
    rows: list[tuple[str, ...]] = []
    after, page = 0, 1
    while True:
        if backend == "database":  # no search index: the index endpoint, 100 per page, in id order
            params: dict[str, Any] = {"page": page, "per_page": 100, "full": "true"}
            reply = session.get(f"{api}/tickets", params=params).json()
            ids, size = reply["record_ids"], 100
        else:
            params = {"query": f"id:<={LIMIT} AND id:>{after}", "per_page": 200, "sort_by": "id",
                      "order_by": "asc", "full": "true"}  # fmt: skip
            reply = session.get(f"{api}/tickets/search", params=params).json()
            ids = reply.get("tickets", reply.get("record_ids"))
            size = 200
        assets = reply["assets"]
        users, orgs, groups = assets.get("User", {}), assets.get("Organization", {}), assets.get("Group", {})
        for pk in ids:
            t = assets["Ticket"][str(pk)]
            if t["id"] > LIMIT:
                continue
            org = orgs.get(str(t["organization_id"])) if t["organization_id"] else None
            created = dt.datetime.fromisoformat(t["created_at"]).isoformat()
            rows.append(
                _row(t["number"], t["title"], created, states[t["state_id"]], priorities[t["priority_id"]],
                     groups[str(t["group_id"])]["name"], users[str(t["owner_id"])]["login"],
                     users[str(t["customer_id"])]["email"], org["name"] if org else None)
            )  # fmt: skip
        if len(ids) < size:
            return rows
        after, page = ids[-1], page + 1


def zammad_py(url: str, token: str, backend: str) -> list[tuple[str, ...]]:
    """zammad-py 3.2 as documented: expand=true pages (names inline), one lookup per customer's email."""
    from zammad_py import ZammadAPI

    api = ZammadAPI(url=f"{url}/api/v1/", http_token=token)
    emails: dict[int, str] = {}
    rows: list[tuple[str, ...]] = []
    page = api.ticket.search(f"id:<={LIMIT}", filters={"per_page": 200, "sort_by": "id", "order_by": "asc"})
    while True:
        for t in page:
            if t["customer_id"] not in emails:
                emails[t["customer_id"]] = api.user.find(t["customer_id"])["email"]
            created = dt.datetime.fromisoformat(t["created_at"]).isoformat()
            rows.append(
                _row(t["number"], t["title"], created, t["state"], t["priority"], t["group"], t["owner"],
                     emails[t["customer_id"]], t.get("organization"))
            )  # fmt: skip
        if page.is_last_page():
            return rows
        page = page.next_page()


def zammadoo(url: str, token: str, backend: str) -> list[tuple[str, ...]]:
    """zammadoo 0.3 as documented: ``tickets.search(...)`` and attribute reads."""
    import zammadoo

    client = zammadoo.Client(f"{url}/api/v1", http_token=token)
    rows: list[tuple[str, ...]] = []
    for t in client.tickets.search(f"id:<={LIMIT}", sort_by="id", order_by="asc", per_page=200):
        org = t.organization
        rows.append(
            _row(t.number, t.title, t.created_at.isoformat(), t.state.name, t.priority.name, t.group.name,
                 t.owner.login, t.customer.email, org.name if org else None)
        )  # fmt: skip
    return rows


CONTENDERS: dict[str, Any] = {
    "floor": floor,
    "zammad_orm": zammad_orm,
    "zammad_orm, select_related": lambda u, t, b: zammad_orm(u, t, b, _select_related=True),
    "zammad_orm, page_concurrency=1": lambda u, t, b: zammad_orm(u, t, b, page_concurrency=1),
    "zammad_orm, page_concurrency=4": lambda u, t, b: zammad_orm(u, t, b, page_concurrency=4),
    "zammad-py 3.2": zammad_py,
    "zammadoo 0.3": zammadoo,
}


#: The library each contender imports, loaded before the clock starts (imports are not the loop's cost).
LIBRARIES = {"floor": "requests", "zammad-py 3.2": "zammad_py", "zammadoo 0.3": "zammadoo"}


def main() -> None:
    name, url, token, backend = sys.argv[1:5]
    importlib.import_module(LIBRARIES.get(name, "zammad_orm"))
    start = time.perf_counter()
    rows = CONTENDERS[name](url, token, backend)
    elapsed = time.perf_counter() - start
    digest = hashlib.sha256(json.dumps(sorted(rows)).encode()).hexdigest()[:16]
    print(json.dumps({"seconds": elapsed, "rows": len(rows), "digest": digest}))


if __name__ == "__main__":
    main()
