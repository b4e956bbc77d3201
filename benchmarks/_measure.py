"""Helpers shared by the bench modules: an emulator whose requests are counted, and figure formatting."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

# Clients made without ``cache=`` keep their records on disk by default: the benchmarks' clients do so
# in a temporary directory, never in the user's cache directory (bench_loop gives each run a cold one).
if "ZAMMAD_ORM_CACHE_DIR" not in os.environ:
    os.environ["ZAMMAD_ORM_CACHE_DIR"] = tempfile.mkdtemp(prefix="zammad-orm-bench-cache-")
    atexit.register(shutil.rmtree, os.environ["ZAMMAD_ORM_CACHE_DIR"], ignore_errors=True)


class RequestCounter:
    """WSGI middleware that counts the requests the emulator answers (the same for every client)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.count += 1
        return self.app(environ, start_response)

    def timed(self, call: Callable[[], Any]) -> tuple[float, int, Any]:
        """Run ``call`` once: (seconds, requests answered meanwhile, its result)."""
        before = self.count
        start = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - start
        return elapsed, self.count - before, result


@contextlib.contextmanager
def counted_emulator(demo: int) -> Iterator[tuple[Any, RequestCounter]]:
    """A running ``Emulator(demo=demo)`` on loopback whose served app counts the requests."""
    from zammad_orm.testing import Emulator

    emulator = Emulator(demo=demo)
    counter = RequestCounter(emulator.app)
    emulator.app = counter  # replaced before start(): the server serves the counting app
    emulator.start()
    try:
        yield emulator, counter
    finally:
        emulator.close()


def duration(seconds: float) -> str:
    """``1.2 ms`` or ``35 µs``."""
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.1f} µs"


def figure(seconds: list[float], requests: list[int] | None = None) -> str:
    """The median time (and the median request count) of the samples."""
    text = duration(statistics.median(seconds))
    if requests is not None:
        calls = statistics.median(requests)
        text += f", {calls:g} {'request' if calls == 1 else 'requests'}"
    return f"{text} (median of {len(seconds)})"
