"""Client: composes transport, converter, identity map and cache; default-client handling.

``zammad_orm.connect()`` builds a :class:`Client` from arguments or the environment and makes it the
default client of ``Model.objects``. Every request goes through :meth:`Client.request`, which decides
what a request carries (the client's credentials as ``Request.auth``, the impersonation header ``From``) and
hands the :class:`~zammad_orm.transport.messages.Request` to the transport, which builds the headers and
sends it. Every record that comes back is merged into the client's identity map (one Python object per
``(model, id)``) and written to its record cache; relations resolve through identity map, then cache,
then one request (that part is :class:`~zammad_orm.loading.RecordLoader`, a base class of the client).

``client.<collection>`` (``client.tickets``, ``client.users``, ...) is the model's manager bound to the
client: ``client.tickets == Ticket.objects.using(client)``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from zammad_orm import errors
from zammad_orm.accounting import (
    Accounting,
    ClientStats,
    NPlusOneDetector,
    RequestLog,
    begin_request,
    capture,
)
from zammad_orm.cache import (
    DEFAULT_SIZE_LIMIT,
    MemoryRecordCache,
    RecordCache,
    cache_namespace,
    cache_setting,
    make_cache,
)
from zammad_orm.cache.factory import cache_kind
from zammad_orm.facts import SearchGeneration, ServerFacts
from zammad_orm.freshness import MaxAges
from zammad_orm.identity import IdentityMap
from zammad_orm.loading import Pagination, RecordLoader
from zammad_orm.manager import Manager, activate, deactivate, set_default_client
from zammad_orm.meta import persistent_cache_defaults
from zammad_orm.models import Model, registry
from zammad_orm.replica import LocalCopies, Replicas
from zammad_orm.transport import (
    HTTPTransport,
    Request,
    Response,
    Transport,
    raise_for_status,
)
from zammad_orm.transport.auth import make_auth

__all__ = ["Client", "Pagination", "connect"]

M = TypeVar("M", bound=Model)

_API = "/api/v1"
#: Search pages of one query on the wire at once, by default.
DEFAULT_PAGE_CONCURRENCY = 8
# Per-context impersonation: client id -> ``From`` value (a tuple of pairs: immutable, so safe as default).
_impersonation: contextvars.ContextVar[tuple[tuple[int, str], ...]] = contextvars.ContextVar(
    "zammad_orm_impersonation", default=()
)


def _normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith(_API):
        url = url[: -len(_API)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.ConfigurationError(f"Zammad URL must be http(s)://host[:port][/path], got {url!r}")
    return url


def _from_value(user: Any) -> str:
    if isinstance(user, Model):
        return str(user._require_id())
    if isinstance(user, int) and not isinstance(user, bool):
        return str(user)
    if isinstance(user, str) and user.strip():
        return user.strip()
    raise errors.ConfigurationError(
        f"on_behalf_of needs a User, a user id, a login or an email, got {user!r}"
    )


class _Scope:
    """What one identity of a client sees: its identity map, its record cache and its asset marks.

    A client acts as its credentials' user, or as another user through ``on_behalf_of`` (the ``From``
    header): each such identity sees other records (a customer sees only their tickets, and other users
    reduced), so each has a scope of its own, with a cache namespace of its own.
    """

    __slots__ = ("asset_marks", "cache", "identity", "owns_cache")

    def __init__(self, cache: RecordCache, *, owns_cache: bool) -> None:
        self.identity = IdentityMap()
        self.cache = cache
        self.owns_cache = owns_cache
        self.asset_marks: dict[tuple[str, int], Any] = {}


if TYPE_CHECKING:
    from zammad_orm.resources.mention import MentionManager
    from zammad_orm.resources.notification import OnlineNotificationManager
    from zammad_orm.resources.object_attribute import ObjectAttributeManager
    from zammad_orm.resources.priority import TicketPriorityManager
    from zammad_orm.resources.state import TicketStateManager
    from zammad_orm.resources.tag import Tags
    from zammad_orm.resources.ticket import TicketManager
    from zammad_orm.resources.user import UserManager


class Client(RecordLoader, LocalCopies):
    """A connection to one Zammad server with one set of credentials.

    Args:
        url: The server URL, with or without ``/api/v1``.
        http_token: An API access token (``Authorization: Token token=...``).
        username: Login for HTTP Basic authentication (with ``password``).
        password: Password for HTTP Basic authentication.
        oauth2_token: An OAuth2 bearer token.
        on_behalf_of: Act as this user on every request (``From`` header); needs ``admin.user``.
        timeout: Connect/read timeout in seconds (one number or a pair).
        retries: Retries of idempotent requests on 429/502/503/504 and connection errors.
        verify: TLS verification: ``True``, ``False`` or a CA bundle path.
        cache: Record cache: ``"disk"`` (the default, unless ``$ZAMMAD_ORM_CACHE`` names another),
            ``"disk:/path"`` or a path, ``"redis://..."`` (disk and Redis with a memory tier in front),
            ``"memory"``, ``False`` for none, or a :class:`~zammad_orm.cache.base.RecordCache`.
        cache_sizes: Memory-tier sizes of particular models by name (else their ``DEFAULT_CACHE_SIZE``).
        persistent_sizes: Persistent-tier sizes by model name (else their ``PERSISTENT_CACHE_SIZE``).
        size_limit: The most bytes of each model's disk cache (default 1 GiB; a model's
            ``PERSISTENT_CACHE_BYTES`` wins).
        transport: A ready transport (e.g. ``WSGITransport(emulator.app)``) instead of HTTP.
        pagination: Default pagination of ``iter()``/``search()``.
        page_concurrency: Most search pages of one query on the wire at once (default 8). The first page
            of a result goes alone; when it comes back full, the next pages are asked for ahead while the
            rows of the current one are read. ``1`` pages one request after the other.
        warn_n_plus_one: Warn (:class:`~zammad_orm.accounting.NPlusOneWarning`) when a loop reads a
            relation object by object with a request each, where ``select_related`` would load them in
            batches. Off by default; the pytest plugin's ``zammad_client`` has it on.
        max_age: Seconds a loaded record is used before it is revalidated with the server: one number
            for every model, or a mapping of model names to seconds (``{"Ticket": 5}``; the others keep
            their ``MAX_AGE``: 60 s, a day for reference tables). ``0`` revalidates at every lookup by id.

    Attributes:
        facts: What the client learned about its server: version, reply generation, search backend,
            custom attributes, reference tables (:class:`~zammad_orm.facts.ServerFacts`).
        warn_n_plus_one: Whether N+1 loops warn (the setting; may be changed at any time).

    ``identity`` (the identity map: one object per ``(model, id)``) and ``cache`` (the record cache under
    it) are those of the identity in force: the client's own, or, inside ``with client.on_behalf_of(user):``,
    that user's.

    Raises:
        ConfigurationError: The URL is malformed or the credentials are missing or contradictory.

    """

    if TYPE_CHECKING:
        # The collections (``client.tickets`` ...) are resolved at runtime by ``__getattr__`` from the
        # model registry; these annotations only give type checkers their manager classes.
        tickets: TicketManager
        ticket_articles: Manager[Any]
        users: UserManager
        organizations: Manager[Any]
        groups: Manager[Any]
        roles: Manager[Any]
        states: TicketStateManager
        state_types: Manager[Any]
        priorities: TicketPriorityManager
        tags: Tags
        links: Manager[Any]
        time_accountings: Manager[Any]
        time_accounting_types: Manager[Any]
        online_notifications: OnlineNotificationManager
        mentions: MentionManager
        object_attributes: ObjectAttributeManager
        article_types: Manager[Any]
        article_senders: Manager[Any]

    def __init__(
        self,
        url: str,
        *,
        http_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        oauth2_token: str | None = None,
        on_behalf_of: Any = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retries: int = 3,
        verify: bool | str = True,
        cache: Any = None,
        cache_sizes: Mapping[str, int] | None = None,
        persistent_sizes: Mapping[str, int] | None = None,
        size_limit: int = DEFAULT_SIZE_LIMIT,
        transport: Transport | None = None,
        pagination: Pagination | None = None,
        page_concurrency: int = DEFAULT_PAGE_CONCURRENCY,
        warn_n_plus_one: bool = False,
        max_age: float | Mapping[str, float] | None = None,
    ) -> None:
        self.max_ages = MaxAges(max_age, frozenset(m._meta.name for m in registry.values()))
        self.url = _normalise_url(url)
        self.api_url = self.url + _API
        self.auth = make_auth(http_token, username, password, oauth2_token)
        self.transport: Transport = (
            transport
            if transport is not None
            else HTTPTransport(timeout=timeout, retries=retries, verify=verify)
        )
        self._default_from = None if on_behalf_of is None else _from_value(on_behalf_of)
        self._accounting = Accounting()
        self._cache_setting = cache_setting(cache)  # $ZAMMAD_ORM_CACHE is read once, here
        self._cache_options: dict[str, Any] = {"persistent_sizes": persistent_sizes, "size_limit": size_limit}
        self._cache_options.update(
            persistent_defaults=persistent_cache_defaults, on_lookup=self._accounting.lookup
        )
        home_cache = make_cache(
            self._cache_setting,
            namespace=self._namespace(self._default_from),
            sizes=cache_sizes,
            **self._cache_options,
        )
        # A cache built from a setting is the client's to close; one passed in ready-made is its owner's.
        self._home = _Scope(home_cache, owns_cache=home_cache is not cache)
        self._scopes: dict[str, _Scope] = {}  # identities taken on with `with client.on_behalf_of(...)`
        self._replicas = Replicas(self._cache_setting)  # the local copies of client.sync(Model)
        self.pagination = pagination if pagination is not None else Pagination()
        flight = page_concurrency
        if isinstance(flight, bool) or not isinstance(flight, int) or flight < 1:
            raise errors.ConfigurationError(f"page_concurrency must be an integer >= 1, got {flight!r}")
        self.page_concurrency = page_concurrency
        self._managers: dict[str, Manager[Any]] = {}
        self._lock = threading.RLock()
        self.facts = ServerFacts(self._ask_facts)  # version and tables: kept like query replies
        self.last_request_at: float | None = None
        self.warn_n_plus_one = warn_n_plus_one
        self._n_plus_one = NPlusOneDetector()

    def __repr__(self) -> str:
        return f"<Client {self.url} {self.auth!r}>"

    # -- collections -------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Manager[Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        managers = self.__dict__.get("_managers")
        if managers is None:
            raise AttributeError(name)
        mgr: Manager[Any] | None = managers.get(name)
        if mgr is None:
            for model_class in registry.values():
                if model_class._meta.collection == name:
                    mgr = model_class.objects.using(self)
                    managers[name] = mgr
                    break
            else:
                raise AttributeError(f"{type(self).__name__!r} has no collection {name!r}")
        return mgr

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {m._meta.collection for m in registry.values()})

    # -- default client and impersonation ----------------------------------------------------------

    @contextlib.contextmanager
    def activate(self) -> Iterator[Client]:
        """Make this the client of ``Model.objects`` inside a ``with`` block (per thread/task)."""
        token = activate(self)
        try:
            yield self
        finally:
            deactivate(token)

    @contextlib.contextmanager
    def on_behalf_of(self, user: Any) -> Iterator[Client]:
        """Act as ``user`` (a User, id, login or email) inside a ``with`` block (``From`` header)."""
        current = tuple(p for p in _impersonation.get() if p[0] != id(self))
        token = _impersonation.set((*current, (id(self), _from_value(user))))
        try:
            yield self
        finally:
            _impersonation.reset(token)

    def _from_header(self) -> str | None:
        return dict(_impersonation.get()).get(id(self), self._default_from)

    # -- what the identity in force sees: identity map, record cache -------------------------------

    def _namespace(self, sender: str | None) -> str:
        """Return the cache namespace of this server as seen by the credentials' user, or by ``sender``."""
        who = self.auth.identity if sender is None else f"{self.auth.identity}\nfrom:{sender.lower()}"
        return cache_namespace(self.url, who)

    def _scope(self) -> _Scope:
        """Return the scope of the identity in force: the client's own, or one ``on_behalf_of`` took on."""
        if not _impersonation.get():
            return self._home  # the common case: no `with client.on_behalf_of(...)` anywhere
        sender = self._from_header()
        if sender == self._default_from or sender is None:
            return self._home
        scope = self._scopes.get(sender)
        if scope is None:
            with self._lock:
                scope = self._scopes.get(sender)
                if scope is None:
                    scope = self._scopes[sender] = self._new_scope(sender)
        return scope

    def _new_scope(self, sender: str) -> _Scope:
        home = getattr(self._home.cache, "memory", self._home.cache)  # a tiered cache: its memory tier
        sizes: dict[str, Any] = {"sizes": dict(getattr(home, "_sizes", {}))}  # those configured so far
        sizes["default_size"] = getattr(home, "default_size", -1)
        if cache_kind(self._cache_setting) is None:  # a cache passed in ready-made: nothing to share it with
            return _Scope(MemoryRecordCache(**sizes), owns_cache=True)
        options = {**sizes, **self._cache_options}
        return _Scope(
            make_cache(self._cache_setting, namespace=self._namespace(sender), **options), owns_cache=True
        )

    @property
    def identity(self) -> IdentityMap:
        """The identity map of the identity in force (one per ``on_behalf_of`` user)."""
        return self._scope().identity

    @identity.setter
    def identity(self, value: IdentityMap) -> None:
        self._scope().identity = value

    @property
    def cache(self) -> RecordCache:
        """The record cache of the identity in force (one namespace per ``on_behalf_of`` user)."""
        return self._scope().cache

    @cache.setter
    def cache(self, value: RecordCache) -> None:
        self._scope().cache = value

    @property
    def _asset_marks(self) -> dict[tuple[str, int], Any]:
        return self._scope().asset_marks

    @_asset_marks.setter
    def _asset_marks(self, value: dict[tuple[str, int], Any]) -> None:
        self._scope().asset_marks = value

    # -- HTTP --------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            path = path.lstrip("/")
            return f"{self.api_url}/{path}" if path else self.api_url
        # Absolute URLs only on this server: the credentials must never travel to another host.
        if not path.startswith(self.url + "/"):
            raise errors.ConfigurationError(f"refusing to send this client's credentials to {path!r}")
        return path

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send a request and return the response, its status checked and its body not decoded yet.

        :meth:`request` is ``send(...).json()``. Paged searches send from worker threads and decode in
        the thread that reads the rows, so that the objects of a page are made where they are used.
        ``headers`` adds request headers (``If-None-Match`` of a revalidation); the client's own
        (``From``) win.

        Raises:
            APIError: The server answered with an error status (the subclass names it).
            TransportError: No response (connection failed, timeout).
            ConfigurationError: ``path`` is an absolute URL of another server.

        """
        url = self._url(path)
        sender = self._from_header()
        headers = dict(headers or {})
        if sender is not None:
            headers["From"] = sender
        method = method.upper()
        captures = begin_request(self)
        started = time.perf_counter()
        try:
            response = self.transport.send(
                Request(method=method, url=url, params=params, json=json, headers=headers, auth=self.auth)
            )
        except errors.TransportError:
            self._account(method, url, params, None, 0, started, captures)
            raise
        except BaseException:
            for log in captures:
                log._end(None)  # not sent (a body that is not JSON, ...): nothing to record
            raise
        finally:
            if method not in ("GET", "HEAD"):  # a write (or maybe one): cached query replies are stale
                self.replies.written(scope.cache for scope in (self._home, *self._scopes.values()))
        self.last_request_at = time.time()
        self._account(method, url, params, response.status, len(response.body), started, captures)
        try:
            raise_for_status(response)
        except errors.RouteNotFound as exc:
            exc.base_url = self.api_url  # the message shows which base URL led here
            raise
        return response

    def _account(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        status: int | None,
        received: int,
        started: float,
        captures: list[RequestLog],
    ) -> None:
        """Count a request in :meth:`stats` and record it in the ``captures`` open where it was sent."""
        path = url[len(self.api_url) + 1 :] if url.startswith(self.api_url + "/") else url[len(self.url) :]
        self._accounting.sent(method, path, params, status, received, started, captures)

    # -- accounting --------------------------------------------------------------------------------

    def stats(self) -> ClientStats:
        """Return a snapshot of this client's counters: requests, bytes received, lookups by tier.

        Counted since the client was made or :meth:`reset_stats`, from every thread. See
        :class:`~zammad_orm.accounting.ClientStats`.
        """
        return self._accounting.snapshot()

    def reset_stats(self) -> None:
        """Set the counters of :meth:`stats` back to zero (open captures keep their records)."""
        self._accounting.reset()

    def capture(self) -> contextlib.AbstractContextManager[RequestLog]:
        """Record the requests of a ``with`` block: ``with client.capture() as log: ...``.

        ``log`` is a :class:`~zammad_orm.accounting.RequestLog`, a sequence of
        :class:`~zammad_orm.accounting.RequestRecord` (method, path, params, status, bytes, elapsed) that
        grows while the block runs. It holds the requests this client sends from this thread, including the
        search pages the library sends from its worker threads for it; a thread of your own is included
        when it runs in a copy of this context (:func:`contextvars.copy_context`). Captures nest (each
        sees the requests of its block), and captures in other threads see only their own requests.
        """
        return capture(self)

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Send a request and return the decoded JSON body (``None`` for an empty body).

        Args:
            method: HTTP method.
            path: Path relative to ``/api/v1`` (``"tickets/1"``), or an absolute URL on this server.
            params: Query parameters (booleans are sent as ``true``/``false``).
            json: The JSON body.

        Raises:
            APIError: The server answered with an error status (the subclass names it).
            TransportError: No response (connection failed, timeout).
            DecodeError: The body is not JSON.
            ConfigurationError: ``path`` is an absolute URL of another server.

        """
        return self.send(method, path, params=params, json=json).json()

    def download(self, path: str, *, params: Mapping[str, Any] | None = None) -> bytes:
        """GET ``path`` and return the raw body (attachments)."""
        return self.send("GET", path, params=params).body

    def get(self, path: str, **params: Any) -> Any:
        """Raw ``GET /api/v1/<path>``; returns decoded JSON."""
        return self.request("GET", path, params=params or None)

    def post(self, path: str, json: Any = None, **params: Any) -> Any:
        """Raw ``POST /api/v1/<path>`` with a JSON body; returns decoded JSON."""
        return self.request("POST", path, params=params or None, json=json)

    def put(self, path: str, json: Any = None, **params: Any) -> Any:
        """Raw ``PUT /api/v1/<path>`` with a JSON body; returns decoded JSON."""
        return self.request("PUT", path, params=params or None, json=json)

    def delete(self, path: str, json: Any = None, **params: Any) -> Any:
        """Raw ``DELETE /api/v1/<path>``; returns decoded JSON (``None`` for an empty body)."""
        return self.request("DELETE", path, params=params or None, json=json)

    def close(self) -> None:
        """Close the transport's connections, and the record cache the client built from its setting.

        A :class:`~zammad_orm.cache.RecordCache` passed in ready-made is left open for its owner.
        """
        self.transport.close()
        self._replicas.close()
        for scope in (self._home, *self._scopes.values()):
            if scope.owns_cache:
                scope.cache.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- server facts ------------------------------------------------------------------------------

    @property
    def server_version(self) -> str:
        """The server's version string (``"6.2.0-1709189301.4a2dd7d0.focal"``), asked once.

        The same as ``client.facts.version``: :attr:`facts` holds everything the client learns about its
        server (:class:`~zammad_orm.facts.ServerFacts`).
        """
        return self.facts.version

    @property
    def search_generation(self) -> SearchGeneration:
        """``"pre65"`` (6.0–6.4 search replies) or ``"unified"`` (6.5+): ``client.facts.generation``."""
        return self.facts.generation


def connect(
    url: str | None = None,
    *,
    http_token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    oauth2_token: str | None = None,
    on_behalf_of: Any = None,
    timeout: float | tuple[float, float] = (5.0, 30.0),
    retries: int = 3,
    verify: bool | str = True,
    cache: Any = None,
    cache_sizes: Mapping[str, int] | None = None,
    persistent_sizes: Mapping[str, int] | None = None,
    size_limit: int = DEFAULT_SIZE_LIMIT,
    transport: Transport | None = None,
    page_concurrency: int = DEFAULT_PAGE_CONCURRENCY,
    warn_n_plus_one: bool = False,
    max_age: float | Mapping[str, float] | None = None,
) -> Client:
    """Create a client and make it the default client of ``Model.objects``.

    The arguments are those of :class:`Client`. Missing ones come from the environment: ``ZAMMAD_URL``,
    and — only when no credential is given — ``ZAMMAD_HTTP_TOKEN``, ``ZAMMAD_USERNAME``/``ZAMMAD_PASSWORD``
    or ``ZAMMAD_OAUTH2_TOKEN``.

    Raises:
        ConfigurationError: No URL, no credentials, or more than one kind of credentials.

    """
    url = url or os.environ.get("ZAMMAD_URL")
    if not url:
        raise errors.ConfigurationError("no Zammad URL: pass url=... or set ZAMMAD_URL")
    if not (http_token or username or password or oauth2_token):
        http_token = os.environ.get("ZAMMAD_HTTP_TOKEN") or None
        username = os.environ.get("ZAMMAD_USERNAME") or None
        password = os.environ.get("ZAMMAD_PASSWORD") or None
        oauth2_token = os.environ.get("ZAMMAD_OAUTH2_TOKEN") or None
    client = Client(
        url,
        http_token=http_token,
        username=username,
        password=password,
        oauth2_token=oauth2_token,
        on_behalf_of=on_behalf_of,
        timeout=timeout,
        retries=retries,
        verify=verify,
        cache=cache,
        cache_sizes=cache_sizes,
        persistent_sizes=persistent_sizes,
        size_limit=size_limit,
        transport=transport,
        page_concurrency=page_concurrency,
        warn_n_plus_one=warn_n_plus_one,
        max_age=max_age,
    )
    set_default_client(client)
    return client
