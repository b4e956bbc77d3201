"""The emulator's subcommands of ``zammad-orm``: ``serve``, ``demo`` and ``routes``.

``zammad-orm serve`` starts the emulator (a real HTTP server on loopback backed by SQLite), prints its
URL, the admin token and the admin login, and serves until Ctrl-C or SIGTERM. ``zammad-orm demo`` starts
an emulator with demo data and runs the example report ``zammad_orm.testing.report`` against it.
``zammad-orm routes`` prints the emulator's URL map: methods, path and handler of every rule.
These need the ``[emulator]`` extra; the emulator is imported only when one of them runs.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from zammad_orm.cli.common import whole_number

if TYPE_CHECKING:
    from zammad_orm.testing import Emulator

__all__ = ["DEFAULT_DEMO_TICKETS", "register"]

DEFAULT_DEMO_TICKETS = 200
_MISSING_EXTRA = (
    "zammad-orm: the emulator cannot be loaded ({}); install the extra: pip install 'zammad-orm[emulator]'"
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be within 0..65535 (0 = a free port), got {value}")
    return value


def _version_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--zammad-version", choices=("6.2", "6.5"), default="6.2", help=help_text)


def _emulator_options(parser: argparse.ArgumentParser, *, demo_default: int) -> None:
    parser.add_argument(
        "--demo", type=whole_number, default=demo_default, metavar="N", help="demo tickets to generate"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the demo data (default 0)")
    _version_option(
        parser, "Zammad release to imitate: 6.2 (search answers {tickets, assets}) or 6.5 (unified search)"
    )
    parser.add_argument(
        "--search-backend",
        choices=("elasticsearch", "database"),
        default="elasticsearch",
        help="search semantics to imitate (default elasticsearch)",
    )


def register(sub: Any) -> None:
    """Add ``serve``, ``demo`` and ``routes`` to the subcommands ``sub``."""
    serve = sub.add_parser(
        "serve",
        help="run the bundled Zammad emulator until Ctrl-C",
        description="Start the bundled Zammad emulator (a real HTTP server on loopback backed by SQLite),"
        " print its URL, admin token and login, and serve until Ctrl-C or SIGTERM.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=0, metavar="N", help="port (default 0: a free port)")
    serve.add_argument(
        "--db", default=":memory:", metavar="PATH", help="SQLite file to keep the data in (default :memory:)"
    )
    serve.add_argument("--token", default=None, metavar="T", help="admin API token (default: a random one)")
    _emulator_options(serve, demo_default=0)
    serve.set_defaults(run=_serve)
    demo = sub.add_parser(
        "demo",
        help="start the emulator with demo data and print the example report",
        description="Start an emulator with demo data and print the report zammad_orm.testing.report.",
    )
    _emulator_options(demo, demo_default=DEFAULT_DEMO_TICKETS)
    demo.add_argument(
        "--chart",
        default=None,
        metavar="PNG",
        help="also draw tickets per month into this image (matplotlib)",
    )
    demo.set_defaults(run=_demo)
    routes = sub.add_parser(
        "routes",
        help="print the emulator's URL map: methods, path and handler of every rule",
        description="Print the emulator's URL map, one line per rule, sorted by path: the HTTP methods, the"
        " path (werkzeug placeholders such as <ident>) and the handler that answers it, as module.function"
        " in zammad_orm.testing (e.g. routes_tickets.tickets_show in zammad_orm/testing/routes_tickets.py)."
        " Starts nothing.",
    )
    _version_option(
        routes, "Zammad release whose routes to list (default 6.2; the checklists of 6.4+ appear with 6.5)"
    )
    routes.set_defaults(run=_routes)


def _emulator_class() -> type[Emulator]:
    try:
        from zammad_orm.testing import Emulator
    except ImportError as exc:
        raise SystemExit(_MISSING_EXTRA.format(exc)) from exc
    return Emulator


def _describe(emulator: Emulator, args: argparse.Namespace) -> str:
    return "\n".join(
        [
            f"Zammad emulator (Zammad {args.zammad_version}, {args.search_backend} search)"
            f" serving on {emulator.url}",
            f"  API base:  {emulator.url}/api/v1",
            f"  token:     {emulator.token}   (header  Authorization: Token token={emulator.token})",
            f"  login:     {emulator.admin_login}",
            f"  password:  {emulator.admin_password}",
            f"  database:  {getattr(args, 'db', ':memory:')}   demo tickets: {args.demo}",
        ]
    )


def _serve(args: argparse.Namespace) -> int:
    emulator_class = _emulator_class()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # SIGTERM (service managers, `kill`) and SIGINT (Ctrl-C) both end the server cleanly.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            emulator = emulator_class(
                demo=args.demo,
                seed=args.seed,
                db=args.db,
                token=args.token,
                zammad_version=args.zammad_version,
                search_backend=args.search_backend,
                host=args.host,
                port=args.port,
            )
        except (OSError, sqlite3.Error, ValueError) as exc:
            print(
                f"zammad-orm serve: cannot open the emulator's database {args.db!r}: {exc}", file=sys.stderr
            )
            return 1
        try:
            emulator.start()
        except (OSError, SystemExit) as exc:
            # Address in use, no permission for the port, unknown host; werkzeug reports a port in use
            # itself and exits, which must not skip closing the store.
            emulator.close()
            reason = f": {exc}" if isinstance(exc, OSError) else ""
            print(f"zammad-orm serve: cannot listen on {args.host}:{args.port}{reason}", file=sys.stderr)
            return 1
        try:
            print(_describe(emulator, args), flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            # wait() with a timeout keeps the main thread responsive to signals on every platform.
            while not stop.wait(0.5):
                pass
        finally:
            emulator.close()  # stops the server and closes the SQLite file cleanly
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("zammad-orm: emulator stopped.", flush=True)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from zammad_orm.testing import report

    with _emulator_class()(
        demo=args.demo,
        seed=args.seed,
        zammad_version=args.zammad_version,
        search_backend=args.search_backend,
    ) as emulator:
        print(_describe(emulator, args), file=sys.stderr, flush=True)
        return report.main(emulator.client(), chart_path=args.chart)


def _routes(args: argparse.Namespace) -> int:
    try:
        from zammad_orm.testing.app import url_rules
    except ImportError as exc:
        raise SystemExit(_MISSING_EXTRA.format(exc)) from exc
    rows = url_rules(args.zammad_version)
    methods_width = max(len(methods) for methods, _, _ in rows)
    path_width = max(len(path) for _, path, _ in rows)
    for methods, path, handler in rows:
        print(f"{methods:<{methods_width}}  {path:<{path_width}}  {handler}")
    return 0
