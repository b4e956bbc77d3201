"""Fault injection for the emulator: a WSGI middleware that makes chosen requests slow, fail or break.

A :class:`Faults` object holds an ordered list of :class:`FaultRule` s. :meth:`Faults.wrap` puts it in
front of any WSGI app; with no rules every request passes through untouched. Each rule matches by HTTP
method and a regular expression searched in ``PATH_INFO`` (and optionally one in ``QUERY_STRING``:
``query="(^|&)page=3(&|$)"`` hits the third page of a search), may fire a limited number of ``times`` and
with a ``probability`` drawn from a per-rule :class:`random.Random` seeded from the ``Faults`` seed, so
a test run is reproducible. Kinds:

``latency``
    sleep ``latency`` seconds, then let the request through (combines with later rules).
``status``
    answer ``status`` (500, 502, 503, 504 ...) with a Zammad-style JSON error body; the app is not called.
``rate_limit``
    answer 429 ``Retry later`` (text/plain, as Rack::Attack does) with a ``Retry-After`` header.
``drop``
    run the app, send its status, headers (with the full ``Content-Length``) and half of the body, then
    drop the connection: the server did the work, the client never sees the complete reply.
``truncate``
    run the app and cut its body in half with a matching ``Content-Length``: the reply is well-formed
    HTTP but the JSON in it does not decode.
``non_json``
    answer 200 with an HTML page (a proxy's maintenance page, a login portal ...); the app is not called.

Every rule may also carry ``latency``, slept before its fault is delivered.
"""

from __future__ import annotations

import http
import json
import random
import re
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from zammad_orm.errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["KINDS", "FaultRule", "Faults"]

#: The fault kinds :meth:`Faults.add` accepts.
KINDS = ("latency", "status", "rate_limit", "drop", "truncate", "non_json")

_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>\n"
    b"<body><h1>We'll be back soon</h1><p>The service is temporarily unavailable.</p></body></html>\n"
)
_ERROR_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


@attrs.define(eq=False)
class FaultRule:
    """One fault: which requests it matches, what it does to them, and how often it has fired.

    Created by :meth:`Faults.add`; read ``hits`` to see how many requests it has hit.

    Attributes:
        kind: one of :data:`KINDS`.
        method: HTTP method matched (upper case), or ``None`` for every method.
        path: the regular expression searched in ``PATH_INFO`` (e.g. ``"^/api/v1/tickets/[0-9]+$"``).
        times: how many times the rule fires before it goes quiet; ``None`` = forever.
        probability: chance that a matching request is hit (drawn from the rule's seeded generator).
        status: the status answered by ``status`` rules.
        retry_after: seconds sent in ``Retry-After`` by ``rate_limit`` rules (``None`` → 1).
        latency: seconds slept before the fault is delivered.
        query: the regular expression searched in ``QUERY_STRING`` (as sent, URL-encoded), or ``None``.
        hits: how many requests this rule has hit so far.

    """

    kind: str
    method: str | None
    path: str
    times: int | None
    probability: float
    status: int
    retry_after: float | None
    latency: float
    query: str | None = None
    hits: int = 0
    _pattern: re.Pattern[str] = attrs.field(init=False, repr=False)
    _query_pattern: re.Pattern[str] | None = attrs.field(init=False, repr=False, default=None)
    _rng: random.Random = attrs.field(factory=random.Random, repr=False)

    def __attrs_post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        self._query_pattern = None if self.query is None else re.compile(self.query)

    def _matches(self, method: str, path: str, query: str = "") -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self._pattern.search(path) is None:
            return False
        if self._query_pattern is not None and self._query_pattern.search(query) is None:
            return False
        # Draw only for rules that can miss, so probability-1 rules leave the sequence untouched.
        return self.probability >= 1.0 or self._rng.random() < self.probability

    def _error_id(self) -> str:
        return "".join(self._rng.choice(_ERROR_ID_ALPHABET) for _ in range(8))


class Faults:
    """An ordered set of fault rules and the WSGI middleware that applies them.

    Args:
        seed: seeds the per-rule random generators used for ``probability`` and error ids, so the
            same requests in the same order meet the same faults.

    Example::

        faults = Faults(seed=1)
        app = faults.wrap(app)
        rule = faults.add("status", path=r"^/api/v1/tickets", status=503, times=2)
        ...
        assert rule.hits == 2

    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rules: list[FaultRule] = []
        self._added = 0
        # One lock for matching, counting and drawing: requests arrive on many server threads.
        self._lock = threading.Lock()

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        """The current rules, in the order they are tried."""
        with self._lock:
            return tuple(self._rules)

    @property
    def hits(self) -> dict[FaultRule, int]:
        """How many requests each current rule has hit."""
        with self._lock:
            return {rule: rule.hits for rule in self._rules}

    def add(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str = ".*",
        times: int | None = None,
        probability: float = 1.0,
        status: int = 503,
        retry_after: float | None = None,
        latency: float = 0.0,
        query: str | None = None,
    ) -> FaultRule:
        """Add a rule and return it.

        Args:
            kind: one of :data:`KINDS`.
            method: only requests with this HTTP method (any case); ``None`` matches every method.
            path: regular expression searched (``re.search``) in the request's ``PATH_INFO``.
            times: fire at most this many times; ``None`` fires forever.
            probability: chance in ``[0, 1]`` that a matching request is hit.
            status: status code of a ``status`` rule, 500–599.
            retry_after: ``Retry-After`` seconds of a ``rate_limit`` rule; ``None`` sends 1.
            latency: seconds to sleep before delivering the fault (for ``latency`` rules: the delay).
            query: regular expression searched in the request's ``QUERY_STRING``; ``None`` matches any.

        Returns:
            The new rule; its ``hits`` counts the requests it has hit.

        Raises:
            ConfigurationError: unknown kind, bad regular expression or a value out of range.

        """
        if kind not in KINDS:
            raise ConfigurationError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if kind == "status" and not 500 <= status <= 599:
            raise ConfigurationError(f"a 'status' fault needs a 5xx status, got {status}")
        if not 0.0 <= probability <= 1.0:
            raise ConfigurationError(f"fault probability must be within [0, 1], got {probability}")
        if times is not None and times < 0:
            raise ConfigurationError(f"fault times must be >= 0 or None, got {times}")
        if latency < 0:
            raise ConfigurationError(f"fault latency must be >= 0 seconds, got {latency}")
        if retry_after is not None and retry_after < 0:
            raise ConfigurationError(f"fault retry_after must be >= 0 seconds, got {retry_after}")
        for what, pattern in (("path", path), ("query", query)):
            try:
                re.compile(pattern or "")
            except re.error as exc:
                raise ConfigurationError(
                    f"fault {what} {pattern!r} is not a valid regular expression: {exc}"
                ) from exc
        with self._lock:
            rule = FaultRule(
                kind=kind,
                method=method.upper() if method else None,
                path=path,
                times=times,
                probability=probability,
                status=status,
                retry_after=retry_after,
                latency=latency,
                query=query,
                # Seeded by (seed, position) so one rule's draws do not depend on another rule's traffic.
                rng=random.Random(f"{self.seed}:{self._added}"),
            )
            self._added += 1
            self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Remove one rule (no error when it is already gone)."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        """Remove every rule; rules added afterwards draw the same random sequences as after creation."""
        with self._lock:
            self._rules.clear()
            self._added = 0

    def _select(self, method: str, path: str, query: str = "") -> tuple[float, FaultRule | None]:
        """Return the latency to sleep and the first fault rule that hits this request."""
        delay = 0.0
        with self._lock:
            for rule in self._rules:
                if not rule._matches(method, path, query):
                    continue
                rule.hits += 1
                delay += rule.latency
                if rule.kind != "latency":
                    return delay, rule
        return delay, None

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        """Return a WSGI app that applies the rules in front of ``app``.

        Rules added or cleared later take effect immediately; with no rules the request goes straight
        to ``app``.
        """

        def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if not self._rules:
                return app(environ, start_response)
            method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
            delay, rule = self._select(method, path, environ.get("QUERY_STRING", ""))
            if delay:
                time.sleep(delay)
            if rule is None:
                return app(environ, start_response)
            return _deliver(rule, app, environ, start_response)

        return middleware


def _deliver(
    rule: FaultRule, app: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    if rule.kind == "status":
        return _answer_status(rule, start_response)
    if rule.kind == "rate_limit":
        seconds = 1.0 if rule.retry_after is None else rule.retry_after
        # HTTP delta-seconds are integers; fractions are kept so tests can ask for short waits.
        value = str(int(seconds)) if seconds == int(seconds) else repr(seconds)
        body = b"Retry later\n"
        start_response(
            "429 Too Many Requests",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Retry-After", value)],
        )
        return [body]
    if rule.kind == "non_json":
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(_HTML_PAGE)))]
        )
        return [_HTML_PAGE]
    status, headers, body = _run(app, environ)
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    if rule.kind == "truncate":
        cut = body[: len(body) // 2]
        start_response(status, [*headers, ("Content-Length", str(len(cut)))])
        return [cut]
    # drop: promise the whole body (at least one byte, so an empty reply is also incomplete).
    start_response(status, [*headers, ("Content-Length", str(max(len(body), 1)))])
    return _dropping(body[: len(body) // 2])


def _answer_status(rule: FaultRule, start_response: StartResponse) -> Iterable[bytes]:
    try:
        reason = http.HTTPStatus(rule.status).phrase
    except ValueError:  # an unassigned 5xx code such as 599
        reason = ""
    payload: dict[str, str]
    if rule.status == 500:
        # What Zammad renders for an unexpected exception to a non-admin (handles_errors.rb).
        payload = {"error": f"Error ID {rule._error_id()}: Please contact your administrator."}
    else:
        message = f"{reason or 'Server Error'} (injected fault)"
        payload = {"error": message, "error_human": message}
    body = json.dumps(payload).encode()
    start_response(
        f"{rule.status} {reason}".rstrip(),
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _run(app: WSGIApplication, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call ``app`` and collect its whole reply."""
    captured: dict[str, Any] = {}
    # The legacy write() callable and the returned iterable feed the same list, in call order.
    chunks: list[bytes] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        captured["status"], captured["headers"] = status, list(headers)
        return chunks.append

    result = app(environ, capture)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], b"".join(chunks)


def _dropping(part: bytes) -> Iterator[bytes]:
    if part:
        yield part
    # A ConnectionError is what servers (werkzeug included) treat as "the connection is gone": they
    # close the socket without writing anything more, so the client sees a short read.
    raise ConnectionResetError("connection dropped by an injected 'drop' fault")
