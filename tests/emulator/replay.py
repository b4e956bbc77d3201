"""Replay of one recording file against a fresh emulator over HTTP, with the setup steps it needs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.comparison import compare, epoch_of
from tests.emulator.recordings import MISSING, RECORDINGS, Exchange, IdMap, parse, recording_files

# --------------------------------------------------------------------------------------------------
# Replay

#: Request bodies the oldest recordings did not store (their JSON line has no ``request_json``),
#: rebuilt from zammadoo's tests/test_time_accountings.py of March 2024 and checked against the answers
#: (body "...", internal article of type note, the time units and types the answers show).
_TICKET_FIXTURE = {
    "title": "__pytest__",
    "customer_id": "guess:pytest@localhost.local",
    "group": "Users",
    "article": {"body": "..."},
}
RECONSTRUCTED_BODIES: dict[str, Any] = {
    "test_time_accountings/test_create_article_time_accounting:0": _TICKET_FIXTURE,
    "test_time_accountings/test_create_article_time_accounting:1": {
        "ticket_id": 344,
        "body": "...",
        "attachments": [],
        "type": "note",
        "internal": True,
    },
    "test_time_accountings/test_create_article_time_accounting:4": {
        "ticket_id": 344,
        "ticket_article_id": 563,
        "time_unit": "1.23",
    },
    "test_time_accountings/test_create_article_time_accounting:7": {
        "time_unit": "2.34",
        "ticket_article_id": 563,
    },
    "test_time_accountings/test_create_ticket_time_accounting_default_type:0": _TICKET_FIXTURE,
    "test_time_accountings/test_create_ticket_time_accounting_default_type:1": {
        "ticket_id": 338,
        "time_unit": "12.3",
    },
    "test_time_accountings/test_create_ticket_time_accounting_with_type:0": _TICKET_FIXTURE,
    "test_time_accountings/test_create_ticket_time_accounting_with_type:2": {
        "ticket_id": 336,
        "time_unit": "1.0",
        "type_id": 1,
    },
    "test_time_accountings/test_create_ticket_time_accounting_with_type:3": {
        "ticket_id": 336,
        "time_unit": "1.1",
        "type": "_accounting_type_test",
    },
    "test_time_accountings/test_create_ticket_time_accounting_with_type:4": {
        "ticket_id": 336,
        "time_unit": "1.2",
        "type_id": 1,
    },
}

#: zammadoo's test_impersonation_of nests impersonation_of(1) { impersonation_of(2) }; the recording keeps
#: no request headers, so the replay sends the deprecated header for user 1 and ``From`` for user 2
#: (spec §1.3: both are honoured), which exercises both.
IMPERSONATION = {
    "test_client/test_impersonation_of:0": {"X-On-Behalf-Of": "1"},
    "test_client/test_impersonation_of:1": {"From": "2"},
    "test_client/test_impersonation_of:2": {"X-On-Behalf-Of": "1"},
}


@dataclass(frozen=True)
class Setup:
    """A request that recreates state the recorded server had before a recording began.

    ``learn`` names the kind and recorded id of the object the answer holds (its ``id``, or the first
    element's ``id`` for a list answer); ``user`` sends the request as that seed user (basic auth).
    """

    method: str
    path: str
    body: Any
    learn: tuple[str, int] | None
    user: tuple[str, str] | None = None


_CLONE_ROLE = Setup(
    "POST",
    "/api/v1/roles",
    {
        "name": "Clone: Customer",
        "preferences": {},
        "default_at_signup": True,
        "active": True,
        "note": "People who create Tickets ask for help.",
        "permission_ids": [44, 47, 48, 50, 54, 58],
        "knowledge_base_permission_ids": [],
        "group_ids": {},
    },
    ("Role", 9),
)
_ACCOUNTING_TYPE = Setup(
    "POST",
    "/api/v1/time_accounting/types",
    {"name": "_accounting_type_test", "note": "updated", "active": True},
    ("TimeAccountingType", 1),
)

#: Online notification 263 of the recordings told the admin about a ticket another agent made. The
#: replay makes that happen the same way (agent1 creates a ticket in the admin's group, which Zammad
#: announces to the group's other agents) and takes the admin's newest notification.
_NOTIFICATION = [
    Setup(
        "POST",
        "/api/v1/tickets",
        {
            "title": "created by another agent",
            "group": "Users",
            "customer": "nicole.braun@zammad.org",
            "article": {"body": "..."},
        },
        None,
        user=("agent1@example.com", "agent"),
    ),
    Setup("GET", "/api/v1/online_notifications", None, ("OnlineNotification", 263)),
]

#: Objects a recording uses that an earlier recording (or the recorded server's admin) had created:
#: role 9 comes from test_roles_create_but_cannot_delete (the same clone, by the same body), time
#: accounting type 1 ``_accounting_type_test`` was made by hand on the recorded server (its answers show
#: name, note and creator). Objects that are merely *listed* need no setup (tolerance T2).
PRECONDITIONS: dict[str, list[Setup]] = {
    "test_notifications/test_always_use_expand_true": _NOTIFICATION,
    "test_notifications/test_notifications_iter": _NOTIFICATION,
    "test_roles/test_role_iteration": [_CLONE_ROLE],
    "test_roles/test_role_update": [_CLONE_ROLE],
    "test_time_accountings/test_create_ticket_time_accounting_with_type": [_ACCOUNTING_TYPE],
    "test_time_accountings/test_update_article_time_accounting": [_ACCOUNTING_TYPE],
    "test_time_accountings/test_create_time_accounting_types": [_ACCOUNTING_TYPE],
}

#: Recorded exchanges that did not talk to Zammad.
NOT_ZAMMAD = "not a Zammad exchange: zammadoo's test_client talked to httpbin.org here"


@dataclass
class Outcome:
    """What became of one exchange in the replay."""

    exchange: Exchange
    request: str = ""
    #: The emulator's answer body.
    answer: bytes = b""
    skipped: str | None = None
    mismatches: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.skipped is None and not self.mismatches


def request_body(exchange: Exchange) -> Any:
    if exchange.request_json is not MISSING:
        return exchange.request_json
    return RECONSTRUCTED_BODIES.get(exchange.id, MISSING)


def created_names(exchange: Exchange, body: Any) -> set[str]:
    """Names a creating request gives to objects (``name``/``item`` in the body or the query)."""
    if exchange.method not in ("POST", "PUT"):
        return set()
    names = {value for key, value in exchange.query if key == "name"}
    if isinstance(body, dict):
        names |= {body[key] for key in ("name", "item") if isinstance(body.get(key), str)}
    return names


def replay_file(name: str, prepare: Callable[[Any], None] | None = None) -> list[Outcome]:
    """Replay one recording file (``"test_tickets/test_ticket_search"``) against a fresh emulator.

    ``prepare`` gets the started emulator first (the harness's own tests break it with faults).
    """
    import requests

    from zammad_orm.testing import Emulator

    exchanges = parse(RECORDINGS / f"{name}.log")
    epoch = epoch_of(exchanges)
    ids = IdMap()
    outcomes: list[Outcome] = []
    with Emulator() as emulator, requests.Session() as session:
        session.headers["Authorization"] = f"Token token={emulator.token}"
        if prepare is not None:
            prepare(emulator)

        def run_setup(setup: Setup) -> str | None:
            reply = session.request(
                setup.method, emulator.url + setup.path, json=setup.body, auth=setup.user, timeout=30
            )
            answer = reply.json() if reply.ok else None
            if isinstance(answer, list):
                answer = answer[0] if answer else None
            if not reply.ok or (setup.learn and not isinstance(answer, dict)):
                return (
                    f"precondition {setup.method} {setup.path} failed: {reply.status_code} {reply.text[:200]}"
                )
            if setup.learn and isinstance(answer, dict):
                ids.learn(setup.learn[0], setup.learn[1], answer.get("id"))
            return None

        def fail_setup(setup: Setup) -> str | None:
            problem = run_setup(setup)
            if problem and setup.learn:
                ids.expect(*setup.learn)
            return problem

        setup_failures = [problem for setup in PRECONDITIONS.get(name, []) if (problem := fail_setup(setup))]
        for exchange in exchanges:
            outcome = Outcome(exchange)
            outcomes.append(outcome)
            if exchange.host != "localhost":
                outcome.skipped = NOT_ZAMMAD
                continue
            path = ids.map_path(exchange.path)
            query = ids.map_query(exchange.query)
            url = emulator.url + path + (f"?{query}" if query else "")
            body = request_body(exchange)
            ids.names.update(created_names(exchange, body))
            kwargs: dict[str, Any] = {"headers": IMPERSONATION.get(exchange.id, {}), "timeout": 30}
            if body is not MISSING:
                kwargs["json"] = ids.map_body(body, exchange.path)
            outcome.request = f"{exchange.method} {path}{'?' + query if query else ''}"
            try:
                reply = session.request(exchange.method, url, **kwargs)
            except requests.RequestException as exc:
                outcome.mismatches.append(f"no answer: {exc!r}")
                continue
            outcome.answer = reply.content
            outcome.mismatches = compare(
                exchange,
                reply.status_code,
                reply.headers,
                reply.content,
                ids,
                epoch,
                outcome.tolerated,
                outcome.checked,
            )
            if outcome.mismatches and setup_failures:  # the likely reason comes first
                outcome.mismatches[:0] = setup_failures
    return outcomes


def file_names() -> list[str]:
    return [f"{path.parent.name}/{path.stem}" for path in recording_files()]
