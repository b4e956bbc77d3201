"""The seed API's semantics at the request level: zammad_orm sends what the seed's reference sends.

Every recording of ``tests/reference/recordings-6.2`` is one test of zammadoo, the seed API's reference
implementation; its requests not marked ``#fixture`` are what the tested seed-API calls sent. For each
recording this module makes the same calls through zammad_orm (``SCENARIOS`` below, one function per
recording, written after zammadoo's test) against a fresh emulator over real HTTP, records every request
zammad_orm sends (method, path, query parameters, JSON body) and compares the two lists:

1. The recording's leading ``#fixture`` requests are sent as recorded (the objects the test worked on);
   the replay's preconditions (:data:`tests.emulator.replay.PRECONDITIONS`) recreate what the recorded
   server had before. Their answers teach the id map: recorded id → id of the object made here.
2. The scenario runs; the answers to its requests, paired with the recorded answers of the same shape,
   teach the ids of the objects it makes (a created ticket, its article, its customer).
3. The recorded requests are rewritten with the learned ids and compared with the sent ones in order;
   every stretch where the two differ (``difflib``) must be a row of the table "Requests that differ from
   the seed's reference implementation" in ``docs/models.md``, which this module reads, and every row
   must still occur. Anything else fails.

Figures: 50 recordings compared, with 142 recorded calls (one recording, ``test_ticket_last_request_age_s``,
has none: zammad_orm must send nothing either); 4 recordings skipped (zammadoo's test_client talked to
httpbin.org there). 28 differences are documented. ``test_the_figures_of_the_docstring`` keeps these
figures, and those of docs/models.md, true.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

import zammad_orm as zo
from tests.emulator.comparison import compare, epoch_of
from tests.emulator.recordings import MISSING, RECORDINGS, Exchange, IdMap, api_path, parse
from tests.emulator.replay import PRECONDITIONS, Setup, file_names, request_body
from zammad_orm import errors
from zammad_orm.transport import Request, Response

from .conftest import CountingTransport, Emulator

ROOT = Path(__file__).resolve().parents[2]
MODELS_DOC = ROOT / "docs" / "models.md"
TABLE_HEADING = "Requests that differ from the seed's reference implementation"
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


# -- what was sent ------------------------------------------------------------------------------------


class RecordingTransport(CountingTransport):
    """A counting transport that also keeps each response, for learning ids from the answers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responses: list[Response] = []

    def send(self, request: Request) -> Response:
        response = super().send(request)
        self.responses.append(response)
        return response

    def reset(self) -> None:
        super().reset()
        self.responses.clear()


def canonical(method: str, path: str, query: list[tuple[str, str]], body: Any) -> str:
    """One request as text: ``METHOD /path?sorted-query {json body}`` (path below ``/api/v1``)."""
    text = f"{method.upper()} {api_path(path)}"
    if query:
        text += "?" + "&".join(f"{k}={v}" for k, v in sorted(query))
    if body is not None and body is not MISSING:
        text += " " + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text


def sent_request(request: Request) -> str:
    parts = urlsplit(request.full_url)
    return canonical(request.method, parts.path, parse_qsl(parts.query, keep_blank_values=True), request.json)


def mapped_request(ids: IdMap, method: str, url: str, body: Any) -> str:
    """A request in the recording's ids, rewritten with the learned ids (as the replay does)."""
    parts = urlsplit(url)
    path = parts.path if parts.path.startswith("/api/v1") else "/api/v1" + parts.path
    query = parse_qsl(ids.map_query(parse_qsl(parts.query, keep_blank_values=True)), keep_blank_values=True)
    if body is not MISSING and body is not None:
        body = ids.map_body(body, path)
    return canonical(method, ids.map_path(path), query, body)


def shape(text: str) -> str:
    """Method, path with digits blanked and the query's names: what pairs a sent and a recorded request."""
    head = text.split(" ", 2)[:2]
    path, _, query = head[1].partition("?")
    names = sorted(pair.split("=", 1)[0] for pair in query.split("&") if pair)
    return f"{head[0]} {re.sub(r'[0-9]+', '#', path)} {names}"


# -- the differences table of docs/models.md -------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One row of the table: in a recording, the reference sent ``reference``, zammad_orm ``ours``."""

    recording: str
    reference: tuple[str, ...]
    ours: tuple[str, ...]
    why: str


def _requests_of(cell: str) -> tuple[str, ...]:
    return tuple(span.strip() for span in re.findall(r"`([^`]+)`", cell))


def documented_differences(text: str | None = None) -> list[Difference]:
    """Read the rows of the differences table in docs/models.md."""
    text = MODELS_DOC.read_text(encoding="utf-8") if text is None else text
    start = text.index(TABLE_HEADING)
    rows: list[Difference] = []
    in_table = False
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            in_table = True
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) != 4 or set(cells[0]) <= {"-", " "} or cells[0] == "recording":
                continue
            (recording,) = _requests_of(cells[0])
            rows.append(Difference(recording, _requests_of(cells[1]), _requests_of(cells[2]), cells[3]))
        elif in_table:
            break
    return rows


def _parse_cell_request(text: str) -> tuple[str, str, Any]:
    method, rest = text.split(" ", 1)
    url, _, body = rest.partition(" ")
    return method, url, json.loads(body) if body else MISSING


# -- running a recording's scenario ----------------------------------------------------------------------


@dataclass
class Fixtures:
    """What a scenario works on: the client, the objects the fixture requests made, the learned ids."""

    client: zo.Client
    ids: IdMap
    emulator: Any
    answers: list[Any] = field(default_factory=list)

    @property
    def tickets(self) -> list[zo.Ticket]:
        """The tickets the fixture requests created, as zammadoo held them: made from the answers."""
        return [self.client.load(zo.Ticket, a) for a in self.answers if isinstance(a, dict) and "number" in a]

    def load(self, model: type[zo.Model], position: int = 0) -> Any:
        """The object a fixture request created, made from its answer."""
        created = [a for a in self.answers if isinstance(a, dict) and "id" in a]
        return self.client.load(model, created[position])

    def id(self, kind: str, recorded: int) -> int:
        """The id here of an object the recording knew as ``recorded``."""
        value = self.ids.translate(kind, recorded)
        assert isinstance(value, int)
        return value


Scenario = Callable[[Fixtures], None]
SCENARIOS: dict[str, Scenario] = {}
#: Recordings whose calls cannot be made here, with the reason.
SKIPPED = {
    name: "not a Zammad exchange: zammadoo's test_client talked to httpbin.org here"
    for name in (
        "test_client/test_http_auth",
        "test_client/test_oauth2_token",
        "test_client/test_raises_http_exception",
        "test_client/test_return_text_if_not_json",
    )
}


def scenario(*names: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        for name in names:
            SCENARIOS[name] = function
        return function

    return register


@dataclass
class Outcome:
    """The recorded and the sent requests of one recording, in the emulator's ids."""

    recorded: list[str]
    sent: list[str]
    ids: IdMap

    def differences(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        matcher = difflib.SequenceMatcher(None, self.recorded, self.sent, autojunk=False)
        return [
            (tuple(self.recorded[i1:i2]), tuple(self.sent[j1:j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        ]


def _learn(exchange: Exchange, answer: Any, ids: IdMap, epoch: str | None) -> None:
    body = json.dumps(answer).encode() if answer is not None else b""
    compare(exchange, exchange.status, JSON_HEADERS, body, ids, epoch)


def _run_setup(emulator: Any, setup: Setup, ids: IdMap) -> None:
    reply = requests.request(
        setup.method,
        emulator.url + setup.path,
        json=setup.body,
        auth=setup.user,
        headers=None if setup.user else {"Authorization": f"Token token={emulator.token}"},
        timeout=30,
    )
    reply.raise_for_status()
    answer = reply.json()
    if isinstance(answer, list):
        answer = answer[0]
    if setup.learn:
        ids.learn(setup.learn[0], setup.learn[1], answer["id"])


def run_recording(name: str) -> Outcome:
    """Make the recording's calls through zammad_orm against a fresh emulator; return both request lists."""
    exchanges = parse(RECORDINGS / f"{name}.log")
    epoch = epoch_of(exchanges)
    ids = IdMap()
    calls = [ex for ex in exchanges if not ex.url.endswith("#fixture")]
    first_call = exchanges.index(calls[0]) if calls else len(exchanges)
    with Emulator() as emulator:
        for setup in PRECONDITIONS.get(name, []):
            _run_setup(emulator, setup, ids)
        transport = RecordingTransport(retries=0, backoff=0.0)
        client = zo.Client(emulator.url, http_token=emulator.token, transport=transport)
        try:
            fixtures = Fixtures(client, ids, emulator)
            for exchange in exchanges[:first_call]:
                body = request_body(exchange)
                query = parse_qsl(ids.map_query(exchange.query))
                answer = client.request(
                    exchange.method,
                    api_path(ids.map_path(exchange.path)).lstrip("/"),
                    params=dict(query) or None,
                    json=None if body is MISSING else ids.map_body(body, exchange.path),
                )
                _learn(exchange, answer, ids, epoch)
                fixtures.answers.append(answer)
            transport.reset()
            SCENARIOS[name](fixtures)
            sent = [sent_request(request) for request in transport.requests]
            # Pair each recorded call with the next sent request of the same shape to learn the ids of
            # what the calls made.
            used: set[int] = set()
            for exchange in calls:
                wanted = shape(canonical(exchange.method, exchange.path, exchange.query, None))
                for pos, text in enumerate(sent):
                    if pos not in used and shape(text) == wanted:
                        used.add(pos)
                        response = transport.responses[pos]
                        if response.ok and "json" in response.headers.get("Content-Type", ""):
                            _learn(exchange, response.json(), ids, epoch)
                        break
        finally:
            client.close()
    recorded = [mapped_request(ids, ex.method, ex.url, request_body(ex)) for ex in calls]
    return Outcome(recorded, sent, ids)


def compared_recordings() -> list[str]:
    return [name for name in file_names() if name not in SKIPPED]


# -- the scenarios: zammadoo's tests, through zammad_orm ---------------------------------------------------

TEXT = "Mogę jeść szkło, i mi nie szkodzi."


@scenario("test_articles/test_create_article_via_ticket")
def _create_article_via_ticket(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    assert ticket.article_count == 1
    assert len(ticket.articles) == 1
    with TemporaryDirectory() as tmp:
        text_file, binary_file = Path(tmp, "attachment.txt"), Path(tmp, "attachment.bin")
        text_file.write_text(TEXT, encoding="utf-8")
        binary_file.write_bytes(bytes(range(256)))
        ticket.create_article("pytest article #1", files=text_file)
        created = ticket.create_article("pytest article #0", files=[text_file, binary_file])
    ticket.reload(expand=True)
    article = ticket.articles[-1]
    assert article == created
    assert article.body == "pytest article #0"
    text, binary = article.attachments
    assert binary.filename == "attachment.bin"
    assert binary.size == 256
    assert binary.read() == bytes(range(256))
    with pytest.raises(UnicodeDecodeError):  # the reference's iter_text() of binary content
        binary.read().decode("utf-8")
    assert text.read().decode("utf-8") == TEXT
    assert text.read().decode("utf-8")[:13] == TEXT[:13]  # the reference's iter_text(chunk_size=16)
    with TemporaryDirectory() as tmp:
        assert binary.save(tmp).read_bytes() == bytes(range(256))
        assert text.save(tmp).read_text(encoding="utf-8") == TEXT


@scenario("test_client/test_impersonation_of")
def _impersonation_of(fx: Fixtures) -> None:
    users = fx.client.users
    with fx.client.on_behalf_of(1):
        assert users.me().id == 1
        with fx.client.on_behalf_of(2):
            assert users.me().id == 2
        assert users.me().id == 1


@scenario("test_client/test_logging")
def _logging(fx: Fixtures) -> None:
    for kwargs in ({"params": {"foo": "bar"}}, {"json": {"foo": "bar"}}, {}):
        with pytest.raises(errors.NotFound):
            fx.client.request("GET", "", **kwargs)


@scenario("test_client/test_params_bool_is_lowercase")
def _params_bool_is_lowercase(fx: Fixtures) -> None:
    with pytest.raises(errors.NotFound):
        fx.client.request("GET", "", params={"is_true": True, "is_false": False})


@scenario("test_client/test_raise_api_exception")
def _raise_api_exception(fx: Fixtures) -> None:
    with pytest.raises(errors.NotFound, match="No route matches") as caught:
        fx.client.get("")
    assert caught.value.status == 404


@scenario("test_client/test_server_version")
def _server_version(fx: Fixtures) -> None:
    assert re.match(r"[5-7]\.\d+(?:\.[\w-]+)+", fx.client.server_version)


@scenario("test_groups/test_create_group")
def _create_group(fx: Fixtures) -> None:
    group = fx.client.groups.create(name="pytest_group")
    assert group.name == "pytest_group"


@scenario("test_organizations/test_create_organization")
def _create_organization(fx: Fixtures) -> None:
    organization = fx.client.organizations.create(name="pytest_organization")
    assert organization.name == "pytest_organization"


@scenario("test_notifications/test_always_use_expand_true")
def _always_use_expand_true(fx: Fixtures) -> None:
    notifications = fx.client.online_notifications
    nid = fx.id("OnlineNotification", 263)
    assert notifications.get(nid).seen is False
    notifications[nid].reload()
    assert notifications[nid].type_name == "create"


@scenario("test_notifications/test_mark_all_as_read")
def _mark_all_as_read(fx: Fixtures) -> None:
    fx.client.online_notifications.mark_all_as_read()
    # Checked past the client: the check is not one of the reference's calls.
    answer = requests.get(
        f"{fx.emulator.url}/api/v1/online_notifications",
        headers={"Authorization": f"Token token={fx.emulator.token}"},
        timeout=30,
    ).json()
    assert all(n["seen"] for n in answer)


@scenario("test_notifications/test_notifications_iter")
def _notifications_iter(fx: Fixtures) -> None:
    notifications = list(fx.client.online_notifications.iter(page=10, expand=False))
    assert notifications
    assert all(n.type_name for n in notifications)


@scenario("test_priorities/test_create_priority")
def _create_priority(fx: Fixtures) -> None:
    priority = fx.client.priorities.create("pytest_priority")
    assert priority.active is True
    assert priority.note is None
    assert priority.default_create is False
    assert priority.ui_icon is None
    assert priority.ui_color is None


@scenario("test_states/test_create_state")
def _create_state(fx: Fixtures) -> None:
    state = fx.client.states.create("pytest_state", state_type_id=5)
    assert state.active is True
    assert state.note is None
    assert state.next_state is None
    assert state.state_type.id == 5
    assert state.ignore_escalation is False
    assert state.default_create is False
    assert state.default_follow_up is False


def _update(fx: Fixtures, model: type[zo.Model], *, reload: bool) -> None:
    obj = fx.load(model)
    assert obj.active is True
    updated = obj.update(active=False)
    if reload:
        obj.reload()
    assert updated.active is False


def _delete(fx: Fixtures, model: type[zo.Model]) -> None:
    obj = fx.load(model)
    obj.delete()
    with pytest.raises(errors.NotFound, match="Couldn't find"):
        obj.reload()


@scenario("test_priorities/test_update_priority")
def _update_priority(fx: Fixtures) -> None:
    _update(fx, zo.TicketPriority, reload=False)


@scenario("test_priorities/test_update_priority_with_reload")
def _update_priority_with_reload(fx: Fixtures) -> None:
    _update(fx, zo.TicketPriority, reload=True)


@scenario("test_priorities/test_delete_priority")
def _delete_priority(fx: Fixtures) -> None:
    _delete(fx, zo.TicketPriority)


@scenario("test_states/test_update_state")
def _update_state(fx: Fixtures) -> None:
    _update(fx, zo.TicketState, reload=False)


@scenario("test_states/test_update_state_with_reload")
def _update_state_with_reload(fx: Fixtures) -> None:
    _update(fx, zo.TicketState, reload=True)


@scenario("test_states/test_delete_state")
def _delete_state(fx: Fixtures) -> None:
    _delete(fx, zo.TicketState)


@scenario("test_roles/test_role_iteration")
def _role_iteration(fx: Fixtures) -> None:
    roles = tuple(fx.client.roles.iter())
    assert len(roles) > 2
    assert tuple(fx.client.roles.iter(page=None, page_size=1)) == roles


@scenario("test_roles/test_role_permission_attribute")
def _role_permission_attribute(fx: Fixtures) -> None:
    role = fx.client.roles.get(1)
    assert role.name == "Admin"
    assert "admin" in role.permissions


@scenario("test_roles/test_role_permission_caching")
def _role_permission_caching(fx: Fixtures) -> None:
    assert fx.client.roles[1].permissions == fx.client.roles[1].permissions


@scenario("test_roles/test_role_update")
def _role_update(fx: Fixtures) -> None:
    role = fx.client.roles.get(fx.id("Role", 9))
    assert role.name == "Clone: Customer"
    assert role.update(active=False).active is False


@scenario("test_roles/test_roles_create_but_cannot_delete")
def _roles_create_but_cannot_delete(fx: Fixtures) -> None:
    role = fx.client.roles.get(3)
    assert role.name == "Customer"
    properties = dict(role.view())
    properties["name"] = "Clone: Customer"
    with pytest.raises(errors.FieldError, match="read-only"):
        fx.client.roles.create(**properties)  # refused before any request
    fields = zo.Role._meta.fields
    writable = {k: v for k, v in properties.items() if k in fields and not fields[k].read_only}
    new_role = fx.client.roles.create(**writable)
    with pytest.raises(errors.UnsupportedOperation):
        new_role.delete()


@scenario("test_tags/test_create_tag")
def _create_tag(fx: Fixtures) -> None:
    fx.client.tags.create("__pytest__")
    assert fx.client.tags["__pytest__"].name == "__pytest__"


@scenario("test_tags/test_delete_tag")
def _delete_tag(fx: Fixtures) -> None:
    fx.client.tags.delete("__pytest__")


@scenario("test_tags/test_rename_tag")
def _rename_tag(fx: Fixtures) -> None:
    tags = fx.client.tags
    assert tags["__pytest__"].count == 0
    tags.rename("__pytest__", "__pytest_new__")


@scenario("test_tags/test_tag_iteration")
def _tag_iteration(fx: Fixtures) -> None:
    for tag in fx.client.tags.iter():
        assert {"name", "id", "count"} <= set(tag.view())
        break


@scenario("test_tags/test_tag_search")
def _tag_search(fx: Fixtures) -> None:
    assert {"footag", "baztag"} <= set(fx.client.tags.search("tag"))


@scenario("test_tags/test_tags_getitem")
def _tags_getitem(fx: Fixtures) -> None:
    assert fx.client.tags["footag"].name == "footag"


@scenario("test_tickets/test_lazy_attribute_caching")
def _lazy_attribute_caching(fx: Fixtures) -> None:
    ticket = fx.client.tickets.get(1)
    assert ticket.number == "67001"
    ticket.reload(expand=True)
    assert ticket.view()["owner"] == "-"


@scenario("test_tickets/test_ticket_create_article")
def _ticket_create_article(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    assert ticket.article_count == 1
    new_article = ticket.create_article(body="new article")
    assert len(ticket.articles) == 2
    assert new_article.body == "new article"


@scenario("test_tickets/test_ticket_create_article_sender_and_type_attribute")
def _ticket_create_article_sender_and_type(fx: Fixtures) -> None:
    ticket_a, ticket_b = fx.tickets
    assert ticket_a.create_article_sender.name == "Agent"
    assert ticket_b.create_article_type.name == "note"


@scenario("test_tickets/test_ticket_history")
def _ticket_history(fx: Fixtures) -> None:
    history = fx.tickets[0].history()
    assert history[0].items() >= {"object": "Ticket", "type": "created"}.items()
    assert history[1].items() >= {"object": "Ticket::Article", "type": "created"}.items()


@scenario("test_tickets/test_ticket_iter_with_offset")
def _ticket_iter_with_offset(fx: Fixtures) -> None:
    assert list(fx.client.tickets.iter(page=1000)) == []


@scenario("test_tickets/test_ticket_last_request_age_s")
def _ticket_last_request_age_s(fx: Fixtures) -> None:
    for ticket in fx.tickets:
        age = ticket.last_request_age_s()
        assert age is not None
        assert age >= 0.0


NO_LINKS: dict[str, list[zo.Ticket]] = {"normal": [], "parent": [], "child": []}


@scenario("test_tickets/test_ticket_link_with_and_unlink__normal")
def _link_normal(fx: Fixtures) -> None:
    a, b = fx.tickets
    a.link_with(b)
    assert a.links() == {**NO_LINKS, "normal": [b]}
    assert b.links() == {**NO_LINKS, "normal": [a]}
    a.unlink_from(b, "normal")
    assert a.links() == NO_LINKS
    assert b.links() == NO_LINKS


@scenario("test_tickets/test_ticket_link_with_and_unlink_from__parent_child")
def _link_parent_child(fx: Fixtures) -> None:
    a, b = fx.tickets
    a.link_with(b, link_type="child")
    assert a.links() == {**NO_LINKS, "child": [b]}
    assert b.links() == {**NO_LINKS, "parent": [a]}
    a.unlink_from(b)
    assert a.links() == NO_LINKS
    assert b.links() == NO_LINKS


@scenario("test_tickets/test_ticket_merge")
def _ticket_merge(fx: Fixtures) -> None:
    a, b = fx.tickets
    b_origin_article = b.articles[0]
    merged = b.merge_into(a.id)
    b.reload()
    assert merged == a
    assert merged.links() == {**NO_LINKS, "child": [b]}
    assert b_origin_article in merged.articles
    assert b.state.name == "merged"
    assert b.links() == {**NO_LINKS, "parent": [a]}
    b_articles = b.articles
    assert len(b_articles) == 1
    assert b_articles[0].body == "merged"


@scenario("test_tickets/test_ticket_search")
def _ticket_search(fx: Fixtures) -> None:
    assert len(list(fx.client.tickets.search("title:__pytest__"))) >= 2


@scenario("test_tickets/test_ticket_tags")
def _ticket_tags(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    assert ticket.tags() == []
    ticket.add_tags("__pytest__", "__tag__")
    assert ticket.tags() == ["__pytest__", "__tag__"]
    ticket.remove_tags("__tag__")
    assert ticket.tags() == ["__pytest__"]


@scenario("test_tickets/test_ticket_update")
def _ticket_update(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    assert ticket.article_count == 1
    updated = ticket.update(article={"body": "new article", "internal": True})
    assert updated.article_count == 2


@scenario("test_tickets/test_tickets_create_body_only")
def _tickets_create_body_only(fx: Fixtures) -> None:
    ticket = fx.client.tickets.create("__pytest__", "Users", "guess:pytest@localhost.local", "article body")
    assert ticket.title == "__pytest__"
    assert ticket.group.name == "Users"
    assert ticket.customer.login == "pytest@localhost.local"
    assert ticket.organization is None
    assert ticket.owner.id == 1
    assert ticket.article_count == 1
    assert ticket.tags() == []
    assert ticket.links() == NO_LINKS
    article = ticket.articles[0]
    assert article.body == "article body"
    assert article.internal is False


@scenario("test_tickets/test_tickets_create_with_article_params")
def _tickets_create_with_article_params(fx: Fixtures) -> None:
    ticket = fx.client.tickets.create(
        "__pytest__", "Users", "guess:pytest@localhost.local", {"body": "article body", "internal": True}
    )
    article = ticket.articles[0]
    assert article.body == "article body"
    assert article.internal is True


@scenario("test_time_accountings/test_create_article_time_accounting")
def _create_article_time_accounting(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    article = ticket.create_article("...")
    assert article.time_unit is None
    ticket.reload()
    assert ticket.time_unit is None
    accounting = ticket.create_time_accounting("1.23", ticket_article_id=article.id)
    assert accounting.ticket_article == article
    article.reload()
    assert article.time_unit == Decimal("1.23")
    accounting.update(time_unit="2.34")
    article.reload()
    assert article.time_unit == Decimal("2.34")
    ticket.reload()
    assert ticket.time_unit == Decimal("2.34")


@scenario("test_time_accountings/test_create_ticket_time_accounting_default_type")
def _create_ticket_time_accounting_default_type(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    accounting = ticket.create_time_accounting(12.3)
    assert accounting.time_unit == Decimal("12.3")
    assert accounting.type is None
    assert accounting.created_by_id == fx.client.users.me().id  # Zammad keeps no updated_by_id here
    assert accounting.ticket == ticket
    assert accounting.ticket_article is None
    ticket.reload()
    assert ticket.time_accountings() == [accounting]
    assert ticket.time_unit == Decimal("12.3")
    accounting.delete()
    ticket.reload()
    assert ticket.time_accountings() == []
    assert ticket.time_unit == 0


@scenario("test_time_accountings/test_create_ticket_time_accounting_with_type")
def _create_ticket_time_accounting_with_type(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    accounting_type = next(iter(fx.client.time_accounting_types.iter()))
    accounting = ticket.create_time_accounting("1.0", type_id=accounting_type.id)
    assert accounting.time_unit == Decimal("1.0")
    assert accounting.type == accounting_type
    accounting = ticket.create_time_accounting("1.1", type=accounting_type.name)
    assert accounting.type == accounting_type
    accounting = ticket.create_time_accounting("1.2", type=accounting_type)
    assert accounting.type == accounting_type


@scenario("test_time_accountings/test_create_time_accounting_types")
def _create_time_accounting_types(fx: Fixtures) -> None:
    types = fx.client.time_accounting_types
    accounting_type = types.create(name="__pytest")
    assert accounting_type.active
    assert accounting_type.note is None
    assert accounting_type.created_by_id is not None
    assert accounting_type in list(types.iter())
    assert accounting_type.view() == types[accounting_type.id].view()
    types.cache.clear()
    assert accounting_type.view() == types[accounting_type.id].view()
    with pytest.raises(errors.UnsupportedOperation):
        accounting_type.delete()


@scenario("test_time_accountings/test_update_article_time_accounting")
def _update_article_time_accounting(fx: Fixtures) -> None:
    ticket = fx.tickets[0]
    article = ticket.create_article("...", time_unit="1.23")
    assert article.time_unit == Decimal("1.23")
    accounting = ticket.time_accountings()[0]
    assert accounting.ticket_article_id == article.id
    assert accounting.type is None
    accounting_type = next(iter(fx.client.time_accounting_types.iter()))
    for time_unit, kind in (
        ("2.34", accounting_type),
        ("3.45", accounting_type.id),
        ("4.56", accounting_type.name),
    ):
        accounting.update(time_unit=time_unit, type=kind)
        accounting.reload()
        assert accounting.time_unit == Decimal(time_unit)
        assert accounting.type == accounting_type


@scenario("test_users/test_create_user")
def _create_user(fx: Fixtures) -> None:
    user = fx.client.users.create(firstname="John", lastname="Pytest")
    assert user.active is True
    assert user.fullname == "John Pytest"
    assert user.note == ""
    assert user.login.startswith("auto-")


# -- the tests ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> list[Difference]:
    return documented_differences()


def _documented(outcome: Outcome, rows: list[Difference]) -> Counter[tuple[tuple[str, ...], tuple[str, ...]]]:
    out: Counter[tuple[tuple[str, ...], tuple[str, ...]]] = Counter()
    for row in rows:
        reference = tuple(mapped_request(outcome.ids, *_parse_cell_request(r)) for r in row.reference)
        ours = tuple(mapped_request(outcome.ids, *_parse_cell_request(r)) for r in row.ours)
        out[(reference, ours)] += 1
    return out


@pytest.mark.parametrize("name", file_names())
def test_zammad_orm_sends_what_the_reference_sent(name: str, table: list[Difference]) -> None:
    if name in SKIPPED:
        pytest.skip(SKIPPED[name])
    outcome = run_recording(name)
    found = Counter(outcome.differences())
    documented = _documented(outcome, [row for row in table if row.recording == name])
    undocumented = found - documented
    stale = documented - found
    assert not undocumented, f"{name}: differences not in the table of docs/models.md:\n" + _show(
        undocumented
    )
    assert not stale, f"{name}: rows of the table that no longer occur:\n" + _show(stale)


def _show(differences: Counter[tuple[tuple[str, ...], tuple[str, ...]]]) -> str:
    return "\n".join(f"  reference {list(r)}\n  zammad_orm {list(o)}" for r, o in differences)


def test_every_recording_has_a_scenario_or_a_reason() -> None:
    assert set(file_names()) == set(SCENARIOS) | set(SKIPPED)
    assert not set(SCENARIOS) & set(SKIPPED)


def test_the_table_names_only_compared_recordings(table: list[Difference]) -> None:
    assert table, "the differences table of docs/models.md is empty or missing"
    assert {row.recording for row in table} <= set(compared_recordings())
    assert all(row.why for row in table)


def test_the_figures_of_the_docstring() -> None:
    calls = sum(
        1
        for name in compared_recordings()
        for ex in parse(RECORDINGS / f"{name}.log")
        if not ex.url.endswith("#fixture")
    )
    assert f"{len(compared_recordings())} recordings compared, with {calls} recorded calls" in " ".join(
        (__doc__ or "").split()
    )
    assert f"{len(SKIPPED)} recordings skipped" in (__doc__ or "")
    assert f"{len(documented_differences())} differences are documented" in (__doc__ or "")
    doc = " ".join(MODELS_DOC.read_text(encoding="utf-8").split())
    assert f"({len(compared_recordings())} recordings, {calls} recorded calls; the {len(SKIPPED)} " in doc


def test_a_row_matches_its_difference_with_the_ids_mapped() -> None:
    ids = IdMap()
    ids.learn("Ticket", 352, 3)
    outcome = Outcome(
        ["GET /tickets/3?expand=true", "GET /ticket_states/5"],
        ["GET /ticket_articles/by_ticket/3", "GET /ticket_states/5"],
        ids,
    )
    assert outcome.differences() == [(("GET /tickets/3?expand=true",), ("GET /ticket_articles/by_ticket/3",))]
    text = f"""### {TABLE_HEADING}

| recording | the reference sends | zammad_orm sends | why |
|---|---|---|---|
| `x/y` | `GET /tickets/352?expand=true` | `GET /ticket_articles/by_ticket/352` | articles |
| `x/y` | — | `GET /users/1` | a row that does not occur |

Text after the table.
"""
    rows = documented_differences(text)
    assert [row.why for row in rows] == ["articles", "a row that does not occur"]
    found = Counter(outcome.differences())
    documented = _documented(outcome, rows)
    assert found - documented == Counter()  # the difference is the first row (ids mapped)
    assert documented - found == Counter({((), ("GET /users/1",)): 1})  # the second is stale: it fails
    assert Counter(outcome.differences()) - _documented(outcome, []) == found  # without rows: it fails
