"""A complete local copy of a model, kept current by incremental syncs: ``client.sync(Ticket)``.

A :class:`Replica` holds every record of one searchable model (tickets, users, organizations, ...) in a
SQLite database, with the sync's state beside them, and answers ``Ticket.objects.local()`` QuerySets
without requests (:mod:`zammad_orm.clientside` evaluates them with the same evaluator the emulator uses).

How a sync runs (:meth:`Replica.sync`). The search is sorted by ``updated_at, id`` (ascending) and
paged by :func:`~zammad_orm.paging.iterate_search` (keyset paging past the 10,000-row window). The first
sync asks for everything; later ones for the rows after a position a little before the *watermark* (the
``(updated_at, id)`` of the last record stored): :data:`OVERLAP` earlier, for the search index's lag, but
never more than the last :data:`OVERLAP_ROWS` records stored, so that after a bulk change of many records
in one instant a sync with no change is still one request. Records in the watermark's own instant are
told apart by id (keyset), so none is skipped or read twice for that reason.

Each page is stored in one transaction together with the new watermark (the last ``updated_at`` of the
page): an exception on page *k* leaves pages *1..k-1* stored and the watermark after them, so the next
sync resumes there; records are keyed by id, so a page read twice duplicates nothing.

Deletions are found by *reconciling* ids: every id the search knows (``expand=true`` pages of ids,
:func:`~zammad_orm.paging.iterate_ids`) against the local ones; the local records the server no longer
has are removed, the ones it has and the copy lacks are fetched. A sync reconciles when asked
(``reconcile=True``), every :data:`RECONCILE_EVERY` syncs, after an interrupted reconciliation and when
an interrupted first sync completes.

Where the copy lives: for a client whose cache is on disk (``cache="disk"``, ``"disk:/path"``), one
SQLite file per (cache namespace, model) below the disk cache's directory,
``replicas/NAMESPACE/MODEL.sqlite3`` (directories 0700, files 0600): the copy outlives the process and
the next sync of another client of the same server and user is incremental. For any other cache
(memory, none, Redis) an in-memory SQLite database that lives as long as the client.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import attrs

from . import _json
from .cache.disk import default_cache_dir
from .cache.factory import cache_kind, disk_path
from .dates import format_datetime, iso_instant
from .errors import CacheError, ConfigurationError, NotSynced, QueryError
from .expr import Lookup, MatchAll, Node
from .meta import registry
from .paging import ID_BATCH, SearchPlan, iterate_ids, iterate_search, keyset_after

if TYPE_CHECKING:
    from .interface import ClientAPI

__all__ = [
    "ORDERING",
    "OVERLAP",
    "OVERLAP_ROWS",
    "RECONCILE_EVERY",
    "LocalCopies",
    "Replica",
    "Replicas",
    "SyncReport",
]

#: How far before the watermark a later sync starts: records the search index took in late
#: (Elasticsearch refreshes about once a second; Zammad indexes in a background job).
OVERLAP = dt.timedelta(seconds=5)
#: A later sync reads again at most this many records it already holds (the latest ones): with no change
#: it is one page of 200. A record the index took in later than that is found by a reconciliation.
OVERLAP_ROWS = 50
#: The order of a sync's pages.
ORDERING = (("updated_at", False), ("id", False))
#: Every this many syncs one also reconciles ids (finds deleted records); ``reconcile=True`` forces it.
RECONCILE_EVERY = 20
#: Pages of a sync that loads everything on the wire at once: the client's ``page_concurrency``. The
#: later syncs keep at most this many (a small change is one page; at most one page is asked in vain).
DELTA_IN_FLIGHT = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, updated_at TEXT, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_time ON records (updated_at, id);
CREATE TABLE IF NOT EXISTS related (model TEXT, id INTEGER, record TEXT NOT NULL, PRIMARY KEY (model, id));
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
"""


@attrs.frozen
class SyncReport:
    """What one sync did.

    Attributes:
        model: The model's name (``"Ticket"``).
        fetched: Records received (new or changed, and the overlap read again).
        deleted: Local records removed because the server no longer has them (reconciliation).
        total: Records in the copy afterwards.
        full: Whether this sync loaded everything (the first one).
        reconciled: Whether ids were reconciled.
        watermark: The ``updated_at`` the next sync starts from (less :data:`OVERLAP`).

    """

    model: str
    fetched: int
    deleted: int
    total: int
    full: bool
    reconciled: bool
    watermark: str | None


class Replica:
    """The local copy of one model for one client identity: records, watermark, sync counts.

    Args:
        model: The model class (searchable).
        path: The SQLite file, or ``None`` for an in-memory database.

    """

    def __init__(self, model: type[Any], path: Path | None) -> None:
        self.model = model
        self.path = path
        self._lock = threading.RLock()
        self._objects: dict[int, Any] | None = None  # built from the records on first local use
        self._related: dict[tuple[str, int], Any] = {}  # keeps related objects in the (weak) identity map
        try:
            self._db = sqlite3.connect(
                ":memory:" if path is None else _private_file(path), timeout=30, check_same_thread=False
            )
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise CacheError(f"cannot open the local copy of {model.__name__} at {path}: {exc}") from exc

    # -- state -------------------------------------------------------------------------------------

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:  # commits, or rolls back on an exception
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
        except sqlite3.Error as exc:
            raise CacheError(f"cannot write the local copy of {self.model.__name__}: {exc}") from exc

    @staticmethod
    def _put(db: sqlite3.Connection, key: str, value: object) -> None:
        db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, str(value)))

    @property
    def watermark(self) -> str | None:
        """The largest ``updated_at`` of the records stored by completed pages (``None``: none yet)."""
        return self._get("watermark")

    @property
    def complete(self) -> bool:
        """Whether a first sync has run to its end (a copy interrupted before is not complete)."""
        return self._get("complete") == "1"

    @property
    def syncs(self) -> int:
        """How many syncs ran to their end."""
        return int(self._get("syncs") or 0)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def ids(self) -> set[int]:
        """Return the ids of the stored records."""
        return {int(r[0]) for r in self._db.execute("SELECT id FROM records")}

    # -- syncing -----------------------------------------------------------------------------------

    def sync(self, client: ClientAPI, *, reconcile: bool | None = None) -> SyncReport:
        """Fetch what changed since the last sync (everything the first time); see the module docs.

        Args:
            client: The client to send the searches.
            reconcile: ``True``: also reconcile ids (find deletions); ``False``: not even when due;
                ``None``: every :data:`RECONCILE_EVERY` syncs, after an interrupted reconciliation, and
                when a first sync that was interrupted completes (records stored before may be gone).

        """
        with self._lock:
            full = not self.complete
            resumed = full and self.watermark is not None
            since = int(self._get("since_reconcile") or 0)
            pending = resumed or self._get("reconcile_pending") == "1"
            if reconcile is None:
                due = pending or (not full and since + 1 >= RECONCILE_EVERY)
            else:
                due = reconcile and (resumed or not full)  # a first sync reads every record anyway
            if due or pending:
                with self._transaction() as db:
                    self._put(db, "reconcile_pending", 1)  # an interrupted reconciliation is done next time
            fetched = self._pull(client, self._changed(), in_flight=None if full else DELTA_IN_FLIGHT)
            deleted = self._reconcile(client) if due else 0
            with self._transaction() as db:
                self._put(db, "complete", 1)
                self._put(db, "syncs", self.syncs + 1)
                self._put(db, "since_reconcile", 0 if (due or full) else since + 1)
                self._put(db, "reconcile_pending", 0 if due or not pending else 1)
            return SyncReport(
                self.model._meta.name, fetched, deleted, len(self), full, due or full, self.watermark
            )

    def _changed(self) -> Node:
        """Return the filter of the rows a sync reads: all, or those after the position before the mark."""
        mark = self.watermark
        when = None if mark is None else iso_instant(mark)
        if when is None:
            return MatchAll()
        start: tuple[str, int] = (format_datetime(when - OVERLAP), 0)
        latest = self._db.execute(
            "SELECT updated_at, id FROM records WHERE updated_at IS NOT NULL"
            " ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET ?",
            (OVERLAP_ROWS,),
        ).fetchone()
        if latest is not None:
            start = max(start, (str(latest[0]), int(latest[1])))
        return keyset_after(ORDERING, SimpleNamespace(updated_at=iso_instant(start[0]), id=start[1]))

    def _plan(self, client: ClientAPI, where: Node) -> SearchPlan:
        return SearchPlan(
            path=f"{self.model._meta.endpoint}/search",
            where=where,
            ordering=ORDERING,
            allow_stars=lambda: client.facts.generation != "unified",
        )

    def _pull(self, client: ClientAPI, where: Node, *, in_flight: int | None) -> int:
        """Fetch the matches of ``where`` page by page; store each page with the watermark after it."""
        flight = client.page_concurrency if in_flight is None else min(in_flight, client.page_concurrency)
        fetched = 0
        for page in iterate_search(client, self.model, self._plan(client, where), in_flight=flight):
            self._store(client, page.rows)
            fetched += len(page.rows)
        return fetched

    def _store(self, client: ClientAPI, rows: list[Any]) -> None:
        records = [(obj.id, obj._raw.get("updated_at"), json.dumps(obj._raw)) for obj in rows]
        marks = [str(u) for _, u, _ in records if isinstance(u, str)]
        related = self._related_objects(client, rows)
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO records (id, updated_at, record) VALUES (?,?,?)", records)
            db.executemany(
                "INSERT OR REPLACE INTO related (model, id, record) VALUES (?, ?, ?)",
                [(name, pk, json.dumps(obj._raw)) for (name, pk), obj in related.items()],
            )
            mark = max([*marks, self.watermark or ""])
            if mark:
                self._put(db, "watermark", mark)
        if self._objects is not None:
            self._objects.update((obj.id, obj) for obj in rows)
            self._related.update(related)

    def _related_objects(self, client: ClientAPI, rows: list[Any]) -> dict[tuple[str, int], Any]:
        """Return the objects the rows refer to that the page's ``assets`` brought along, by (model, id)."""
        out: dict[tuple[str, int], Any] = {}
        for rel in self.model._meta.descriptors.values():
            target = registry.get(rel.target)
            if rel.kind != "fk" or target is None or not rel.local:
                continue
            for obj in rows:
                pk = obj._raw.get(rel.local)
                if type(pk) is int and (rel.target, pk) not in out:
                    known = client.identity.get(target, pk)
                    if known is not None:
                        out[rel.target, pk] = known
        return out

    def _reconcile(self, client: ClientAPI) -> int:
        """Drop the local records the server no longer has, fetch the ones it has that are missing."""
        server: set[int] = set()
        for ids in iterate_ids(client, self.model, self._plan(client, MatchAll())):
            server.update(ids)
        local = self.ids()
        gone = sorted(local - server)
        missing = sorted(server - local)
        for start in range(0, len(missing), ID_BATCH):
            self._pull(client, Lookup("id", "in", missing[start : start + ID_BATCH]), in_flight=1)
        with self._transaction() as db:
            db.executemany("DELETE FROM records WHERE id = ?", [(pk,) for pk in gone])
        for pk in gone:
            client.forget(self.model, pk)
            if self._objects is not None:
                self._objects.pop(pk, None)
        return len(gone)

    # -- local use ---------------------------------------------------------------------------------

    def objects(self, client: ClientAPI) -> list[Any]:
        """Return an object for every stored record (built once, then kept current by the syncs).

        The records go through the client's identity map and record cache; an object the identity map
        holds in a version at least as new as the stored one is used as it is.
        """
        with self._lock:
            if not self.complete:
                name = self.model.__name__
                raise NotSynced(f"no local copy of {name} yet: call client.sync({name}) first")
            if self._objects is None:
                related = self._load(client, self._db.execute("SELECT model, record FROM related"))
                self._related = {(type(obj)._meta.name, obj.id): obj for obj in related}
                rows = self._db.execute("SELECT ?, record FROM records ORDER BY id", (self.model._meta.name,))
                self._objects = {obj.id: obj for obj in self._load(client, rows)}
            return list(self._objects.values())

    @staticmethod
    def _load(client: ClientAPI, rows: Any) -> list[Any]:
        out: list[Any] = []
        by_model: dict[str, list[dict[str, Any]]] = {}
        for name, text in rows:
            record = _json.loads(text)
            model = registry.get(name)
            if model is None:
                continue
            known = client.identity.get(model, record.get("id"))
            if known is not None and _newer_or_same(known._raw, record):
                out.append(known)  # the identity map's version is at least as new
            else:
                by_model.setdefault(name, []).append(record)
        for name, records in by_model.items():
            out.extend(client.load_many(registry[name], records, owned=True))
        return out

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class LocalCopies:
    """``sync()`` and ``local_copy()`` of :class:`~zammad_orm.client.Client` (a base class of it).

    The client keeps its copies in ``_replicas`` (a :class:`Replicas`), one per identity (the cache
    namespace of the user in force, ``on_behalf_of`` included) and model.
    """

    _replicas: Replicas

    if TYPE_CHECKING:

        def _namespace(self, sender: str | None) -> str: ...

        def _from_header(self) -> str | None: ...

    def _replica(self, model: type[Any]) -> Replica:
        return self._replicas.get(self._namespace(self._from_header()), model)

    def sync(self, model: type[Any], *, reconcile: bool | None = None) -> SyncReport:
        """Bring the local copy of ``model`` up to date (all records the first time, then the changes).

        ``reconcile=True`` also finds deleted records (every :data:`RECONCILE_EVERY` syncs by default).
        The copy answers ``Model.objects.local()``; see ``docs/sync.md``.

        Raises:
            ConfigurationError: ``model`` is not a model class.
            QueryError: the model has no search endpoint.
            CacheError: the copy's file cannot be opened or written.

        """
        return self._replica(model).sync(cast("ClientAPI", self), reconcile=reconcile)

    def local_copy(self, model: type[Any]) -> list[Any]:
        """Return the objects of the local copy of ``model``; ``NotSynced`` before ``sync(model)``."""
        return self._replica(model).objects(cast("ClientAPI", self))


class Replicas:
    """The local copies of one client, by (cache namespace, model); opened on first use.

    Args:
        cache_setting: The client's ``cache=`` setting: a disk cache puts the copies in files below its
            directory, anything else keeps them in memory for the client's lifetime.

    """

    def __init__(self, cache_setting: Any) -> None:
        self._base: Path | None = None
        if cache_kind(cache_setting) == "disk":
            spec = disk_path(cache_setting)  # None: the default directory
            self._base = (Path(spec) if spec else default_cache_dir()) / "replicas"
        self._open: dict[tuple[str, str], Replica] = {}
        self._lock = threading.Lock()

    def get(self, namespace: str, model: Any) -> Replica:
        """Return the copy of ``model`` in ``namespace``, opening (or creating) it.

        Raises:
            ConfigurationError: ``model`` is not a model class.
            QueryError: the model has no search endpoint (a copy is kept current through searches).

        """
        meta = getattr(model, "_meta", None)
        if not isinstance(model, type) or meta is None or registry.get(meta.name) is not cast(Any, model):
            raise ConfigurationError(f"sync() takes a model class such as Ticket, not {model!r}")
        if not (meta.searchable and meta.endpoint):
            raise QueryError(f"cannot sync {model.__name__}: Zammad has no search endpoint for it")
        with self._lock:
            key = (namespace, meta.name)
            if key not in self._open:
                path = None if self._base is None else self._base / namespace / f"{meta.name}.sqlite3"
                self._open[key] = Replica(model, path)
            return self._open[key]

    def close(self) -> None:
        """Close every open copy (the files stay)."""
        with self._lock:
            for replica in self._open.values():
                replica.close()
            self._open.clear()


def _newer_or_same(held: Any, record: Any) -> bool:
    """Whether the record ``held`` is at least as new as ``record`` (by ``updated_at``)."""
    return str(held.get("updated_at") or "") >= str(record.get("updated_at") or "")


def _private_file(path: Path) -> str:
    """Create ``path`` (and its directories) readable by its owner only; return it as a string."""
    for parent in reversed([path.parent, *path.parent.parents]):
        if not parent.exists():
            parent.mkdir(mode=0o700)
    if sys.platform != "win32":
        path.parent.chmod(0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if sys.platform != "win32":
        path.chmod(0o600)
    return str(path)
