"""A WSGI application called in-process, as if over HTTP (standard library only)."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from zammad_orm.errors import ConnectError
from zammad_orm.transport.auth import Auth
from zammad_orm.transport.base import BaseTransport
from zammad_orm.transport.messages import Headers, Response, loggable_url

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["WSGITransport"]


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
        auth: Credentials of the requests that carry none (``Request.auth``).

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

    def _send_once(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        environ = _environ(method, url, headers, body or b"")
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
            raise ConnectError(
                f"{method} {loggable_url(url)}: connection dropped mid-response: {exc}"
            ) from exc
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if "status" not in captured:
            raise ConnectError(f"{method} {loggable_url(url)}: the application sent no status line")
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
            f"{method} {loggable_url(url)}: incomplete read, the body broke off after "
            f"{len(content)} of {expected} bytes"
        )


def _environ(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
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
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ
