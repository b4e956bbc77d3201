"""The emulator's WSGI application: routing, authentication, impersonation, errors, JSON rendering, ETags.

Every request runs in one SQLite transaction (rolled back on any error), so a failing request never leaves
half-written data; any unexpected exception becomes Zammad's 500 JSON body and the server keeps serving.
Route handlers live in the ``routes_*`` modules, one module per family of paths, all registered the same
way: each exports ``ROUTES``, a list of :data:`~zammad_orm.testing.core.Route` (rule, methods, handler), and
a module whose endpoints a Zammad release introduced sets ``MIN_VERSION`` (routed from that version on).
:data:`ROUTE_MODULES` lists them; :func:`url_rules` describes the resulting URL map (``zammad-orm routes``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any
from urllib.parse import unquote_to_bytes

from werkzeug.exceptions import ClientDisconnected, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from zammad_orm.testing.core import ApiError, Ctx, Reply, error_body, masked_error, version_tuple
from zammad_orm.testing.store import Store

__all__ = ["MAX_BODY", "MAX_NESTING", "ROUTE_MODULES", "EmulatorApp", "make_app", "url_rules"]

log = logging.getLogger("zammad_orm.testing")

Handler = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


#: Zammad's CORS headers (``ApplicationController::SetsHeaders``).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, PUT, DELETE, PATCH, OPTIONS",
    "Access-Control-Max-Age": "1728000",
    "Access-Control-Allow-Headers": "Content-Type, Depth, User-Agent, X-File-Size, X-Requested-With,"
    " If-Modified-Since, X-File-Name, Cache-Control, Accept-Language",
}


#: The largest request body the emulator reads: Zammad's nginx configuration (``contrib/nginx/zammad.conf``)
#: sets ``client_max_body_size 50M``; a larger body is refused with nginx's 413 page before Zammad sees it.
MAX_BODY = 50 * 1024 * 1024
#: Ruby's ``JSON.parse`` (behind Rails' parameter parsing) refuses arrays and objects nested deeper than 100.
MAX_NESTING = 100

_TOO_LARGE_PAGE = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class _BadParameters(ValueError):
    """A request body or query string Rails' parameter parsing refuses (400)."""


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; Ruby's JSON.parse (allow_nan: false) refuses them.
    raise _BadParameters(f"unexpected token at '{name}'")


def _nesting(value: Any) -> int:
    """Return how deeply arrays and objects nest in a decoded JSON value (a scalar is 0), iteratively."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def _decode_json(data: bytes) -> Any:
    """Decode a JSON request body as Rails would: UTF-8, no NaN/Infinity, nesting at most 100."""
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except RecursionError:
        raise _BadParameters(f"nesting of {MAX_NESTING + 1} is too deep") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _BadParameters(str(exc)) from exc
    if _nesting(value) > MAX_NESTING:
        raise _BadParameters(f"nesting of {MAX_NESTING + 1} is too deep")
    return value


def _check_query_encoding(query: str) -> None:
    """Refuse a query string whose percent-escapes are not UTF-8 (Rails: ``Invalid encoding ...``)."""
    if "%" not in query:
        return
    try:
        unquote_to_bytes(query.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _BadParameters("invalid byte sequence in UTF-8 in the query string") from None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ErrorResponse(Response):
    """An error reply as Zammad sends it: without ``Content-Length`` (HTTP/1.1 sends it chunked).

    Zammad's error replies (404 ``No route matches``, ``Couldn't find ...``) carry no ``Content-Length``
    header, its successful replies do (recordings ``test_client/test_logging``,
    ``test_priorities/test_delete_priority``).
    """

    automatically_set_content_length = False


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    kind = ErrorResponse if status >= 400 else Response
    return kind(_dumps(body), status=status, headers=headers, content_type="application/json; charset=utf-8")


def _too_large() -> Response:
    """Answer as nginx does to a body over ``client_max_body_size``: 413, its HTML page, connection closed."""
    return ErrorResponse(
        _TOO_LARGE_PAGE, status=413, headers={"Connection": "close"}, content_type="text/html"
    )


#: Every routes module, by name (werkzeug ranks the rules itself: the order does not change routing).
ROUTE_MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"zammad_orm.testing.routes_{name}")
    for name in (
        "articles",
        "checklists",
        "links",
        "mentions",
        "object_manager",
        "online_notifications",
        "organizations",
        "reference",
        "search",
        "tags",
        "ticket_history",
        "ticket_merge",
        "tickets",
        "time_accounting",
        "time_accounting_log",
        "users",
        "version",
    )
)

#: Methods in the order ``url_rules`` lists them (werkzeug adds HEAD to every GET rule by itself).
_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _build_map(zammad_version: str) -> tuple[Map, dict[str, Handler]]:
    # A module with MIN_VERSION is routed only from that version on (older servers: "No route matches").
    rules: list[Rule] = []
    handlers: dict[str, Handler] = {}
    for module in ROUTE_MODULES:
        if version_tuple(zammad_version) < getattr(module, "MIN_VERSION", (0,)):
            continue
        for index, (rule, methods, handler) in enumerate(module.ROUTES):
            endpoint = f"{module.__name__}:{index}"
            rules.append(Rule("/api/v1" + rule, methods=methods.split(), endpoint=endpoint))
            handlers[endpoint] = handler
    return Map(rules, strict_slashes=False, merge_slashes=False), handlers


def _handler_name(handler: Handler) -> str:
    # Table-driven handlers are partials of one function (routes_reference): name the function.
    function = handler.func if isinstance(handler, functools.partial) else handler
    return f"{function.__module__.rsplit('.', 1)[-1]}.{function.__qualname__}"


def url_rules(zammad_version: str = "6.2") -> list[tuple[str, str, str]]:
    """Describe the URL map of an emulator imitating ``zammad_version``.

    Args:
        zammad_version: the imitated release; modules with a ``MIN_VERSION`` above it are left out.

    Returns:
        One ``(methods, path, handler)`` row per rule, sorted by path: methods like ``"GET POST"``, the
        path with its werkzeug placeholders (``/api/v1/tickets/<ident>``), the handler as
        ``module.function`` (``routes_tickets.tickets_show``).

    """
    url_map, handlers = _build_map(zammad_version)
    rows = []
    for rule in url_map.iter_rules():
        methods = " ".join(m for m in _METHOD_ORDER if m in (rule.methods or ()))
        rows.append((methods, rule.rule, _handler_name(handlers[rule.endpoint])))
    return sorted(rows, key=lambda row: (row[1], _METHOD_ORDER.index(row[0].split()[0])))


class EmulatorApp:
    """The WSGI callable (see :func:`make_app`)."""

    def __init__(
        self, store: Store, *, zammad_version: str, search_backend: str, max_body: int = MAX_BODY
    ) -> None:
        if not zammad_version.startswith("6."):
            raise ValueError(f"unsupported zammad_version {zammad_version!r}")
        if search_backend not in ("elasticsearch", "database"):
            raise ValueError(f"search_backend must be 'elasticsearch' or 'database', not {search_backend!r}")
        self.store = store
        self.zammad_version = zammad_version
        self.search_backend = search_backend
        if max_body < 0:
            raise ValueError(f"max_body must be >= 0 bytes, not {max_body!r}")
        self.max_body = max_body
        self.url_map, self.handlers = _build_map(zammad_version)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answer one WSGI request."""
        request = Request(environ)
        # Also bounds a chunked body while it is read: werkzeug stops at the limit without an error, so one
        # byte more is allowed through and a body longer than max_body is refused after reading.
        request.max_content_length = self.max_body + 1
        try:
            response = self.handle(request)
        except Exception:  # the server must never crash on a request
            log.exception("emulator failure on %s %s", request.method, request.path)
            response = _json_response(500, {"error": "Internal Server Error"})
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Route, authenticate, run the handler in a transaction, render."""
        response = self._dispatch(request)
        scheme = request.headers.get("Authorization", "").split(" ", 1)[0].lower()
        if scheme in ("token", "bearer", "basic") and response.status_code < 400:
            # Zammad's after_action adds the CORS headers when a token (also sent as Bearer) or basic auth
            # request succeeded; failed logins and errors raised by the action skip it (spec §2.7).
            response.headers.extend(CORS_HEADERS)
        return response

    def _dispatch(self, request: Request) -> Response:
        if (request.content_length or 0) > self.max_body:
            return _too_large()  # nginx refuses it before Zammad, whatever the path
        adapter = self.url_map.bind_to_environ(request.environ)
        path = request.path.rstrip("/") or "/"
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            if request.method == "OPTIONS":
                # CORS preflight of a routed path: empty text/plain with the CORS headers, no authentication.
                return Response(
                    b"", status=200, headers=CORS_HEADERS, content_type="text/plain; charset=utf-8"
                )
            return _json_response(404, error_body(f"No route matches [{request.method}] {path}"))
        except NotFound:
            return _json_response(404, error_body(f"No route matches [{request.method}] {path}"))
        try:
            if len(request.get_data(cache=True)) > self.max_body:
                return _too_large()  # a chunked body (no Content-Length) that went past the limit
            params, body = self._params(request)
        except RequestEntityTooLarge:
            return _too_large()
        except ClientDisconnected:
            # The client went away in the middle of its body: nobody reads this answer.
            return _json_response(400, error_body("Error occurred while parsing request parameters"))
        except ValueError as exc:
            return _json_response(400, error_body(f"Error occurred while parsing request parameters: {exc}"))
        ctx = Ctx(
            self.store,
            self.store.conn,
            request.method,
            path,
            params,
            body,
            zammad_version=self.zammad_version,
            search_backend=self.search_backend,
        )
        handler = self.handlers[endpoint]
        try:
            with self.store.transaction():
                self._authenticate(ctx, request)
                result = handler(ctx, **args)
            if request.method != "GET":
                self.store.bump(tickets=ctx.touched_tickets, everything=ctx.touched_shared)
        except ApiError as exc:
            if isinstance(exc.body, (bytes, str)):
                raw = exc.body.encode() if isinstance(exc.body, str) else exc.body
                return ErrorResponse(raw, status=exc.status, headers=exc.headers, content_type="text/plain")
            return _json_response(exc.status, exc.body, exc.headers)
        except sqlite3.IntegrityError as exc:
            # Database constraint violations, humanized the way Zammad's handles_errors does (spec §3.1).
            text = str(exc)
            if "NOT NULL" in text:
                column = text.rsplit(".", 1)[-1]
                message = f"Attribute '{column}' required!"
            else:
                message = "This object already exists."
            return _json_response(422, error_body(message))
        except (sqlite3.InterfaceError, sqlite3.ProgrammingError) as exc:
            # A value of a type SQLite cannot bind (a list or hash where a scalar belongs).
            return _json_response(422, error_body(f"Invalid value in the request: {exc}"))
        except OverflowError:
            # An integer past 64 bits (an id, a reference): PostgreSQL refuses it as out of range.
            return _json_response(422, error_body("Invalid value in the request: an integer is out of range"))
        except Exception as exc:
            log.exception("emulator handler failure on %s %s", request.method, path)
            return _json_response(500, masked_error(f"{type(exc).__name__}: {exc}", admin=ctx.is_admin))
        return self._render(request, result)

    @staticmethod
    def _params(request: Request) -> tuple[dict[str, Any], Any]:
        _check_query_encoding(request.environ.get("QUERY_STRING", ""))
        params: dict[str, Any] = {}
        for key in request.args:
            values = request.args.getlist(key)
            if key.endswith("[]"):
                params[key[:-2]] = values
            else:
                params[key] = values[-1]
        body: Any = None
        data = request.get_data(cache=True)
        if data and data.strip():
            mimetype = request.mimetype or ""
            if "json" in mimetype or not mimetype or data.lstrip()[:1] in (b"{", b"["):
                body = _decode_json(data)
            elif request.form:
                body = {key: request.form[key] for key in request.form}
        if isinstance(body, dict):
            params.update(body)
        elif body is not None:
            params["_json"] = body
        return params, body

    def _authenticate(self, ctx: Ctx, request: Request) -> None:
        header = request.headers.get("Authorization", "").strip()
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        credentials = credentials.strip()
        user = None
        if scheme == "basic":
            try:
                login, _, password = base64.b64decode(credentials).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                ctx.fail(401, "Invalid BasicAuth credentials")
            user = ctx.one(
                "SELECT * FROM users WHERE (login = ? COLLATE NOCASE OR email = ? COLLATE NOCASE)"
                " AND password IS NOT NULL AND password = ? ORDER BY id LIMIT 1",
                (login.strip(), login.strip(), password),
            )
            if user is None:
                ctx.fail(401, "Invalid BasicAuth credentials")
        elif scheme in ("token", "bearer"):
            token = credentials
            if scheme == "token":
                token = credentials.removeprefix("token=").strip().strip('"')
            user = (
                ctx.one("SELECT * FROM users WHERE token = ? AND token IS NOT NULL", (token,))
                if token
                else None
            )
            if user is None:
                ctx.fail(
                    401,
                    "Can't find User for Token" if scheme == "token" else "The provided token is invalid.",
                )
        else:
            ctx.fail(403, "Authentication required")
        if not user["active"]:
            ctx.fail(
                401,
                "Login failed. Have you double-checked your credentials and completed the email"
                " verification step?",
            )
        ctx.set_user(user)
        ctx.real_user = user
        on_behalf = request.headers.get("From") or request.headers.get("X-On-Behalf-Of")
        if on_behalf:
            if not ctx.has("admin.user"):
                ctx.forbidden("Current user has no permission to use 'From'/'X-On-Behalf-Of'!")
            value = on_behalf.strip().lower()
            if value.isdigit():
                other = ctx.one("SELECT * FROM users WHERE id = ?", (int(value),))
            else:
                other = ctx.one(
                    "SELECT * FROM users WHERE login = ? COLLATE NOCASE OR email = ? COLLATE NOCASE ORDER"
                    " BY id LIMIT 1",
                    (value, value),
                )
            if other is None:
                ctx.forbidden(f"No such user '{on_behalf}'")
            ctx.set_user(other)

    @staticmethod
    def _render(request: Request, result: Any) -> Response:
        reply = result if isinstance(result, Reply) else Reply(result)
        payload = reply.raw if reply.raw is not None else _dumps(reply.body)
        headers = dict(reply.headers)
        if (
            request.method == "GET"
            and reply.status == 200
            and reply.content_type.startswith("application/json")
        ):
            etag = f'W/"{hashlib.md5(payload).hexdigest()}"'
            headers["ETag"] = etag
            headers["Cache-Control"] = "max-age=0, private, must-revalidate"
            wanted = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
            if etag in wanted or "*" in wanted:
                return Response(b"", status=304, headers=headers)
        return Response(payload, status=reply.status, headers=headers, content_type=reply.content_type)


def make_app(
    store: Store,
    *,
    zammad_version: str = "6.2",
    search_backend: str = "elasticsearch",
    max_body: int = MAX_BODY,
) -> EmulatorApp:
    """Build the emulator's WSGI application over a store.

    Args:
        store: the database (seeded).
        zammad_version: ``"6.2"`` answers searches like Zammad 6.0–6.4, ``"6.5"`` like 6.5+ (spec §0.1).
        search_backend: ``"elasticsearch"`` (query language of spec §4.5) or ``"database"`` (§4.6 fallback).
        max_body: the largest request body in bytes (default 50 MiB, nginx's ``client_max_body_size`` in
            Zammad's configuration); a larger one gets nginx's ``413 Request Entity Too Large`` page.

    """
    return EmulatorApp(store, zammad_version=zammad_version, search_backend=search_backend, max_body=max_body)
