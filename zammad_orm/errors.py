"""The exception tree of zammad_orm: every error the library raises is one of these.

::

    ZammadError                      base of everything raised by zammad_orm
    ├── ConfigurationError           missing or contradictory settings (URL, credentials)    (ValueError)
    ├── FieldError                   unknown field or a value of the wrong type for a field  (TypeError)
    ├── QueryError                   a query that cannot be expressed or is malformed        (ValueError)
    │   └── NotSynced                a local() query of a model with no local copy yet: call
    │                                client.sync(Model) first
    ├── DecodeError                  a server reply that is not what the API promises
    ├── CacheError                   the persistent cache cannot be read or written
    ├── CacheWarning                 warned, not raised: the persistent cache failed and the    (UserWarning)
    │                                client went on (a file rebuilt, or memory only from then on)
    ├── StaleObjectError             save(if_unmodified=True) found a newer server version
    ├── DoesNotExist                 get() found nothing; per model: Ticket.DoesNotExist
    │                                (each per-model class is also a NotFound; status 404 only
    │                                when the server answered 404 for an id, 0 for a query)
    ├── MultipleObjectsReturned      get() found more than one (says how many); per model likewise
    ├── TransportError               the request did not produce an HTTP response
    │   ├── ConnectError             connection refused, reset, dropped mid-response
    │   │   └── OutcomeUnknown       a write (POST) was sent and its reply lost: it may or may not
    │   │       │                    have happened; it is never sent again
    │   │       └── OutcomeUnknownTimeout  the reply did not come in time              (also a Timeout)
    │   └── Timeout                  connect or read timeout
    └── APIError                     the server answered with an error status
        ├── BadRequest               400
        ├── AuthenticationError      401
        ├── PermissionDenied         403
        ├── NotFound                 404
        │   ├── RouteNotFound        the URL is no route of Zammad's API (a wrong base URL,
        │   │                        /api/v2, an endpoint this version lacks): not an object
        │   ├── TagNotFound          a tag name the server does not know            (KeyError)
        │   └── UnsupportedOperation an operation the resource does not offer,      (QueryError)
        │                            refused before any request is sent
        ├── UnprocessableEntity      422
        ├── RateLimited              429, with ``retry_after`` seconds when sent
        └── ServerError              5xx

:class:`APIError` carries ``status``, ``method``, ``url``, the server's message (``error_human`` or
``error`` of the JSON body) and the raw ``body``. :func:`api_error_for` picks the class for a status.
The builtin bases in parentheses let callers that only know the standard library catch them too;
:class:`UnsupportedOperation` is also a :class:`QueryError` (see there).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequest",
    "CacheError",
    "CacheWarning",
    "ConfigurationError",
    "ConnectError",
    "DecodeError",
    "DoesNotExist",
    "FieldError",
    "MultipleObjectsReturned",
    "NotFound",
    "NotSynced",
    "OutcomeUnknown",
    "OutcomeUnknownTimeout",
    "PermissionDenied",
    "QueryError",
    "RateLimited",
    "RouteNotFound",
    "ServerError",
    "StaleObjectError",
    "TagNotFound",
    "Timeout",
    "TransportError",
    "UnprocessableEntity",
    "UnsupportedOperation",
    "ZammadError",
    "api_error_for",
]


class ZammadError(Exception):
    """Base class of every exception raised by zammad_orm."""


class ConfigurationError(ZammadError, ValueError):
    """Settings are missing or contradict each other (no URL, two kinds of credentials, ...)."""


class FieldError(ZammadError, TypeError):
    """A field name is unknown to the model, or a value has the wrong type for its field."""


class QueryError(ZammadError, ValueError):
    """A query cannot be expressed in Zammad's search syntax, or is malformed.

    Raised before any request is sent; the message names the field or lookup at fault.
    """


class NotSynced(QueryError):
    """``Model.objects.local()`` before the model's local copy exists: ``client.sync(Model)`` makes it."""


class DecodeError(ZammadError):
    """The server's reply could not be decoded into what the endpoint promises."""


class CacheError(ZammadError):
    """The persistent cache could not be read or written, or holds data it refuses to load."""


class CacheWarning(ZammadError, UserWarning):
    """The persistent record cache failed and the client went on without it.

    A corrupt or unreadable cache file was rebuilt, or a full disk made the client keep its records in
    memory only. Warned once per cause.
    """


class StaleObjectError(ZammadError):
    """An optimistic save found that the object changed on the server since it was loaded."""


class DoesNotExist(ZammadError):
    """A lookup that must return exactly one object found none.

    Every model has its own subclass, ``Model.DoesNotExist``, which is also a :class:`NotFound`.
    """


class MultipleObjectsReturned(ZammadError):
    """A lookup that must return exactly one object found several."""


class TransportError(ZammadError):
    """The request did not produce an HTTP response.

    Attributes:
        request_sent: ``False`` when the request certainly never reached the server (the connection
            was refused or could not be made in time); ``True`` when it may have.

    """

    request_sent: bool = True


class ConnectError(TransportError):
    """The connection could not be made, or broke before the response was complete."""


class Timeout(TransportError):
    """The server did not answer within the timeout."""


class OutcomeUnknown(ConnectError):
    """A write that is never repeated (POST) was sent and its reply lost: it may or may not have happened.

    The connection broke, or the reply did not come in time, after the request had left. Zammad may have
    created the ticket (or the article, the tag ...) or not; the transport did not send the request again,
    because sending it twice could do it twice. Look on the server before repeating it: for a ticket
    created with a marker, ``client.tickets.find_created(marker)`` (see ``docs/reliability.md``). When the
    reply timed out, the exception is also a :class:`Timeout`.

    Attributes:
        method: The HTTP method of the request (``"POST"``).
        url: The URL of the request (secret-looking query values masked).

    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return self.message

    def about(self, what: str, how_to_check: str) -> OutcomeUnknown:
        """Return the same error (same class), its message naming ``what`` and how to check for it.

        Args:
            what: What the request was for (``"Ticket create"``).
            how_to_check: A sentence that tells how to find out whether it happened.

        """
        message = f"{what} may or may not have happened: {self.message} It was not sent again. {how_to_check}"
        return type(self)(message, method=self.method, url=self.url)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_outcome_unknown, (type(self), self.message, self.method, self.url))


def _rebuild_outcome_unknown(
    cls: type[OutcomeUnknown], message: str, method: str, url: str
) -> OutcomeUnknown:
    return cls(message, method=method, url=url)


class OutcomeUnknownTimeout(OutcomeUnknown, Timeout):
    """:class:`OutcomeUnknown` of a write whose reply did not come in time (also a :class:`Timeout`)."""


class APIError(ZammadError):
    """The server answered with an HTTP error status.

    Attributes:
        status: The HTTP status code.
        method: The HTTP method of the request.
        url: The URL of the request.
        message: The server's message (``error_human``, else ``error``), or the reason phrase.
        body: The raw response body.

    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        url: str = "",
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.body = body

    def __str__(self) -> str:
        where = f"{self.method} {self.url}".strip()
        prefix = f"{self.status} " if self.status else ""
        return f"{prefix}{self.message}" + (f" ({where})" if where else "")

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword-only attributes when the exception crosses a process boundary.
        return (
            _rebuild_api_error,
            (type(self), self.message, self.status, self.method, self.url, self.body),
        )


def _rebuild_api_error(
    cls: type[APIError], message: str, status: int, method: str, url: str, body: bytes
) -> APIError:
    return cls(message, status=status, method=method, url=url, body=body)


class BadRequest(APIError):
    """400: the request was malformed (e.g. a body that is not JSON)."""


class AuthenticationError(APIError):
    """401: the credentials were missing, wrong or expired."""


class PermissionDenied(APIError):
    """403: the authenticated user may not do this."""


class NotFound(APIError):
    """404: the object or route does not exist."""


class RouteNotFound(NotFound):
    """404 ``No route matches``: the URL is not a route of Zammad's API, so no object is missing.

    Zammad answers an unknown route with ``{"error": "No route matches [GET] /api/v2/..."}``: the base URL
    is wrong (a path such as ``/api/v2``, ``/zammad`` or a doubled ``/api/v1``), or this Zammad version
    lacks the endpoint (checklists before 6.4). A 404 that is not Zammad's JSON (a proxy's or another
    web server's page) is one too. Never a ``Model.DoesNotExist``.

    Attributes:
        base_url: The API URL of the client that sent the request (``https://host/api/v1``), shown in the
            message; empty when not known.

    """

    def __init__(self, message: str, *, base_url: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.base_url = base_url

    def __str__(self) -> str:
        where = f"{self.method} {self.url}".strip() or "the URL"
        base = f"; this client's API URL is {self.base_url}" if self.base_url else ""
        return (
            f"{self.status or 404} {where} is not a route of Zammad's REST API (the server answered: "
            f"{self.message}){base}. Check the URL given to connect(): the server's address "
            "(https://zammad.example.com, with or without /api/v1); or this Zammad version lacks the endpoint"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_route,
            (self.message, self.status, self.method, self.url, self.body, self.base_url),
        )


def _rebuild_route(
    message: str, status: int, method: str, url: str, body: bytes, base_url: str
) -> RouteNotFound:
    return RouteNotFound(message, status=status, method=method, url=url, body=body, base_url=base_url)


class TagNotFound(NotFound, KeyError):
    """A tag name that does not exist (the seed API documents ``KeyError`` for this case)."""

    def __str__(self) -> str:  # KeyError would quote the message; keep APIError's form.
        return APIError.__str__(self)


class UnsupportedOperation(NotFound, QueryError):
    """The resource does not offer this operation (``delete`` a ``Role``): refused before any request.

    What each resource can do is declared once on its model (``Model._meta.capabilities``, the table
    in the models guide). The exception is a :class:`NotFound` because Zammad answers a route it does
    not have with 404 ``No route matches``, and a :class:`QueryError` because that is what a search or
    listing the library could not do raised before; handlers written for either keep working.
    ``status`` is 404; ``method`` and ``url`` stay empty, since nothing was sent.

    Attributes:
        model: The name of the model (``"Role"``).
        operation: The operation refused: ``"list"``, ``"get"``, ``"create"``, ``"update"``,
            ``"delete"`` or ``"search"`` (empty when no particular operation was asked for).

    """

    def __init__(self, message: str, *, model: str = "", operation: str = "") -> None:
        super().__init__(message, status=404)
        self.model = model
        self.operation = operation

    def __str__(self) -> str:  # nothing was sent: no status or URL to show
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_unsupported, (self.message, self.model, self.operation))


def _rebuild_unsupported(message: str, model: str, operation: str) -> UnsupportedOperation:
    return UnsupportedOperation(message, model=model, operation=operation)


class UnprocessableEntity(APIError):
    """422: the server refused the data (validation, unknown names, references)."""


class RateLimited(APIError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the server asked to wait, when it sent ``Retry-After``.

    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        method: str = "",
        url: str = "",
        body: bytes = b"",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, method=method, url=url, body=body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    422: UnprocessableEntity,
    429: RateLimited,
}


def api_error_for(status: int) -> type[APIError]:
    """Return the :class:`APIError` subclass for an HTTP error status.

    Args:
        status: An HTTP status code of 400 or above.

    Returns:
        The most specific class: e.g. :class:`NotFound` for 404, :class:`ServerError` for any 5xx,
        plain :class:`APIError` for other 4xx codes.

    """
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)
