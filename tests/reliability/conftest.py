"""Fixtures of the reliability tests: emulators over real loopback HTTP, and the figures the tests report.

Every test here runs against the emulator over real sockets (``127.0.0.1`` only). The figures quoted in
``docs/reliability.md`` (threads, operations, faults injected, malformed replies, hypothesis examples,
identities) are counted by the tests themselves into :data:`FIGURES` and printed at the end of the run
(``pytest tests/reliability -q -s`` shows them), so the page can be checked against a run.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from zammad_orm.manager import set_default_client
from zammad_orm.testing import Emulator

#: What the reliability tests counted in this run: name -> number.
FIGURES: collections.Counter[str] = collections.Counter()
_FIGURES_LOCK = threading.Lock()


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the figure ``name`` (thread-safe)."""
    with _FIGURES_LOCK:
        FIGURES[name] += n


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator per test module (tests create the objects they need)."""
    with Emulator(seed=7) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_default_client() -> Iterator[None]:
    yield
    set_default_client(None)
