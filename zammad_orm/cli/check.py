"""``zammad-orm check``: can the environment's credentials talk to the server, and as whom.

Connects as :func:`zammad_orm.connect` does (``ZAMMAD_URL`` with ``ZAMMAD_HTTP_TOKEN``,
``ZAMMAD_USERNAME``/``ZAMMAD_PASSWORD`` or ``ZAMMAD_OAUTH2_TOKEN``) and prints the server's version, the
user, its roles and permissions, the search backend and where the record cache lives. What fails is one
line on stderr with the likely cause (no URL, unreachable, 401, 403, no Zammad API at that URL); the
credentials themselves are never printed.
"""

from __future__ import annotations

import argparse
from typing import Any

from zammad_orm.cli.common import connect

__all__ = ["cache_location", "register"]


def register(sub: Any) -> None:
    """Add ``check`` to the subcommands ``sub``."""
    check = sub.add_parser(
        "check",
        help="connect with the environment's credentials and say what the server and user are",
        description="Connect with ZAMMAD_URL and ZAMMAD_HTTP_TOKEN (or ZAMMAD_USERNAME and ZAMMAD_PASSWORD,"
        " or ZAMMAD_OAUTH2_TOKEN) and print the server version, the user, its roles and permissions, the"
        " search backend and where the record cache lives; on failure, what is wrong.",
    )
    check.set_defaults(run=_check)


def cache_location(cache: Any) -> str:
    """Describe where a client's record cache keeps its records."""
    kind = type(cache).__name__
    if hasattr(cache, "root"):
        return f"disk, {cache.root}"
    if hasattr(cache, "url"):
        return f"redis, {cache.url} (namespace {getattr(cache, 'namespace', '?')})"
    if kind.startswith("Null"):
        return "off"
    return "memory (this process only)"


def _permissions(client: Any, role_ids: list[int]) -> str:
    from zammad_orm.errors import APIError

    found: list[str] = []
    try:
        for pk in role_ids:
            found += client.get(f"roles/{pk}", expand="true").get("permissions", [])
    except APIError as exc:
        return f"(not readable with these credentials: GET /roles answered {exc.status})"
    return ", ".join(sorted(set(found))) or "(none)"


def _backend(client: Any) -> str:
    from zammad_orm import Ticket
    from zammad_orm.errors import APIError

    try:
        list(Ticket.objects.using(client).filter(id__gte=1)[:1])  # one search: its reply shows the backend
    except APIError as exc:
        return f"unknown (a ticket search answered {exc.status})"
    return client.facts.backend("Ticket") or "unknown"


def _check(args: argparse.Namespace) -> int:
    client = connect(args)
    version = client.facts.version  # the first request: unreachable, 401 and no-API fail here
    me = client.get("users/me", expand="true")
    print(f"server:       {client.url}")
    print(f"version:      Zammad {version}")
    name = " ".join(p for p in (me.get("firstname"), me.get("lastname")) if p)
    print(f"user:         {me.get('login')} (id {me.get('id')}{', ' + name if name else ''})")
    print(f"auth:         {client.auth!r}")
    print(f"roles:        {', '.join(me.get('roles') or []) or '(none)'}")
    print(f"permissions:  {_permissions(client, list(me.get('role_ids') or []))}")
    print(f"search:       {_backend(client)}")
    print(f"cache:        {cache_location(client.cache)}")
    return 0
