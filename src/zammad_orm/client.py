"""Client: composes transport, converter, identity map and cache; default-client handling.

``zammad_orm.connect()`` builds a :class:`Client` from arguments or the environment and makes it the
default client of ``Model.objects``. Every request goes through :meth:`Client.request`, which adds the
credentials and the impersonation header and hands a :class:`~zammad_orm.transport.messages.Request` to the
transport. Every record that comes back is merged into the client's identity map (one Python object per
``(model, id)``) and written to its record cache; relations resolve through identity map, then cache,
then one request.

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
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

import attrs

from zammad_orm import errors
from zammad_orm.cache import RecordCache, cache_namespace, make_cache
from zammad_orm.identity import IdentityMap
from zammad_orm.manager import Manager, activate, deactivate, set_default_client
from zammad_orm.models import Model, registry
from zammad_orm.transport import (
    Auth,
    BasicAuth,
    BearerAuth,
    HTTPTransport,
    Request,
    Response,
    TokenAuth,
    Transport,
    raise_for_status,
)

__all__ = ["Client", "Pagination", "connect"]

M = TypeVar("M", bound=Model)

SearchGeneration = Literal["pre65", "unified"]

_API = "/api/v1"
# Per-context impersonation: client id -> ``From`` value (a tuple of pairs: immutable, so safe as default).
_impersonation: contextvars.ContextVar[tuple[tuple[int, str], ...]] = contextvars.ContextVar(
    "zammad_orm_impersonation", default=()
)


@attrs.define
class Pagination:
    """Default pagination of ``iter()`` and ``search()`` (the seed API's ``Client.pagination``).

    Attributes:
        page_size: Objects per request (clamped to what each endpoint honours).
        expand: Ask for the expanded form (names of related objects).

    """

    page_size: int = 100
    expand: bool = False


def _normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith(_API):
        url = url[: -len(_API)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.ConfigurationError(f"Zammad URL must be http(s)://host[:port][/path], got {url!r}")
    return url


def _make_auth(
    http_token: str | None, username: str | None, password: str | None, oauth2_token: str | None
) -> Auth:
    given = [
        name
        for name, value in (
            ("http_token", http_token),
            ("username/password", username or password),
            ("oauth2_token", oauth2_token),
        )
        if value
    ]
    if not given:
        raise errors.ConfigurationError(
            "no credentials: give http_token, username and password, or oauth2_token"
            " (or set ZAMMAD_HTTP_TOKEN, ZAMMAD_USERNAME/ZAMMAD_PASSWORD or ZAMMAD_OAUTH2_TOKEN)"
        )
    if len(given) > 1:
        raise errors.ConfigurationError(f"contradictory credentials: {' and '.join(given)}; give one kind")
    if http_token:
        return TokenAuth(http_token)
    if oauth2_token:
        return BearerAuth(oauth2_token)
    if not username or not password:
        raise errors.ConfigurationError("username and password must be given together")
    return BasicAuth(username, password)


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


if TYPE_CHECKING:
    from zammad_orm.resources.mention import MentionManager
    from zammad_orm.resources.notification import OnlineNotificationManager
    from zammad_orm.resources.object_attribute import ObjectAttributeManager
    from zammad_orm.resources.priority import TicketPriorityManager
    from zammad_orm.resources.state import TicketStateManager
    from zammad_orm.resources.tag import Tags
    from zammad_orm.resources.ticket import TicketManager
    from zammad_orm.resources.user import UserManager


class Client:
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
        cache: Record cache: ``"memory"`` (default), ``"disk"``, ``"disk:/path"``, ``"redis://..."``,
            ``False`` for none, or a :class:`~zammad_orm.cache.base.RecordCache`.
        transport: A ready transport (e.g. ``WSGITransport(emulator.app)``) instead of HTTP.
        pagination: Default pagination of ``iter()``/``search()``.

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
        transport: Transport | None = None,
        pagination: Pagination | None = None,
    ) -> None:
        self.url = _normalise_url(url)
        self.api_url = self.url + _API
        self.auth = _make_auth(http_token, username, password, oauth2_token)
        self.transport: Transport = (
            transport
            if transport is not None
            else HTTPTransport(timeout=timeout, retries=retries, verify=verify)
        )
        self._default_from = None if on_behalf_of is None else _from_value(on_behalf_of)
        self.identity = IdentityMap()
        self.cache: RecordCache = make_cache(cache, namespace=cache_namespace(self.url, self.auth.identity))
        self.pagination = pagination if pagination is not None else Pagination()
        self._configured: set[str] = set()
        self._sizes: dict[str, int] = {}
        self._managers: dict[str, Manager[Any]] = {}
        self._lock = threading.RLock()
        self._version: str | None = None
        self._generation: SearchGeneration | None = None
        self.last_request_at: float | None = None

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

    # -- HTTP --------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            return f"{self.api_url}/{path.lstrip('/')}"
        # Absolute URLs only on this server: the credentials must never travel to another host.
        if not path.startswith(self.url + "/"):
            raise errors.ConfigurationError(f"refusing to send this client's credentials to {path!r}")
        return path

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, json: Any) -> Response:
        url = self._url(path)
        headers: dict[str, str] = {"Accept": "application/json"}
        self.auth.apply(headers)
        sender = self._from_header()
        if sender is not None:
            headers["From"] = sender
        response = self.transport.send(
            Request(method=method.upper(), url=url, params=params, json=json, headers=headers)
        )
        self.last_request_at = time.time()
        raise_for_status(response)
        return response

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
        return self._send(method, path, params, json).json()

    def download(self, path: str, *, params: Mapping[str, Any] | None = None) -> bytes:
        """GET ``path`` and return the raw body (attachments)."""
        return self._send("GET", path, params, None).body

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
        """Close the transport's connections."""
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- server facts ------------------------------------------------------------------------------

    @property
    def server_version(self) -> str:
        """The server's version string (``"6.2.0-1709189301.4a2dd7d0.focal"``), asked once."""
        if self._version is None:
            reply = self.request("GET", "version")
            if not isinstance(reply, dict) or not isinstance(reply.get("version"), str):
                raise errors.DecodeError(f"unexpected reply of /version: {reply!r}")
            self._version = reply["version"]
        return self._version

    @property
    def search_generation(self) -> SearchGeneration:
        """``"pre65"`` (6.0–6.4 search replies) or ``"unified"`` (6.5+), from replies or the version."""
        if self._generation is None:
            try:
                major, minor = (int(p) for p in self.server_version.split(".")[:2])
            except ValueError:
                return "pre65"
            self._generation = "unified" if (major, minor) >= (6, 5) else "pre65"
        return self._generation

    def note_search_generation(self, generation: SearchGeneration) -> None:
        """Record the search reply shape seen from the server."""
        self._generation = generation

    # -- identity map and cache --------------------------------------------------------------------

    def cache_size(self, model: type[Model]) -> int:
        """Return the configured record cache size of ``model`` (-1 unbounded, 0 off, >0 LRU)."""
        self._configure(model)
        return self._sizes[model._meta.name]

    def configure_cache(self, model: type[Model], size: int) -> None:
        """Set the record cache size of one model (-1 unbounded, 0 off, >0 LRU entries)."""
        name = model._meta.name
        self.cache.configure(name, size)
        self._sizes[name] = size
        self._configured.add(name)

    def _configure(self, model: type[Model]) -> None:
        if model._meta.name not in self._configured:
            self.configure_cache(model, model.DEFAULT_CACHE_SIZE)

    def load(self, model: type[M], record: Any) -> M:
        """Merge a server record into the identity map and the cache; return the one instance.

        Raises:
            DecodeError: The record is not an object with an id.

        """
        return self._load(model, record, store=True)

    def _load(self, model: type[M], record: Any, *, store: bool) -> M:
        """:meth:`load`; ``store=False`` when the record comes from the record cache already."""
        if not isinstance(record, dict) and not isinstance(record, Mapping):
            raise errors.DecodeError(f"expected a {model.__name__} object, got {record!r}")
        pk = record.get("id")
        if type(pk) is not int:
            return model._from_record(record, self)
        with self._lock:
            existing = self.identity.get(model, pk)
            if isinstance(existing, model):
                if existing._holds(record):  # the same data again: only the age changes
                    object.__setattr__(existing, "_fetched_at", time.time())
                    return existing
                existing._merge(record, keep=existing._dirty_names())
                obj = existing
            else:
                obj = self.identity.setdefault(model._from_record(record, self))
                if not store:
                    return obj  # built from the cached record: nothing new to cache
        self._store(model, pk, obj._raw)
        return obj

    def load_assets(self, assets: Any) -> None:
        """Merge every record of an ``assets`` map (``{"Ticket": {"1": {...}}, ...}``).

        Live objects (in the identity map) are updated at once. The other records only go to the record
        cache: most assets are never looked at, and a relation that needs one builds the object from the
        cache without a request.
        """
        if not isinstance(assets, Mapping):
            return
        by_key = {m._meta.asset_key: m for m in registry.values()}
        for key, records in assets.items():
            model_class = by_key.get(key)
            if model_class is None or not isinstance(records, Mapping):
                continue
            self._configure(model_class)
            cached = self._sizes[model_class._meta.name] != 0
            for record in records.values():
                pk = record.get("id") if isinstance(record, Mapping) else None
                if not isinstance(pk, int):
                    continue
                if not cached or self.identity.get(model_class, pk) is not None:
                    self.load(model_class, record)
                else:
                    self._cache_record(model_class, pk, record)

    def _cache_record(self, model: type[Model], pk: int, record: Mapping[str, Any]) -> None:
        """Write a record to the cache, merged over what is cached already (assets may be partial)."""
        name = model._meta.name
        before = self.cache.get(name, pk)
        if before is None:
            self._store(model, pk, dict(record))
            return
        if record.items() <= before.record.items():
            return  # nothing new (assets repeat across search pages)
        self._store(model, pk, {**before.record, **record})

    def adopt(self, obj: Model) -> None:
        """Register an instance that was just saved, refreshed or created through this client."""
        pk = obj.id
        if pk is None:
            return
        model = type(obj)
        with self._lock:
            if obj._client is None:
                object.__setattr__(obj, "_client", self)
            existing = self.identity.get(model, pk)
            if existing is None:
                self.identity.add(obj)
            elif existing is not obj and isinstance(existing, Model):
                existing._merge(obj._raw, keep=existing._dirty_names())
        self._store(model, pk, obj._raw)

    def forget(self, model: type[Model], pk: int) -> None:
        """Drop an object from the identity map and the cache (after a delete)."""
        self.identity.discard(model, pk)
        self.cache.delete(model._meta.name, pk)

    def _store(self, model: type[Model], pk: int, record: dict[str, Any]) -> None:
        self._configure(model)
        if self._sizes[model._meta.name] == 0:
            return
        updated = record.get("updated_at")
        self.cache.set(model._meta.name, pk, record, updated_at=updated if isinstance(updated, str) else None)

    # -- reading objects ---------------------------------------------------------------------------

    def fetch(self, model: type[M], pk: int, *, expand: bool = False) -> M:
        """GET one object from the server (``Model.DoesNotExist`` when it is missing)."""
        return self.load(model, self.fetch_record(model, pk, expand=expand))

    def fetch_record(self, model: type[Model], pk: int, *, expand: bool = False) -> Any:
        """GET the raw record of one object (``Model.DoesNotExist`` when it is missing)."""
        path = f"{_endpoint(model)}/{pk}"
        try:
            return self.request("GET", path, params={"expand": "true"} if expand else None)
        except errors.NotFound as exc:
            raise model.DoesNotExist(
                exc.message, status=exc.status, method=exc.method, url=exc.url, body=exc.body
            ) from exc

    def resolve(self, model: type[M], pk: int, *, hint: Any = None) -> M:
        """Return object ``pk``: identity map, then record cache, then one request.

        Args:
            model: The model class.
            pk: The id.
            hint: The expanded name the referring record carried (used for models Zammad has no
                endpoint for, such as state types).

        """
        found = self.identity.get(model, pk)
        if isinstance(found, model):
            return found
        self._configure(model)
        cached = self.cache.get(model._meta.name, pk) if self._sizes[model._meta.name] != 0 else None
        if cached is not None:
            obj = self._load(model, cached.record, store=False)
            object.__setattr__(obj, "_fetched_at", cached.fetched_at)
            return obj
        if model._meta.endpoint is None:
            builtin: Mapping[int, Mapping[str, Any]] = getattr(model, "BUILTIN", {})
            record = dict(builtin.get(pk, {"id": pk}))
            if isinstance(hint, str):
                record["name"] = hint
            record["id"] = pk
            return self.load(model, record)
        return self.fetch(model, pk)

    def resolve_many(self, model: type[M], ids: list[int]) -> list[M]:
        """Resolve several ids (in order) like :meth:`resolve`."""
        return [self.resolve(model, pk) for pk in ids]

    def list_related(self, model: type[M], path: str) -> list[M]:
        """GET a list endpoint (``ticket_articles/by_ticket/1``) and load every record."""
        reply = self.request("GET", path)
        if isinstance(reply, dict):
            reply = reply.get(model._meta.collection, reply.get(model._meta.search_key, []))
        if not isinstance(reply, list):
            raise errors.DecodeError(f"expected a list of {model.__name__} from {path}, got {reply!r}")
        return [self.load(model, record) for record in reply]

    def iterate(self, model: type[M], path: str, params: Mapping[str, Any]) -> Iterator[M]:
        """Page through an index endpoint until a page comes back short.

        Args:
            model: The model class of the records.
            path: The endpoint path.
            params: ``page`` (first page), ``page_size``, ``expand`` and endpoint parameters.

        """
        params = dict(params)
        page = int(params.pop("page", 1) or 1)
        size = int(params.pop("page_size", params.pop("per_page", self.pagination.page_size)))
        expand = bool(params.pop("expand", self.pagination.expand))
        if page < 1 or size < 1:
            raise errors.QueryError(f"page and page_size must be >= 1, got {page} and {size}")
        size = min(size, model._meta.max_page_size)
        return self._pages(model, path, page, size, expand, params)

    def _pages(
        self,
        model: type[M],
        path: str,
        page: int,
        size: int,
        expand: bool,
        params: dict[str, Any],
    ) -> Iterator[M]:
        while True:
            query = {**params, "page": page, "per_page": size, "expand": expand}
            reply = self.request("GET", path, params=query)
            items = self.decode_list(model, reply)
            yield from items
            if len(items) < size:
                return
            page += 1

    def decode_list(self, model: type[M], reply: Any) -> list[M]:
        """Load the objects of an index reply: a list of records (search replies: see pagination.py).

        Raises:
            DecodeError: The reply is not a list of objects.

        """
        if not isinstance(reply, list):
            raise errors.DecodeError(f"expected a list of {model.__name__} records, got {str(reply)[:200]!r}")
        return [self.load(model, record) for record in reply]


def _endpoint(model: type[Model]) -> str:
    endpoint = model._meta.endpoint
    if endpoint is None:
        raise errors.ConfigurationError(f"Zammad has no REST endpoint for {model.__name__}")
    return endpoint


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
    transport: Transport | None = None,
) -> Client:
    """Create a client and make it the default client of ``Model.objects``.

    Missing arguments come from the environment: ``ZAMMAD_URL``, and — only when no credential is
    given — ``ZAMMAD_HTTP_TOKEN``, ``ZAMMAD_USERNAME``/``ZAMMAD_PASSWORD`` or ``ZAMMAD_OAUTH2_TOKEN``.

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
        transport=transport,
    )
    set_default_client(client)
    return client
