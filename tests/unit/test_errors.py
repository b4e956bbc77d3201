from __future__ import annotations

import pickle

import pytest

from zammad_orm import errors
from zammad_orm.errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TagNotFound,
    UnprocessableEntity,
    ZammadError,
    api_error_for,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (422, UnprocessableEntity),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
def test_status_maps_to_the_most_specific_class(status: int, cls: type[APIError]) -> None:
    assert api_error_for(status) is cls


def test_every_public_exception_is_a_zammad_error() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, ZammadError), name


def test_every_public_exception_is_drawn_in_the_module_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if isinstance(getattr(errors, name), type):
            assert f" {name} " in doc, name


def test_api_error_carries_request_and_server_message() -> None:
    err = NotFound(
        "Couldn't find Ticket with 'id'=9",
        status=404,
        method="GET",
        url="http://z/api/v1/tickets/9",
        body=b'{"error":"x"}',
    )
    assert err.status == 404
    assert err.method == "GET"
    assert err.body == b'{"error":"x"}'
    assert str(err) == "404 Couldn't find Ticket with 'id'=9 (GET http://z/api/v1/tickets/9)"


def test_rate_limited_keeps_retry_after() -> None:
    err = RateLimited("Retry later", retry_after=2.5)
    assert err.status == 429
    assert err.retry_after == 2.5


def test_api_errors_survive_pickling_with_their_attributes() -> None:
    err = UnprocessableEntity("bad", status=422, method="POST", url="u", body=b"b")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is UnprocessableEntity
    assert (back.status, back.method, back.url, back.body, back.message) == (
        422,
        "POST",
        "u",
        b"b",
        "bad",
    )


def test_builtin_bases_let_stdlib_callers_catch_them() -> None:
    assert issubclass(errors.FieldError, TypeError)
    assert issubclass(errors.QueryError, ValueError)
    assert issubclass(errors.ConfigurationError, ValueError)
    assert issubclass(TagNotFound, KeyError)
    assert issubclass(TagNotFound, NotFound)
    assert str(TagNotFound("Tag 'x' not found")) == "Tag 'x' not found"


def test_transport_errors_are_not_api_errors() -> None:
    assert issubclass(errors.ConnectError, errors.TransportError)
    assert issubclass(errors.Timeout, errors.TransportError)
    assert not issubclass(errors.TransportError, APIError)


def test_unsupported_operation_names_model_and_operation_and_survives_pickling() -> None:
    err = errors.UnsupportedOperation("Role does not support 'delete'", model="Role", operation="delete")
    assert isinstance(err, NotFound)  # what Zammad answers a route it does not have
    assert isinstance(err, errors.QueryError)  # what an impossible search raised before
    assert (err.status, err.method, err.url) == (404, "", "")  # nothing was sent
    assert str(err) == "Role does not support 'delete'"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.UnsupportedOperation
    assert (back.model, back.operation, back.message) == ("Role", "delete", err.message)
