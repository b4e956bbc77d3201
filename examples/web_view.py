"""A small web view: the open tickets as an HTML table, served by the standard library's ``wsgiref``.

Connects with ``zammad_orm.connect()``, which reads ``ZAMMAD_URL`` and ``ZAMMAD_HTTP_TOKEN``::

    ZAMMAD_URL=https://zammad.example.com ZAMMAD_HTTP_TOKEN=... python examples/web_view.py --port 8000

then open http://127.0.0.1:8000/. Every page view runs one search for the open tickets (state types new,
open, pending reminder, pending action; newest first) and loads their owners, customers and states in
batches. ``--port 0`` picks a free port; ``--once`` serves a single request and exits (what the test
does). The first line printed is the URL served.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from wsgiref.simple_server import make_server

import zammad_orm
from zammad_orm import Ticket

COLUMNS = ("number", "title", "state", "priority", "group", "owner", "customer", "created")


def _row(ticket: Ticket) -> tuple[str, ...]:
    owner = "-" if ticket.is_unassigned else ticket.owner.login
    customer = ticket.customer.email if ticket.customer else "-"
    created = ticket.created_at.strftime("%Y-%m-%d %H:%M") if ticket.created_at else "-"
    return (
        str(ticket.number),
        str(ticket.title),
        ticket.state.name,
        ticket.priority.name,
        ticket.group.name,
        owner or "-",
        customer or "-",
        created,
    )


def render(limit: int) -> str:
    """Return the HTML page listing the newest ``limit`` open tickets."""
    tickets = (
        Ticket.objects.open()
        .select_related("state", "priority", "group", "owner", "customer")
        .order_by("-created_at")[:limit]
    )
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _row(t)) + "</tr>" for t in tickets
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Open tickets</title></head><body>\n"
        f"<h1>Open tickets (newest {limit})</h1>\n"
        f"<table border='1'>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"
        "</body></html>\n"
    )


def make_app(limit: int) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Return the WSGI application: ``/`` is the table, anything else a 404."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "/") not in ("", "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found\n"]
        page = render(limit).encode("utf-8")
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))]
        )
        return [page]

    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the page until Ctrl-C (or one request with ``--once``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port, 0 for a free one (default %(default)s)")
    parser.add_argument("--limit", type=int, default=100, help="tickets per page (default %(default)s)")
    parser.add_argument("--once", action="store_true", help="serve one request, then exit")
    args = parser.parse_args(argv)
    zammad_orm.connect()
    with make_server(args.host, args.port, make_app(args.limit)) as server:
        print(f"serving on http://{args.host}:{server.server_port}/", flush=True)
        if args.once:
            server.handle_request()
        else:
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
