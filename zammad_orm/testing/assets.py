"""``assets`` maps of the emulator: related records collected transitively, the way Zammad's ``assets`` do.

A search or ``full=true`` reply carries its records plus everything they reference (spec §4.3). Rendered
records and their JSON text are cached per store generation (any write clears them), which keeps deep
search pages cheap.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from zammad_orm.testing.core import Ctx
from zammad_orm.testing.render import SPECS, ResourceSpec, render_many

__all__ = ["Assets"]


class Assets:
    """An ``assets`` map being collected (``{"Ticket": {"1": {...}}, "User": {...}}``), transitively."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.data: dict[str, dict[str, Any]] = {}
        view = f"customer:{ctx.uid}" if ctx.is_customer_view else "agent"
        self._view = view
        self._cache: dict[tuple[str, int], dict[str, Any]] = ctx.store.cache.setdefault(("assets", view), {})

    def dumps(self) -> str:
        """Return the collected map as JSON text, reusing the cached JSON of records already serialised."""
        fragments: dict[tuple[str, int], str] = self.ctx.store.cache.setdefault(("fragments", self._view), {})
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        parts = []
        for asset, bucket in self.data.items():
            items = []
            for key, record in bucket.items():
                # Keys are decimal ids: no escaping needed. Records are the generation's cached dicts.
                frag_key = (asset, record["id"])
                text = fragments.get(frag_key)
                if text is None:
                    text = fragments[frag_key] = dumps(record)
                items.append(f'"{key}":{text}')
            parts.append(f'"{asset}":{{{",".join(items)}}}')
        return "{" + ",".join(parts) + "}"

    def _records(self, spec: ResourceSpec, ids: Iterable[int]) -> list[dict[str, Any]]:
        bucket = self.data.get(spec.asset, {})
        name = spec.name
        wanted = [i for i in dict.fromkeys(ids) if i is not None and str(i) not in bucket]
        if not wanted:
            return []
        bucket = self.data.setdefault(spec.asset, bucket)
        cache = self._cache
        missing = [i for i in wanted if (name, i) not in cache]
        if missing:
            rows: list[sqlite3.Row] = []
            for start in range(0, len(missing), 900):
                chunk = missing[start : start + 900]
                rows += self.ctx.conn.execute(
                    f"SELECT * FROM {spec.table} WHERE id IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
            for record in render_many(self.ctx, spec, rows):
                cache[(name, record["id"])] = record
        out = []
        for i in wanted:
            cached = cache.get((name, i))
            if cached is not None:
                bucket[str(i)] = cached
                out.append(cached)
        return out

    def add(self, model_name: str, ids: Iterable[int]) -> Assets:
        """Add records and everything they reference (Zammad's ``assets`` recursion, depth-limited)."""
        spec = SPECS[model_name]
        records = self._records(spec, ids)
        if not records:
            return self
        if model_name == "Ticket":
            users = [
                r[k] for r in records for k in ("created_by_id", "updated_by_id", "owner_id", "customer_id")
            ]
            self.add("User", users)
            self.add("Group", [r["group_id"] for r in records])
            self.add("Organization", [r["organization_id"] for r in records])
        elif model_name == "User":
            if self.ctx.is_customer_view:
                return self
            self.add("Role", [i for r in records for i in r.get("role_ids", [])])
            orgs = [r.get("organization_id") for r in records]
            orgs += [i for r in records for i in r.get("organization_ids", [])[:3]]
            self.add("Organization", [o for o in orgs if o is not None])
            self.add("Group", [int(g) for r in records for g in r.get("group_ids", {})])
            self.add("User", [r[k] for r in records for k in ("created_by_id", "updated_by_id") if r.get(k)])
        elif model_name == "Organization":
            # Zammad gives assets for the first 10 members only; the frontend loads the rest on demand.
            members = [i for r in records for i in sorted(r.get("member_ids", []))[:10]]
            self.add("User", members)
            self.add("User", [r[k] for r in records for k in ("created_by_id", "updated_by_id") if r.get(k)])
        elif model_name == "TicketArticle":
            self.add("User", [r[k] for r in records for k in ("created_by_id", "updated_by_id")])
        return self
