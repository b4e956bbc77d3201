"""How long a loaded record may be used before it is checked with the server: the ``max_age`` settings.

A record the client holds (an object of the identity map, an entry of the record cache) is used as it is
while it is younger than its model's ``max_age``; an older one is revalidated before it is returned (a
conditional ``GET``, or one search for a batch: :mod:`zammad_orm.revalidation`). The ``max_age`` of a
model is, first to last: the client's setting for that model (``Client(max_age={"Ticket": 5})``), the
client's setting for every model (``Client(max_age=10)``), the model's ``MAX_AGE`` class attribute. A call
may give its own (``client.tickets.get(42, max_age=0)``).

This module knows model *names* and numbers only, so it sits at the bottom of the layers.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Iterator, Mapping
from typing import Any

from zammad_orm.errors import ConfigurationError, FieldError
from zammad_orm.suggest import did_you_mean

__all__ = [
    "CLOCK_MARGIN",
    "DEFAULT_MAX_AGE",
    "REFERENCE_MAX_AGE",
    "MaxAges",
    "as_of",
    "call_max_age",
    "check_max_age",
    "fetched_now",
    "kept_reply",
]

#: Seconds a record of a model that changes often (tickets, articles, users, organizations) is used
#: before it is revalidated.
DEFAULT_MAX_AGE = 60.0
#: Seconds a row of a reference table (states, priorities, groups, roles, time accounting types) is used
#: before it is revalidated: one day; they change when an administrator edits them.
REFERENCE_MAX_AGE = 86400.0
#: Seconds subtracted from a copy's fetch time when a batch asks the server for the records updated since:
#: the server's clock and this host's may disagree by that much.
CLOCK_MARGIN = 30.0


def check_max_age(value: Any, what: str, *, error: type[Exception] = ConfigurationError) -> float:
    """Return ``value`` as seconds, or raise ``error`` naming ``what``.

    Args:
        value: A number of seconds >= 0 (``0``: always revalidate; ``math.inf``: never).
        what: What the value sets, for the message (``"max_age of Ticket"``).
        error: The exception class: :class:`~zammad_orm.errors.ConfigurationError` for settings,
            :class:`~zammad_orm.errors.FieldError` for the argument of a call.

    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise error(f"{what} must be a number of seconds >= 0 (0: always revalidate), got {value!r}")
    return float(value)


class MaxAges:
    """The ``max_age`` of each model for one client: its setting over the models' ``MAX_AGE``.

    Args:
        setting: ``None`` (each model's ``MAX_AGE``), a number of seconds for every model, or a mapping
            of model names (``"Ticket"``) to seconds; the models it does not name keep their ``MAX_AGE``.
        known: The model names a mapping may name (an unknown one is a typo: it raises).

    Raises:
        ConfigurationError: A value is not a number >= 0, or a name is not a model's.

    """

    def __init__(self, setting: Any, known: frozenset[str] = frozenset()) -> None:
        self._all: float | None = None
        self._by_name: dict[str, float] = {}
        #: model class -> seconds, filled by :meth:`of` (the loader's fast path reads it directly).
        self.memo: dict[type, float] = {}
        if setting is None:
            return
        if isinstance(setting, Mapping):
            for name, value in setting.items():
                if known and name not in known:
                    raise ConfigurationError(
                        f"max_age names an unknown model {name!r}{did_you_mean(str(name), sorted(known))}"
                    )
                self._by_name[name] = check_max_age(value, f"max_age of {name}")
            return
        self._all = check_max_age(setting, "max_age")

    def of(self, model: Any) -> float:
        """Return the ``max_age`` of a model class in seconds (``math.inf`` for models without endpoint)."""
        try:
            return self.memo[model]
        except KeyError:
            pass
        name = model._meta.name
        if model._meta.endpoint is None:
            seconds = math.inf  # constants (state types, article types): nothing to ask the server
        elif name in self._by_name:
            seconds = self._by_name[name]
        elif self._all is not None:
            seconds = self._all
        else:
            seconds = check_max_age(getattr(model, "MAX_AGE", DEFAULT_MAX_AGE), f"{model.__name__}.MAX_AGE")
        self.memo[model] = seconds
        return seconds


def call_max_age(value: Any) -> float | None:
    """Check the ``max_age`` argument of one call (``None``: the client's setting); bad: FieldError."""
    return None if value is None else check_max_age(value, "max_age", error=FieldError)


#: When the records being loaded in this context were sent by the server (``None``: now). A QuerySet reply
#: kept by the reply cache was sent before it is decoded again: its objects are as old as the reply.
_AS_OF: contextvars.ContextVar[float | None] = contextvars.ContextVar("zammad_orm_as_of", default=None)


def fetched_now() -> float:
    """Return when the records being loaded now were fetched: the kept reply's time, else now."""
    as_of = _AS_OF.get()
    return time.time() if as_of is None else as_of


def kept_reply() -> bool:
    """Whether the records being loaded now come from a kept reply (they are in the record cache already)."""
    return _AS_OF.get() is not None


@contextlib.contextmanager
def as_of(fetched_at: float | None) -> Iterator[None]:
    """Load the records of a reply fetched at ``fetched_at`` (``None``: a reply just received)."""
    if fetched_at is None:
        yield
        return
    token = _AS_OF.set(fetched_at)
    try:
        yield
    finally:
        _AS_OF.reset(token)
