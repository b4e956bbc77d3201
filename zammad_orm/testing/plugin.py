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
``zammad_requests`` (function)
    a :class:`ZammadRequests`: ``with zammad_requests.at_most(3): ...`` fails the test when the block
    sends more requests (``exactly(n)`` likewise), listing the requests it sent.

The ``zammad_client`` warns of N+1 loops (``Client(warn_n_plus_one=True)``).

Options (command line, or the ini key in brackets): ``--zammad-demo N`` [``zammad_demo``] demo tickets,
``--zammad-seed S`` [``zammad_seed``], ``--zammad-version 6.2|6.5`` [``zammad_version``],
``--zammad-search-backend elasticsearch|database`` [``zammad_search_backend``].
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from zammad_orm.accounting import RequestLog
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
def zammad_client(zammad_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """Yield a fresh :class:`zammad_orm.Client` bound to the session emulator as its admin.

    The client warns of N+1 loops (``warn_n_plus_one=True``): under ``filterwarnings = error`` such a loop
    fails the test. It keeps its records on disk, as clients do by default, in a temporary directory of
    its own (never the user's cache directory): each test starts with an empty record cache.
    """
    cache = tmp_path_factory.mktemp("zammad-cache")
    client = zammad_emulator.client(warn_n_plus_one=True, cache=f"disk:{cache}")
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


class ZammadRequests:
    """Assertions on the number of requests a block sends (the ``zammad_requests`` fixture).

    In the style of Django's ``assertNumQueries``::

        def test_ticket_page(zammad_client, zammad_requests):
            with zammad_requests.at_most(3) as log:
                render_ticket_page(zammad_client, 1)
            assert log[0].endpoint == "tickets/{id}"

    The requests counted are those the client sends from the test's thread inside the block, and the
    search pages the library sends from its worker threads for them (``client.capture()``). The client is
    the one given, else the test's ``zammad_client`` when the test uses that fixture, else the client of
    ``Model.objects`` (``zammad_orm.connect()`` or ``client.activate()``). A block that raises is not
    checked: its exception goes on.
    """

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def _client(self, client: Client | None) -> Any:
        if client is not None:
            return client
        if "zammad_client" in self._request.fixturenames:
            return self._request.getfixturevalue("zammad_client")
        from zammad_orm.manager import get_active_client

        return get_active_client()

    def _expect(self, how: str, limit: int, client: Client | None) -> _Expectation:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            from zammad_orm.errors import ConfigurationError

            raise ConfigurationError(f"the number of requests must be a whole number >= 0, got {limit!r}")
        return _Expectation(how, limit, self._client(client))

    def at_most(
        self, limit: int, client: Client | None = None
    ) -> contextlib.AbstractContextManager[RequestLog]:
        """Fail when the block sends more than ``limit`` requests; ``as log`` gives the requests sent.

        Args:
            limit: The most requests the block may send.
            client: The client whose requests count (default: see the class).

        Raises:
            AssertionError: On leaving the block, when it sent more; the message lists the requests.
            ConfigurationError: ``limit`` is not a whole number >= 0; or no client was given, the test
                uses no ``zammad_client`` and none is connected.

        """
        return self._expect("at most", limit, client)

    def exactly(
        self, count: int, client: Client | None = None
    ) -> contextlib.AbstractContextManager[RequestLog]:
        """Fail unless the block sends exactly ``count`` requests; ``as log`` gives the requests sent.

        Args:
            count: The number of requests the block must send.
            client: The client whose requests count (default: see the class).

        Raises:
            AssertionError: On leaving the block, when it sent another number; the message lists them.
            ConfigurationError: ``count`` is not a whole number >= 0; or no client was given, the test
                uses no ``zammad_client`` and none is connected.

        """
        return self._expect("exactly", count, client)


class _Expectation:
    """The ``with`` block of ``at_most()``/``exactly()``: a capture, checked when the block ends."""

    def __init__(self, how: str, limit: int, client: Any) -> None:
        from zammad_orm.accounting import capture

        self._how = how
        self._limit = limit
        self._capture = capture(client)

    def __enter__(self) -> RequestLog:
        self._log = self._capture.__enter__()
        return self._log

    def __exit__(self, exc_type: type[BaseException] | None, *rest: Any) -> None:
        __tracebackhide__ = True  # pytest shows the test's ``with`` line, not this one
        self._capture.__exit__(exc_type, *rest)
        if exc_type is not None:
            return  # the block's exception goes on, unchecked
        sent, limit = len(self._log), self._limit
        if sent > limit or (self._how == "exactly" and sent != limit):
            listing = f":\n{self._log}" if sent else ""
            expected = f"{limit} request{'' if limit == 1 else 's'}"
            raise AssertionError(
                f"expected {self._how} {expected}, {sent} {'was' if sent == 1 else 'were'} sent{listing}"
            )


@pytest.fixture
def zammad_requests(request: pytest.FixtureRequest) -> ZammadRequests:
    """Return the request-count assertions ``at_most(n)`` and ``exactly(n)`` (:class:`ZammadRequests`)."""
    return ZammadRequests(request)
