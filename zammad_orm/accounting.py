"""Request accounting: what a client sent and where its objects came from.

Every :class:`~zammad_orm.client.Client` keeps an :class:`Accounting`: plain integers, counted on every
request (method, endpoint, body bytes; under one lock) and on every lookup of an object by id (a hit or a
miss of the identity map, then of the record cache; per thread). ``client.stats()`` returns a
:class:`ClientStats` snapshot of them; ``client.reset_stats()`` sets them back to zero.

``with client.capture() as log:`` records each request of a block as a :class:`RequestRecord` in a
:class:`RequestLog`. Open captures are kept in a context variable, so a capture sees the requests of its
own thread (and of the worker threads the library starts for it, which run in a copy of its context);
captures nest, and captures open at once in other threads see only their own requests. Outside a capture
nothing is recorded per request.

:class:`NPlusOneDetector` notices a loop that reads one relation object by object, each read costing a
request, and warns with :class:`NPlusOneWarning` (``Client(warn_n_plus_one=True)``; the pytest plugin's
client has it on).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import time
import types
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import attrs

__all__ = [
    "CAPTURE_WAIT",
    "N_PLUS_ONE_THRESHOLD",
    "N_PLUS_ONE_WINDOW",
    "Accounting",
    "CacheCounts",
    "ClientStats",
    "NPlusOneDetector",
    "NPlusOneWarning",
    "RequestLog",
    "RequestRecord",
    "Tier",
    "begin_request",
    "capture",
    "endpoint_of",
]

#: The places an object looked up by id can come from before a request: the client's identity map (live
#: objects) and its record cache (raw records) as a whole, ``"record"``; and the two tiers of a tiered
#: record cache it reads in turn: ``"memory"`` (in-process) and ``"persistent"`` (disk or Redis); and
#: ``"replies"``, the replies of QuerySet reads kept in the record cache (:mod:`zammad_orm.reply_cache`).
Tier = Literal["identity", "record", "memory", "persistent", "replies"]
CacheEvent = Literal["hit", "miss", "revalidation"]
_SLOT: dict[str, int] = {"hit": 0, "miss": 1, "revalidation": 2}
_TIERS: tuple[Tier, ...] = ("identity", "record", "memory", "persistent", "replies")

#: Requests of one relation, one object each, that make a loop an N+1 loop (:class:`NPlusOneDetector`).
N_PLUS_ONE_THRESHOLD = 5
#: Seconds between the end of one such request and the start of the next that still count as one loop.
N_PLUS_ONE_WINDOW = 2.0
#: The most seconds the end of a capture waits for the answers of requests still on the wire.
CAPTURE_WAIT = 120.0

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def endpoint_of(path: str) -> str:
    """Return the endpoint of a request path: the path without query string, its ids as ``{id}``.

    Args:
        path: A path relative to ``/api/v1`` (``"tickets/42"``, ``"tickets/search?query=x"``).

    Returns:
        ``"tickets/{id}"``, ``"tickets/search"``, ``"ticket_articles/by_ticket/{id}"``.

    """
    path = path.split("?", 1)[0].strip("/")
    return "/".join("{id}" if part.isascii() and part.isdigit() else part for part in path.split("/"))


@attrs.frozen
class CacheCounts:
    """Lookups of one model in one tier.

    Attributes:
        hits: Lookups the tier answered.
        misses: Lookups it could not answer (the next tier, or the server, did).
        revalidations: Copies older than their ``max_age`` that were checked with the server before
            use (a conditional ``GET``, or one search of a batch: :mod:`zammad_orm.revalidation`).

    """

    hits: int = 0
    misses: int = 0
    revalidations: int = 0

    def __add__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(
            self.hits + other.hits, self.misses + other.misses, self.revalidations + other.revalidations
        )


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, types.MappingProxyType) else value


@attrs.frozen
class ClientStats:
    """A snapshot of a client's counters (``client.stats()``); later requests do not change it.

    Attributes:
        requests: Requests sent (one per :meth:`Client.send <zammad_orm.client.Client.send>`, whatever
            the transport's retries; a request that got no response counts too).
        by_method: Requests per HTTP method: ``{"GET": 12, "POST": 1}``.
        by_endpoint: Requests per endpoint, the path without query string and with its ids as ``{id}``:
            ``{"tickets/search": 10, "users/{id}": 2}``.
        bytes_received: Bytes of the response bodies.
        identity: Lookups by id in the identity map, per model name.
        record: Lookups by id in the record cache, per model name (those the identity map missed; a
            model whose cache size is 0 is not looked up there).
        memory: Reads of the record cache's in-process tier, per model name (a tiered cache:
            ``Client(cache="disk")`` or a Redis URL; a plain memory cache counts under ``record`` only).
        persistent: Reads of its persistent tier (disk or Redis): those the memory tier missed.
        replies: Lookups of the replies of QuerySet reads in the record cache, per model name of the rows
            (``"Ticket"``; ``"version"`` and the reference tables' models for what the client learns about
            its server): a hit sends no request, a miss one request, a revalidation one conditional
            request. Their reads of the tiers count under ``memory`` and ``persistent`` as ``"Reply"``.

    """

    requests: int = 0
    by_method: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_map)
    by_endpoint: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_map)
    bytes_received: int = 0
    identity: Mapping[str, CacheCounts] = attrs.field(factory=dict, converter=_frozen_map)
    record: Mapping[str, CacheCounts] = attrs.field(factory=dict, converter=_frozen_map)
    memory: Mapping[str, CacheCounts] = attrs.field(factory=dict, converter=_frozen_map)
    persistent: Mapping[str, CacheCounts] = attrs.field(factory=dict, converter=_frozen_map)
    replies: Mapping[str, CacheCounts] = attrs.field(factory=dict, converter=_frozen_map)

    def as_dict(self) -> dict[str, Any]:
        """Return the snapshot as plain dicts, lists and integers (``json.dumps(stats.as_dict())``)."""
        return attrs.asdict(self, value_serializer=lambda _inst, _field, value: _plain(value))

    def totals(self, tier: Tier) -> CacheCounts:
        """Return the lookups of one tier (``"identity"``, ``"record"``, ``"memory"``, ``"replies"``...)."""
        counts: Mapping[str, CacheCounts] = getattr(self, tier)
        return sum(counts.values(), CacheCounts())


Counts = dict[tuple[str, str], list[int]]  # (tier, model name) -> [hits, misses, revalidations]


class _ThreadCounts:
    """The lookups one thread counted: only that thread writes them, so it needs no lock."""

    __slots__ = ("counts", "thread")

    def __init__(self) -> None:
        self.thread = threading.current_thread()
        self.counts: Counts = {}


class Accounting:
    """A client's counters: requests and bytes under one lock, lookups by id per thread.

    Thread-safe and cheap. A request (sent from the reading thread or a page worker) is counted under
    the lock; it costs far more than the lock. A lookup by id (thousands per loop) is counted in the
    counters of the thread that does it, plain integers no other thread writes; :meth:`snapshot` adds
    the threads up, and a thread that ended is folded into the others when the next thread starts
    counting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._bytes = 0
        self._methods: dict[str, int] = {}
        self._endpoints: dict[str, int] = {}
        self._local = threading.local()
        self._threads: list[_ThreadCounts] = []
        self._ended: Counts = {}  # the lookups of threads that ended
        self._baseline: Counts = {}  # the lookups counted when reset() was called

    def request(self, method: str, endpoint: str, received: int) -> None:
        """Count one request to ``endpoint`` (see :func:`endpoint_of`) whose body had ``received`` bytes."""
        with self._lock:
            self._requests += 1
            self._bytes += received
            self._methods[method] = self._methods.get(method, 0) + 1
            self._endpoints[endpoint] = self._endpoints.get(endpoint, 0) + 1

    def sent(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        status: int | None,
        received: int,
        started: float,
        captures: Sequence[RequestLog],
    ) -> None:
        """Count a request and add it to the ``captures`` it began in (:func:`begin_request`).

        Args:
            method: The HTTP method, upper case.
            path: The path relative to ``/api/v1``.
            params: The query parameters.
            status: The response's status, ``None`` without a response.
            received: Bytes of the response body.
            started: :func:`time.perf_counter` when the request was handed to the transport.
            captures: The open captures of the client.

        """
        self.request(method, endpoint_of(path), received)
        if captures:
            record = RequestRecord(
                method=method,
                path=path,
                params=None if params is None else dict(params),
                status=status,
                bytes_received=received,
                elapsed=time.perf_counter() - started,
            )
            for log in captures:
                log._end(record)

    def lookup(self, tier: Tier, model_name: str, event: CacheEvent) -> None:
        """Count a ``"hit"``, ``"miss"`` or ``"revalidation"`` of ``model_name`` in ``tier``."""
        try:
            counts: Counts = self._local.counts
        except AttributeError:
            counts = self._local.counts = self._start_thread()
        key = (tier, model_name)
        entry = counts.get(key)
        if entry is None:
            entry = counts[key] = [0, 0, 0]
        entry[_SLOT[event]] += 1

    def _start_thread(self) -> Counts:
        mine = _ThreadCounts()
        with self._lock:
            for gone in [t for t in self._threads if not t.thread.is_alive()]:
                _add(self._ended, gone.counts)
                self._threads.remove(gone)
            self._threads.append(mine)
        return mine.counts

    def _lookups(self) -> Counts:
        """Add up the lookups of every thread (the caller holds the lock)."""
        total: Counts = {}
        _add(total, self._ended)
        for thread in self._threads:
            _add(total, thread.counts)
        return total

    def snapshot(self) -> ClientStats:
        """Return the counters as they are now."""
        with self._lock:
            lookups = self._lookups()
            _add(lookups, self._baseline, sign=-1)
            tiers: dict[str, dict[str, CacheCounts]] = {t: {} for t in _TIERS}
            for (tier, name), counts in sorted(lookups.items()):
                if any(counts):
                    tiers[tier][name] = CacheCounts(*counts)
            return ClientStats(
                requests=self._requests,
                by_method=self._methods,
                by_endpoint=self._endpoints,
                bytes_received=self._bytes,
                identity=tiers["identity"],
                record=tiers["record"],
                memory=tiers["memory"],
                persistent=tiers["persistent"],
                replies=tiers["replies"],
            )

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._requests = self._bytes = 0
            self._methods = {}
            self._endpoints = {}
            # Other threads' lookup counters are theirs to write: remember where they stand instead.
            self._baseline = self._lookups()


def _add(total: Counts, counts: Counts, *, sign: int = 1) -> None:
    for key, entry in counts.copy().items():  # a copy: another thread may add a model meanwhile
        into = total.setdefault(key, [0, 0, 0])
        for slot, value in enumerate(entry):
            into[slot] += sign * value


# --- captures -----------------------------------------------------------------------------------------


@attrs.frozen
class RequestRecord:
    """One request a capture recorded.

    Attributes:
        method: The HTTP method (upper case).
        path: The path relative to ``/api/v1`` as it was sent, without the query string of ``params``.
        params: The query parameters (``None`` for none).
        status: The response's status code; ``None`` when no response came (a transport error).
        bytes_received: Bytes of the response body.
        elapsed: Seconds from handing the request to the transport to having the whole response,
            retries included.

    """

    method: str
    path: str
    params: Mapping[str, Any] | None
    status: int | None
    bytes_received: int
    elapsed: float

    @property
    def endpoint(self) -> str:
        """The path with its ids as ``{id}`` (the key of :attr:`ClientStats.by_endpoint`)."""
        return endpoint_of(self.path)

    def __str__(self) -> str:
        query = "" if not self.params else "?" + "&".join(f"{k}={v}" for k, v in self.params.items())
        status = "no response" if self.status is None else str(self.status)
        return (
            f"{self.method} {self.path}{query} -> {status}"
            f" ({self.bytes_received} bytes, {self.elapsed * 1000:.0f} ms)"
        )


class RequestLog(Sequence[RequestRecord]):
    """The requests one client sent inside a ``with client.capture() as log:`` block, in order of answer.

    A read-only sequence of :class:`RequestRecord` (``len(log)``, ``log[0]``, iteration) that grows while
    the block runs. A request begun inside the block is in the log once the block is over (leaving the
    block waits for the answers of requests still on the wire, such as search pages asked for ahead);
    one begun after it is not. ``str(log)`` lists the requests one per line.
    """

    def __init__(self, client: object) -> None:
        self._client = client
        self._records: list[RequestRecord] = []
        self._open = True
        self._pending = 0
        self._changed = threading.Condition(threading.Lock())

    def _begin(self) -> bool:
        """Note a request that begins; ``False`` once the block is over (it is not recorded)."""
        with self._changed:
            if self._open:
                self._pending += 1
            return self._open

    def _end(self, record: RequestRecord | None) -> None:
        """Add the record of a request :meth:`_begin` accepted (``None``: it was never sent)."""
        with self._changed:
            if record is not None:
                self._records.append(record)
            self._pending -= 1
            self._changed.notify_all()

    def _close(self, timeout: float = CAPTURE_WAIT) -> None:
        """End the block: accept no new request, wait for the answers of those on the wire."""
        with self._changed:
            self._open = False
            self._changed.wait_for(lambda: self._pending <= 0, timeout)

    @overload
    def __getitem__(self, index: int) -> RequestRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RequestRecord]: ...
    def __getitem__(self, index: int | slice) -> RequestRecord | Sequence[RequestRecord]:
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(list(self._records))

    def __str__(self) -> str:
        return "\n".join(f"{n}. {record}" for n, record in enumerate(list(self._records), 1))

    def __repr__(self) -> str:
        return f"<RequestLog of {len(self._records)} requests>"


# The captures open in this context, innermost last. A tuple: a worker thread's copy of the context sees
# the captures open when it was copied, and adds to the same logs.
_captures: contextvars.ContextVar[tuple[RequestLog, ...]] = contextvars.ContextVar(
    "zammad_orm_captures", default=()
)


def begin_request(client: object) -> list[RequestLog]:
    """Return the captures of ``client`` open in this context that take a request beginning now.

    Usually there are none, and this is one context variable read. Each log returned expects one
    :meth:`Accounting.sent` (or ``log._end(None)``) for the request.
    """
    captures = _captures.get()
    return [log for log in captures if log._client is client and log._begin()] if captures else []


@contextlib.contextmanager
def capture(client: object) -> Iterator[RequestLog]:
    """Record the requests ``client`` sends in this context (and its copies) while the block runs."""
    log = RequestLog(client)
    token = _captures.set((*_captures.get(), log))
    try:
        yield log
    finally:
        _captures.reset(token)
        log._close()


# --- N+1 ----------------------------------------------------------------------------------------------


class NPlusOneWarning(UserWarning):
    """A loop read a relation object by object, and each read sent a request (the N+1 pattern).

    ``select_related("<relation>")`` on the query that yields the objects loads the related objects in
    batches instead. On with ``Client(warn_n_plus_one=True)``; the pytest plugin's client has it on.
    """


class NPlusOneDetector:
    """Notices a relation read one object at a time, a request each, and warns once per such loop.

    A *loop* is :data:`N_PLUS_ONE_THRESHOLD` requests for single objects of one relation (say
    ``Ticket.organization``) made by relation reads, each starting less than :data:`N_PLUS_ONE_WINDOW`
    seconds after the previous one ended. Reads that need no request (the identity map, the record cache,
    a reference table, objects attached from a search's assets) are not counted, and neither are the
    reads of ``select_related``, which load in batches.

    Args:
        threshold: Requests that make a loop.
        window: Most seconds between two of them.

    """

    def __init__(self, threshold: int = N_PLUS_ONE_THRESHOLD, window: float = N_PLUS_ONE_WINDOW) -> None:
        self.threshold = threshold
        self.window = window
        self._lock = threading.Lock()
        # (owner model, relation) -> (requests in the current run, monotonic end of the last one)
        self._runs: dict[tuple[str, str], tuple[int, float]] = {}

    def note(self, owner: str, relation: str, target: str, endpoint: str, started: float) -> None:
        """Count one request a relation read sent; warn when it makes a loop.

        Args:
            owner: The model whose relation was read (``"Ticket"``).
            relation: The relation's name (``"organization"``).
            target: The related model (``"Organization"``).
            endpoint: The endpoint of the request (``"organizations/{id}"``).
            started: :func:`time.monotonic` when the request began.

        """
        key = (owner, relation)
        with self._lock:
            count, last = self._runs.get(key, (0, float("-inf")))
            count = count + 1 if started - last <= self.window else 1
            self._runs[key] = (count, time.monotonic())
        if count == self.threshold:
            warnings.warn(
                f"N+1 requests: {count} reads of {owner}.{relation} in a row each sent GET {endpoint} for"
                f" one {target}; load them in batches with select_related({relation!r}) on the query of the"
                f" {owner} objects (or a path ending in '__{relation}' from the model you query)",
                NPlusOneWarning,
                stacklevel=_caller_level(),
            )


def _caller_level() -> int:
    """Return the ``stacklevel`` of the first frame outside zammad_orm (the line that read the relation)."""
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level
