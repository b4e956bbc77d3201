"""The one HTTP choke point: auth, impersonation, timeouts, retries, logging, status to exception.

Every request of a :class:`~zammad_orm.client.Client` goes through :meth:`Transport.send`. Two
transports ship with the library:

* :class:`HTTPTransport` talks HTTP through a pooled :class:`requests.Session`;
* :class:`WSGITransport` calls a WSGI application in-process (the emulator's ``app``), standard
  library only.

Both share the retry loop of :class:`~zammad_orm.transport.base.BaseTransport`: idempotent methods
(GET, HEAD, PUT, DELETE, OPTIONS; never POST) are retried on 429/502/503/504 and on connection errors
or timeouts, with jittered exponential backoff, honouring ``Retry-After``, within a bounded total
wait. When the transport gives up it raises the error of the last attempt. Every other answer is
returned as a :class:`Response`; pass it to :func:`raise_for_status` to turn an error status into
the matching exception of :mod:`zammad_orm.errors`.

Log lines go to the logger ``zammad_orm.transport``: method, path with query string, status,
milliseconds and attempt number. Headers (and so credentials) are never logged, and query parameters
whose name looks secret (``token``, ``password``, ...) are masked.

The package keeps one job per module: :mod:`~zammad_orm.transport.messages` (requests, responses,
status to exception), :mod:`~zammad_orm.transport.auth` (credentials),
:mod:`~zammad_orm.transport.base` (:class:`BaseTransport`: the send loop, its retry policy and logging),
:mod:`~zammad_orm.transport.http_transport` and :mod:`~zammad_orm.transport.wsgi_transport`. Import
everything from ``zammad_orm.transport``.
"""

from __future__ import annotations

from zammad_orm.transport.auth import Auth, BasicAuth, BearerAuth, TokenAuth
from zammad_orm.transport.base import IDEMPOTENT_METHODS, RETRY_STATUSES, BaseTransport
from zammad_orm.transport.http_transport import HTTPTransport, InsecureTransportWarning
from zammad_orm.transport.messages import (
    Headers,
    Request,
    Response,
    Transport,
    api_error,
    loggable_url,
    parse_retry_after,
    raise_for_status,
)
from zammad_orm.transport.wsgi_transport import WSGITransport

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Auth",
    "BaseTransport",
    "BasicAuth",
    "BearerAuth",
    "HTTPTransport",
    "Headers",
    "InsecureTransportWarning",
    "Request",
    "Response",
    "TokenAuth",
    "Transport",
    "WSGITransport",
    "api_error",
    "loggable_url",
    "parse_retry_after",
    "raise_for_status",
]
