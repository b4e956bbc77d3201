"""Seed data of a fresh Zammad 6.x system (spec §7.1) plus the emulator's own users (contracts §1).

Ids are those of a real fresh install, so ``GET /ticket_states/5`` is ``merged`` and ticket 1 is
``Welcome to Zammad!`` with number ``67001`` (system id 67).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from zammad_orm.testing.store import format_ts

__all__ = [
    "ADMIN_LOGIN",
    "ADMIN_PASSWORD",
    "AGENT_LOGIN",
    "CUSTOMER_LOGIN",
    "SYSTEM_ID",
    "USER_TOKENS",
    "seed",
]

SYSTEM_ID = "67"
ADMIN_LOGIN = "admin@example.com"
ADMIN_PASSWORD = "admin"
AGENT_LOGIN = "agent1@example.com"
CUSTOMER_LOGIN = "nicole.braun@zammad.org"
# Fixed tokens for the non-admin seed users, so tests can act as them without basic auth.
USER_TOKENS = {AGENT_LOGIN: "agent1-token", CUSTOMER_LOGIN: "nicole-token"}

# Permission ids chosen so that the seed roles carry the recorded permission_ids (spec §6.5 recordings):
# Admin [1, 43, 55, 65], Agent [43, 57, 60, 62, 66], Customer [44, 47, 48, 50, 54, 58].
_ADMIN_SUBS = [
    "api",
    "branding",
    "calendar",
    "channel_chat",
    "channel_email",
    "channel_facebook",
    "channel_formular",
    "channel_google",
    "channel_microsoft365",
    "channel_sms",
    "channel_telegram",
    "channel_twitter",
    "channel_web",
    "channel_whatsapp",
    "checklist",
    "core_workflow",
    "data_privacy",
    "group",
    "integration",
    "knowledge_base",
    "macro",
    "maintenance",
    "monitoring",
    "object",
    "organization",
    "overview",
    "package",
    "public_links",
    "report_profile",
    "role",
    "security",
    "session",
    "setting_system",
    "system_report",
    "tag",
    "template",
    "text_module",
    "ticket",
    "time_accounting",
    "translation",
    "trigger",
]
PERMISSIONS: list[str] = (
    ["admin"]
    + [f"admin.{name}" for name in _ADMIN_SUBS]
    + [
        "user_preferences",  # 43
        "user_preferences.password",  # 44
        "user_preferences.access_token",
        "user_preferences.appearance",
        "user_preferences.language",  # 47
        "user_preferences.linked_accounts",  # 48
        "user_preferences.notifications",
        "user_preferences.avatar",  # 50
        "user_preferences.calendar",
        "user_preferences.device",
        "user_preferences.out_of_office",
        "user_preferences.two_factor_authentication",  # 54
        "report",  # 55
        "ticket",
        "ticket.agent",  # 57
        "ticket.customer",  # 58
        "chat",
        "chat.agent",  # 60
        "cti",
        "cti.agent",  # 62
        "knowledge_base",
        "user_preferences.overview_sorting",
        "knowledge_base.editor",  # 65
        "knowledge_base.reader",  # 66
    ]
)
ROLE_PERMISSIONS = {1: [1, 43, 55, 65], 2: [43, 57, 60, 62, 66], 3: [44, 47, 48, 50, 54, 58]}

STATE_TYPES = ["new", "open", "pending reminder", "pending action", "closed", "merged", "removed"]
# (name, state_type_id, next_state_id, ignore_escalation, default_create, default_follow_up, active)
STATES = [
    ("new", 1, None, 0, 1, 0, 1),
    ("open", 2, None, 0, 0, 1, 1),
    ("pending reminder", 3, None, 1, 0, 0, 1),
    ("closed", 5, None, 1, 0, 0, 1),
    ("merged", 6, None, 1, 0, 0, 1),
    ("removed", 7, None, 1, 0, 0, 0),
    ("pending close", 4, 4, 1, 0, 0, 1),
]
ARTICLE_TYPES = [
    ("email", 1),
    ("sms", 1),
    ("chat", 1),
    ("fax", 1),
    ("phone", 1),
    ("twitter status", 1),
    ("twitter direct-message", 1),
    ("facebook feed post", 1),
    ("facebook feed comment", 1),
    ("note", 0),
    ("web", 1),
    ("telegram personal-message", 1),
    ("facebook direct-message", 1),
    ("whatsapp message", 1),
]
ARTICLE_SENDERS = ["Agent", "Customer", "System"]

WELCOME_BODY = (
    "Welcome!<br><br>Thank you for choosing Zammad.<br><br>You will find updates and patches at "
    '<a href="https://zammad.org/" rel="nofollow noreferrer noopener" target="_blank">'
    "https://zammad.org/</a>. "
    "Online documentation is available at "
    '<a href="https://zammad.org/documentation" rel="nofollow noreferrer noopener" target="_blank">'
    "https://zammad.org/documentation</a>.<br><br>Your Zammad Team"
)

_AGENT_PREFERENCES = {
    "notification_config": {
        "matrix": {
            "create": {
                "criteria": {"owned_by_me": True, "owned_by_nobody": True, "subscribed": True, "no": False},
                "channel": {"email": True, "online": True},
            },
            "update": {
                "criteria": {"owned_by_me": True, "owned_by_nobody": True, "subscribed": True, "no": False},
                "channel": {"email": True, "online": True},
            },
        }
    },
    "locale": "en-us",
}


def _user(
    conn: sqlite3.Connection,
    uid: int,
    login: str,
    firstname: str,
    lastname: str,
    email: str,
    *,
    ts: str,
    org: int | None = None,
    active: bool = True,
    password: str | None = None,
    token: str | None = None,
    preferences: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO users (id, organization_id, login, firstname, lastname, email, web, phone, fax, mobile,"
        " department, street, zip, city, country, address, active, note, preferences, updated_by_id,"
        " created_by_id, created_at, updated_at, password, token)"
        " VALUES (?, ?, ?, ?, ?, ?, '', '', '', '', '', '', '', '', '', '', ?, '', ?, 1, 1, ?, ?, ?, ?)",
        (
            uid,
            org,
            login,
            firstname,
            lastname,
            email,
            int(active),
            json.dumps(preferences or {}),
            ts,
            ts,
            password,
            token,
        ),
    )


def seed(conn: sqlite3.Connection, *, admin_token: str, now: datetime | None = None) -> None:
    """Insert the data of a freshly installed system (spec §7.1) and the emulator users (contracts §1).

    Args:
        conn: an open connection inside a transaction.
        admin_token: the HTTP token of the admin user (id 3).
        now: the install time; defaults to one year and a day ago, so demo data is younger than the system.

    """
    install = now or datetime.now(timezone.utc) - timedelta(days=366)
    ts = format_ts(install)
    later = format_ts(install + timedelta(seconds=2))
    conn.executemany("INSERT INTO permissions (id, name) VALUES (?, ?)", list(enumerate(PERMISSIONS, 1)))
    conn.executemany(
        "INSERT INTO roles (id, name, default_at_signup, note, updated_by_id, created_by_id, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
        [
            (1, "Admin", 0, "To configure your system.", ts, ts),
            (2, "Agent", 0, "To work on Tickets.", ts, ts),
            (3, "Customer", 1, "People who create Tickets ask for help.", ts, ts),
        ],
    )
    conn.executemany(
        "INSERT INTO role_permissions (role_id, permission_id) VALUES (?, ?)",
        [(rid, pid) for rid, pids in ROLE_PERMISSIONS.items() for pid in pids],
    )
    conn.execute(
        "INSERT INTO organizations (id, name, shared, domain, domain_assignment, active, vip, note,"
        " updated_by_id,"
        " created_by_id, created_at, updated_at) VALUES (1, 'Zammad Foundation', 1, '', 0, 1, 0, '', 1, 1,"
        " ?, ?)",
        (ts, ts),
    )
    conn.execute("INSERT INTO signatures (id, name) VALUES (1, 'default')")
    conn.execute(
        "INSERT INTO email_addresses (id, name, email) VALUES (1, 'Zammad Helpdesk', 'zammad@localhost')"
    )
    conn.execute(
        "INSERT INTO groups (id, signature_id, email_address_id, name, follow_up_possible,"
        " follow_up_assignment,"
        " active, shared_drafts, note, updated_by_id, created_by_id, created_at, updated_at, name_last)"
        " VALUES (1, 1, 1, 'Users', 'yes', 1, 1, 1, 'Standard Group/Pool for Tickets.', 1, 1, ?, ?, 'Users')",
        (ts, ts),
    )
    _user(
        conn, 1, "-", "-", "", "", ts=ts, active=False, preferences={"tickets_closed": 0, "tickets_open": 0}
    )
    _user(
        conn,
        2,
        CUSTOMER_LOGIN,
        "Nicole",
        "Braun",
        CUSTOMER_LOGIN,
        ts=ts,
        org=1,
        password="customer",
        token=USER_TOKENS[CUSTOMER_LOGIN],
        preferences={"tickets_closed": 0, "tickets_open": 1, "locale": "en-us"},
    )
    _user(
        conn,
        3,
        ADMIN_LOGIN,
        "Admin",
        "Example",
        ADMIN_LOGIN,
        ts=ts,
        password=ADMIN_PASSWORD,
        token=admin_token,
        preferences=_AGENT_PREFERENCES,
    )
    _user(
        conn,
        4,
        AGENT_LOGIN,
        "Agent",
        "One",
        AGENT_LOGIN,
        ts=ts,
        password="agent",
        token=USER_TOKENS[AGENT_LOGIN],
        preferences=_AGENT_PREFERENCES,
    )
    conn.executemany(
        "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", [(1, 3), (2, 3), (3, 1), (3, 2), (4, 2)]
    )
    conn.executemany(
        "INSERT INTO user_groups (user_id, group_id, access) VALUES (?, 1, 'full')", [(3,), (4,)]
    )
    conn.executemany(
        "INSERT INTO ticket_state_types (id, name) VALUES (?, ?)", list(enumerate(STATE_TYPES, 1))
    )
    conn.executemany(
        "INSERT INTO ticket_states (id, name, state_type_id, next_state_id, ignore_escalation,"
        " default_create,"
        " default_follow_up, active, updated_by_id, created_by_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)",
        [(i, *row, ts, ts) for i, row in enumerate(STATES, 1)],
    )
    conn.executemany(
        "INSERT INTO ticket_priorities (id, name, default_create, ui_icon, ui_color, updated_by_id,"
        " created_by_id,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?)",
        [
            (1, "1 low", 0, "low-priority", "low-priority", ts, ts),
            (2, "2 normal", 1, None, None, ts, ts),
            (3, "3 high", 0, "important", "high-priority", ts, ts),
        ],
    )
    conn.executemany(
        "INSERT INTO ticket_article_types (id, name, communication) VALUES (?, ?, ?)",
        [(i, name, comm) for i, (name, comm) in enumerate(ARTICLE_TYPES, 1)],
    )
    conn.executemany(
        "INSERT INTO ticket_article_senders (id, name) VALUES (?, ?)", list(enumerate(ARTICLE_SENDERS, 1))
    )
    conn.execute("INSERT INTO link_types (id, name) VALUES (1, 'normal')")
    conn.execute("INSERT INTO link_objects (id, name) VALUES (1, 'Ticket')")
    conn.execute("INSERT INTO link_objects (id, name) VALUES (2, 'KnowledgeBase::Answer::Translation')")
    conn.executemany("INSERT INTO object_lookups (id, name) VALUES (?, ?)", [(1, "Ticket"), (2, "User")])
    conn.executemany(
        "INSERT INTO type_lookups (id, name) VALUES (?, ?)",
        [(1, "create"), (2, "reminder_reached"), (3, "update"), (4, "escalation")],
    )
    conn.execute("INSERT INTO counters (name, value) VALUES ('ticket_number', 1)")
    conn.execute("INSERT INTO settings (name, value) VALUES ('system_id', ?)", (SYSTEM_ID,))
    conn.execute(
        "INSERT INTO tickets (id, group_id, priority_id, state_id, organization_id, number, title, owner_id,"
        " customer_id, last_contact_at, last_contact_customer_at, create_article_type_id,"
        " create_article_sender_id,"
        " article_count, preferences, updated_by_id, created_by_id, created_at, updated_at)"
        " VALUES (1, 1, 2, 1, 1, ?, 'Welcome to Zammad!', 1, 2, ?, ?, 5, 2, 1, '{}', 2, 2, ?, ?)",
        (SYSTEM_ID + "001", later, later, ts, later),
    )
    conn.execute(
        'INSERT INTO ticket_articles (id, ticket_id, type_id, sender_id, "from", "to", subject, content_type,'
        " body, internal, preferences, updated_by_id, created_by_id, created_at, updated_at)"
        " VALUES (1, 1, 5, 2, 'Zammad Feedback <feedback@zammad.org>', 'Nicole Braun', 'Welcome to Zammad!',"
        " 'text/html', ?, 0, '{}', 2, 2, ?, ?)",
        (WELCOME_BODY, later, later),
    )
    conn.executemany(
        "INSERT INTO histories (o_id, created_by_id, created_at, object, type, related_o_id, related_object)"
        " VALUES (?, 2, ?, ?, 'created', ?, ?)",
        [(1, ts, "Ticket", None, None), (1, later, "Ticket::Article", 1, "Ticket")],
    )
