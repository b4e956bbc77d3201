"""The emulator's storage: one SQLite database (file or ``:memory:``), a lock, one transaction per request.

The server is threaded; SQLite connections are not meant to be shared between threads without care, so the
store owns exactly one connection and serialises every transaction with a re-entrant lock. A request runs
inside :meth:`Store.transaction`: committed when the handler returns, rolled back when it raises, so a
failed request never leaves half-written rows. Every committed write bumps :attr:`Store.generation`, which
the search result caches key on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["SCHEMA", "Store", "format_ts", "now_ts", "parse_ts"]

# Column order of every table is the key order of the recorded JSON (spec §6); the renderer relies on it.
SCHEMA = """
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE permissions (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT, active INTEGER DEFAULT 1);
CREATE TABLE organizations (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, shared INTEGER DEFAULT 1, domain TEXT DEFAULT '',
  domain_assignment INTEGER DEFAULT 0, active INTEGER DEFAULT 1, vip INTEGER DEFAULT 0, note TEXT DEFAULT '',
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE UNIQUE INDEX organizations_name ON organizations (name COLLATE NOCASE);
CREATE TABLE users (
  id INTEGER PRIMARY KEY, organization_id INTEGER, login TEXT NOT NULL, firstname TEXT, lastname TEXT,
  email TEXT, image TEXT, image_source TEXT, web TEXT, phone TEXT, fax TEXT, mobile TEXT, department TEXT,
  street TEXT, zip TEXT, city TEXT, country TEXT, address TEXT, vip INTEGER DEFAULT 0,
  verified INTEGER DEFAULT 0, active INTEGER DEFAULT 1, note TEXT, last_login TEXT, source TEXT,
  login_failed INTEGER DEFAULT 0, out_of_office INTEGER DEFAULT 0, out_of_office_start_at TEXT,
  out_of_office_end_at TEXT, out_of_office_replacement_id INTEGER, preferences TEXT DEFAULT '{}',
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT,
  password TEXT, token TEXT);
CREATE UNIQUE INDEX users_login ON users (login COLLATE NOCASE);
CREATE INDEX users_email ON users (email COLLATE NOCASE);
CREATE INDEX users_org ON users (organization_id);
CREATE INDEX users_token ON users (token);
CREATE TABLE roles (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, preferences TEXT DEFAULT '{}',
  default_at_signup INTEGER DEFAULT 0,
  active INTEGER DEFAULT 1, note TEXT, updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT,
  updated_at TEXT);
CREATE UNIQUE INDEX roles_name ON roles (name COLLATE NOCASE);
CREATE TABLE role_permissions (role_id INTEGER, permission_id INTEGER, PRIMARY KEY (role_id, permission_id));
CREATE TABLE user_roles (user_id INTEGER, role_id INTEGER, PRIMARY KEY (user_id, role_id));
CREATE INDEX user_roles_role ON user_roles (role_id);
CREATE TABLE user_groups (
  user_id INTEGER, group_id INTEGER, access TEXT, PRIMARY KEY (user_id, group_id, access));
CREATE INDEX user_groups_group ON user_groups (group_id);
CREATE TABLE user_organizations (user_id INTEGER, organization_id INTEGER,
  PRIMARY KEY (user_id, organization_id));
CREATE INDEX user_organizations_org ON user_organizations (organization_id);
CREATE TABLE signatures (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE email_addresses (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
CREATE TABLE groups (
  id INTEGER PRIMARY KEY, signature_id INTEGER, email_address_id INTEGER, name TEXT NOT NULL,
  assignment_timeout INTEGER, follow_up_possible TEXT DEFAULT 'yes', reopen_time_in_days INTEGER,
  follow_up_assignment INTEGER DEFAULT 1, active INTEGER DEFAULT 1, shared_drafts INTEGER DEFAULT 1,
  note TEXT,
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT, name_last TEXT,
  parent_id INTEGER);
CREATE UNIQUE INDEX groups_name ON groups (name COLLATE NOCASE);
CREATE TABLE ticket_state_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE ticket_states (
  id INTEGER PRIMARY KEY, state_type_id INTEGER, name TEXT NOT NULL, next_state_id INTEGER,
  ignore_escalation INTEGER DEFAULT 0, default_create INTEGER DEFAULT 0, default_follow_up INTEGER DEFAULT 0,
  note TEXT, active INTEGER DEFAULT 1, updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT,
  updated_at TEXT);
CREATE UNIQUE INDEX ticket_states_name ON ticket_states (name COLLATE NOCASE);
CREATE TABLE ticket_priorities (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, default_create INTEGER DEFAULT 0, ui_icon TEXT, ui_color TEXT,
  note TEXT, active INTEGER DEFAULT 1, updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT,
  updated_at TEXT);
CREATE UNIQUE INDEX ticket_priorities_name ON ticket_priorities (name COLLATE NOCASE);
CREATE TABLE ticket_article_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL, communication INTEGER);
CREATE TABLE ticket_article_senders (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE tickets (
  id INTEGER PRIMARY KEY, group_id INTEGER, priority_id INTEGER, state_id INTEGER, organization_id INTEGER,
  number TEXT NOT NULL, title TEXT, owner_id INTEGER, customer_id INTEGER, note TEXT, first_response_at TEXT,
  first_response_escalation_at TEXT, first_response_in_min INTEGER, first_response_diff_in_min INTEGER,
  close_at TEXT, close_escalation_at TEXT, close_in_min INTEGER, close_diff_in_min INTEGER,
  update_escalation_at TEXT, update_in_min INTEGER, update_diff_in_min INTEGER, last_close_at TEXT,
  last_contact_at TEXT, last_contact_agent_at TEXT, last_contact_customer_at TEXT, last_owner_update_at TEXT,
  create_article_type_id INTEGER, create_article_sender_id INTEGER, article_count INTEGER DEFAULT 0,
  escalation_at TEXT, pending_time TEXT, type TEXT, time_unit TEXT, preferences TEXT DEFAULT '{}',
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT, checklist_id INTEGER);
CREATE UNIQUE INDEX tickets_number ON tickets (number);
CREATE INDEX tickets_updated_at ON tickets (updated_at);
CREATE INDEX tickets_group ON tickets (group_id);
CREATE INDEX tickets_customer ON tickets (customer_id);
CREATE INDEX tickets_owner ON tickets (owner_id);
CREATE INDEX tickets_org ON tickets (organization_id);
CREATE TABLE ticket_articles (
  id INTEGER PRIMARY KEY, ticket_id INTEGER, type_id INTEGER, sender_id INTEGER, "from" TEXT, "to" TEXT,
  cc TEXT, subject TEXT, reply_to TEXT, message_id TEXT, message_id_md5 TEXT, in_reply_to TEXT,
  content_type TEXT, "references" TEXT, body TEXT, internal INTEGER DEFAULT 0, preferences TEXT DEFAULT '{}',
  updated_by_id INTEGER, created_by_id INTEGER, origin_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE INDEX ticket_articles_ticket ON ticket_articles (ticket_id);
CREATE TABLE store_files (id INTEGER PRIMARY KEY, sha TEXT UNIQUE, data BLOB);
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY, article_id INTEGER, store_file_id INTEGER, filename TEXT, size TEXT,
  preferences TEXT DEFAULT '{}');
CREATE INDEX attachments_article ON attachments (article_id);
CREATE TABLE tag_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, name_downcase TEXT NOT NULL);
CREATE UNIQUE INDEX tag_items_name ON tag_items (name);
CREATE TABLE tags (
  id INTEGER PRIMARY KEY, tag_item_id INTEGER, object TEXT, o_id INTEGER, created_by_id INTEGER,
  created_at TEXT);
CREATE INDEX tags_object ON tags (object, o_id);
CREATE INDEX tags_item ON tags (tag_item_id);
CREATE TABLE link_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE link_objects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE links (
  id INTEGER PRIMARY KEY, link_type_id INTEGER, link_object_source_id INTEGER,
  link_object_source_value INTEGER,
  link_object_target_id INTEGER, link_object_target_value INTEGER, created_at TEXT, updated_at TEXT);
CREATE INDEX links_source ON links (link_object_source_value);
CREATE INDEX links_target ON links (link_object_target_value);
CREATE TABLE time_accounting_types (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT, active INTEGER DEFAULT 1, updated_by_id INTEGER,
  created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE TABLE time_accountings (
  id INTEGER PRIMARY KEY, ticket_id INTEGER, ticket_article_id INTEGER, time_unit TEXT, type_id INTEGER,
  created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE INDEX time_accountings_ticket ON time_accountings (ticket_id);
CREATE TABLE object_lookups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE type_lookups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE online_notifications (
  id INTEGER PRIMARY KEY, o_id INTEGER, object_lookup_id INTEGER, type_lookup_id INTEGER, user_id INTEGER,
  seen INTEGER DEFAULT 0, updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE INDEX online_notifications_user ON online_notifications (user_id);
CREATE TABLE mentions (
  id INTEGER PRIMARY KEY, mentionable_type TEXT, mentionable_id INTEGER, user_id INTEGER,
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE INDEX mentions_object ON mentions (mentionable_type, mentionable_id);
CREATE TABLE histories (
  id INTEGER PRIMARY KEY, history_attribute_id INTEGER, sourceable_type TEXT, sourceable_id INTEGER,
  sourceable_name TEXT, o_id INTEGER, related_history_object_id INTEGER, created_by_id INTEGER,
  created_at TEXT, object TEXT, type TEXT, related_o_id INTEGER, related_object TEXT, attribute TEXT,
  value_from TEXT, value_to TEXT, id_from INTEGER, id_to INTEGER);
CREATE INDEX histories_object ON histories (object, o_id);
CREATE INDEX histories_related ON histories (related_object, related_o_id);
CREATE TABLE object_manager_attributes (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, display TEXT, data_type TEXT, data_option TEXT DEFAULT '{}',
  data_option_new TEXT DEFAULT '{}', editable INTEGER DEFAULT 1, active INTEGER DEFAULT 1,
  screens TEXT DEFAULT '{}', to_create INTEGER DEFAULT 0, to_migrate INTEGER DEFAULT 0,
  to_delete INTEGER DEFAULT 0, to_config INTEGER DEFAULT 0, position INTEGER, object TEXT,
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT);
"""
# Checklists (Zammad 6.4+); created in older database files too, so every file serves every version.
CHECKLIST_SCHEMA = """
CREATE TABLE IF NOT EXISTS checklists (
  id INTEGER PRIMARY KEY, name TEXT DEFAULT '', sorted_item_ids TEXT DEFAULT '[]', updated_by_id INTEGER,
  created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS checklist_items (
  id INTEGER PRIMARY KEY, text TEXT DEFAULT '', checked INTEGER DEFAULT 0, checklist_id INTEGER,
  ticket_id INTEGER, updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE INDEX IF NOT EXISTS checklist_items_checklist ON checklist_items (checklist_id);
CREATE INDEX IF NOT EXISTS checklist_items_ticket ON checklist_items (ticket_id);
CREATE TABLE IF NOT EXISTS checklist_templates (
  id INTEGER PRIMARY KEY, name TEXT DEFAULT '', active INTEGER DEFAULT 1, sorted_item_ids TEXT DEFAULT '[]',
  updated_by_id INTEGER, created_by_id INTEGER, created_at TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS checklist_template_items (
  id INTEGER PRIMARY KEY, checklist_template_id INTEGER, text TEXT DEFAULT '', updated_by_id INTEGER,
  created_by_id INTEGER, created_at TEXT, updated_at TEXT);
"""
# AUTOINCREMENT: like the database sequences behind Zammad, an id is never reused after a delete.
SCHEMA = SCHEMA.replace("id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,")
CHECKLIST_SCHEMA = CHECKLIST_SCHEMA.replace(
    "id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,"
)

# Tables whose rows may carry custom object attributes (spec §5.14), by object-manager object name.
CUSTOM_TABLES = {"Ticket": "tickets", "User": "users", "Organization": "organizations", "Group": "groups"}


def format_ts(dt: datetime) -> str:
    """Render an aware datetime the way Zammad does: UTC, milliseconds, ``Z``."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(value: str) -> datetime:
    """Parse a stored timestamp (``2024-03-18T22:50:03.732Z``) or date into an aware UTC datetime."""
    try:
        dt = datetime.fromisoformat(value)  # Python 3.11+ reads the trailing Z itself
    except ValueError:
        text = value.strip()
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


_ONE_MS = timedelta(milliseconds=1)
_last_now: list[str] = [""]
_now_lock = threading.Lock()


def now_ts() -> str:
    """Return the current time as a stored timestamp, strictly increasing (touches must be visible)."""
    with _now_lock:
        stamp = format_ts(datetime.now(timezone.utc))
        if stamp <= _last_now[0]:
            # Two writes within one millisecond: move on by one, as a later touch must compare later.
            stamp = format_ts(parse_ts(_last_now[0]) + _ONE_MS)
        _last_now[0] = stamp
        return stamp


class Store:
    """The SQLite database of one emulator.

    Args:
        path: a file name or ``":memory:"``.

    Attributes:
        generation: bumped on every committed write request; caches compare it.
        custom_columns: object name (``"Ticket"``) → names of its custom attribute columns, in creation order.
        cache: free-form per-generation caches of the routes (search results, documents, rendered assets).

    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = OFF")
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self.generation = 0
        self.custom_columns: dict[str, list[str]] = {name: [] for name in CUSTOM_TABLES}
        self.cache: dict[Any, Any] = {}
        # Search documents per ticket id; invalidated per ticket on ticket writes, wholesale otherwise.
        self.ticket_docs: dict[int, dict[str, Any]] = {}
        self._depth = 0
        self._fresh = not self._has_schema()
        if self._fresh:
            self.conn.executescript(SCHEMA)
        else:
            self._load_custom_columns()
            self._add_checklist_column()
        self.conn.executescript(CHECKLIST_SCHEMA)

    @property
    def fresh(self) -> bool:
        """True when this store created its schema (the database needs seeding)."""
        return self._fresh

    def _has_schema(self) -> bool:
        row = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='tickets'"
        ).fetchone()
        return row is not None

    def _add_checklist_column(self) -> None:
        # Database files written before checklists existed lack tickets.checklist_id.
        columns = {row["name"] for row in self.conn.execute("PRAGMA table_info(tickets)")}
        if "checklist_id" not in columns:
            self.conn.execute("ALTER TABLE tickets ADD COLUMN checklist_id INTEGER")

    def _load_custom_columns(self) -> None:
        for row in self.conn.execute(
            "SELECT object, name FROM object_manager_attributes WHERE to_create = 0 ORDER BY position, id"
        ):
            self.custom_columns.setdefault(row["object"], []).append(row["name"])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one transaction (nested blocks join the outer one); roll back on any exception."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def bump(self, *, tickets: set[int] | None = None, everything: bool = True) -> None:
        """Record a committed write: new generation; drop stale search documents.

        Args:
            tickets: ids of tickets whose search documents changed (used when ``everything`` is false).
            everything: the write touched shared data (users, groups, tags...): drop every document.

        """
        with self.lock:
            self.generation += 1
            self.cache.clear()
            if everything:
                self.ticket_docs.clear()
            else:
                for ticket_id in tickets or ():
                    self.ticket_docs.pop(ticket_id, None)

    def next_counter(self, name: str, start: int = 0) -> int:
        """Increment and return a named counter (ticket numbers are never reused)."""
        row = self.conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = (row["value"] if row else start) + 1
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value ="
            " excluded.value",
            (name, value),
        )
        return value

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.conn.close()
