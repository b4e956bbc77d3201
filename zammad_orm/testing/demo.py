"""Realistic demo data for the emulator, generated deterministically from a seed, bulk-inserted into SQLite.

``generate(store, n, seed=s)`` adds groups, agents, organizations, customers and ``n`` tickets created over
the last twelve months, with skewed state/priority distributions, 1–5 articles each (some with attachments),
tags, links and time accounting. It writes with ``executemany`` in one transaction, never through HTTP, so
ten thousand tickets take a second or two.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from zammad_orm.testing.demo_words import (
    AGENT_LINES,
    ATTACHMENTS,
    COMPANY_A,
    COMPANY_B,
    COMPANY_C,
    CUSTOMER_LINES,
    DEVICES,
    FIRST,
    GROUPS,
    LAST,
    PRIORITY_WEIGHTS,
    STATE_WEIGHTS,
    SUBJECTS,
    SYSTEMS,
    TAGS,
)
from zammad_orm.testing.store import Store, format_ts

__all__ = ["generate"]


def _ts(dt: datetime) -> str:
    return format_ts(dt)


class _Ids:
    """Next free ids per table (the demo inserts explicit ids to link rows without round trips)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.next: dict[str, int] = {}

    def take(self, table: str) -> int:
        if table not in self.next:
            row = self.store.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()
            self.next[table] = int(row[0]) + 1
        value = self.next[table]
        self.next[table] += 1
        return value


def _person(rng: random.Random, used: set[str], domain: str) -> tuple[str, str, str]:
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = (
            f"{first}.{last}".lower()
            .replace("ü", "ue")
            .replace("ö", "oe")
            .replace("ä", "ae")
            .replace("ß", "ss")
        )
        email = f"{local}@{domain}"
        n = 1
        while email in used:
            n += 1
            email = f"{local}{n}@{domain}"
        used.add(email)
        return first, last, email


def generate(store: Store, tickets: int, *, seed: int = 0, now: datetime | None = None) -> None:
    """Add demo data with ``tickets`` tickets to a seeded store (deterministic for a given ``seed``).

    Args:
        store: a seeded store.
        tickets: number of tickets to create.
        seed: random seed; the same seed gives the same data (timestamps relative to ``now``).
        now: the reference time (default: the current time).

    """
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    with store.transaction() as conn:
        _Generator(store, rng, now, conn).run(tickets)
    store.bump()


class _Generator:
    def __init__(self, store: Store, rng: random.Random, now: datetime, conn: Any) -> None:
        self.store, self.rng, self.now, self.conn = store, rng, now, conn
        self.ids = _Ids(store)
        self.install = now - timedelta(days=366)
        self.used_emails: set[str] = {
            row[0] for row in conn.execute("SELECT email FROM users WHERE email != ''")
        }

    def run(self, tickets: int) -> None:
        groups = self._groups()
        agents = self._agents(groups, max(3, min(40, tickets // 500 + 3)))
        orgs = self._orgs(max(3, min(60, tickets // 100 + 3)))
        customers = self._customers(orgs, max(10, min(5000, tickets // 4 + 10)))
        self._tickets(tickets, groups, agents, customers)

    def _groups(self) -> list[int]:
        ts = _ts(self.install)
        ids = [1]
        for name in GROUPS:
            gid = self.ids.take("groups")
            parent, _, last = name.rpartition("::")
            parent_id = (
                self.conn.execute("SELECT id FROM groups WHERE name = ?", (parent,)).fetchone()
                if parent
                else None
            )
            self.conn.execute(
                "INSERT INTO groups (id, signature_id, email_address_id, name, follow_up_possible,"
                " follow_up_assignment,"
                " active, shared_drafts, note, updated_by_id, created_by_id, created_at, updated_at,"
                " name_last,"
                " parent_id) VALUES (?, 1, 1, ?, 'yes', 1, 1, 1, ?, 3, 3, ?, ?, ?, ?)",
                (gid, name, f"{name} team", ts, ts, last, parent_id[0] if parent_id else None),
            )
            ids.append(gid)
        # The seed admin and agent work in every demo group.
        self.conn.executemany(
            "INSERT OR IGNORE INTO user_groups (user_id, group_id, access) VALUES (?, ?, 'full')",
            [(uid, gid) for uid in (3, 4) for gid in ids],
        )
        return ids

    def _agents(self, groups: list[int], count: int) -> dict[int, list[int]]:
        by_group: dict[int, list[int]] = {gid: [3, 4] for gid in groups}
        users, roles, access = [], [], []
        for _ in range(count):
            uid = self.ids.take("users")
            first, last, email = _person(self.rng, self.used_emails, "example.com")
            created = _ts(self.install + timedelta(days=self.rng.uniform(0, 30)))
            prefs = json.dumps({"locale": "en-us"})
            users.append((uid, email, first, last, email, created, created, prefs, "agent"))
            roles.append((uid, 2))
            for gid in self.rng.sample(groups, self.rng.randint(1, 3)):
                access.append((uid, gid, "full"))
                by_group[gid].append(uid)
        self._insert_users(users)
        self.conn.executemany("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", roles)
        self.conn.executemany(
            "INSERT OR IGNORE INTO user_groups (user_id, group_id, access) VALUES (?, ?, ?)", access
        )
        return by_group

    def _insert_users(self, users: list[tuple[Any, ...]], orgs: list[Any] | None = None) -> None:
        rows = [(*u[:5], (orgs or [None] * len(users))[i], *u[5:]) for i, u in enumerate(users)]
        self.conn.executemany(
            "INSERT INTO users (id, login, firstname, lastname, email, organization_id, created_at,"
            " updated_at,"
            " preferences, password, web, phone, fax, mobile, department, street, zip, city, country,"
            " address, note,"
            " active, updated_by_id, created_by_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '',"
            " '', '', '',"
            " '', '', '', '', 1, 3, 3)",
            rows,
        )

    def _orgs(self, count: int) -> list[tuple[int, str]]:
        out, rows, names = [], [], set()
        for _ in range(count):
            name = f"{self.rng.choice(COMPANY_A)} {self.rng.choice(COMPANY_B)} {self.rng.choice(COMPANY_C)}"
            while name in names:
                name += " " + self.rng.choice(["Nord", "Süd", "West", "Ost", "International"])
            names.add(name)
            oid = self.ids.take("organizations")
            domain = name.split()[0].lower() + "-" + name.split()[1].lower() + ".example"
            created = _ts(self.install + timedelta(days=self.rng.uniform(0, 60)))
            shared = 1 if self.rng.random() < 0.85 else 0
            vip = 1 if self.rng.random() < 0.1 else 0
            rows.append((oid, name, shared, domain, vip, created, created))
            out.append((oid, domain))
        self.conn.executemany(
            "INSERT INTO organizations (id, name, shared, domain, domain_assignment, active, vip, note,"
            " updated_by_id,"
            " created_by_id, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 1, ?, '', 3, 3, ?, ?)",
            rows,
        )
        return out

    def _customers(self, orgs: list[tuple[int, str]], count: int) -> list[tuple[int, int | None]]:
        users, roles, org_ids, out = [], [], [], []
        for _ in range(count):
            uid = self.ids.take("users")
            org = self.rng.choice(orgs) if self.rng.random() < 0.8 else None
            first, last, email = _person(self.rng, self.used_emails, org[1] if org else "mail.example")
            created = _ts(self.install + timedelta(days=self.rng.uniform(0, 300)))
            users.append(
                (uid, email, first, last, email, created, created, json.dumps({"locale": "en-us"}), None)
            )
            roles.append((uid, 3))
            org_ids.append(org[0] if org else None)
            out.append((uid, org[0] if org else None))
        self._insert_users(users, org_ids)
        self.conn.executemany("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", roles)
        return out

    def _tickets(
        self,
        count: int,
        groups: list[int],
        agents: dict[int, list[int]],
        customers: list[tuple[int, int | None]],
    ) -> None:
        rng = self.rng
        store_files = []
        for _name, _mime, data in ATTACHMENTS:
            fid = self.ids.take("store_files")
            store_files.append(fid)
            self.conn.execute(
                "INSERT INTO store_files (id, sha, data) VALUES (?, ?, ?)", (fid, f"demo-{fid}", data)
            )
        counter = self.conn.execute("SELECT value FROM counters WHERE name = 'ticket_number'").fetchone()[0]
        tag_ids = {}
        for name in TAGS:
            row = self.conn.execute("SELECT id FROM tag_items WHERE name = ?", (name,)).fetchone()
            tag_ids[name] = (
                row[0]
                if row
                else self.conn.execute(
                    "INSERT INTO tag_items (name, name_downcase) VALUES (?, ?)", (name, name)
                ).lastrowid
            )
        link_type = self.conn.execute("SELECT id FROM link_types WHERE name = 'parent'").fetchone()
        parent_type = (
            link_type[0]
            if link_type
            else self.conn.execute("INSERT INTO link_types (name) VALUES ('parent')").lastrowid
        )
        ticket_rows: list[tuple[Any, ...]] = []
        article_rows: list[tuple[Any, ...]] = []
        attachment_rows: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[Any, ...]] = []
        link_rows: list[tuple[Any, ...]] = []
        ta_rows: list[tuple[Any, ...]] = []
        history_rows: list[tuple[Any, ...]] = []
        note_rows: list[tuple[Any, ...]] = []
        states = [s for s, _ in STATE_WEIGHTS]
        state_w = [w for _, w in STATE_WEIGHTS]
        prios = [p for p, _ in PRIORITY_WEIGHTS]
        prio_w = [w for _, w in PRIORITY_WEIGHTS]
        counts: Counter[tuple[int, str]] = Counter()
        span = 365 * 86400
        for _ in range(count):
            tid = self.ids.take("tickets")
            counter += 1
            number = "67" + "0" * max(0, 3 - len(str(counter))) + str(counter)
            # Skewed towards recent months: more tickets lately, as in a growing helpdesk.
            age = span * (rng.random() ** 1.5)
            created = self.now - timedelta(seconds=age)
            group = rng.choice(groups)
            state = rng.choices(states, state_w)[0]
            prio = rng.choices(prios, prio_w)[0]
            customer, org = rng.choice(customers)
            owner = 1 if state == 1 and rng.random() < 0.6 else rng.choice(agents[group])
            subject = rng.choice(SUBJECTS).format(
                floor=rng.randint(1, 6),
                system=rng.choice(SYSTEMS),
                num=rng.randint(10000, 99999),
                device=rng.choice(DEVICES),
            )
            n_articles = rng.choices([1, 2, 3, 4, 5], [30, 30, 20, 12, 8])[0]
            when = created
            first_type = rng.choice([1, 5, 11])
            last_contact_customer = last_contact_agent = first_response = None
            for index in range(n_articles):
                aid = self.ids.take("ticket_articles")
                from_customer = index % 2 == 0
                when = when + timedelta(minutes=rng.uniform(1, 60 * 24 * (0.2 if index == 0 else 3)))
                if when > self.now:
                    when = self.now - timedelta(seconds=rng.uniform(1, 3600))
                stamp = _ts(when)
                if from_customer:
                    type_id, sender, author, internal = (first_type if index == 0 else 1), 2, customer, 0
                    body = rng.choice(CUSTOMER_LINES).format(subject=subject)
                    last_contact_customer = stamp
                else:
                    line = rng.choice(AGENT_LINES)
                    internal = 1 if line.startswith("Internal") else 0
                    type_id, sender, author = (10 if internal else 1), 1, owner if owner != 1 else 3
                    body = line
                    if not internal:
                        last_contact_agent = stamp
                        first_response = first_response or stamp
                article_rows.append(
                    (
                        aid,
                        tid,
                        type_id,
                        sender,
                        f"user{author}",
                        None,
                        None,
                        subject if index == 0 else None,
                        "text/plain",
                        body,
                        internal,
                        author,
                        author,
                        stamp,
                        stamp,
                    )
                )
                history_rows.append((aid, author, stamp, "Ticket::Article", "created", tid, "Ticket"))
                if rng.random() < 0.08:
                    which = rng.randrange(len(ATTACHMENTS))
                    name, mime, data = ATTACHMENTS[which]
                    attachment_rows.append(
                        (
                            self.ids.take("attachments"),
                            aid,
                            store_files[which],
                            name,
                            str(len(data)),
                            json.dumps({"Mime-Type": mime}),
                        )
                    )
            updated = when + timedelta(minutes=rng.uniform(0, 120))
            updated = min(updated, self.now)
            closed = state == 4
            pending = _ts(self.now + timedelta(days=rng.uniform(-3, 14))) if state in (3, 7) else None
            time_unit = None
            if rng.random() < 0.3 and n_articles > 1:
                total = 0.0
                for _ in range(rng.randint(1, 3)):
                    unit = round(rng.choice([0.25, 0.5, 1.0, 1.5, 2.0, 3.0]), 2)
                    total += unit
                    ta_rows.append(
                        (
                            self.ids.take("time_accountings"),
                            tid,
                            None,
                            f"{unit}",
                            None,
                            owner if owner != 1 else 3,
                            _ts(updated),
                            _ts(updated),
                        )
                    )
                time_unit = f"{total}"
            last_contact = max(filter(None, [last_contact_customer, last_contact_agent]))
            ticket_rows.append(
                (
                    tid,
                    group,
                    prio,
                    state,
                    org,
                    number,
                    subject,
                    owner,
                    customer,
                    first_response,
                    _ts(updated) if closed else None,
                    _ts(updated) if closed else None,
                    last_contact,
                    last_contact_agent,
                    last_contact_customer,
                    first_type,
                    2,
                    n_articles,
                    pending,
                    time_unit,
                    json.dumps({}),
                    owner if owner != 1 else customer,
                    customer,
                    _ts(created),
                    _ts(updated),
                )
            )
            history_rows.append((tid, customer, _ts(created), "Ticket", "created", None, None))
            if owner != 1 and rng.random() < 0.15:
                # The owner was told about the customer's last message; older ones are read.
                seen = 1 if updated < self.now - timedelta(days=7) else 0
                note_rows.append((tid, owner, seen, customer, _ts(updated)))
            for name in rng.sample(TAGS, rng.choices([0, 1, 2, 3], [45, 30, 17, 8])[0]):
                tag_rows.append((tag_ids[name], "Ticket", tid, 3, _ts(created)))
            if ticket_rows and rng.random() < 0.05 and len(ticket_rows) > 1:
                other = rng.choice(ticket_rows[:-1])[0]
                kind = 1 if rng.random() < 0.6 else parent_type
                link_rows.append((kind, other, tid, _ts(updated), _ts(updated)))
            category = "open" if state in (1, 2, 3, 7) else ("closed" if closed else "other")
            counts[(customer, category)] += 1
        self._write(ticket_rows, article_rows, attachment_rows, tag_rows, link_rows, ta_rows, history_rows)
        self.conn.executemany(
            "INSERT INTO online_notifications (o_id, object_lookup_id, type_lookup_id, user_id, seen,"
            " updated_by_id,"
            " created_by_id, created_at, updated_at) VALUES (?, 1, 3, ?, ?, ?, ?, ?, ?)",
            [(tid, owner, seen, by, by, stamp, stamp) for tid, owner, seen, by, stamp in note_rows],
        )
        self.conn.execute("UPDATE counters SET value = ? WHERE name = 'ticket_number'", (counter,))
        self._counters(customers, counts)

    def _write(
        self,
        tickets: list[Any],
        articles: list[Any],
        attachments: list[Any],
        tags: list[Any],
        links: list[Any],
        accountings: list[Any],
        histories: list[Any],
    ) -> None:
        c = self.conn
        c.executemany(
            "INSERT INTO tickets (id, group_id, priority_id, state_id, organization_id, number, title,"
            " owner_id,"
            " customer_id, first_response_at, close_at, last_close_at, last_contact_at,"
            " last_contact_agent_at,"
            " last_contact_customer_at, create_article_type_id, create_article_sender_id, article_count,"
            " pending_time,"
            " time_unit, preferences, updated_by_id, created_by_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tickets,
        )
        c.executemany(
            'INSERT INTO ticket_articles (id, ticket_id, type_id, sender_id, "from", "to", cc, subject,'
            " content_type, body, internal, updated_by_id, created_by_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            articles,
        )
        # Article "from" holds the author's display name; resolve the placeholders in one statement.
        c.execute(
            "UPDATE ticket_articles SET \"from\" = (SELECT trim(firstname || ' ' || lastname) FROM users"
            " WHERE users.id = ticket_articles.created_by_id) WHERE \"from\" LIKE 'user%'"
        )
        c.executemany(
            "INSERT INTO attachments (id, article_id, store_file_id, filename, size, preferences) VALUES"
            " (?, ?, ?, ?, ?, ?)",
            attachments,
        )
        c.executemany(
            "INSERT INTO tags (tag_item_id, object, o_id, created_by_id, created_at) VALUES (?, ?, ?, ?, ?)",
            tags,
        )
        c.executemany(
            "INSERT INTO links (link_type_id, link_object_source_id, link_object_source_value,"
            " link_object_target_id,"
            " link_object_target_value, created_at, updated_at) VALUES (?, 1, ?, 1, ?, ?, ?)",
            links,
        )
        c.executemany(
            "INSERT INTO time_accountings (id, ticket_id, ticket_article_id, time_unit, type_id,"
            " created_by_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            accountings,
        )
        c.executemany(
            "INSERT INTO histories (o_id, created_by_id, created_at, object, type, related_o_id,"
            " related_object)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            histories,
        )

    def _counters(self, customers: list[tuple[int, int | None]], counts: Counter[tuple[int, str]]) -> None:
        rows = [
            (
                json.dumps(
                    {
                        "locale": "en-us",
                        "tickets_closed": counts[(uid, "closed")],
                        "tickets_open": counts[(uid, "open")],
                    }
                ),
                uid,
            )
            for uid, _ in customers
        ]
        self.conn.executemany("UPDATE users SET preferences = ? WHERE id = ?", rows)
