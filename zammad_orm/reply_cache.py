"""The replies of QuerySet reads, kept in the record cache and used while younger than their ``max_age``.

A QuerySet evaluation sends ``GET`` requests for its rows and counts (search pages, the id pages of a
count, the index pages of a client-side filter). :class:`ReplyCache` keeps each reply in the client's
record cache under the model name :data:`REPLIES` (so it lives in the same tiers, files, namespaces and
``zammad-orm cache stats|clear`` as the records), and answers the same request again by the freshness
contract of records (:mod:`zammad_orm.freshness`):

* the key is the method, path and parameters in a canonical order (:func:`request_key`; the entry holds
  the key and is used only when it matches, its cache id is a hash of it);
* a reply younger than the ``max_age`` of the model whose rows it lists, and asked for after the last
  write through the library (:meth:`ReplyCache.written`), is used without a request;
* an older one is revalidated with one conditional request (``If-None-Match`` with the reply's ETag):
  ``304`` reuses the stored body and renews its age, ``200`` replaces it; a reply without an ETag is
  simply asked for again;
* ``max_age=0`` always asks (conditionally); ``cache=False`` keeps nothing;
* only the first :data:`KEPT_PAGES` pages of a result are kept (its first 400 rows), and small pages: the
  later pages of a long result are asked for every time.

Every write the client sends (any method but ``GET``/``HEAD``) stamps the time in the cache under
:data:`STAMPS` once its answer came (or did not: the write may have happened). A reply asked for before
the newest stamp is revalidated before it is used, in every process that shares the cache: the stamp
is read from the persistent tier (disk or Redis), past the memory tier of this process. The age of a
reply is counted from the moment it was *asked for*, so a reply the server computed before a write that
finished while it travelled is never taken for a newer one.

The body is stored as the text the server sent, and decoded exactly like a fresh reply: everything above
the transport (assets into the identity map and record cache, rows, totals) is unchanged. An entry that
cannot be used (another shape, a body that is not JSON) is dropped with a
:class:`~zammad_orm.errors.CacheWarning` and the request is sent again.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from zammad_orm._json import loads
from zammad_orm._memory import after_whole_result
from zammad_orm.errors import CacheError, CacheWarning

if TYPE_CHECKING:
    from zammad_orm.interface import CachedRecord, RecordCache, Reply

__all__ = [
    "KEPT_PAGES",
    "MEMORY_SIZE",
    "REPLIES",
    "SMALL_REPLY",
    "STAMPS",
    "ReplyCache",
    "asking",
    "reply_id",
    "request_key",
]

#: The model name of the reply entries in the record cache.
REPLIES = "Reply"
#: The model name of the write stamps in the record cache (one entry: the time of the last write).
STAMPS = "ReplyStamp"
#: Replies the in-process memory tier keeps (a search page of 200 rows with its assets: up to 1 MB of text).
MEMORY_SIZE = 32
#: The pages of a result that are kept: the first 400 rows at 200 per page. A longer result is a bulk
#: read; its later pages are asked for every time (storing a page of 200 tickets with its assets, about
#: 850 KB of text, takes about 15 ms: more than a repeat within ``max_age`` saves for a bulk read), unless
#: the page is small (:data:`SMALL_REPLY`: the empty pages past the end a loop asked for ahead).
KEPT_PAGES = 2
#: Bytes of a reply kept whatever its page number.
SMALL_REPLY = 16_384
_STAMP_ID = 1
_ASKING: contextvars.ContextVar[bool] = contextvars.ContextVar("zammad_orm_asking", default=False)

#: ``send(method, path, params=..., headers=...)``: the client's send, checked status, body not decoded.
Sender = Callable[..., Any]
#: Counts one lookup of the reply cache: ``("replies", "Ticket", "hit" | "miss" | "revalidation")``.
Counter = Callable[[Any, str, Any], None]


@contextlib.contextmanager
def asking() -> Iterator[None]:
    """Revalidate every kept reply before it is used, inside the ``with`` block (this thread and task).

    For a loop that waits for a change the server makes (``client.tickets.find_created(wait=...)``):
    each look asks the server, conditionally (``304`` when nothing changed). ``max_age=0`` does the same
    for a whole client.
    """
    token = _ASKING.set(True)
    try:
        yield
    finally:
        _ASKING.reset(token)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as the transport sends booleans
    return str(value)


def request_key(method: str, path: str, params: Mapping[str, Any] | None) -> str:
    """Return the canonical text of a request: ``GET path?a=1&b=2`` with the parameters sorted by name."""
    query = "&".join(f"{k}={_text(v)}" for k, v in sorted((params or {}).items()))
    return f"{method.upper()} {path.strip('/')}?{query}"


def reply_id(key: str) -> int:
    """Return the cache id of a request key: 63 bits of its SHA-256 (the cache keys are integer ids)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") >> 1


class _Stored:
    """A reply body from the cache; :meth:`json` decodes it like a response's body."""

    __slots__ = ("_body", "_retry", "asked")

    def __init__(self, body: str, retry: Callable[[], Any], asked: float) -> None:
        self._body = body
        self._retry = retry  # drops the entry and asks again: the body was not JSON after all
        self.asked = asked  # when the server was asked: the objects decoded from it are that old

    def json(self) -> Any:
        if not self._body.strip():
            return None
        try:
            return loads(self._body)  # as a response's body is decoded
        except ValueError:
            return self._retry()


class _Later:
    """The replies of a whole result waiting for its last page (see :meth:`ReplyCache._later`)."""

    __slots__ = ("flushed", "lock", "records")

    def __init__(self) -> None:
        self.records: list[tuple[int, dict[str, Any]]] = []
        self.flushed = False
        self.lock = threading.Lock()


class ReplyCache:
    """The cached replies of one client's QuerySet reads (``client.replies``).

    Args:
        send: The client's ``send`` (with ``headers=``): a request, its status checked.
        cache: Returns the record cache of the identity in force (``client.cache``).
        max_age: Returns the ``max_age`` of a model class in seconds (``client.max_age``).
        count: Counts a lookup (``Accounting.lookup``): hits, misses and revalidations under ``"replies"``.

    """

    def __init__(
        self, send: Sender, cache: Callable[[], RecordCache], max_age: Callable[[Any], float], count: Counter
    ) -> None:
        self._send = send
        self._cache = cache
        self._max_age = max_age
        self._count = count
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def send(self, model: Any, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        """``GET path`` for rows of ``model``: from the cache while fresh, else asked (conditionally).

        Raises:
            APIError: The server answered with an error status (as ``client.send``).
            TransportError: No response.

        """
        return self.prepare(model, path, params)[1]()

    def prepare(
        self, model: Any, path: str, params: Mapping[str, Any] | None = None
    ) -> tuple[bool, Callable[[], Reply]]:
        """Look ``GET path`` up now; return whether the reply is at hand, and the call that answers it.

        The call returns the kept reply when it is fresh (``True``: no request), else it sends the request
        (conditional for a kept reply): a paged read makes it in a worker thread.
        """
        return self.prepare_within(self._max_age(model), path, params, name=model._meta.name)

    def send_within(
        self, max_age: float, path: str, params: Mapping[str, Any] | None = None, *, name: str
    ) -> Reply:
        """``GET path`` with the reply used while younger than ``max_age`` seconds (see :meth:`send`).

        ``name`` is what ``client.stats().replies`` counts the lookup under (the rows' model name).
        """
        return self.prepare_within(max_age, path, params, name=name)[1]()

    def prepare_within(
        self, max_age: float, path: str, params: Mapping[str, Any] | None = None, *, name: str
    ) -> tuple[bool, Callable[[], Reply]]:
        """:meth:`prepare` with the reply used while younger than ``max_age`` seconds."""
        cache = self._cache()
        if cache.size(REPLIES, MEMORY_SIZE) == 0:
            return False, functools.partial(self._send, "GET", path, params=params)
        key = request_key("GET", path, params)
        pk = reply_id(key)
        entry = self._entry(cache, pk, key)
        later = self._later(cache)
        if entry is None:
            self._count("replies", name, "miss")
            return False, functools.partial(self._ask, cache, pk, key, path, params, later=later)
        body, etag, asked = entry
        if not _ASKING.get() and self._fresh(cache, asked, max_age):
            self._count("replies", name, "hit")
            stored = _Stored(body, lambda: self._bad(cache, pk, key, path, params), asked)
            return True, lambda: stored
        self._count("replies", name, "revalidation")
        ask = functools.partial(self._ask, cache, pk, key, path, params, etag=etag, body=body, later=later)
        return False, ask

    def written(self, caches: Iterable[RecordCache]) -> None:
        """Stamp a write in ``caches``: every reply asked for before now is revalidated before use."""
        now = time.time()
        for cache in caches:
            if _stamps(cache) != 0:
                try:
                    cache.set(STAMPS, _STAMP_ID, {"written_at": now})
                except CacheError as exc:  # a cache that cannot keep the stamp must not keep replies
                    self._warn(f"{exc}; cached query replies are dropped")
                    with contextlib.suppress(CacheError):
                        cache.clear(REPLIES)

    # -- internals -----------------------------------------------------------------------------------

    def _entry(self, cache: RecordCache, pk: int, key: str) -> tuple[str, str | None, float] | None:
        """Return the entry of ``key`` as ``(body, etag, asked_at)``; drop one of another shape (warned)."""
        found: CachedRecord | None = cache.get(REPLIES, pk)
        if found is None:
            return None
        record = found.record
        body, etag, asked = record.get("body"), record.get("etag"), record.get("asked_at")
        if record.get("key") != key:
            return None  # another request with the same hash (or none): asked for, and replaced
        if (
            isinstance(body, str)
            and isinstance(etag, (str, type(None)))
            and isinstance(asked, (int, float))
            and not isinstance(asked, bool)
        ):
            return body, etag, float(asked)
        self._warn("a cached query reply does not have the expected shape; it is dropped and asked again")
        cache.delete(REPLIES, pk)
        return None

    def _fresh(self, cache: RecordCache, asked: float, max_age: float) -> bool:
        if max_age != math.inf and time.time() - asked >= max_age:
            return False
        return asked > self._last_write(cache)

    def _last_write(self, cache: RecordCache) -> float:
        """Return the time of the newest write stamp (0: none), read past this process's memory tier."""
        if _stamps(cache) == 0:
            return math.inf  # nowhere to see the writes of others: revalidate every time
        found = cache.get(STAMPS, _STAMP_ID)
        if found is None:
            return 0.0
        stamp = found.record.get("written_at")
        return float(stamp) if isinstance(stamp, (int, float)) else math.inf

    def _ask(
        self,
        cache: RecordCache,
        pk: int,
        key: str,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        etag: str | None = None,
        body: str | None = None,
        later: _Later | None = None,
    ) -> Reply:
        asked = time.time()
        headers = {"If-None-Match": etag} if etag else None
        response = self._send("GET", path, params=params, headers=headers)
        if response.status == 304 and body is not None and etag:
            self._store(cache, pk, key, body, etag, asked, later)  # the same body, its age renewed
            return _Stored(body, lambda: self._bad(cache, pk, key, path, params), asked)  # as new as now
        page = (params or {}).get("page", 1)
        if response.status == 200 and (
            not isinstance(page, int) or page <= KEPT_PAGES or len(response.body) <= SMALL_REPLY
        ):
            # Kept at once, read or not: a page asked for ahead and never read is asked ahead again.
            with contextlib.suppress(UnicodeDecodeError):  # not kept: asked for again next time
                text = response.body.decode("utf-8")
                self._store(cache, pk, key, text, response.headers.get("ETag"), asked, later)
        return response  # type: ignore[no-any-return]

    def _later(self, cache: RecordCache) -> _Later | None:
        """Return where to put the replies asked for now until the whole result this thread reads is in.

        ``None`` outside a whole result (``list(qs)``): a reply is stored when it comes. Inside one the
        record cache writes nothing until the last page is in (:func:`~zammad_orm._memory.whole_result`):
        the replies, which come in worker threads, wait for that moment too; one that comes later (a page
        asked for ahead, answered after the read ended) is stored when it comes.
        """
        later = _Later()
        return later if after_whole_result(functools.partial(self._flush, cache, later)) else None

    def _flush(self, cache: RecordCache, later: _Later) -> None:
        with later.lock:
            records, later.records, later.flushed = later.records, [], True
        self._store_all(cache, records)

    def _store(
        self,
        cache: RecordCache,
        pk: int,
        key: str,
        body: str,
        etag: str | None,
        asked: float,
        later: _Later | None = None,
    ) -> None:
        record = {"key": key, "body": body, "etag": etag, "asked_at": asked}
        if later is not None:
            with later.lock:
                if not later.flushed:
                    later.records.append((pk, record))
                    return
        self._store_all(cache, [(pk, record)])

    def _store_all(self, cache: RecordCache, records: list[tuple[int, dict[str, Any]]]) -> None:
        if not records:
            return
        try:
            cache.set_many(REPLIES, [(pk, record, None) for pk, record in records])  # the writer's thread
        except CacheError as exc:
            self._warn(f"{exc}; the query reply is not kept")

    def _bad(self, cache: RecordCache, pk: int, key: str, path: str, params: Mapping[str, Any] | None) -> Any:
        """Drop a stored body that is not JSON (warned) and ask the server again."""
        self._warn("a cached query reply is not JSON; it is dropped and asked again")
        cache.delete(REPLIES, pk)
        return self._ask(cache, pk, key, path, params).json()

    def _warn(self, message: str) -> None:
        with self._lock:  # once per cause and client
            if message in self._warned:
                return
            self._warned.add(message)
        warnings.warn(message, CacheWarning, stacklevel=4)


def _stamps(cache: RecordCache) -> int:
    """Return the size of the stamps in ``cache``: read from the persistent tier alone when there is one."""
    persistent = getattr(cache, "persistent", None) is not None
    return cache.size(STAMPS, 0 if persistent else -1)
