"""One test per name of the seed API (reference/seed-api.txt), against the emulator over HTTP.

The first section reads the seed document itself: every class, method and attribute it names must
exist on the right model class or collection, with a signature that accepts every documented call,
and must be exercised by a test of this module. The rest are the behaviour tests, one per name.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import os
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors

from .conftest import make_client, sent

# -- the seed document, read ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SEED_API = Path(os.environ.get("ZAMMAD_ORM_REFERENCE", ROOT / "tests" / "reference")) / "seed-api.txt"

# The text lost the heading lines of three Ticket methods (their descriptions and parameter lists are
# there): "link the ticket with another one", "returns all linked tickets grouped by link type" and
# "remove the link to another ticket ... if omitted ... every link_type".
LOST_HEADINGS = {
    "Ticket": {
        "link_with": "target, link_type='normal'",
        "links": "",
        "unlink_from": "target, link_type=None",
    }
}

# The seed's class names → the objects that implement them.
OBJECT_CLASSES: dict[str, type[zo.Model]] = {
    "Priority": zo.TicketPriority,
    "State": zo.TicketState,
    "Ticket": zo.Ticket,
}
COLLECTIONS: dict[str, Callable[[zo.Client], Any]] = {
    "Priorities": lambda c: c.priorities,
    "States": lambda c: c.states,
    "Tickets": lambda c: c.tickets,
    "Tags": lambda c: c.tags,
}

_CLASS = re.compile(r"^class (\w+)\(\.\.\.\)$")
_METHOD = re.compile(r"^(\w+)\((.*)\)$")
_CONSTANT = re.compile(r"^([A-Z_]+) = (.+)$")
_ATTRIBUTE = re.compile(r"^(property )?([a-z_]\w*)(?:: (.+))?$")


def read_seed_api(text: str) -> dict[str, dict[str, tuple[str, str | None]]]:
    """``{class: {name: (kind, detail)}}``: kind is method (detail: parameters), constant or attribute."""
    classes: dict[str, dict[str, tuple[str, str | None]]] = {}
    current: dict[str, tuple[str, str | None]] | None = None
    in_parameters = False  # a bare word inside a "Parameters:" block is a parameter, not an attribute
    for line in text.splitlines():
        if not line.strip() or line != line.lstrip():  # blank, or indented example code and bullets
            continue
        if match := _CLASS.match(line):
            current = classes.setdefault(match.group(1), {})
            in_parameters = False
        elif current is None:
            continue
        elif line == "Parameters:":
            in_parameters = True
        elif match := _METHOD.match(line):
            current[match.group(1)] = ("method", match.group(2))
            in_parameters = False
        elif match := _CONSTANT.match(line):
            current[match.group(1)] = ("constant", match.group(2))
            in_parameters = False
        elif (match := _ATTRIBUTE.match(line)) and (match.group(1) or match.group(3) or not in_parameters):
            current[match.group(2)] = ("attribute", match.group(3))
            in_parameters = False
    for cls, methods in LOST_HEADINGS.items():
        for name, params in methods.items():
            classes[cls].setdefault(name, ("method", params))
    return classes


SEED = read_seed_api(SEED_API.read_text(encoding="utf-8"))
SEED_NAMES = sorted((cls, name) for cls, names in SEED.items() for name in names)


def documented_parameters(params: str) -> ast.arguments:
    function = ast.parse(f"def f({params}): pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    return function.args


def signature_problems(params: str, signature: inspect.Signature) -> list[str]:
    """What keeps ``signature`` from accepting every call the documented ``params`` allow."""
    doc = documented_parameters(params)
    impl = [p for p in signature.parameters.values() if p.name != "self"]
    kinds = inspect.Parameter
    positional = [p for p in impl if p.kind is kinds.POSITIONAL_OR_KEYWORD]
    by_name = {p.name: p for p in impl}
    problems = []
    defaults = [None] * (len(doc.args) - len(doc.defaults)) + list(doc.defaults)
    for index, (arg, default) in enumerate(zip(doc.args, defaults, strict=True)):
        if index >= len(positional) or positional[index].name != arg.arg:
            problems.append(f"positional parameter {index} should be {arg.arg!r}")
        elif default is not None and positional[index].default != ast.literal_eval(default):
            problems.append(f"{arg.arg} should default to {ast.unparse(default)}")
    for arg, kw_default in zip(doc.kwonlyargs, doc.kw_defaults, strict=True):
        param = by_name.get(arg.arg)
        if param is None or param.kind not in (kinds.KEYWORD_ONLY, kinds.POSITIONAL_OR_KEYWORD):
            problems.append(f"keyword {arg.arg!r} missing")
        elif kw_default is not None and param.default != ast.literal_eval(kw_default):
            problems.append(f"{arg.arg} should default to {ast.unparse(kw_default)}")
    if doc.vararg and not any(p.kind is kinds.VAR_POSITIONAL for p in impl):
        problems.append(f"*{doc.vararg.arg} missing")
    if doc.kwarg and not any(p.kind is kinds.VAR_KEYWORD for p in impl):
        problems.append(f"**{doc.kwarg.arg} missing")
    documented = {a.arg for a in [*doc.args, *doc.kwonlyargs]}
    required = [
        p.name
        for p in impl
        if p.default is p.empty and p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)
    ]
    problems += [f"undocumented required parameter {name!r}" for name in required if name not in documented]
    return problems


def implementation(cls: str, client: zo.Client) -> Any:
    return OBJECT_CLASSES[cls] if cls in OBJECT_CLASSES else COLLECTIONS[cls](client)


def test_the_seed_document_is_read_completely() -> None:
    assert set(SEED) == set(OBJECT_CLASSES) | set(COLLECTIONS)
    assert SEED["Ticket"]["create_article"] == (
        "method",
        "body, *, typ='note', internal=True, files=None, **kwargs",
    )
    assert SEED["Tickets"]["DEFAULT_CACHE_SIZE"] == ("constant", "100")
    assert SEED["State"]["next_state"] == ("attribute", "State | None")
    assert "expand" not in SEED["State"]  # a parameter of reload(), not an attribute
    assert len(SEED_NAMES) == 118


@pytest.mark.parametrize(("cls", "name"), SEED_NAMES, ids=[f"{c}.{n}" for c, n in SEED_NAMES])
def test_every_seed_name_is_implemented(client: zo.Client, cls: str, name: str) -> None:
    target = implementation(cls, client)
    kind, detail = SEED[cls][name]
    # Looked up statically on the class, so Manager.__getattr__'s QuerySet fallback cannot answer.
    found = inspect.getattr_static(target if isinstance(target, type) else type(target), name, None)
    assert found is not None, f"{cls}.{name} is not implemented"
    if kind == "method":
        assert callable(getattr(target, name))
        assert signature_problems(detail or "", inspect.signature(getattr(target, name))) == []
    elif kind == "constant":
        assert getattr(target, name) == ast.literal_eval(detail or "")


def test_signature_check_notices_a_mismatch() -> None:
    def narrower(self: Any, name: str, *, typ: str = "email") -> None: ...

    problems = signature_problems("name, state_type_id, *, typ='note', **kwargs", inspect.signature(narrower))
    assert problems == [
        "positional parameter 1 should be 'state_type_id'",
        "typ should default to 'note'",
        "**kwargs missing",
    ]


@pytest.mark.parametrize(("cls", "name"), SEED_NAMES, ids=[f"{c}.{n}" for c, n in SEED_NAMES])
def test_every_seed_name_has_a_behaviour_test(cls: str, name: str) -> None:
    source = Path(__file__).read_text(encoding="utf-8").split("# -- behaviour tests", 1)[1]
    assert re.search(rf"\.{name}\b", source), f"no behaviour test uses {cls}.{name}"


def test_the_differences_table_names_what_it_says() -> None:
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    table = text.split("differs from the seed", 1)[1].split("\n#", 1)[0]  # up to the next heading
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {n for row in rows for n in re.findall(r"`(?:\w+\.)?(\w+)", row.split("|")[1])}
    seed_names = {name for _, name in SEED_NAMES}
    assert named - seed_names - {"created_at", "time_unit"} == set()
    assert {"state_type", "time_unit", "update", "create", "merge_into", "last_request_age_s"} <= named


# -- behaviour tests -----------------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def priority(client: zo.Client) -> zo.TicketPriority:
    return client.priorities.create(unique("pytest_priority"))


@pytest.fixture
def state(client: zo.Client) -> zo.TicketState:
    return client.states.create(unique("pytest_state"), 1)


# -- resource objects: Priority / State / Ticket --------------------------------------------------


def test_object_delete(client: zo.Client, priority: zo.TicketPriority) -> None:
    pid = priority.id
    priority.delete()
    with pytest.raises(errors.NotFound, match=f"Couldn't find Ticket::Priority with 'id'={pid}"):
        client.priorities.get(pid)


def test_object_last_request_age_s(client: zo.Client, priority: zo.TicketPriority) -> None:
    age = priority.last_request_age_s()
    assert age is not None
    assert age >= 0.0
    assert zo.TicketPriority(name="local").last_request_age_s() is None


def test_object_reload(client: zo.Client, priority: zo.TicketPriority) -> None:
    client.put(f"ticket_priorities/{priority.id}", json={"active": False})
    assert priority.active is True
    priority.reload()
    assert priority.active is False
    assert "created_by" not in priority.view()
    priority.reload(expand=True)
    assert priority.view()["created_by"] == client.users.me().login


def test_object_reload_expand_star(emulator: Any, client: zo.Client) -> None:
    assert "*" in zo.OnlineNotification.EXPANDED_ATTRIBUTES
    assert "*" not in zo.Ticket.EXPANDED_ATTRIBUTES
    agent = make_client(emulator)
    with agent.on_behalf_of("agent1@example.com"):
        ticket = agent.tickets.create(
            title="star", group="Users", customer="guess:s@example.com", article="x"
        )
        ticket.update(owner="admin@example.com")
    note = next(n for n in client.online_notifications.iter() if n.o_id == ticket.id)
    sent(client).reset()
    note.reload()  # '*' in EXPANDED_ATTRIBUTES: expanded without asking
    ticket_of_client = client.tickets.get(ticket.id)
    ticket_of_client.reload()  # no '*': plain
    assert sent(client).sent == [
        ("GET", f"/online_notifications/{note.id}?expand=true"),
        ("GET", f"/tickets/{ticket.id}"),
        ("GET", f"/tickets/{ticket.id}"),
    ]
    assert note.view()["object"] == "Ticket"  # the name the expanded record adds


def test_object_update(client: zo.Client, priority: zo.TicketPriority) -> None:
    updated = priority.update(active=False)
    assert updated.active is False
    assert client.get(f"ticket_priorities/{priority.id}")["active"] is False


def test_object_view(client: zo.Client) -> None:
    ticket = client.tickets.get(1)
    view = ticket.view()
    assert view["number"] == "67001"
    assert view["created_at"].endswith("Z")
    with pytest.raises(TypeError):
        view["number"] = "1"  # type: ignore[index]


def test_object_expanded_attributes() -> None:
    assert zo.TicketPriority.EXPANDED_ATTRIBUTES == ("created_by", "updated_by")
    assert zo.TicketState.EXPANDED_ATTRIBUTES == ("created_by", "state_type", "updated_by")
    assert "owner" in zo.Ticket.EXPANDED_ATTRIBUTES


def test_object_common_attributes(client: zo.Client, priority: zo.TicketPriority) -> None:
    assert priority.active is True
    assert isinstance(priority.created_at, datetime)
    assert isinstance(priority.updated_at, datetime)
    assert priority.created_by == client.users.me()
    assert priority.updated_by == client.users.me()
    assert isinstance(priority.id, int)
    assert priority.name.startswith("pytest_priority_")
    assert priority.note is None
    assert priority.ui_color is None
    assert priority.ui_icon is None


def test_object_parent(client: zo.Client, priority: zo.TicketPriority) -> None:
    assert priority.parent == client.priorities


def test_object_url(client: zo.Client, priority: zo.TicketPriority) -> None:
    assert priority.url == f"{client.url}/api/v1/ticket_priorities/{priority.id}"


def test_state_attributes(client: zo.Client) -> None:
    new = client.states.get(1)
    assert new.default_create is True
    assert new.default_follow_up is False
    assert new.ignore_escalation is False
    assert client.states.get(2).default_follow_up is True


def test_state_next_state(client: zo.Client) -> None:
    assert client.states.get(7).next_state == client.states.get(4)
    assert client.states.get(1).next_state is None


def test_state_state_type(client: zo.Client, state: zo.TicketState) -> None:
    assert state.state_type.name == "new"
    assert str(client.states.get(2).state_type.name) == "open"


def test_state_parent(client: zo.Client, state: zo.TicketState) -> None:
    assert state.parent == client.states


def test_state_delete_reload_update_view_url(client: zo.Client, state: zo.TicketState) -> None:
    assert state.url == f"{client.api_url}/ticket_states/{state.id}"
    assert state.view()["name"] == state.name
    assert state.last_request_age_s() is not None
    client.put(f"ticket_states/{state.id}", json={"note": "from elsewhere"})
    state.reload()
    assert state.note == "from elsewhere"
    state.reload(expand=True)
    assert state.view()["state_type"] == "new"  # expand adds the names of EXPANDED_ATTRIBUTES
    assert state.update(ignore_escalation=True) is state
    assert client.get(f"ticket_states/{state.id}")["ignore_escalation"] is True
    sid = state.id
    state.delete()
    with pytest.raises(zo.TicketState.DoesNotExist):
        client.states.get(sid)


def test_ticket_add_tags(ticket: zo.Ticket) -> None:
    ticket.add_tags("a", "b")
    ticket.add_tags("a")
    assert ticket.tags() == ["a", "b"]


def test_ticket_create_article(ticket: zo.Ticket) -> None:
    article = ticket.create_article("new article", typ="note", internal=True, subject="s")
    assert (article.body, article.internal, article.subject, article.type.name) == (
        "new article",
        True,
        "s",
        "note",
    )
    assert article.sender.name == "Agent"


def test_ticket_create_time_accounting(ticket: zo.Ticket) -> None:
    entry = ticket.create_time_accounting("12.3")
    assert entry.time_unit == Decimal("12.3")
    assert entry.ticket_id == ticket.id


def test_ticket_delete(client: zo.Client) -> None:
    t = client.tickets.create("to delete", "Users", "guess:pytest@localhost.local", "x")
    t.delete()
    with pytest.raises(zo.Ticket.DoesNotExist):
        client.tickets.get(t.id)


def test_ticket_history(ticket: zo.Ticket) -> None:
    history = ticket.history()
    assert (history[0]["object"], history[0]["type"], history[0]["o_id"]) == ("Ticket", "created", ticket.id)


def test_ticket_last_request_age_s(ticket: zo.Ticket) -> None:
    age = ticket.last_request_age_s()
    assert age is not None
    assert age >= 0.0


def test_ticket_link_with(client: zo.Client, ticket: zo.Ticket) -> None:
    other = client.tickets.create("other", "Users", "guess:pytest@localhost.local", "x")
    ticket.link_with(other.id)
    ticket.link_with(other)  # already linked: ignored
    assert ticket.links()["normal"] == [other]


def test_ticket_links(client: zo.Client, ticket: zo.Ticket) -> None:
    a = client.tickets.create("a", "Users", "guess:pytest@localhost.local", "x")
    b = client.tickets.create("b", "Users", "guess:pytest@localhost.local", "x")
    ticket.link_with(a, "parent")
    ticket.link_with(b)
    links = ticket.links()
    assert set(links) == {"normal", "parent", "child"}
    assert sorted(t.id for t in itertools.chain(*links.values())) == sorted([a.id, b.id])
    assert links["parent"] == [a]


def test_ticket_merge_into(client: zo.Client, ticket: zo.Ticket) -> None:
    target = client.tickets.create("target", "Users", "guess:pytest@localhost.local", "x")
    assert ticket.merge_into(target.id) is target
    assert ticket.state.name == "merged"


def test_ticket_reload(client: zo.Client, ticket: zo.Ticket) -> None:
    client.put(f"tickets/{ticket.id}", json={"title": "changed elsewhere"})
    ticket.reload()
    assert ticket.title == "changed elsewhere"
    ticket.reload(expand=True)
    assert ticket.view()["group"] == "Users"


def test_ticket_remove_tags(ticket: zo.Ticket) -> None:
    ticket.add_tags("x", "y")
    ticket.remove_tags("x", "never-there")
    assert ticket.tags() == ["y"]


def test_ticket_tags(ticket: zo.Ticket) -> None:
    assert ticket.tags() == []


def test_ticket_time_accountings(ticket: zo.Ticket) -> None:
    ticket.create_time_accounting(1)
    assert [t.time_unit for t in ticket.time_accountings()] == [Decimal("1")]


def test_ticket_unlink_from(client: zo.Client, ticket: zo.Ticket) -> None:
    other = client.tickets.create("other", "Users", "guess:pytest@localhost.local", "x")
    ticket.link_with(other, "child")
    assert ticket.links()["child"] == [other]
    ticket.unlink_from(other.id, "child")
    ticket.unlink_from(other.id)  # nothing left: ignored
    assert ticket.links()["child"] == []


def test_ticket_update(ticket: zo.Ticket) -> None:
    assert ticket.update(title="updated").title == "updated"


def test_ticket_view(ticket: zo.Ticket) -> None:
    assert ticket.view()["title"] == "__pytest__"


def test_ticket_expanded_attributes() -> None:
    assert zo.Ticket.EXPANDED_ATTRIBUTES[0] == "article_ids"
    assert len(zo.Ticket.EXPANDED_ATTRIBUTES) == 13


def test_ticket_attributes(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.article_count == 1
    assert [a.body for a in ticket.articles] == ["..."]
    assert ticket.close_at is None
    assert ticket.close_escalation_at is None
    assert ticket.create_article_sender.name == "Agent"
    assert ticket.create_article_type.name == "note"
    assert isinstance(ticket.created_at, datetime)
    assert isinstance(ticket.updated_at, datetime)
    assert ticket.created_by == client.users.me() == ticket.updated_by
    assert ticket.customer.login == "pytest@localhost.local"
    assert ticket.escalation_at is None
    assert ticket.first_response_at is None
    assert ticket.first_response_escalation_at is None
    assert ticket.group.name == "Users"
    assert isinstance(ticket.id, int)
    assert ticket.last_contact_agent_at is None
    assert ticket.last_contact_at is None
    assert ticket.last_contact_customer_at is None
    assert ticket.last_owner_update_at is None
    assert ticket.note is None
    assert ticket.number.startswith("67")
    assert ticket.organization is None
    assert ticket.owner.id == 1
    assert ticket.priority.name == "2 normal"
    assert ticket.state.name == "new"
    assert ticket.time_unit is None
    assert ticket.title == "__pytest__"
    assert ticket.update_escalation_at is None


def test_ticket_parent(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.parent == client.tickets


def test_ticket_url(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.url == f"{client.api_url}/tickets/{ticket.id}"


def test_ticket_weburl(client: zo.Client, ticket: zo.Ticket) -> None:
    assert ticket.weburl == f"{client.url}/#ticket/zoom/{ticket.id}"


# -- collections: Priorities / States / Tickets ------------------------------------------------------


def test_priorities_create(client: zo.Client) -> None:
    name = unique("4 urgent")
    p = client.priorities.create(name, ui_color="high-priority")
    assert (p.name, p.ui_color, p.default_create) == (name, "high-priority", False)


def test_states_create(client: zo.Client) -> None:
    name = unique("waiting")
    s = client.states.create(name, 2, note="n")
    assert (s.name, s.state_type_id, s.note) == (name, 2, "n")


def test_tickets_create(client: zo.Client) -> None:
    t = client.tickets.create("title", "Users", "guess:seed@example.com", {"body": "b", "internal": True})
    assert t.articles[0].internal is True
    assert t.customer.email == "seed@example.com"


def test_collection_iter(client: zo.Client) -> None:
    roles = tuple(client.roles.iter())
    assert [r.name for r in roles[:3]] == ["Admin", "Agent", "Customer"]
    sent(client).reset()
    one_by_one = list(client.roles.iter(page_size=1))
    assert [r.id for r in one_by_one] == [r.id for r in roles]
    assert len(sent(client).sent) == len(roles) + 1  # the last page comes back empty
    assert list(client.tickets.iter(page=1000, page_size=10)) == []
    expanded = next(client.tickets.iter(page_size=5, expand=True))
    assert expanded.view()["group"] == "Users"


@pytest.mark.parametrize("collection", ["priorities", "states", "tickets"])
def test_seed_collections_iter_with_page_page_size_and_expand(client: zo.Client, collection: str) -> None:
    manager = getattr(client, collection)
    if collection == "tickets":  # a fresh system has one ticket
        for title in ("page one", "page two"):
            client.tickets.create(title, "Users", "guess:pytest@localhost.local", "x")
    everything = [x.id for x in manager.iter()]
    assert len(everything) >= 3
    sent(client).reset()
    second_page = list(manager.iter(page=2, page_size=2))
    assert [x.id for x in second_page] == everything[2:]
    assert sent(client).sent[0][1].startswith(f"/{manager.endpoint}?page=2&per_page=2")
    first = next(manager.iter(page_size=1, expand=True))
    assert first.view()["created_by"] == first.created_by.login  # a name only expand=true sends


@pytest.mark.parametrize(
    ("collection", "endpoint"),
    [("priorities", "ticket_priorities"), ("states", "ticket_states"), ("tickets", "tickets")],
)
def test_seed_collections_client_endpoint_url_cache(
    client: zo.Client, collection: str, endpoint: str
) -> None:
    manager = getattr(client, collection)
    assert manager.client is client
    assert manager.endpoint == endpoint
    assert manager.url == f"{client.api_url}/{endpoint}"
    size = manager.DEFAULT_CACHE_SIZE
    assert size == (100 if collection == "tickets" else -1)
    assert manager.cache.max_size == size
    obj = manager.get(1)
    assert 1 in manager.cache
    assert manager.cache.get(1).record["id"] == obj.id
    manager.cache.delete(1)
    assert 1 not in manager.cache


def test_collection_iter_uses_client_pagination_defaults(client: zo.Client) -> None:
    client.pagination.page_size = 2
    sent(client).reset()
    list(client.roles.iter())
    assert "per_page=2" in sent(client).sent[0][1]


def test_tickets_search(client: zo.Client) -> None:
    t = client.tickets.create("__searchme__", "Users", "guess:pytest@localhost.local", "x")
    found = list(client.tickets.search("title:__searchme__"))
    assert found == [t]
    assert list(client.tickets.search("title:__searchme__")) == [t]  # re-iterable
    newest_first = [x.id for x in client.tickets.search("title:__pytest__", sort_by="id", order_by="desc")]
    assert newest_first == sorted(newest_first, reverse=True)
    with pytest.raises(errors.QueryError, match="order_by"):
        client.tickets.search("x", order_by="sideways")  # type: ignore[arg-type]


def test_collection_default_cache_size(client: zo.Client) -> None:
    assert client.tickets.DEFAULT_CACHE_SIZE == 100
    assert client.priorities.DEFAULT_CACHE_SIZE == -1
    assert client.states.DEFAULT_CACHE_SIZE == -1


def test_collection_cache(client: zo.Client) -> None:
    t = client.tickets.get(1)
    assert 1 in client.tickets.cache
    assert client.tickets.cache.get(1).record["number"] == t.number
    assert client.tickets.cache.max_size == 100
    client.tickets.cache.clear()
    assert 1 not in client.tickets.cache


def test_collection_client(client: zo.Client) -> None:
    assert client.tickets.client is client


def test_collection_endpoint(client: zo.Client) -> None:
    assert (client.tickets.endpoint, client.priorities.endpoint, client.states.endpoint) == (
        "tickets",
        "ticket_priorities",
        "ticket_states",
    )


def test_collection_url(client: zo.Client) -> None:
    assert client.states.url == f"{client.url}/api/v1/ticket_states"


# -- Tags --------------------------------------------------------------------------------------------


def test_tags_add_to_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    client.tags.add_to_ticket(ticket.id, "t1", "t2")
    assert ticket.tags() == ["t1", "t2"]


def test_tags_by_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.add_tags("bt")
    assert client.tags.by_ticket(ticket.id) == ["bt"]


def test_tags_create(client: zo.Client) -> None:
    client.tags.create("__pytest_created__")
    client.tags.create("__pytest_created__")  # existing: ignored
    names = [t.name for t in client.tags.iter()]
    assert names.count("__pytest_created__") == 1


def test_tags_delete(client: zo.Client) -> None:
    client.tags.create("__pytest_deleted__")
    client.tags.delete("__pytest_deleted__")
    assert client.tags.search("__pytest_deleted__") == []
    with pytest.raises(KeyError):
        client.tags.delete("__pytest_deleted__")
    with pytest.raises(errors.TagNotFound):
        client.tags.delete("__pytest_deleted__")


def test_tags_reload(client: zo.Client) -> None:
    client.tags.create("__pytest_reload__")
    sent(client).reset()
    client.tags.reload()
    assert sent(client).sent == [("GET", "/tag_list")]
    assert client.tags["__pytest_reload__"].name == "__pytest_reload__"


def test_tags_remove_from_ticket(client: zo.Client, ticket: zo.Ticket) -> None:
    ticket.add_tags("keep", "drop")
    client.tags.remove_from_ticket(ticket, "drop", "never")
    assert ticket.tags() == ["keep"]


def test_tags_rename(client: zo.Client) -> None:
    client.tags.create("__pytest_old__")
    client.tags.rename("__pytest_old__", "__pytest_new__")
    assert client.tags.search("__pytest_new__") == ["__pytest_new__"]
    assert client.tags.search("__pytest_old__") == []
    with pytest.raises(KeyError):
        client.tags.rename("__pytest_old__", "whatever")


def test_tags_rename_onto_an_existing_name_drops_the_old_one(client: zo.Client, ticket: zo.Ticket) -> None:
    client.tags.create("__pytest_merge_target__")
    ticket.add_tags("__pytest_merge_source__")
    client.tags.rename("__pytest_merge_source__", "__pytest_merge_target__")
    assert client.tags.search("__pytest_merge_source__") == []
    assert [t.name for t in client.tags.iter()].count("__pytest_merge_target__") == 1
    assert ticket.tags() == ["__pytest_merge_target__"]


def test_tickets_create_with_ids_and_a_plain_email(client: zo.Client) -> None:
    nicole = client.users.search("login:nicole.braun@zammad.org")[0]
    t = client.tickets.create("ids", 1, nicole.id, "body")
    assert (t.group_id, t.customer_id) == (1, nicole.id)
    by_email = client.tickets.create("email", "Users", "nicole.braun@zammad.org", "body")
    assert by_email.customer == nicole


def test_tags_search(fresh_client: zo.Client) -> None:
    # a fresh system: no other test's tags can match
    fresh_client.tags.create("footag")
    fresh_client.tags.create("baztag")
    assert fresh_client.tags.search("tag") == ["baztag", "footag"]
    assert fresh_client.tags.search("nothing-like-it") == []


def test_seed_tags_collection_is_the_tag_manager(client: zo.Client) -> None:
    assert isinstance(client.tags, zo.Tags)
    assert zo.Tag.objects.using(client) == client.tags


def test_collection_cache_is_an_lru_of_the_default_size(client: zo.Client) -> None:
    base = client.get("tickets/1")
    kept = [client.load(zo.Ticket, {**base, "id": pk}) for pk in range(1000, 1105)]
    assert 1000 not in client.tickets.cache  # 105 records, LRU of 100: the oldest are gone
    assert 1104 in client.tickets.cache
    assert client.priorities.cache.max_size == -1
    client.configure_cache(zo.Ticket, 0)
    client.load(zo.Ticket, {**base, "id": 2000})
    assert 2000 not in client.tickets.cache
    assert len(kept) == 105
