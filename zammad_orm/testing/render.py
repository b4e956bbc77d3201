"""JSON shapes of the emulator: plain and ``expand=true`` forms of every resource (spec §2.2, §6).

Rows come from SQLite (booleans as 0/1, hashes as JSON text); this module turns them into exactly the keys,
key order and value types of the recordings, adds the has-many id lists, the expanded name keys, and
feeds :mod:`zammad_orm.testing.assets`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zammad_orm.testing.core import Ctx

__all__ = ["SPECS", "ResourceSpec", "article_expanded", "expand", "fetch", "render", "render_many"]


@dataclass(frozen=True)
class ResourceSpec:
    """How the emulator stores and shows one Zammad resource (not a :class:`zammad_orm.Model`).

    Attributes:
        name: the key in :data:`SPECS` and the resource's name in route code (``"TicketState"``).
        table: the SQLite table.
        cls: Zammad's class name in error messages (``"Ticket::State"``).
        asset: the key of the resource in an ``assets`` map.
        columns: the columns in the key order of Zammad's JSON.
        bools: columns stored as 0/1 and shown as booleans.
        jsons: columns stored as JSON text and shown as hashes.
        custom: the object name of custom attributes (object manager), if the resource has them.
        lookups: association name → (target resource, id column) for name lookups (``group: "Users"``).

    """

    name: str
    table: str
    cls: str
    asset: str
    columns: tuple[str, ...]
    bools: frozenset[str] = frozenset()
    jsons: frozenset[str] = frozenset()
    custom: str | None = None
    lookups: dict[str, tuple[str, str]] = field(default_factory=dict)


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_STAMPS = "updated_by_id created_by_id created_at updated_at"
SPECS: dict[str, ResourceSpec] = {
    m.name: m
    for m in [
        ResourceSpec(
            "Ticket",
            "tickets",
            "Ticket",
            "Ticket",
            _cols(
                "id group_id priority_id state_id organization_id number title owner_id customer_id note"
                " first_response_at first_response_escalation_at first_response_in_min"
                " first_response_diff_in_min"
                " close_at close_escalation_at close_in_min close_diff_in_min update_escalation_at"
                " update_in_min"
                " update_diff_in_min last_close_at last_contact_at last_contact_agent_at"
                " last_contact_customer_at"
                " last_owner_update_at create_article_type_id create_article_sender_id article_count"
                " escalation_at"
                " pending_time type time_unit preferences " + _STAMPS
            ),
            jsons=frozenset({"preferences"}),
            custom="Ticket",
            lookups={
                "group": ("Group", "group_id"),
                "state": ("TicketState", "state_id"),
                "priority": ("TicketPriority", "priority_id"),
                "organization": ("Organization", "organization_id"),
                "owner": ("User", "owner_id"),
                "customer": ("User", "customer_id"),
            },
        ),
        ResourceSpec(
            "User",
            "users",
            "User",
            "User",
            _cols(
                "id organization_id login firstname lastname email image image_source web phone fax mobile"
                " department street zip city country address vip verified active note last_login source"
                " login_failed out_of_office out_of_office_start_at out_of_office_end_at"
                " out_of_office_replacement_id preferences " + _STAMPS
            ),
            bools=frozenset({"vip", "verified", "active", "out_of_office"}),
            jsons=frozenset({"preferences"}),
            custom="User",
            lookups={"organization": ("Organization", "organization_id")},
        ),
        ResourceSpec(
            "Organization",
            "organizations",
            "Organization",
            "Organization",
            _cols("id name shared domain domain_assignment active vip note " + _STAMPS),
            bools=frozenset({"shared", "domain_assignment", "active", "vip"}),
            custom="Organization",
        ),
        ResourceSpec(
            "Group",
            "groups",
            "Group",
            "Group",
            _cols(
                "id signature_id email_address_id name assignment_timeout follow_up_possible"
                " reopen_time_in_days"
                " follow_up_assignment active shared_drafts note " + _STAMPS + " name_last parent_id"
            ),
            bools=frozenset({"follow_up_assignment", "active", "shared_drafts"}),
            custom="Group",
        ),
        ResourceSpec(
            "Role",
            "roles",
            "Role",
            "Role",
            _cols("id name preferences default_at_signup active note " + _STAMPS),
            bools=frozenset({"default_at_signup", "active"}),
            jsons=frozenset({"preferences"}),
        ),
        ResourceSpec(
            "TicketState",
            "ticket_states",
            "Ticket::State",
            "TicketState",
            _cols(
                "id state_type_id name next_state_id ignore_escalation default_create default_follow_up note"
                " active " + _STAMPS
            ),
            bools=frozenset({"ignore_escalation", "default_create", "default_follow_up", "active"}),
        ),
        ResourceSpec(
            "TicketPriority",
            "ticket_priorities",
            "Ticket::Priority",
            "TicketPriority",
            _cols("id name default_create ui_icon ui_color note active " + _STAMPS),
            bools=frozenset({"default_create", "active"}),
        ),
        ResourceSpec(
            "TicketArticle",
            "ticket_articles",
            "Ticket::Article",
            "TicketArticle",
            _cols(
                "id ticket_id type_id sender_id from to cc subject reply_to message_id message_id_md5"
                " in_reply_to"
                " content_type references body internal preferences updated_by_id created_by_id origin_by_id"
                " created_at updated_at"
            ),
            bools=frozenset({"internal"}),
            jsons=frozenset({"preferences"}),
        ),
        ResourceSpec(
            "TimeAccounting",
            "time_accountings",
            "Ticket::TimeAccounting",
            "TicketTimeAccounting",
            _cols("id ticket_id ticket_article_id time_unit type_id created_by_id created_at updated_at"),
        ),
        ResourceSpec(
            "TimeAccountingType",
            "time_accounting_types",
            "Ticket::TimeAccounting::Type",
            "TicketTimeAccountingType",
            _cols("id name note active " + _STAMPS),
            bools=frozenset({"active"}),
        ),
        ResourceSpec(
            "OnlineNotification",
            "online_notifications",
            "OnlineNotification",
            "OnlineNotification",
            _cols("id o_id object_lookup_id type_lookup_id user_id seen " + _STAMPS),
            bools=frozenset({"seen"}),
        ),
        ResourceSpec(
            "TicketArticleType",
            "ticket_article_types",
            "Ticket::Article::Type",
            "TicketArticleType",
            ("id", "name"),
        ),
        ResourceSpec(
            "TicketArticleSender",
            "ticket_article_senders",
            "Ticket::Article::Sender",
            "TicketArticleSender",
            ("id", "name"),
        ),
        ResourceSpec(
            "Mention",
            "mentions",
            "Mention",
            "Mention",
            _cols("id mentionable_type mentionable_id user_id " + _STAMPS),
        ),
        ResourceSpec(
            "ObjectManagerAttribute",
            "object_manager_attributes",
            "ObjectManager::Attribute",
            "ObjectManagerAttribute",
            _cols(
                "id name display data_type data_option data_option_new editable active screens to_create"
                " to_migrate to_delete to_config position object " + _STAMPS
            ),
            bools=frozenset({"editable", "active", "to_create", "to_migrate", "to_delete", "to_config"}),
            jsons=frozenset({"data_option", "data_option_new", "screens"}),
        ),
    ]
}

# Users seen by a customer (spec §6.2): own record without these; other users only _CUSTOMER_OTHER.
_CUSTOMER_OWN_HIDDEN = frozenset(
    ["web", "phone", "mobile", "fax", "department", "street", "zip", "city", "country", "address", "note"]
)
_CUSTOMER_OTHER = ("id", "firstname", "lastname", "image", "image_source", "active")
_CUSTOMER_GROUP = (
    "id",
    "name",
    "name_last",
    "follow_up_possible",
    "reopen_time_in_days",
    "active",
    "parent_id",
)


def columns_of(ctx: Ctx, spec: ResourceSpec) -> tuple[str, ...]:
    """Output columns including the custom attributes created through the object manager."""
    if spec.custom and ctx.store.custom_columns.get(spec.custom):
        return spec.columns + tuple(ctx.store.custom_columns[spec.custom])
    return spec.columns


_PLANS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[tuple[str, int, int]]] = {}


def _plan(ctx: Ctx, spec: ResourceSpec, keys: tuple[str, ...]) -> list[tuple[str, int, int]]:
    # (output key, column index, kind) with kind 0 = as stored, 1 = boolean, 2 = JSON text. Indexing a row
    # by position is much cheaper than by name; the plan is computed once per column layout.
    custom = tuple(ctx.store.custom_columns.get(spec.custom or "", ())) if spec.custom else ()
    # Zammad 6.4+ tickets carry checklist_id (a column added after the ones of 6.2).
    extra = ("checklist_id",) if spec.name == "Ticket" and ctx.checklists else ()
    plan = _PLANS.get((spec.name, keys, custom + extra))
    if plan is None:
        index = {key: position for position, key in enumerate(keys)}
        columns = spec.columns + extra
        plan = [(c, index[c], 1 if c in spec.bools else 2 if c in spec.jsons else 0) for c in columns]
        plan += [(c, index[c], 2) for c in custom]
        _PLANS[(spec.name, keys, custom + extra)] = plan
    return plan


def row_dicts(ctx: Ctx, spec: ResourceSpec, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    """Return the bare records of rows: converted booleans and JSON, custom attributes decoded."""
    if not rows:
        return []
    plan = _plan(ctx, spec, tuple(rows[0].keys()))
    loads = json.loads
    out = []
    for row in rows:
        record: dict[str, Any] = {}
        for name, position, kind in plan:
            value = row[position]
            if kind and value is not None:
                value = bool(value) if kind == 1 else loads(value)
            record[name] = value
        out.append(record)
    return out


def fetch(ctx: Ctx, spec: ResourceSpec, ident: Any) -> sqlite3.Row:
    """Return the row with that id, or 404 with ActiveRecord's message."""
    try:
        key = int(ident)
    except (TypeError, ValueError):
        ctx.not_found(spec.cls, ident)
    row = ctx.one(f"SELECT * FROM {spec.table} WHERE id = ?", (key,))
    if row is None:
        ctx.not_found(spec.cls, ident)
    return row


def _id_map(ctx: Ctx, sql: str, ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    if not ids:
        return out
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for key, value in ctx.conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk):
            out[key].append(value)
    return out


def association_ids(ctx: Ctx, spec: ResourceSpec, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Return the has-many id lists of ``attributes_with_association_ids`` for many records at once."""
    ids = list(ids)
    if spec.name == "Ticket":
        arts = _id_map(
            ctx, "SELECT ticket_id, id FROM ticket_articles WHERE ticket_id IN ({marks}) ORDER BY id", ids
        )
        tas = _id_map(
            ctx, "SELECT ticket_id, id FROM time_accountings WHERE ticket_id IN ({marks}) ORDER BY id", ids
        )
        out: dict[int, dict[str, Any]] = {
            i: {"article_ids": arts[i], "ticket_time_accounting_ids": tas[i]} for i in ids
        }
        if ctx.checklists:
            # Checklists whose items reference the ticket (Zammad 6.4+).
            refs = _id_map(
                ctx,
                "SELECT DISTINCT ticket_id, checklist_id FROM checklist_items WHERE ticket_id IN ({marks})"
                " ORDER BY checklist_id",
                ids,
            )
            for i in ids:
                out[i]["referencing_checklist_ids"] = refs[i]
        return out
    if spec.name == "User":
        roles = _id_map(
            ctx, "SELECT user_id, role_id FROM user_roles WHERE user_id IN ({marks}) ORDER BY role_id", ids
        )
        orgs = _id_map(
            ctx,
            "SELECT user_id, organization_id FROM user_organizations WHERE user_id IN ({marks})"
            " ORDER BY organization_id",
            ids,
        )
        pairs = _id_map(
            ctx,
            "SELECT user_id, group_id || ':' || access FROM user_groups WHERE user_id IN ({marks})"
            " ORDER BY group_id, rowid",
            ids,
        )
        out = {}
        for i in ids:
            groups: dict[str, list[str]] = {}
            for pair in pairs[i]:
                gid, access = pair.split(":", 1)
                groups.setdefault(gid, []).append(access)
            out[i] = {
                "role_ids": roles[i],
                "two_factor_preference_ids": [],
                "organization_ids": orgs[i],
                "authorization_ids": [],
                "overview_sorting_ids": [],
                "group_ids": groups,
            }
        return out
    if spec.name == "Organization":
        members = _id_map(
            ctx, "SELECT organization_id, id FROM users WHERE organization_id IN ({marks}) ORDER BY id", ids
        )
        secondary = _id_map(
            ctx,
            "SELECT organization_id, user_id FROM user_organizations WHERE organization_id IN ({marks})"
            " ORDER BY user_id",
            ids,
        )
        return {i: {"member_ids": members[i], "secondary_member_ids": secondary[i]} for i in ids}
    if spec.name == "Group":
        users = _id_map(
            ctx,
            "SELECT DISTINCT group_id, user_id FROM user_groups WHERE group_id IN ({marks}) ORDER BY user_id",
            ids,
        )
        return {i: {"user_ids": users[i]} for i in ids}
    if spec.name == "Role":
        perms = _id_map(
            ctx,
            "SELECT role_id, permission_id FROM role_permissions WHERE role_id IN ({marks}) ORDER BY"
            " permission_id",
            ids,
        )
        return {
            i: {"permission_ids": perms[i], "knowledge_base_permission_ids": [], "group_ids": {}} for i in ids
        }
    return {i: {} for i in ids}


def attachments_of(ctx: Ctx, article_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Attachment records per article id."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in article_ids}
    for start in range(0, len(article_ids), 900):
        chunk = list(article_ids[start : start + 900])
        rows = ctx.conn.execute(
            "SELECT id, article_id, store_file_id, filename, size, preferences FROM attachments"
            f" WHERE article_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        for row in rows:
            out[row["article_id"]].append(
                {
                    "id": row["id"],
                    "store_file_id": row["store_file_id"],
                    "filename": row["filename"],
                    "size": row["size"],
                    "preferences": json.loads(row["preferences"]),
                }
            )
    return out


def render_many(
    ctx: Ctx, spec: ResourceSpec, rows: Sequence[sqlite3.Row], *, ids: bool = True
) -> list[dict[str, Any]]:
    """Plain records (with has-many id lists when ``ids``), filtered for customers where Zammad does."""
    out = row_dicts(ctx, spec, rows)
    if ids:
        extra = association_ids(ctx, spec, [row["id"] for row in rows])
        for record in out:
            record.update(extra[record["id"]])
    if spec.name == "TicketArticle":
        atts = attachments_of(ctx, [row["id"] for row in rows])
        for record in out:
            record["attachments"] = atts[record["id"]]
    if spec.name == "User" and ctx.is_customer_view:
        out = [customer_user_view(ctx, record) for record in out]
    elif spec.name == "Group" and not ctx.has("ticket.agent", "admin.group"):
        out = [{key: record[key] for key in _CUSTOMER_GROUP} for record in out]
    return out


def render(ctx: Ctx, spec: ResourceSpec, row: sqlite3.Row, *, ids: bool = True) -> dict[str, Any]:
    """One plain record."""
    return render_many(ctx, spec, [row], ids=ids)[0]


def customer_user_view(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    """Reduce a user record for a customer viewer (spec §6.2)."""
    if record.get("id") == ctx.uid:
        return {key: value for key, value in record.items() if key not in _CUSTOMER_OWN_HIDDEN}
    return {key: record[key] for key in _CUSTOMER_OTHER if key in record}


# --- expand=true ----------------------------------------------------------------------------------------
def _name(ctx: Ctx, table: str, ident: Any, column: str = "name") -> Any:
    if ident is None:
        return None
    cache = ctx.store.cache.setdefault("names", {})
    key = (table, ident, column)
    if key not in cache:
        row = ctx.one(f"SELECT {column} FROM {table} WHERE id = ?", (ident,))
        cache[key] = row[0] if row else None
    return cache[key]


def _login(ctx: Ctx, ident: Any) -> Any:
    return _name(ctx, "users", ident, "login")


def _put(record: dict[str, Any], key: str, value: Any) -> None:
    # Expanded belongs_to keys are omitted when the id is null (spec §2.2).
    if value is not None:
        record[key] = value


def expand(ctx: Ctx, spec: ResourceSpec, record: dict[str, Any]) -> dict[str, Any]:
    """Add the ``expand=true`` name keys to a plain record (in place; returned for chaining)."""
    r = record
    if spec.name == "Ticket":
        _put(r, "group", _name(ctx, "groups", r["group_id"]))
        _put(r, "organization", _name(ctx, "organizations", r["organization_id"]))
        if not r.get("ticket_time_accounting_ids"):
            r["ticket_time_accounting"] = []
        _put(r, "state", _name(ctx, "ticket_states", r["state_id"]))
        _put(r, "priority", _name(ctx, "ticket_priorities", r["priority_id"]))
        _put(r, "owner", _login(ctx, r["owner_id"]))
        _put(r, "customer", _login(ctx, r["customer_id"]))
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "updated_by", _login(ctx, r["updated_by_id"]))
        _put(r, "create_article_type", _name(ctx, "ticket_article_types", r["create_article_type_id"]))
        _put(r, "create_article_sender", _name(ctx, "ticket_article_senders", r["create_article_sender_id"]))
    elif spec.name == "User":
        r["roles"] = [_name(ctx, "roles", i) for i in r.get("role_ids", [])]
        r["two_factor_preferences"] = []
        r["organizations"] = [_name(ctx, "organizations", i) for i in r.get("organization_ids", [])]
        r["authorizations"] = []
        r["overview_sortings"] = []
        _put(r, "organization", _name(ctx, "organizations", r.get("organization_id")))
        if "group_ids" in r:
            r["groups"] = {_name(ctx, "groups", int(g)): acc for g, acc in r["group_ids"].items()}
        _put(r, "created_by", _login(ctx, r.get("created_by_id")))
        _put(r, "updated_by", _login(ctx, r.get("updated_by_id")))
    elif spec.name == "Organization":
        r["members"] = [_login(ctx, i) for i in r.get("member_ids", [])]
        r["secondary_members"] = [_login(ctx, i) for i in r.get("secondary_member_ids", [])]
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "updated_by", _login(ctx, r["updated_by_id"]))
    elif spec.name == "Group":
        _put(r, "created_by", _login(ctx, r.get("created_by_id")))
        _put(r, "updated_by", _login(ctx, r.get("updated_by_id")))
        _put(r, "signature", _name(ctx, "signatures", r.get("signature_id")))
        _put(r, "email_address", _name(ctx, "email_addresses", r.get("email_address_id")))
        if "user_ids" in r:
            r["users"] = [_login(ctx, i) for i in r["user_ids"]]
    elif spec.name == "Role":
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "updated_by", _login(ctx, r["updated_by_id"]))
        r["permissions"] = [_name(ctx, "permissions", i) for i in r["permission_ids"]]
        r["knowledge_base_permissions"] = []
        r["groups"] = {}
    elif spec.name == "TicketState":
        _put(r, "state_type", _name(ctx, "ticket_state_types", r["state_type_id"]))
        _put(r, "next_state", _name(ctx, "ticket_states", r["next_state_id"]))
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "updated_by", _login(ctx, r["updated_by_id"]))
    elif spec.name == "OnlineNotification":
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "updated_by", _login(ctx, r["updated_by_id"]))
        _put(r, "user", _login(ctx, r["user_id"]))
        _put(r, "object", _name(ctx, "object_lookups", r["object_lookup_id"]))
        _put(r, "type", _name(ctx, "type_lookups", r["type_lookup_id"]))
    elif spec.name == "TimeAccounting":
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "type", _name(ctx, "time_accounting_types", r["type_id"]))
    elif "created_by_id" in r:
        _put(r, "created_by", _login(ctx, r["created_by_id"]))
        _put(r, "updated_by", _login(ctx, r.get("updated_by_id")))
    return r


def article_expanded(ctx: Ctx, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    """Articles are always returned expanded (spec §2.2, §6.8)."""
    spec = SPECS["TicketArticle"]
    records = render_many(ctx, spec, rows, ids=False)
    units: dict[int, Any] = {}
    ids = [r["id"] for r in records]
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for art_id, unit in ctx.conn.execute(
            "SELECT ticket_article_id, time_unit FROM time_accountings"
            f" WHERE ticket_article_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        ):
            units[art_id] = unit
    for r in records:
        r["created_by"] = _login(ctx, r["created_by_id"])
        r["updated_by"] = _login(ctx, r["updated_by_id"])
        r["type"] = _name(ctx, "ticket_article_types", r["type_id"])
        r["sender"] = _name(ctx, "ticket_article_senders", r["sender_id"])
        r["time_unit"] = units.get(r["id"])
    return records
