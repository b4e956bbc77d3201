"""The pieces behind "never silently wrong", without a server: suggestions, reference tables, checks, 404s."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from zammad_orm import Group, Ticket, TicketArticle, TicketState, User, errors
from zammad_orm.checks import check_fields, check_ordering, check_related, order_rows
from zammad_orm.compiler import compile_expression
from zammad_orm.expr import Q, describe_node
from zammad_orm.references import check_names, check_payload, matching_ids
from zammad_orm.resolver import resolve
from zammad_orm.suggest import closest, did_you_mean
from zammad_orm.transport.messages import Response, api_error

STATES = [
    {"id": 1, "name": "new", "state_type_id": 1},
    {"id": 2, "name": "open", "state_type_id": 2},
    {"id": 3, "name": "pending reminder", "state_type_id": 3},
    {"id": 4, "name": "closed", "state_type_id": 5},
]
GROUPS = [
    {"id": 1, "name": "Users", "parent_id": None, "user_ids": [3]},
    {"id": 5, "name": "IT", "parent_id": None, "user_ids": []},
    {"id": 6, "name": "IT::Hardware", "parent_id": 5, "user_ids": [3, 4]},
]


class FakeTables:
    """The ``Tables`` a client's facts are, over fixed rows; counts the reads."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.source = tables
        self.loaded: dict[str, list[dict[str, Any]]] = {}
        self.reads: list[str] = []

    def table(self, path: str) -> list[dict[str, Any]]:
        if path not in self.loaded:
            self.reads.append(path)
            self.loaded[path] = list(self.source[path])
        return self.loaded[path]

    def has_table(self, path: str) -> bool:
        return path in self.loaded

    def forget_table(self, path: str) -> None:
        self.loaded.pop(path, None)

    def small_table(self, path: str, limit: int) -> list[dict[str, Any]] | None:
        rows = self.source.get(path)
        return rows if rows is not None and len(rows) < limit else None


def tables() -> FakeTables:
    return FakeTables({"ticket_states": STATES, "groups": GROUPS, "ticket_priorities": [], "roles": []})


def compiled(**lookups: Any) -> str:
    return compile_expression(resolve(Ticket, Q(**lookups), tables=tables()))


def test_suggestions() -> None:
    assert closest("opne", ["new", "open", "closed"]) == ["open"]
    assert closest("high", ["1 low", "2 normal", "3 high"]) == ["3 high"]
    assert did_you_mean("Suport", ["Support", "Sales"]) == " (did you mean 'Support'?)"
    assert did_you_mean("xyz", ["open"]) == ""
    assert did_you_mean("n", ["new", "open"]) == ""  # too short to be inside names


def test_names_are_checked_and_a_miss_reads_the_table_again() -> None:
    source = tables()
    with pytest.raises(errors.QueryError, match=r"state='opne': there is no ticket state named 'opne'"):
        resolve(Ticket, Q(state="opne"), tables=source)
    assert source.reads == ["ticket_states"]  # first read: no second one for the miss
    source.source["ticket_states"] = [*STATES, {"id": 9, "name": "waiting", "state_type_id": 4}]
    node = resolve(Ticket, Q(state="waiting"), tables=source)  # read once more, then found
    assert source.reads == ["ticket_states", "ticket_states"]
    assert compile_expression(node) == 'state.name.keyword:"waiting"'


def test_builtin_tables_need_no_client() -> None:
    assert compile_expression(resolve(Ticket, Q(article__type="phone"))) == "article.type_id:5"
    with pytest.raises(
        errors.QueryError, match=r"there is no article type named 'phnoe' \(did you mean 'phone'"
    ):
        resolve(Ticket, Q(article__type="phnoe"))
    with pytest.raises(errors.QueryError, match="needs their rows"):
        resolve(Ticket, Q(state__state_type__name="open"))  # the states need a client


def test_paths_through_reference_tables_become_ids() -> None:
    assert compiled(state__state_type__name="open") == "state_id:2"
    assert compiled(state__state_type__name__in=["new", "open"]) == "state_id:1 OR state_id:2"
    assert compiled(group__parent__name="IT") == "group_id:6"
    assert compiled(group__users=4) == "group_id:6"  # a group's user_ids are no column of the index
    assert compiled(state__state_type__name="removed") == "NOT id:>0"  # no such state: nothing
    # A ticket without a state matches a condition that a missing state type meets.
    assert compiled(state__state_type__name__isnull=True) == "NOT _exists_:state_id"
    assert compiled(state__name="open") == 'state.name.keyword:"open"'  # held by the index: as it was


def test_matching_ids_over_rows() -> None:
    condition = resolve(TicketState, Q(state_type__name__in=["open", "pending reminder"]))
    assert matching_ids(TicketState, condition, tables()) == ([2, 3], False, 4)


def test_write_payloads_are_checked() -> None:
    source = tables()
    with pytest.raises(
        errors.FieldError, match=r"Ticket.state: there is no ticket state named 'opne'.*nothing"
    ):
        check_payload(Ticket, {"state": "opne"}, source)
    with pytest.raises(
        errors.FieldError, match=r"TicketArticle\.type: there is no article type named 'notee'"
    ):
        check_payload(Ticket, {"group": "Users", "article": {"body": "x", "type": "notee"}}, source)
    check_payload(Ticket, {"state": "open", "customer": "guess:a@b.c", "owner": "anyone"}, source)
    check_payload(TicketArticle, {"type": "note", "sender": "Agent"}, None)


def test_names_only_for_exact_lookups() -> None:
    assert compiled(state__name__icontains="opne") == "state.name.keyword:/.{0,}[Oo][Pp][Nn][Ee].{0,}/"
    with pytest.raises(errors.QueryError, match="there is no ticket state named 'CLOSD'"):
        compiled(state__iexact="CLOSD")
    assert compiled(state__iexact="CLOSED") == "state.name.keyword:/[Cc][Ll][Oo][Ss][Ee][Dd]/"


def test_check_names_skips_what_it_cannot_read() -> None:
    def error(name: str, hint: str) -> errors.ZammadError:
        return errors.QueryError(name + hint)

    check_names(Group, ["anything"], None, fold=False, error=error)  # no client: not checked
    big = FakeTables({"organizations": [{"id": i, "name": str(i)} for i in range(2000)]})
    from zammad_orm import Organization

    check_names(Organization, ["no such org"], big, fold=False, error=error)  # would need a search


def test_names_outside_the_filter() -> None:
    with pytest.raises(
        errors.QueryError, match=r"Ticket has no column 'craeted_at' \(did you mean 'created_at'"
    ):
        check_ordering(Ticket, ["-craeted_at"], lambda model: set())
    check_ordering(Ticket, ["-maybe_custom"], None)  # not known yet: checked when the QuerySet runs
    with pytest.raises(errors.QueryError, match="grouped rows are ordered by their fields"):
        check_ordering(Ticket, ["title"], None, ["group__name"], [("n", object())])
    check_ordering(Ticket, ["-n", "group__name"], None, ["group__name"], [("n", object())])
    with pytest.raises(errors.QueryError, match=r"values\('titel'\): Ticket has no field 'titel'"):
        check_fields(Ticket, ["titel"], attributes=lambda model: set(), what="values")
    check_fields(
        Ticket,
        ["title", "state__name", "owner__organization__name", "weburl", "tags", "pk"],
        attributes=None,
        what="values",
    )
    with pytest.raises(errors.QueryError, match="is a field, not a relation to follow"):
        check_fields(User, ["login__x"], attributes=None, what="values")
    with pytest.raises(errors.QueryError, match=r"'ownr' is no relation of Ticket \(did you mean 'owner'"):
        check_related(Ticket, ["ownr"])
    check_related(Ticket, ["customer__organization", "article"])


def test_grouped_rows_order_with_missing_values_last() -> None:
    rows = [{"g": "b", "n": 2}, {"g": None, "n": 5}, {"g": "a", "n": 2}]
    assert order_rows(rows, ["-n", "g"]) == [{"g": None, "n": 5}, {"g": "a", "n": 2}, {"g": "b", "n": 2}]
    assert order_rows(rows, ["-g"]) == [{"g": "b", "n": 2}, {"g": "a", "n": 2}, {"g": None, "n": 5}]


def test_describe_node_writes_the_filter_back() -> None:
    assert describe_node(Q(state="open", title__icontains="x")) == "state='open', title__icontains='x'"
    assert describe_node(Q(state="open") | ~Q(tags="spam")) == "Q(state='open') | Q(~Q(tags='spam'))"


def _response(status: int, body: bytes, content_type: str = "application/json") -> Response:
    return Response(status, {"Content-Type": content_type}, body, "http://z/api/v2/api/v1/tickets/1", "GET")


def test_no_route_is_route_not_found() -> None:
    route = api_error(
        _response(404, json.dumps({"error": "No route matches [GET] /api/v2/api/v1/tickets/1"}).encode())
    )
    assert isinstance(route, errors.RouteNotFound)
    assert isinstance(route, errors.NotFound)
    route.base_url = "http://z/api/v2/api/v1"
    assert "is not a route of Zammad's REST API" in str(route)
    assert "this client's API URL is http://z/api/v2/api/v1" in str(route)
    copy = pickle.loads(pickle.dumps(route))
    assert (copy.base_url, copy.status, copy.url) == (route.base_url, 404, route.url)
    page = api_error(_response(404, b"<html>Not Found</html>", "text/html"))
    assert isinstance(page, errors.RouteNotFound)  # not Zammad's JSON at all
    missing = api_error(_response(404, json.dumps({"error": "Couldn't find Ticket with 'id'=1"}).encode()))
    assert type(missing) is errors.NotFound
