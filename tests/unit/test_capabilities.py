"""Every operation a resource does not declare is refused before a request is sent.

The client's transport fails the test on any send, so an operation that reached the wire would show as
an ``AssertionError`` instead of the ``UnsupportedOperation`` expected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm import errors
from zammad_orm.meta import OPERATIONS, Operation, model
from zammad_orm.models import Model, registry
from zammad_orm.transport import Request, Response


class NoSend:
    """A transport that must never be asked to send."""

    def __init__(self) -> None:
        self.sent: list[Request] = []

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        raise AssertionError(f"a request was sent: {request.method} {request.url}")

    def close(self) -> None:
        pass


@pytest.fixture
def client() -> Iterator[zo.Client]:
    c = zo.Client("http://zammad.invalid", http_token="t", transport=NoSend(), cache=False)
    yield c
    c.close()


def _attempts(client: zo.Client, model_class: type[Model], operation: Operation) -> list[Callable[[], Any]]:
    """Every way the public API asks for ``operation`` on ``model_class``."""
    manager = model_class.objects.using(client)
    loaded = client.load(model_class, {"id": 1})
    ways: dict[Operation, list[Callable[[], Any]]] = {
        "list": [lambda: list(manager.iter()), lambda: list(manager.all()), manager.count],
        "get": [lambda: manager.get(1), loaded.reload],
        "create": [manager.create, lambda: model_class().save()],
        "update": [loaded.update, loaded.save],
        "delete": [loaded.delete],
        "search": [lambda: manager.search("id:1")],
    }
    return ways[operation]


UNSUPPORTED = [
    (name, operation)
    for name, model_class in sorted(registry.items())
    for operation in OPERATIONS
    if operation not in model_class._meta.capabilities
]


def test_the_resources_zammad_restricts_declare_so() -> None:
    refused = set(UNSUPPORTED)
    assert {("Role", "delete"), ("TimeAccountingType", "delete")} <= refused
    for constants in ("StateType", "ArticleType", "ArticleSender"):
        assert {(constants, op) for op in ("create", "update", "delete")} <= refused
    assert ("OnlineNotification", "create") in refused
    assert ("Tag", "get") in refused


@pytest.mark.parametrize(("name", "operation"), UNSUPPORTED, ids=[f"{n}-{o}" for n, o in UNSUPPORTED])
def test_an_unsupported_operation_raises_before_any_request(
    client: zo.Client, name: str, operation: Operation
) -> None:
    model_class = registry[name]
    for attempt in _attempts(client, model_class, operation):
        with pytest.raises(errors.UnsupportedOperation) as caught:
            attempt()
        assert caught.value.model == name
        assert name in str(caught.value)
        assert caught.value.operation == operation
    transport = client.transport
    assert isinstance(transport, NoSend)
    assert transport.sent == []


def test_the_error_names_model_and_operation_and_keeps_the_old_bases(client: zo.Client) -> None:
    role = client.load(zo.Role, {"id": 9})
    with pytest.raises(errors.NotFound, match="No route matches") as caught:
        role.delete()
    assert str(caught.value).startswith("Role does not support 'delete'")
    with pytest.raises(errors.QueryError, match="no search endpoint"):
        client.states.search("name:open")
    with pytest.raises(errors.QueryError, match="for_ticket"):
        client.mentions.iter()


def test_seeded_constants_are_listed_and_got_without_a_request_but_have_no_endpoint(
    client: zo.Client,
) -> None:
    assert client.state_types.get(5).name == "closed"
    assert [s.name for s in client.article_senders.iter()] == ["Agent", "Customer", "System"]
    with pytest.raises(errors.UnsupportedOperation, match="no REST endpoint for StateType"):
        client.state_types.get(5).reload()
    with pytest.raises(errors.UnsupportedOperation, match="no REST endpoint for ArticleType"):
        _ = client.article_types.endpoint


def test_a_capability_must_be_an_operation() -> None:
    with pytest.raises(errors.ConfigurationError, match="frobnicate"):
        model(endpoint="x", collection="x", capabilities=("list", "frobnicate"))  # type: ignore[arg-type]
