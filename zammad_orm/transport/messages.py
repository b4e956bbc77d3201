"""Requests, responses and their errors: the values that pass through a transport.

:class:`Request` is what a client hands to :meth:`Transport.send`; :class:`Response` is the complete
answer. :func:`raise_for_status` turns an error status into the matching exception of
:mod:`zammad_orm.errors`, with the server's message. The helpers here also mask secret-looking query
parameters for log lines and error messages.
"""

from __future__ import annotations

import email.utils
import http
import json as jsonlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import timezone
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from zammad_orm import _json
from zammad_orm.errors import APIError, DecodeError, FieldError, RateLimited, RouteNotFound, api_error_for
from zammad_orm.transport.auth import Auth

__all__ = [
    "Headers",
    "Request",
    "Response",
    "Transport",
    "api_error",
    "loggable_url",
    "parse_retry_after",
    "raise_for_status",
]

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
        headers: Extra headers (``From`` for impersonation); they win over the headers the transport adds.
        data: A raw body, used when ``json`` is ``None``.
        auth: The credentials of this request; the transport turns them into the ``Authorization``
            header (``None``: the transport's own ``auth``, if any).

    """

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    data: bytes | None = None
    auth: Auth | None = None

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
            return _json.loads(self.body)
        except ValueError as exc:
            snippet = self.text[:_SNIPPET]
            raise DecodeError(
                f"{self.method} {self.url}: the {self.status} reply is not JSON ({exc}): {snippet!r}"
            ) from exc


@runtime_checkable
class Transport(Protocol):
    """What a client needs from a transport."""

    def send(self, request: Request) -> Response:
        """Send ``request`` and return the complete response.

        The transport builds the headers: ``Accept``, ``Content-Type``, the ``Authorization`` of
        ``request.auth``, then ``request.headers`` (:class:`~zammad_orm.transport.base.BaseTransport`
        does all of it).
        """
        ...

    def close(self) -> None:
        """Release connections and other resources."""
        ...


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
    if _is_html(response, text):
        # A proxy's or load balancer's error page (nginx's 502/504): its title, not its markup.
        title = _HTML_TITLE.search(text)
        import html  # an HTML error page: rare

        name = " ".join(html.unescape(title.group(1)).split()) if title else ""
        name = name or response.reason or f"HTTP {response.status}"
        return f"{name} (an HTML page, not a Zammad reply: a proxy or gateway in front of Zammad answered)"
    if text:
        return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"
    return response.reason or f"HTTP {response.status}"


def _no_route(response: Response) -> bool:
    """Whether a 404 says the URL is no route (``No route matches``, or not Zammad's JSON at all)."""
    try:
        data = response.json()
    except DecodeError:
        return True  # an HTML page of a proxy or another server: not Zammad's API
    if not isinstance(data, dict):
        return True
    error = data.get("error")
    return isinstance(error, str) and error.startswith("No route matches")


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _is_html(response: Response, text: str) -> bool:
    content_type = (response.headers.get("Content-Type") or "").lower()
    return "html" in content_type or text[:15].lower().startswith(("<!doctype html", "<html"))


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
    raise api_error(response)


def api_error(response: Response) -> APIError:
    """Return (not raise) the :mod:`zammad_orm.errors` exception for an error response.

    What :func:`raise_for_status` raises; the transports also use it for the error of a last attempt.

    Args:
        response: A response with a status of 400 or above.

    Returns:
        The :class:`~zammad_orm.errors.APIError` subclass for the status, with the server's message.

    """
    cls = api_error_for(response.status)
    if response.status == 404 and _no_route(response):
        cls = RouteNotFound
    common: dict[str, Any] = {
        "status": response.status,
        "method": response.method,
        "url": _public_url(response.url),
        "body": response.body,
    }
    message = _error_message(response)
    if issubclass(cls, RateLimited):
        return cls(message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **common)
    return cls(message, **common)


# --- URLs: query strings, and what log lines and errors may show ---------------------------------------


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


def _public_url(url: str) -> str:
    """Return ``url`` as an error may show it: secret-looking query values and ``user:password@`` masked."""
    parts = urlsplit(url)
    if not parts.scheme:
        return loggable_url(url)
    host = parts.netloc.rpartition("@")[2]  # host[:port] as written (IPv6 brackets kept), userinfo dropped
    return f"{parts.scheme}://{host}{loggable_url(url)}"


def loggable_url(url: str) -> str:
    """Return the path and query string of ``url`` with secret-looking parameters masked.

    The scheme, host and any ``user:password@`` part are dropped. Log lines and the messages of
    transport errors show URLs in this form.

    Args:
        url: An absolute URL or a path, with or without a query string.

    Returns:
        ``/path?name=value``, with the values of ``token``, ``password``, ``api_key``, ... as ``***``.

    """
    parts = urlsplit(url)
    path = parts.path or "/"
    if not parts.query:
        return path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs]
    return f"{path}?{urlencode(masked, safe='*')}"
