"""The one HTTP choke point: auth, impersonation, timeouts, retries, logging, status to exception.

Every request of a :class:`~zammad_orm.client.Client` goes through :meth:`Transport.send`. Two
transports ship with the library:

* :class:`HTTPTransport` talks HTTP through a pooled :class:`requests.Session`;
* :class:`WSGITransport` calls a WSGI application in-process (the emulator's ``app``), standard
  library only.

Both share the retry loop of :class:`BaseTransport`: idempotent methods (GET, HEAD, PUT, DELETE,
OPTIONS; never POST) are retried on 429/502/503/504 and on connection errors or timeouts, with jittered
exponential backoff, honouring ``Retry-After``, within a bounded total wait. When the transport gives
up it raises the error of the last attempt. Every other answer is returned as a :class:`Response`;
pass it to :func:`raise_for_status` to turn an error status into the matching exception of
:mod:`zammad_orm.errors`.

Log lines go to the logger ``zammad_orm.transport``: method, path with query string, status,
milliseconds and attempt number. Headers (and so credentials) are never logged, and query parameters
whose name looks secret (``token``, ``password``, ...) are masked.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http
import http.cookiejar
import io
import json as jsonlib
import logging
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timezone
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import attrs
import requests
import requests.adapters
import requests.exceptions
import urllib3.exceptions

from zammad_orm.errors import (
    ConfigurationError,
    ConnectError,
    DecodeError,
    FieldError,
    RateLimited,
    Timeout,
    TransportError,
    api_error_for,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Auth",
    "BaseTransport",
    "BasicAuth",
    "BearerAuth",
    "HTTPTransport",
    "Headers",
    "Request",
    "Response",
    "TokenAuth",
    "Transport",
    "WSGITransport",
    "parse_retry_after",
    "raise_for_status",
]

logger = logging.getLogger("zammad_orm.transport")

#: Methods that may be sent twice without changing the outcome; only these are retried.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses that mean "try again later" rather than "your request is wrong".
RETRY_STATUSES = frozenset({429, 502, 503, 504})

_SECRET_PARAM = re.compile(r"token|password|passwd|secret|api[_-]?key|access[_-]?key", re.IGNORECASE)
_SNIPPET = 200


class Headers(Mapping[str, str]):
    """A read-only mapping of HTTP headers whose lookups ignore case.

    Args:
        items: The headers, as a mapping or ``(name, value)`` pairs; a later duplicate name wins.

    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        # Keep the original spelling of the name for iteration, keyed by its lower-case form.
        self._items: dict[str, tuple[str, str]] = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k: v for k, (_, v) in self._items.items()} == {str(k).lower(): v for k, v in other.items()}

    def __hash__(self) -> int:
        return hash(frozenset((k, v) for k, (_, v) in self._items.items()))

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def _to_headers(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
    return value if isinstance(value, Headers) else Headers(value)


@attrs.frozen
class Request:
    """One HTTP request, as the client hands it to a transport.

    Attributes:
        method: The HTTP method (any case; sent upper-case).
        url: The absolute URL, without query string parameters from ``params``.
        params: Query parameters; ``None`` values are left out, booleans are sent as ``true``/``false``,
            sequences repeat the name.
        json: A JSON-serialisable body, sent with ``Content-Type: application/json``; ``None`` for none.
        headers: Extra headers (``Authorization`` from an :class:`Auth`, ``From`` for impersonation).
        data: A raw body, used when ``json`` is ``None``.

    """

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    data: bytes | None = None

    @property
    def full_url(self) -> str:
        """The URL with ``params`` encoded into its query string."""
        query = _encode_params(self.params)
        if not query:
            return self.url
        parts = urlsplit(self.url)
        joined = f"{parts.query}&{query}" if parts.query else query
        return urlunsplit(parts._replace(query=joined))

    def body(self) -> tuple[bytes | None, str | None]:
        """Return the encoded body and its content type (``(None, None)`` without a body)."""
        if self.json is not None:
            try:
                text = jsonlib.dumps(self.json, ensure_ascii=False, separators=(",", ":"))
            except (TypeError, ValueError) as exc:
                raise FieldError(f"{self.method} {self.url}: body is not JSON-serialisable: {exc}") from exc
            return text.encode("utf-8"), "application/json"
        if self.data is not None:
            return self.data, None
        return None, None


@attrs.frozen
class Response:
    """One HTTP response, fully read.

    Attributes:
        status: The HTTP status code.
        headers: The response headers; lookups ignore case.
        body: The raw body.
        url: The URL that was requested (with query string).
        method: The HTTP method that was sent.
        elapsed: Seconds from sending the request to having the whole body.

    """

    status: int
    headers: Headers = attrs.field(converter=_to_headers)
    body: bytes
    url: str
    method: str
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """``True`` for a status below 400."""
        return self.status < 400

    @property
    def reason(self) -> str:
        """The standard reason phrase of the status (``"Not Found"``), or ``""`` for an unknown one."""
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Decode the body as JSON.

        Returns:
            The decoded value, or ``None`` when the body is empty (Zammad answers some DELETEs so).

        Raises:
            DecodeError: The body is not JSON; the message names the URL and shows the start of the body.

        """
        if not self.body.strip():
            return None
        try:
            return jsonlib.loads(self.body)
        except ValueError as exc:
            snippet = self.text[:_SNIPPET]
            raise DecodeError(
                f"{self.method} {self.url}: the {self.status} reply is not JSON ({exc}): {snippet!r}"
            ) from exc


@runtime_checkable
class Transport(Protocol):
    """What a client needs from a transport."""

    def send(self, request: Request) -> Response:
        """Send ``request`` and return the complete response."""
        ...

    def close(self) -> None:
        """Release connections and other resources."""
        ...


# --- authentication ---------------------------------------------------------------------------------


class Auth:
    """Credentials that put an ``Authorization`` header on every request.

    Subclasses implement :meth:`apply`; their ``repr`` never shows the secret.
    """

    __slots__ = ()

    def apply(self, headers: dict[str, str]) -> None:
        """Add the credentials to ``headers`` (in place)."""
        raise NotImplementedError

    @property
    def identity(self) -> str:
        """A stable string naming the credentials without revealing them (for cache namespaces)."""
        raise NotImplementedError


def _fingerprint(kind: str, secret: str) -> str:
    return f"{kind}:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def _require_text(kind: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{kind} needs a non-empty string {name}")
    return value


class TokenAuth(Auth):
    """A Zammad API access token: ``Authorization: Token token=<token>``.

    Args:
        token: The personal access token.

    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = _require_text("TokenAuth", "token", token)

    def apply(self, headers: dict[str, str]) -> None:
        """Set ``Authorization: Token token=<token>``."""
        headers["Authorization"] = f"Token token={self._token}"

    @property
    def identity(self) -> str:
        """``token:`` and a short hash of the token."""
        return _fingerprint("token", self._token)

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"


class BearerAuth(Auth):
    """An OAuth2 access token: ``Authorization: Bearer <token>``.

    Args:
        token: The OAuth2 access token.

    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = _require_text("BearerAuth", "token", token)

    def apply(self, headers: dict[str, str]) -> None:
        """Set ``Authorization: Bearer <token>``."""
        headers["Authorization"] = f"Bearer {self._token}"

    @property
    def identity(self) -> str:
        """``bearer:`` and a short hash of the token."""
        return _fingerprint("bearer", self._token)

    def __repr__(self) -> str:
        return "BearerAuth(token='***')"


class BasicAuth(Auth):
    """Login and password: ``Authorization: Basic base64(login:password)``.

    Args:
        username: The login or email address.
        password: The password.

    """

    __slots__ = ("_password", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = _require_text("BasicAuth", "username", username)
        self._password = _require_text("BasicAuth", "password", password)

    def apply(self, headers: dict[str, str]) -> None:
        """Set ``Authorization: Basic ...``."""
        raw = f"{self.username}:{self._password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")

    @property
    def identity(self) -> str:
        """``basic:<username>`` (the login is not secret; the password never appears)."""
        return f"basic:{self.username}"

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='***')"


# --- errors -----------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header: delay seconds or an HTTP date.

    Args:
        value: The header value, or ``None``.
        now: The current time as a Unix timestamp (defaults to :func:`time.time`).

    Returns:
        Seconds to wait (never negative), or ``None`` when the value is missing or unreadable.

    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


def _error_message(response: Response) -> str:
    try:
        data = response.json()
    except DecodeError:
        data = None
    if isinstance(data, dict):
        for key in ("error_human", "error"):
            if isinstance(data.get(key), str) and data[key]:
                return str(data[key])
    text = response.text.strip()
    if text:
        return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"
    return response.reason or f"HTTP {response.status}"


def raise_for_status(response: Response) -> None:
    """Raise the :mod:`zammad_orm.errors` exception for an error status; do nothing below 400.

    The message is the JSON body's ``error_human``, else its ``error``, else the body text (shortened),
    else the reason phrase. The exception keeps the raw body; :class:`~zammad_orm.errors.RateLimited`
    also gets ``retry_after`` from the ``Retry-After`` header.

    Args:
        response: A response from :meth:`Transport.send`.

    Raises:
        APIError: The subclass :func:`~zammad_orm.errors.api_error_for` picks for the status.

    """
    if response.status < 400:
        return
    raise _api_error(response)


def _api_error(response: Response) -> Exception:
    cls = api_error_for(response.status)
    common: dict[str, Any] = {
        "status": response.status,
        "method": response.method,
        "url": response.url,
        "body": response.body,
    }
    message = _error_message(response)
    if issubclass(cls, RateLimited):
        return cls(message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **common)
    return cls(message, **common)


# --- helpers shared by the transports -----------------------------------------------------------------


def _param_value(value: Any) -> str:
    if isinstance(value, bool):  # Zammad reads only lowercase true/false (spec §2.1).
        return "true" if value else "false"
    return str(value)


def _encode_params(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            pairs.extend((name, _param_value(v)) for v in value)
        else:
            pairs.append((name, _param_value(value)))
    return urlencode(pairs)


def _loggable(url: str) -> str:
    """Return the path and query string of ``url`` with secret-looking parameters masked.

    The scheme, host and any ``user:password@`` part are dropped.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    if not parts.query:
        return path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs]
    return f"{path}?{urlencode(masked, safe='*')}"


def _request_headers(request: Request, auth: Auth | None) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if auth is not None:
        auth.apply(headers)
    headers.update(request.headers)  # the caller's headers win (an explicit Authorization, From).
    return headers


class BaseTransport:
    """The retry loop and logging shared by the transports; subclasses implement :meth:`_send_once`.

    Args:
        retries: Retries after the first attempt, for idempotent methods only.
        backoff: Base delay in seconds; attempt ``n`` waits about ``backoff * 2**n`` (jittered to
            50–100 %), or what ``Retry-After`` asks.
        max_wait: The most seconds to spend waiting between attempts of one request. When the next wait
            would pass it, the transport gives up at once and raises the last attempt's error.
        auth: Credentials added to every request (a request's own ``Authorization`` header wins).

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

    def _send_once(self, request: Request, url: str, headers: dict[str, str]) -> Response:
        raise NotImplementedError

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
        headers = _request_headers(request, self.auth)
        retryable = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if retryable else 0)
        where = _loggable(url)
        waited = 0.0
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = self._send_once(request, url, headers)
            except (ConnectError, Timeout) as exc:
                ms = (time.perf_counter() - started) * 1000
                logger.debug(
                    "%s %s failed after %.0f ms (attempt %d/%d): %s",
                    method, where, ms, attempt, attempts, type(exc).__name__,
                    extra=_log_extra(method, where, None, ms, attempt),
                )  # fmt: skip
                failure: Exception = exc
                retry_after = None
            else:
                ms = response.elapsed * 1000
                logger.debug(
                    "%s %s -> %d in %.0f ms (attempt %d/%d)",
                    method, where, response.status, ms, attempt, attempts,
                    extra=_log_extra(method, where, response.status, ms, attempt),
                )  # fmt: skip
                if not retryable or response.status not in RETRY_STATUSES:
                    return response
                failure = _api_error(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt == attempts:
                break
            delay = self._delay(attempt - 1) if retry_after is None else retry_after
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
            logger.warning("%s %s: giving up after %d attempts", method, where, attempts)
        raise failure


def _describe(error: Exception) -> str:
    status = getattr(error, "status", None)
    return f"status {status}" if status else type(error).__name__


def _log_extra(method: str, path: str, status: int | None, ms: float, attempt: int) -> dict[str, Any]:
    return {"method": method, "path": path, "status": status, "elapsed_ms": round(ms, 1), "attempt": attempt}


# --- HTTP ---------------------------------------------------------------------------------------------


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    # Installed as the session's auth so requests never replaces our Authorization header with
    # credentials it finds in ~/.netrc.
    return request


class HTTPTransport(BaseTransport):
    """Send requests over HTTP(S) with a pooled :class:`requests.Session`.

    Args:
        timeout: Seconds to wait for the connection and for each read: one number for both, or a
            ``(connect, read)`` pair.
        retries: Retries after the first attempt, for idempotent methods only.
        backoff: Base delay of the jittered exponential backoff, in seconds.
        max_wait: The most seconds to spend waiting between attempts of one request.
        verify: ``True`` to check TLS certificates against the default CA bundle, a path to a CA bundle
            file or directory, or ``False`` to skip the check (never in production).
        pool_size: Connections kept open per host.
        auth: Credentials added to every request.

    Raises:
        ConfigurationError: A setting is out of range, or the CA bundle path does not exist.

    """

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retries: int = 3,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        verify: bool | str = True,
        pool_size: int = 10,
        auth: Auth | None = None,
    ) -> None:
        super().__init__(retries=retries, backoff=backoff, max_wait=max_wait, auth=auth)
        self.timeout = _check_timeout(timeout)
        if isinstance(verify, str) and not os.path.exists(verify):
            raise ConfigurationError(f"CA bundle {verify!r} does not exist")
        if pool_size < 1:
            raise ConfigurationError(f"pool_size must be >= 1, got {pool_size}")
        self.verify = verify
        self.session = requests.Session()
        self.session.auth = _keep_headers
        # Keep no cookies: Zammad authenticates a session cookie before any header (spec §1.1), so a
        # cookie from one answer could outlive a change of credentials; every request carries its own.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"HTTPTransport(timeout={self.timeout!r}, retries={self.retries}, auth={self.auth!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def _send_once(self, request: Request, url: str, headers: dict[str, str]) -> Response:
        body, content_type = request.body()
        if content_type is not None:
            headers = {"Content-Type": content_type, **headers}
        method = request.method.upper()
        started = time.perf_counter()
        try:
            reply = self.session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                # Follow redirects (http -> https, a moved host) only where repeating is harmless;
                # requests drops the Authorization header when the host changes.
                allow_redirects=method in ("GET", "HEAD"),
            )
            content = reply.content  # read already (stream=False); named here so errors map below
        except requests.exceptions.Timeout as exc:
            raise Timeout(
                f"{method} {_loggable(url)}: no answer within {self.timeout} s ({_reason(exc)})"
            ) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise ConfigurationError(f"invalid URL {url!r}: {exc}") from exc
        except requests.exceptions.InvalidSchema as exc:
            raise ConfigurationError(f"unsupported URL scheme in {url!r}: {exc}") from exc
        except requests.exceptions.ContentDecodingError as exc:
            raise DecodeError(
                f"{method} {_loggable(url)}: the compressed body does not decode: {exc}"
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.HTTPError,
        ) as exc:
            raise ConnectError(f"{method} {_loggable(url)}: connection failed: {_reason(exc)}") from exc
        except requests.exceptions.RequestException as exc:  # TooManyRedirects, ...: not transient
            raise TransportError(f"{method} {_loggable(url)}: {type(exc).__name__}: {_reason(exc)}") from exc
        except OSError as exc:  # a socket error requests did not wrap
            raise ConnectError(f"{method} {_loggable(url)}: connection failed: {exc}") from exc
        return Response(
            status=reply.status_code,
            headers=reply.headers.items(),
            body=content,
            url=reply.url if reply.history else url,
            method=method,
            elapsed=time.perf_counter() - started,
        )


def _reason(exc: BaseException) -> str:
    # requests wraps urllib3's error, whose text repeats the full URL (query string included); the
    # innermost reason names host and port only, and the message already has the masked path.
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return str(getattr(inner, "reason", None) or inner)


def _check_timeout(timeout: float | tuple[float, float]) -> float | tuple[float, float]:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if len(values) not in (1, 2) or any(not isinstance(v, (int, float)) or v <= 0 for v in values):
        raise ConfigurationError(
            f"timeout must be a positive number or a (connect, read) pair, got {timeout!r}"
        )
    return timeout


# --- WSGI ---------------------------------------------------------------------------------------------


class WSGITransport(BaseTransport):
    """Call a WSGI application in-process, as if over HTTP (standard library only).

    Useful with the emulator (``Emulator(...).app``) when real sockets are not wanted. Retries work as
    for :class:`HTTPTransport`; a body that breaks off (an iterator that raises :class:`OSError`, or
    fewer bytes than ``Content-Length``) is a :class:`~zammad_orm.errors.ConnectError`.

    Args:
        app: The WSGI application.
        retries: Retries after the first attempt, for idempotent methods only.
        backoff: Base delay of the jittered exponential backoff, in seconds.
        max_wait: The most seconds to spend waiting between attempts of one request.
        auth: Credentials added to every request.

    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        retries: int = 3,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        auth: Auth | None = None,
    ) -> None:
        super().__init__(retries=retries, backoff=backoff, max_wait=max_wait, auth=auth)
        self.app = app

    def __repr__(self) -> str:
        return f"WSGITransport({self.app!r}, retries={self.retries}, auth={self.auth!r})"

    def _send_once(self, request: Request, url: str, headers: dict[str, str]) -> Response:
        method = request.method.upper()
        body, content_type = request.body()
        environ = _environ(method, url, headers, body or b"", content_type)
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            if exc_info is not None and captured.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            captured["status"] = status
            captured["headers"] = response_headers
            return written.append

        started = time.perf_counter()
        result = self.app(environ, start_response)
        try:
            chunks = [bytes(chunk) for chunk in result]
        except OSError as exc:
            raise ConnectError(f"{method} {_loggable(url)}: connection dropped mid-response: {exc}") from exc
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if "status" not in captured:
            raise ConnectError(f"{method} {_loggable(url)}: the application sent no status line")
        content = b"".join(written + chunks)
        reply_headers = Headers(captured["headers"])
        _check_length(method, url, reply_headers, content)
        return Response(
            status=int(captured["status"].split(" ", 1)[0]),
            headers=reply_headers,
            body=b"" if method == "HEAD" else content,
            url=url,
            method=method,
            elapsed=time.perf_counter() - started,
        )


def _check_length(method: str, url: str, headers: Headers, content: bytes) -> None:
    declared = headers.get("Content-Length")
    if declared is None or method == "HEAD":
        return
    try:
        expected = int(declared)
    except ValueError:
        return
    if len(content) < expected:
        raise ConnectError(
            f"{method} {_loggable(url)}: incomplete read, the body broke off after "
            f"{len(content)} of {expected} bytes"
        )


def _environ(
    method: str, url: str, headers: Mapping[str, str], body: bytes, content_type: str | None
) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        # PEP 3333: PATH_INFO is the percent-decoded path as a latin-1 "bytes in a str".
        "PATH_INFO": unquote(parts.path or "/", encoding="latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc.rpartition("@")[2] or host,
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ
