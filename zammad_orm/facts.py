"""What a client learns about its server, in one place: version, reply generation, search backend, tables.

A :class:`ServerFacts` belongs to one :class:`~zammad_orm.client.Client` (``client.facts``). Each fact is
learned once, the first time something needs it, and read from here afterwards; nothing else in the
library keeps a copy. Facts are keyed by model *names* (``"Ticket"``) so that this module stays at the
bottom of the layers; the request function is the client's.

=====================  ==================================================  =============================
fact                   learned from                                        read with
=====================  ==================================================  =============================
server version         ``GET /version`` (once)                             :attr:`ServerFacts.version`
reply generation       the shape of search replies, else the version        :attr:`ServerFacts.generation`
search backend         configuration, else the first search's reply        :meth:`ServerFacts.backend`
custom attributes      ``GET /object_manager_attributes`` (once)           :meth:`ServerFacts.attributes`
reference tables       ``GET /<table>`` (once per table)                   :meth:`ServerFacts.table`, ``row``
small listings         one page of ``GET /organizations`` (once)           :meth:`ServerFacts.small_table`
=====================  ==================================================  =============================
"""

from __future__ import annotations

import itertools
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

from zammad_orm.errors import DecodeError, QueryError

__all__ = [
    "Backend",
    "BackendSetting",
    "Requester",
    "SearchGeneration",
    "SearchIndexUnavailableWarning",
    "ServerFacts",
    "version_tuple",
]

#: The reply generation of search endpoints: 6.0–6.4 (``pre65``) or 6.5+ (``unified``).
SearchGeneration = Literal["pre65", "unified"]
#: What answers a model's searches: a search index, or Zammad's SQL fallback (filter client-side).
Backend = Literal["elasticsearch", "database"]
#: A configured backend; ``auto`` lets the first search's reply decide.
BackendSetting = Literal["elasticsearch", "database", "auto"]
#: ``request(method, path, params=...)``: the client's one way to ask the server.
Requester = Callable[..., Any]

_ALL = "*"  # the backend key that stands for every model
_TABLE_PAGE = 1000  # the largest per_page of the generic index endpoints


class SearchIndexUnavailableWarning(UserWarning):
    """The server has no search index: queries are evaluated client-side over the index endpoint."""


def version_tuple(version: str) -> tuple[int, int] | None:
    """Return ``(major, minor)`` of a Zammad version string (``"6.2.0-1709..."``), ``None`` if unreadable."""
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return None
    return major, minor


class ServerFacts:
    """The facts a client learns about its server, each learned once and read from here.

    Thread-safe: a fact is learned under a lock; two threads asking at once send one request.

    Args:
        request: The client's request function (``request("GET", "version")``).

    """

    def __init__(self, request: Requester) -> None:
        self._request = request
        self._lock = threading.RLock()
        self._version: str | None = None
        self._generation: SearchGeneration | None = None
        self._backends: dict[str, Backend] = {}
        self._warned: set[str] = set()
        self._attributes: dict[str, frozenset[str]] | None = None
        self._tables: dict[str, list[dict[str, Any]]] = {}
        self._loaded_at: dict[str, float] = {}  # path -> when the table was listed (time.time())
        self._rows: dict[str, dict[Any, dict[str, Any]]] = {}
        self._small: dict[str, list[dict[str, Any]] | None] = {}
        self._table_locks: dict[str, threading.Lock] = {}  # one per table: tables load side by side

    # -- version and reply generation --------------------------------------------------------------

    @property
    def version(self) -> str:
        """The server's version string (``"6.2.0-1709189301.4a2dd7d0.focal"``), asked once.

        Raises:
            DecodeError: ``/version`` answered something else than ``{"version": "..."}``.

        """
        with self._lock:
            if self._version is None:
                reply = self._request("GET", "version")
                if not isinstance(reply, dict) or not isinstance(reply.get("version"), str):
                    raise DecodeError(f"unexpected reply of /version: {reply!r}")
                self._version = reply["version"]
            return self._version

    @property
    def generation(self) -> SearchGeneration:
        """``"pre65"`` (6.0–6.4 search replies) or ``"unified"`` (6.5+): from replies, else the version."""
        if self._generation is None:
            found = version_tuple(self.version)
            if found is None:
                return "pre65"
            self._generation = "unified" if found >= (6, 5) else "pre65"
        return self._generation

    def note_generation(self, generation: SearchGeneration) -> None:
        """Record the search reply shape seen from the server (a reply outranks the version)."""
        self._generation = generation

    # -- search backend ----------------------------------------------------------------------------

    def configure_backend(self, setting: BackendSetting, model_name: str | None = None) -> None:
        """Set the search backend of one model, or of every model (``auto``: let replies decide).

        Raises:
            QueryError: ``setting`` is not one of ``elasticsearch``, ``database``, ``auto``.

        """
        if setting not in get_args(BackendSetting):
            raise QueryError(f"search backend must be 'elasticsearch', 'database' or 'auto', got {setting!r}")
        key = model_name or _ALL
        with self._lock:
            if setting == "auto":
                if model_name is None:
                    self._backends.clear()
                else:
                    self._backends.pop(key, None)
            else:
                self._backends[key] = setting

    def backend(self, model_name: str) -> Backend | None:
        """Return the known backend of a model's searches, or ``None`` while nothing decided it."""
        return self._backends.get(model_name) or self._backends.get(_ALL)

    def learn_backend(self, model_name: str, backend: Backend) -> None:
        """Record what a reply showed, unless something decided it already (another thread, a setting)."""
        with self._lock:
            if self.backend(model_name) is None:
                self._backends[model_name] = backend

    def search_works(self) -> bool:
        """Return whether ``id:(...)`` searches find objects (not so once a model showed no index)."""
        return "database" not in self._backends.values()

    def warn_no_index(self, model_name: str, endpoint: str) -> None:
        """Warn once per model that its queries are evaluated client-side."""
        with self._lock:
            if model_name in self._warned:
                return
            self._warned.add(model_name)
        warnings.warn(
            f"this Zammad server has no search index: {model_name} queries are evaluated "
            f"client-side over GET /api/v1/{endpoint} (slower, same results)",
            SearchIndexUnavailableWarning,
            stacklevel=6,
        )

    # -- custom attributes and reference tables ----------------------------------------------------

    def attributes(self, name: str) -> frozenset[str]:
        """Names of the custom attributes the server lists for a model (asked once per client).

        Args:
            name: A model name (``"Ticket"``); ``"Ticket:dates"`` names those of type date or datetime.

        """
        with self._lock:
            if self._attributes is None:
                self._attributes = _attribute_names(self._request("GET", "object_manager_attributes"))
        return self._attributes.get(name, frozenset())

    def table(self, path: str) -> list[dict[str, Any]]:
        """Return every record of a small reference table (``"ticket_states"``), asked once per client.

        Paged with the largest page the index endpoints honour (1,000), so one request for any
        ordinary helpdesk.

        Raises:
            DecodeError: A page is not a list of records.

        """
        with self._lock:
            rows = self._tables.get(path)
            if rows is not None:
                return rows
            loading = self._table_locks.setdefault(path, threading.Lock())
        with loading:  # a second reader of the same table waits for the first one's request
            rows = self._tables.get(path)
            if rows is None:
                rows = []
                for page in itertools.count(1):
                    reply = self._request("GET", path, params={"page": page, "per_page": _TABLE_PAGE})
                    if not isinstance(reply, list) or not all(isinstance(r, dict) for r in reply):
                        raise DecodeError(f"expected a list of records from /{path}, got {reply!r:.200}")
                    rows.extend(reply)
                    if len(reply) < _TABLE_PAGE:
                        break
                with self._lock:
                    self._tables[path] = rows
                    self._loaded_at[path] = time.time()
            return rows

    def table_loaded_at(self, path: str) -> float | None:
        """Return when the table at ``path`` was listed (:func:`time.time`), ``None`` when it was not."""
        return self._loaded_at.get(path) if path in self._tables else None

    def has_table(self, path: str) -> bool:
        """Return whether the table at ``path`` was asked for already (and not forgotten since)."""
        return path in self._tables or path in self._small

    def small_table(self, path: str, limit: int) -> list[dict[str, Any]] | None:
        """Return every record at ``path`` when one page of ``limit`` rows holds them all, else ``None``.

        One request, asked once per client (``GET /organizations?per_page=1000``): what a check of names
        may cost; a longer listing would take more pages, so its names are not checked.

        Raises:
            DecodeError: The page is not a list of records.

        """
        with self._lock:
            if path not in self._small:
                reply = self._request("GET", path, params={"page": 1, "per_page": limit})
                if not isinstance(reply, list) or not all(isinstance(r, dict) for r in reply):
                    raise DecodeError(f"expected a list of records from /{path}, got {reply!r:.200}")
                self._small[path] = reply if len(reply) < limit else None
            return self._small[path]

    def row(self, path: str, pk: int) -> dict[str, Any] | None:
        """Return the record ``pk`` of a reference table (loading the table once), or ``None``."""
        rows = self._rows.get(path)
        if rows is None:
            table = self.table(path)  # not under the lock: another table may be loading meanwhile
            with self._lock:
                rows = self._rows.setdefault(path, {r.get("id"): r for r in table})
        return rows.get(pk)

    def forget_table(self, path: str) -> None:
        """Drop a table learned before (after a write to it), so that the next read asks again."""
        with self._lock:
            self._tables.pop(path, None)
            self._rows.pop(path, None)
            self._small.pop(path, None)


def _attribute_names(reply: Any) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for item in reply if isinstance(reply, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            found.setdefault(str(item.get("object")), set()).add(item["name"])
            if item.get("data_type") in ("date", "datetime"):
                found.setdefault(f"{item.get('object')}:dates", set()).add(item["name"])
    return {k: frozenset(v) for k, v in found.items()}
