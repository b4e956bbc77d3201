"""What the subcommands that talk to a server share: the client, model names, lookups, plain values.

``connect()`` makes the client from the environment (``ZAMMAD_URL`` and the credentials of
:func:`zammad_orm.connect`). :func:`model_named` finds a model by class or collection name, in any case,
singular or plural (``ticket``, ``tickets``, ``Ticket``, ``ticket_states``). :func:`lookups` turns
``KEY=VALUE`` words into the keyword arguments of ``filter()`` (``KEY!=VALUE`` into those of
``exclude()``); the values stay strings, typed by the library's coercion for their field, except the lists
of ``__in`` and the pairs of ``__range`` (split at commas) and the booleans of ``__isnull``. A mistake
raises :class:`UsageError` (exit status 2) before any request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "UsageError",
    "add_filter_arguments",
    "connect",
    "filtered",
    "lookups",
    "model_named",
    "names",
    "plain_value",
]

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(!?=)(.*)$", re.DOTALL)
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}


class UsageError(Exception):
    """A command line that cannot be run as written (exit status 2); nothing was sent."""


def whole_number(text: str) -> int:
    """Parse an argument that counts something: a whole number >= 0 (argparse's ``type=``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def connect(args: argparse.Namespace) -> Any:
    """Return a client for the server of the environment (``ZAMMAD_URL`` and its credentials).

    The client is kept on ``args`` (``main()`` closes it when the command ends) and is the default client
    of ``Model.objects`` meanwhile.

    Raises:
        ConfigurationError: No URL or no credentials in the environment, or more than one kind.

    """
    import zammad_orm

    client = zammad_orm.connect()
    args.client = client
    return client


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def model_named(word: str) -> Any:
    """Return the model class a command line names (``ticket``, ``tickets``, ``Ticket``, ``ticket_states``).

    Raises:
        UsageError: No model has that name (the closest names suggested).

    """
    import zammad_orm  # noqa: F401  (registers the models)
    from zammad_orm.meta import registry
    from zammad_orm.suggest import did_you_mean

    known: dict[str, Any] = {}
    for cls in registry.values():
        snake = _snake(cls._meta.name)
        for key in (cls._meta.name, snake, f"{snake}s", cls._meta.collection):
            known.setdefault(key.lower(), cls)
    found = known.get(word.lower().replace("-", "_"))
    if found is None:
        choices = sorted({cls._meta.collection for cls in registry.values()})
        raise UsageError(
            f"unknown model {word!r}{did_you_mean(word.lower(), known)}; models: {', '.join(choices)}"
        )
    return found


def lookups(words: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the ``filter()`` and ``exclude()`` keyword arguments of ``KEY=VALUE`` / ``KEY!=VALUE`` words.

    Raises:
        UsageError: A word is not ``KEY=VALUE``, a key is given twice, or an ``isnull`` value is no boolean.

    """
    include: dict[str, Any] = {}
    exclude: dict[str, Any] = {}
    for word in words:
        match = _KEY.match(word)
        if match is None:
            raise UsageError(
                f"expected LOOKUP=VALUE (e.g. state=open, created_at__gte=now-7d, id__in=1,2,3), got {word!r}"
            )
        key, operator, text = match.groups()
        target = exclude if operator == "!=" else include
        if key in target:
            raise UsageError(f"{key} is given twice; combine the values (e.g. {key}__in=a,b)")
        target[key] = _value(key, text)
    return include, exclude


def _value(key: str, text: str) -> Any:
    lookup = key.rsplit("__", 1)[-1] if "__" in key else "exact"
    if lookup == "in":
        return [part.strip() for part in text.split(",") if part.strip()]
    if lookup == "range":
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 2:
            raise UsageError(f"{key} takes two values separated by a comma (LOW,HIGH), got {text!r}")
        return tuple(parts)
    if lookup == "isnull":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise UsageError(f"{key} takes true or false, got {text!r}")
    return text


def names(text: str | None) -> list[str]:
    """Split a comma-separated option (``--fields a,b,state__name``), repeated commas ignored."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``MODEL`` and ``LOOKUP=VALUE ...`` to a subcommand."""
    parser.add_argument(
        "model", metavar="MODEL", help="a model or collection name: ticket, tickets, Ticket, users, ..."
    )
    parser.add_argument(
        "lookups",
        nargs="*",
        metavar="LOOKUP=VALUE",
        help="filters as in Python: state=open created_at__gte=now-7d owner__login=agent1@example.com"
        " id__in=1,2,3 title__icontains=x; LOOKUP!=VALUE excludes",
    )


def filtered(args: argparse.Namespace) -> Any:
    """Return the QuerySet of ``MODEL LOOKUP=VALUE ...`` on the environment's client (checked, not run).

    Raises:
        UsageError: An unknown model or a malformed lookup word.
        QueryError: An unknown field or lookup, or a value its field cannot hold.
        ConfigurationError: No server or credentials in the environment.

    """
    model = model_named(args.model)
    include, exclude = lookups(args.lookups)
    client = connect(args)
    qs = model.objects.using(client).filter(**include)
    return qs.exclude(**exclude) if exclude else qs


def plain_value(value: Any) -> Any:
    """Return a value as JSON holds it: datetimes and dates in ISO 8601, decimals as text, objects as ids."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if hasattr(value, "_meta"):
        return getattr(value, "id", None)
    return json.loads(json.dumps(value, default=str))
