"""The emulator's pytest plugin (entry point ``pytest11``): fixtures ``zammad_emulator``, ``zammad_client``.

Imports nothing heavy at load time: pytest loads it in every project that installs zammad_orm, so the
emulator (werkzeug, SQLite, the search parser) is imported only when a test asks for one of the fixtures.

Fixtures:

``zammad_emulator`` (session)
    a started :class:`zammad_orm.testing.Emulator`, shared by the whole test session.
``zammad_client`` (function)
    a :class:`zammad_orm.Client` logged in as the emulator's admin (HTTP token), closed after the test.
``zammad_faults`` (function)
    the emulator's :class:`~zammad_orm.testing.faults.Faults`; every rule is removed after the test.

Options (command line, or the ini key in brackets): ``--zammad-demo N`` [``zammad_demo``] demo tickets,
``--zammad-seed S`` [``zammad_seed``], ``--zammad-version 6.2|6.5`` [``zammad_version``],
``--zammad-search-backend elasticsearch|database`` [``zammad_search_backend``].
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from zammad_orm.client import Client
    from zammad_orm.testing import Emulator
    from zammad_orm.testing.faults import Faults

VERSIONS = ("6.2", "6.5")
BACKENDS = ("elasticsearch", "database")

# option name -> (ini key, default, help)
_OPTIONS: dict[str, tuple[str, str, str]] = {
    "--zammad-demo": ("zammad_demo", "0", "demo tickets generated in the session emulator (default 0)"),
    "--zammad-seed": ("zammad_seed", "0", "seed of the emulator's demo data and faults (default 0)"),
    "--zammad-version": ("zammad_version", "6.2", "Zammad release the emulator imitates: 6.2 or 6.5"),
    "--zammad-search-backend": (
        "zammad_search_backend",
        "elasticsearch",
        "search semantics the emulator imitates: elasticsearch or database",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the emulator's command-line options and ini keys."""
    group = parser.getgroup("zammad_orm", "Zammad emulator (zammad_orm.testing)")
    for option, (ini, default, text) in _OPTIONS.items():
        group.addoption(option, dest=ini, default=None, help=f"{text} [ini: {ini}]")
        parser.addini(ini, text, default=default)


def _setting(config: pytest.Config, ini: str) -> str:
    value = config.getoption(ini)
    return str(config.getini(ini) if value is None else value).strip()


def _whole(config: pytest.Config, ini: str, *, minimum: int | None = None) -> int:
    text = _setting(config, ini)
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"{ini} must be a whole number, got {text!r}") from None
    if minimum is not None and value < minimum:
        raise pytest.UsageError(f"{ini} must be >= {minimum}, got {value}")
    return value


def _choice(config: pytest.Config, ini: str, choices: tuple[str, ...]) -> str:
    value = _setting(config, ini)
    if value not in choices:
        raise pytest.UsageError(f"{ini} must be one of {', '.join(choices)}, got {value!r}")
    return value


def emulator_settings(config: pytest.Config) -> dict[str, Any]:
    """Return the session emulator's keyword arguments from the options and ini keys (validated)."""
    return {
        "demo": _whole(config, "zammad_demo", minimum=0),
        "seed": _whole(config, "zammad_seed"),
        "zammad_version": _choice(config, "zammad_version", VERSIONS),
        "search_backend": _choice(config, "zammad_search_backend", BACKENDS),
    }


@pytest.fixture(scope="session")
def zammad_emulator(pytestconfig: pytest.Config) -> Iterator[Emulator]:
    """Yield a started Zammad emulator on loopback, shared by the session (data persists between tests)."""
    from zammad_orm.testing import Emulator

    with Emulator(**emulator_settings(pytestconfig)) as emulator:
        yield emulator


@pytest.fixture
def zammad_client(zammad_emulator: Emulator) -> Iterator[Client]:
    """Yield a fresh :class:`zammad_orm.Client` bound to the session emulator as its admin."""
    client = zammad_emulator.client()
    try:
        yield client
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()


@pytest.fixture
def zammad_faults(zammad_emulator: Emulator) -> Iterator[Faults]:
    """Yield the session emulator's fault rules; whatever a test adds is removed when it ends."""
    faults = zammad_emulator.faults
    faults.clear()
    try:
        yield faults
    finally:
        faults.clear()
