"""The :class:`Emulator`: a seeded SQLite store served by a threaded werkzeug HTTP server on loopback."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from zammad_orm.testing.app import MAX_BODY, EmulatorApp, make_app
from zammad_orm.testing.seed import ADMIN_LOGIN, ADMIN_PASSWORD, USER_TOKENS, seed
from zammad_orm.testing.store import Store

if TYPE_CHECKING:
    from zammad_orm.client import Client

__all__ = ["Emulator"]

_POLL_INTERVAL = 0.02


class _QuietHandler(WSGIRequestHandler):
    """Request handler without per-request access logging (tests run thousands of requests).

    Werkzeug's server closes every connection after one response (no keep-alive), so every request of
    every client pays a TCP connect on loopback; a real Zammad behind nginx keeps connections open.
    """

    #: Seconds a connection may stay silent while its request is read or its answer written: a client that
    #: promises a longer body than it sends (or stops reading) frees its thread after this, with no answer.
    timeout = 30.0

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _faults(seed_value: int) -> Any:
    # E2's fault injection is optional at import time so the core works on its own.
    try:
        from zammad_orm.testing.faults import Faults
    except ImportError:  # pragma: no cover - faults.py ships with the package
        return None
    return Faults(seed_value)


class Emulator:
    """A faithful Zammad 6.x REST server for tests and demos (real HTTP on 127.0.0.1, SQLite storage).

    Args:
        demo: number of demo tickets to generate (0: a fresh system only).
        seed: random seed of the demo data and of the fault injection.
        db: SQLite file name or ``":memory:"``. An existing file is reused as it is (no re-seeding).
        token: the admin's HTTP token (random when omitted).
        zammad_version: ``"6.2"`` (search replies of 6.0–6.4), ``"6.4"`` (the same, plus checklists) or
            ``"6.5"`` (unified search replies, checklists).
        search_backend: ``"elasticsearch"`` (query language) or ``"database"`` (SQL ``LIKE`` fallback).
        host: interface to bind (default loopback).
        port: TCP port (0: a free one).
        max_body: the largest request body in bytes (default 50 MiB, as Zammad's nginx configuration);
            a larger one is answered with nginx's ``413 Request Entity Too Large`` page.

    Example::

        with Emulator(demo=100) as z:
            requests.get(z.url + "/api/v1/tickets", headers={"Authorization": f"Token token={z.token}"})

    """

    admin_login = ADMIN_LOGIN
    admin_password = ADMIN_PASSWORD
    #: HTTP tokens of the non-admin seed users (``agent1@example.com``, ``nicole.braun@zammad.org``).
    user_tokens: ClassVar[dict[str, str]] = dict(USER_TOKENS)

    def __init__(
        self,
        *,
        demo: int = 0,
        seed: int = 0,
        db: str = ":memory:",
        token: str | None = None,
        zammad_version: str = "6.2",
        search_backend: str = "elasticsearch",
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = MAX_BODY,
    ) -> None:
        if demo < 0:
            raise ValueError("demo must be >= 0")
        if not zammad_version.startswith("6."):
            raise ValueError(f"zammad_version must be a 6.x version ('6.2', '6.5'), not {zammad_version!r}")
        if search_backend not in ("elasticsearch", "database"):
            raise ValueError(f"search_backend must be 'elasticsearch' or 'database', not {search_backend!r}")
        self.host = host
        self.port = port
        self.demo = demo
        self.seed = seed
        self.zammad_version = zammad_version
        self.search_backend = search_backend
        self.store = Store(db)
        if self.store.fresh:
            self.token = token or secrets.token_urlsafe(24)
            with self.store.transaction() as conn:
                _seed(conn, self.token)
            if demo:
                from zammad_orm.testing.demo import generate

                generate(self.store, demo, seed=seed)
        else:
            self.token = self._existing_token(token)
        self.app: EmulatorApp = make_app(
            self.store, zammad_version=zammad_version, search_backend=search_backend, max_body=max_body
        )
        self.faults = _faults(seed)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._cache_dir: str | None = None

    def _existing_token(self, token: str | None) -> str:
        with self.store.transaction() as conn:
            if token:
                conn.execute("UPDATE users SET token = ? WHERE id = 3", (token,))
                return token
            row = conn.execute("SELECT token FROM users WHERE id = 3").fetchone()
            if row is None or not row[0]:
                fresh = secrets.token_urlsafe(24)
                conn.execute("UPDATE users SET token = ? WHERE id = 3", (fresh,))
                return fresh
            return str(row[0])

    @property
    def url(self) -> str:
        """Base URL without ``/api/v1`` (``http://127.0.0.1:54321``); the server must be running."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return f"http://{self.host}:{self._server.server_port}"

    def wsgi(self) -> Any:
        """Return the served WSGI callable: the app behind the fault-injection middleware."""
        return self.faults.wrap(self.app) if self.faults is not None else self.app

    def start(self) -> Emulator:
        """Start serving in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self.port, self.wsgi(), threaded=True, request_handler=_QuietHandler
        )
        # serve_forever checks for shutdown between select() calls: a short poll interval keeps stop()
        # fast (the default 0.5 s made every fixture teardown wait half a second).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="zammad-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server (the store stays usable until :meth:`close`)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        """Stop and close the database."""
        self.stop()
        self.store.close()
        if self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def client(self, **kwargs: Any) -> Client:
        """Return a :class:`zammad_orm.Client` for this server, authenticated as the admin.

        Without ``cache=`` the client keeps its records on disk in a private temporary directory of this
        emulator (mode 0700, removed by :meth:`close`), never in the user's cache directory: the records
        of a throwaway server have no place there.
        """
        from zammad_orm.client import Client

        if "cache" not in kwargs:
            if self._cache_dir is None:
                self._cache_dir = tempfile.mkdtemp(prefix="zammad-emulator-cache-")
            kwargs["cache"] = f"disk:{self._cache_dir}"
        return Client(self.url, http_token=self.token, **kwargs)

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._server is not None else "stopped"
        return f"<Emulator {state} zammad_version={self.zammad_version!r} demo={self.demo}>"


def _seed(conn: Any, token: str) -> None:
    seed(conn, admin_token=token)
