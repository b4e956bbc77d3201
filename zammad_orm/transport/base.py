"""The base of every transport: :class:`BaseTransport`, the send loop with its retry policy and logging.

Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS; never POST) are retried on 429/502/503/504 and on
connection errors or timeouts, with jittered exponential backoff, honouring ``Retry-After``, within a
bounded total wait. When the transport gives up it raises the error of the last attempt. A POST whose
reply was lost after it was sent raises :class:`~zammad_orm.errors.OutcomeUnknown`: it may or may not
have happened, and it is not sent again.

It is also the one place where the headers of a request are built (``Accept``, ``Content-Type``, the
credentials of ``Request.auth``); what a request carries is the client's decision.

Log lines go to the logger ``zammad_orm.transport``: method, path with query string, status,
milliseconds and attempt number; never headers, so never credentials.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any

from zammad_orm.errors import (
    ConfigurationError,
    ConnectError,
    OutcomeUnknown,
    OutcomeUnknownTimeout,
    Timeout,
    TransportError,
)
from zammad_orm.transport.auth import Auth
from zammad_orm.transport.messages import (
    Request,
    Response,
    _public_url,
    api_error,
    loggable_url,
    parse_retry_after,
)

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "BaseTransport"]

logger = logging.getLogger("zammad_orm.transport")

#: Methods that may be sent twice without changing the outcome; only these are retried.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses that mean "try again later" rather than "your request is wrong".
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class BaseTransport:
    """The retry loop and logging shared by the transports; subclasses implement :meth:`_send_once`.

    Args:
        retries: Retries after the first attempt, for idempotent methods only.
        backoff: Base delay in seconds; attempt ``n`` waits about ``backoff * 2**n`` (jittered to
            50–100 %), or what ``Retry-After`` asks.
        max_wait: The most seconds to spend waiting between attempts of one request. When the next wait
            would pass it, the transport gives up at once and raises the last attempt's error.
        auth: Credentials of the requests that carry none (``Request.auth``); a client puts its own on
            every request, so this is for a transport used on its own.

    """

    def __init__(
        self,
        *,
        retries: int = 3,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        auth: Auth | None = None,
    ) -> None:
        if retries < 0:
            raise ConfigurationError(f"retries must be >= 0, got {retries}")
        if backoff < 0 or max_wait < 0:
            raise ConfigurationError(f"backoff and max_wait must be >= 0, got {backoff} and {max_wait}")
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.auth = auth
        self._random = random.Random()
        self._random_lock = threading.Lock()

    def _send_once(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        raise NotImplementedError

    def _headers(self, request: Request, content_type: str | None) -> dict[str, str]:
        """Return the headers ``request`` is sent with: the one place where headers are added.

        ``Accept: application/json``, the body's ``Content-Type``, the ``Authorization`` of
        ``request.auth`` (else of the transport's ``auth``), then the request's own headers, which win
        (``From``, or an explicit ``Authorization``).
        """
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        auth = request.auth if request.auth is not None else self.auth
        if auth is not None:
            auth.apply(headers)
        headers.update(request.headers)
        return headers

    def close(self) -> None:
        """Release resources (nothing to release here)."""

    def __enter__(self) -> BaseTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _delay(self, attempt: int) -> float:
        base = self.backoff * 2.0**attempt
        with self._random_lock:
            return base * self._random.uniform(0.5, 1.0)

    def send(self, request: Request) -> Response:
        """Send ``request``, retrying idempotent methods on transient failures.

        Returns:
            The response of the last attempt, whatever its status (see :func:`raise_for_status`).

        Raises:
            ConnectError: The connection failed or broke mid-response, and retrying gave up.
            Timeout: The server did not answer in time, and retrying gave up.
            RateLimited: 429 after retrying gave up (``retry_after`` from the last answer).
            ServerError: 502/503/504 after retrying gave up.
            TransportError: No usable response for another reason (too many redirects); not retried.
            ConfigurationError: The URL is malformed or its scheme unsupported.

        """
        method = request.method.upper()
        url = request.full_url
        body, content_type = request.body()  # encoded once, sent by every attempt
        headers = self._headers(request, content_type)
        retryable = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if retryable else 0)
        where = ""  # the URL as logged (query values masked): made when a line is written
        waited = 0.0
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = self._send_once(method, url, headers, body)
            except (ConnectError, Timeout) as exc:
                if logger.isEnabledFor(logging.DEBUG):
                    ms = (time.perf_counter() - started) * 1000
                    where = where or loggable_url(url)
                    logger.debug(
                        "%s %s failed after %.0f ms (attempt %d/%d): %s",
                        method, where, ms, attempt, attempts, type(exc).__name__,
                        extra=_log_extra(method, where, None, ms, attempt),
                    )  # fmt: skip
                failure: Exception = exc
                retry_after = None
            else:
                if logger.isEnabledFor(logging.DEBUG):
                    ms = response.elapsed * 1000
                    where = where or loggable_url(url)
                    logger.debug(
                        "%s %s -> %d in %.0f ms (attempt %d/%d)",
                        method, where, response.status, ms, attempt, attempts,
                        extra=_log_extra(method, where, response.status, ms, attempt),
                    )  # fmt: skip
                if not retryable or response.status not in RETRY_STATUSES:
                    return response
                failure = api_error(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt == attempts:
                break
            delay = self._delay(attempt - 1) if retry_after is None else retry_after
            where = where or loggable_url(url)
            if waited + delay > self.max_wait:
                logger.warning(
                    "%s %s: giving up after %d attempt(s); the next wait of %.2f s passes max_wait=%.2f s",
                    method, where, attempt, delay, self.max_wait,
                    extra=_log_extra(method, where, None, 0.0, attempt),
                )  # fmt: skip
                raise failure
            logger.info(
                "%s %s: %s, retrying in %.2f s (attempt %d/%d)",
                method, where, _describe(failure), delay, attempt + 1, attempts,
                extra=_log_extra(method, where, None, 0.0, attempt),
            )  # fmt: skip
            time.sleep(delay)
            waited += delay
        if retryable and attempts > 1:
            logger.warning("%s %s: giving up after %d attempts", method, where or loggable_url(url), attempts)
        if not retryable and isinstance(failure, TransportError) and failure.request_sent:
            raise _outcome_unknown(method, url, failure) from failure
        raise failure


def _outcome_unknown(method: str, url: str, failure: TransportError) -> OutcomeUnknown:
    """Return the error of a request that is never repeated, sent, and whose reply was lost."""
    reason = str(failure).split(": ", 1)[-1]  # the transport's message after "<METHOD> <path>: "
    lost = (
        "its reply did not come in time"
        if isinstance(failure, Timeout)
        else "the connection broke before its reply was complete"
    )
    message = (
        f"{method} {loggable_url(url)}: the request was sent, but {lost} ({reason}); the server may or may"
        f" not have carried it out. A {method} is never sent twice by the transport (it could happen twice):"
        " check on the server before sending it again."
    )
    kind = OutcomeUnknownTimeout if isinstance(failure, Timeout) else OutcomeUnknown
    return kind(message, method=method, url=_public_url(url))


def _describe(error: Exception) -> str:
    status = getattr(error, "status", None)
    return f"status {status}" if status else type(error).__name__


def _log_extra(method: str, path: str, status: int | None, ms: float, attempt: int) -> dict[str, Any]:
    return {"method": method, "path": path, "status": status, "elapsed_ms": round(ms, 1), "attempt": attempt}
