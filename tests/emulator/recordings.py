"""Replay the recorded Zammad 6.2 exchanges against the emulator and compare the answers' shapes.

The recordings (``tests/reference/recordings-6.2``, format in ``tests/reference/README.md``) were
captured from a real server with its own history. A replay starts a fresh emulator per recording file,
sends every recorded request (fixture steps included) over real HTTP and compares status code, headers
and, for JSON, the recursive key sets, value types and the values that must agree (defaults, flags, id
list lengths; see below). Ids differ between the two servers, so :class:`IdMap` learns
``recorded → emulator`` ids (per kind: a ticket 5 is not a user 5) from the responses, structure by
structure, and rewrites the ids in later URLs, query strings and request bodies.

This module parses the recordings and maps ids; :mod:`tests.emulator.comparison` compares answers and
:mod:`tests.emulator.replay` replays a recording file against a fresh emulator. The tolerances, each for a
stated reason, live in :func:`tests.emulator.comparison.compare` and its helpers:

* **T1 history.** A record created *before* the recording began (its ``created_at`` is older than the
  first object the recording created; or, with no ``created_at``, a seed id) carries the recorded
  server's past: admin logins, closed/reopened tickets, an organisation given to the admin, edited roles,
  a notification read. Inside such a record a value may be null on one side only (never ``""`` against
  null: an empty string is a column default, not history), a string empty on one side only, a boolean
  another, ``preferences`` (a free-form hash filled by the UI) other keys, and id lists (``role_ids``,
  ``user_ids``, ...) other members and lengths.
* **T2 external objects.** List elements, id-keyed map entries and asset entries whose recorded id was
  never created in the replay (no learned id, no counterpart with the same name) are objects of that
  history (the other tags, users and organisations of the recorded server); they may be absent.
* **T3 objects of the recorded server's configuration.** Ids in the id lists of records made during a
  recording that belong to objects the recorded server's own configuration added; each one is listed in
  :data:`EXTERNAL_IDS` with its evidence (one: article 573 of ``test_ticket_merge``).
* Everything else is strict: status, ``Content-Type`` (and ``Content-Disposition`` where recorded), the
  presence of ``Content-Length`` (Zammad's error replies have none), non-JSON bodies byte for byte; for
  JSON key sets equal, JSON types equal (null against a value included), ``""`` never against null, in a
  record made during the replay a string empty on one side only or another boolean is a mismatch, every
  id list (any ``*_ids`` list, ``tickets``) has the recorded length, and the lists of learned kinds
  (``article_ids``, ``role_ids``, ``member_ids`` ...) the twins of the recorded ids in the recorded
  order, a membership map (``group_ids``) has no entries the recording lacks, and a reference
  (``ticket_id``, ``customer_id``, ``link_object_value`` ...) to an object the replay knows points at
  that object's emulator twin. Entries of an id-keyed map only the emulator has (its own agent in
  ``assets.User``) must have the recorded entries' keys. ``test_fidelity`` also compares, value for
  value, the defaults a create fills in (the answer's keys the request did not set, apart from ids, times
  and the recorded server's own values: its ticket counter, admin name, generated login, locale).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

RECORDINGS = (
    Path(os.environ.get("ZAMMAD_ORM_REFERENCE", Path(__file__).resolve().parents[1] / "reference"))
    / "recordings-6.2"
)

MISSING = object()


class _NotCreated:
    """The emulator id of an object a failed precondition should have created: matches nothing."""

    def __repr__(self) -> str:
        return "<not created>"


NOT_CREATED = _NotCreated()


@dataclass(frozen=True)
class Exchange:
    """One recorded request and the real server's answer."""

    file: str
    index: int
    method: str
    url: str
    status: int
    headers: dict[str, str]
    request_json: Any
    body: bytes

    @property
    def id(self) -> str:
        return f"{self.file}:{self.index}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def parse(path: Path) -> list[Exchange]:
    """Parse one recording file: a JSON line, ``content_size`` body bytes, a newline; repeated."""
    data = path.read_bytes()
    name = f"{path.parent.name}/{path.stem}"
    out: list[Exchange] = []
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        meta = json.loads(data[pos:end])
        pos = end + 1
        body = data[pos : pos + meta["content_size"]]
        pos += meta["content_size"]
        if data[pos : pos + 1] != b"\n":
            raise ValueError(f"{name}: body of exchange {len(out)} is not followed by a newline")
        pos += 1
        out.append(
            Exchange(
                file=name,
                index=len(out),
                method=meta["method"],
                url=meta["url"],
                status=meta["status_code"],
                headers=meta.get("headers") or {},
                request_json=meta.get("request_json", MISSING),
                body=body,
            )
        )
    return out


def recording_files() -> list[Path]:
    files = sorted(RECORDINGS.glob("*/*.log"))
    if not files:
        raise FileNotFoundError(f"no recordings under {RECORDINGS} (see tests/reference/README.md)")
    return files


def all_exchanges() -> list[Exchange]:
    return [ex for path in recording_files() for ex in parse(path)]


# --------------------------------------------------------------------------------------------------
# Kinds of ids. Keys name the kind of the id they hold; a few depend on the record they sit in.

ID_KEYS = {
    "ticket_id": "Ticket",
    "ticket_article_id": "TicketArticle",
    "group_id": "Group",
    "organization_id": "Organization",
    "state_id": "TicketState",
    "next_state_id": "TicketState",
    "priority_id": "TicketPriority",
    "owner_id": "User",
    "customer_id": "User",
    "created_by_id": "User",
    "updated_by_id": "User",
    "user_id": "User",
    "origin_by_id": "User",
    "out_of_office_replacement_id": "User",
    "link_object_value": "Ticket",
    "link_object_source_value": "Ticket",
    "link_object_target_value": "Ticket",
    "store_file_id": "StoreFile",
}
LIST_KEYS = {
    "article_ids": "TicketArticle",
    "ticket_time_accounting_ids": "TimeAccounting",
    "role_ids": "Role",
    "organization_ids": "Organization",
    "member_ids": "User",
    "secondary_member_ids": "User",
    "user_ids": "User",
    "tickets": "Ticket",  # the pre-6.5 ticket search result
}
CHILD_KINDS = {
    "target_ticket": "Ticket",
    "source_ticket": "Ticket",
    "attachments": "Attachment",
    "history": "History",
}
#: Kinds whose ids the replay learns and whose id lists must agree. Other ids (permissions, lookups,
#: article types ...) are seed constants compared by type only.
LEARNED = {
    "Ticket",
    "TicketNumber",
    "TicketArticle",
    "User",
    "Group",
    "Organization",
    "Role",
    "TicketState",
    "TicketPriority",
    "TimeAccounting",
    "TimeAccountingType",
    "Tag",
    "Link",
    "OnlineNotification",
    "Attachment",
    "StoreFile",
    "History",
}
#: Ids a fresh Zammad (and the emulator, contracts §1) has: they map to themselves.
SEED_IDS: dict[str, set[Any]] = {
    "User": {1, 2, 3},
    "Group": {1},
    "Organization": {1},
    "Role": {1, 2, 3},
    "TicketState": set(range(1, 8)),
    "TicketPriority": {1, 2, 3},
    "Ticket": {1},
    "TicketArticle": {1},
    "TicketNumber": {"67001"},
}
#: T3: ids in the id lists of records made during a recording that belong to objects the recorded server's
#: own configuration (triggers, schedulers: its pre-existing data) added, with the evidence. The emulator
#: has no such configuration, so these ids have no twin there.
EXTERNAL_IDS: dict[tuple[str | None, Any], str] = {
    ("TicketArticle", 573): (
        "an article the recorded server added to the merge target of test_ticket_merge after the merge"
        " (its article_count stayed 2 while article_ids grew to 3; merging moves articles quietly and makes"
        " the 'merged' note in the source, so this one came from the server's configuration, spec §8.8)"
    ),
}
#: Fields that identify an element of a list when its id is not known yet (tags, named objects).
NATURAL_KEYS = ("name", "value", "login")


def id_kind(key: str, record_kind: str | None, record: dict[str, Any] | None = None) -> str | None:
    """The kind of the id held by ``key`` inside a record of ``record_kind``."""
    if key == "id":
        return record_kind
    if key == "type_id":
        return {"TimeAccounting": "TimeAccountingType", "TicketArticle": "ArticleType"}.get(record_kind or "")
    if key == "o_id":
        obj = (record or {}).get("object")
        if record_kind == "History" and obj == "Ticket::Article":
            return "TicketArticle"
        return "Ticket"
    if key == "related_o_id":
        return "Ticket"
    if key == "parent_id" and record_kind == "Group":
        return "Group"
    return ID_KEYS.get(key)


# Top-level kind of a response by endpoint (path below /api/v1).
_RESPONSE_KINDS = [
    (r"^/tickets/\d+/time_accountings", "TimeAccounting"),
    (r"^/tickets/search", None),
    (r"^/tickets(/\d+)?$", "Ticket"),
    (r"^/ticket_articles", "TicketArticle"),
    (r"^/users", "User"),
    (r"^/groups", "Group"),
    (r"^/organizations", "Organization"),
    (r"^/roles", "Role"),
    (r"^/ticket_states", "TicketState"),
    (r"^/ticket_priorities", "TicketPriority"),
    (r"^/time_accountings", "TimeAccounting"),
    (r"^/time_accounting/types", "TimeAccountingType"),
    (r"^/online_notifications", "OnlineNotification"),
    (r"^/tag_(list|search)", "Tag"),
    (r"^/links/(add|remove)", "Link"),
]
# Numeric path segments by endpoint: each group is one id of the given kind.
_PATH_IDS = [
    (r"^/tickets/(\d+)/time_accountings/(\d+)", ("Ticket", "TimeAccounting")),
    (r"^/tickets/(\d+)", ("Ticket",)),
    (r"^/ticket_articles/by_ticket/(\d+)", ("Ticket",)),
    (r"^/ticket_articles/(\d+)", ("TicketArticle",)),
    (r"^/ticket_attachment/(\d+)/(\d+)/(\d+)", ("Ticket", "TicketArticle", "Attachment")),
    (r"^/ticket_history/(\d+)", ("Ticket",)),
    (r"^/ticket_merge/(\d+)/(\d+)", ("Ticket", "TicketNumber")),
    (r"^/users/(\d+)", ("User",)),
    (r"^/groups/(\d+)", ("Group",)),
    (r"^/organizations/(\d+)", ("Organization",)),
    (r"^/roles/(\d+)", ("Role",)),
    (r"^/ticket_states/(\d+)", ("TicketState",)),
    (r"^/ticket_priorities/(\d+)", ("TicketPriority",)),
    (r"^/time_accountings/(\d+)", ("TimeAccounting",)),
    (r"^/time_accounting/types/(\d+)", ("TimeAccountingType",)),
    (r"^/online_notifications/(\d+)", ("OnlineNotification",)),
    (r"^/tag_list/(\d+)", ("Tag",)),
]
_QUERY_IDS = {"link_object_value": "Ticket", "o_id": "Ticket"}
_BODY_KINDS = [  # record kind of a request body, by endpoint
    (r"^/time_accountings|^/tickets/\d+/time_accountings", "TimeAccounting"),
    (r"^/ticket_articles", "TicketArticle"),
    (r"^/roles", "Role"),
    (r"^/tickets", "Ticket"),
]


def api_path(path: str) -> str:
    return path[len("/api/v1") :] if path.startswith("/api/v1") else path


def response_kind(path: str) -> str | None:
    sub = api_path(path)
    for pattern, kind in _RESPONSE_KINDS:
        if re.search(pattern, sub):
            return kind
    return None


# --------------------------------------------------------------------------------------------------


@dataclass
class IdMap:
    """Recorded id → emulator id, per kind; seed ids map to themselves."""

    fwd: dict[tuple[str, Any], Any] = field(default_factory=dict)
    rev: dict[tuple[str, Any], Any] = field(default_factory=dict)
    #: Names the replayed requests gave to new objects (tags are created by name, their id comes later).
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for kind, ids in SEED_IDS.items():
            for value in ids:
                self.learn(kind, value, value)

    def get(self, kind: str | None, recorded: Any) -> Any:
        return self.fwd.get((kind, recorded), MISSING) if kind else MISSING

    def known(self, kind: str | None, recorded: Any) -> bool:
        return self.get(kind, recorded) is not MISSING

    def translate(self, kind: str | None, recorded: Any) -> Any:
        """The emulator's id for a recorded id; unknown ids are sent unchanged."""
        value = self.get(kind, recorded)
        return recorded if value is MISSING or value is NOT_CREATED else value

    def expect(self, kind: str, recorded: Any) -> None:
        """Mark an object the replay failed to create: comparisons then miss it instead of tolerating it."""
        self.fwd.setdefault((kind, recorded), NOT_CREATED)

    def learn(self, kind: str | None, recorded: Any, actual: Any) -> None:
        """Record a correspondence; first come wins, and no emulator id is claimed twice."""
        if kind not in LEARNED or isinstance(recorded, bool) or isinstance(actual, bool):
            return
        if not isinstance(recorded, (int, str)) or type(recorded) is not type(actual):
            return
        if (kind, recorded) in self.fwd or (kind, actual) in self.rev:
            return
        self.fwd[(kind, recorded)] = actual
        self.rev[(kind, actual)] = recorded

    # -- requests ------------------------------------------------------------------------------
    def map_path(self, path: str) -> str:
        sub = api_path(path)
        for pattern, kinds in _PATH_IDS:
            match = re.search(pattern, sub)
            if not match:
                continue
            parts, last = [], 0
            for group, kind in enumerate(kinds, start=1):
                recorded: Any = match.group(group)
                if kind != "TicketNumber":
                    recorded = int(recorded)
                parts += [sub[last : match.start(group)], str(self.translate(kind, recorded))]
                last = match.end(group)
            return "/api/v1" + "".join(parts) + sub[last:]
        return path

    def map_query(self, query: list[tuple[str, str]]) -> str:
        out = []
        for key, value in query:
            kind = _QUERY_IDS.get(key)
            if kind and value.isdigit():
                value = str(self.translate(kind, int(value)))
            out.append((key, value))
        return urlencode(out)

    def map_body(self, body: Any, path: str) -> Any:
        sub = api_path(path)
        kind = next((k for pattern, k in _BODY_KINDS if re.search(pattern, sub)), None)
        return self._map_value(body, kind)

    def _map_value(self, value: Any, record_kind: str | None) -> Any:
        if isinstance(value, list):
            return [self._map_value(v, record_kind) for v in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "link_object_source_number" and isinstance(item, str):
                out[key] = self.translate("TicketNumber", item)
            elif key in LIST_KEYS and isinstance(item, list):
                out[key] = [self.translate(LIST_KEYS[key], v) for v in item]
            elif isinstance(item, int) and not isinstance(item, bool):
                out[key] = self.translate(id_kind(key, record_kind, value), item)
            elif isinstance(item, dict) and key == "article":
                out[key] = self._map_value(item, "TicketArticle")
            else:
                out[key] = self._map_value(item, record_kind)
        return out
