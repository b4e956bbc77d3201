"""The ``zammad-orm`` command line: the parser, the subcommands' registry and the exit statuses.

Subcommands (each module adds its own with ``register``): ``serve``, ``demo``, ``routes``
(:mod:`~zammad_orm.cli.emulator`), ``cache`` (:mod:`~zammad_orm.cli.cache`), ``check``
(:mod:`~zammad_orm.cli.check`), ``query``, ``count``, ``export`` (:mod:`~zammad_orm.cli.data`), ``shell``
(:mod:`~zammad_orm.cli.shell`) and ``codegen`` (:mod:`~zammad_orm.cli.codegen`).

Exit statuses: :data:`OK` 0; :data:`FAILED` 1, an error from the server or the library after the
command line was understood (unreachable, 401, 403, 5xx, an unreadable reply, a file that cannot be
written); :data:`USAGE` 2, a command line that cannot run as written (arguments, an unknown model, field,
lookup or value, missing credentials), found before any request; :data:`INTERRUPTED` 130, Ctrl-C. An
error is one line on stderr, ``zammad-orm: error: ...``; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence

from zammad_orm._version import __version__
from zammad_orm.cli import cache, check, codegen, data, emulator, shell
from zammad_orm.cli.common import UsageError

__all__ = ["FAILED", "INTERRUPTED", "OK", "USAGE", "build_parser", "main"]

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130
_COMMANDS = (emulator, cache, check, data, shell, codegen)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``zammad-orm`` command."""
    parser = argparse.ArgumentParser(
        prog="zammad-orm",
        description="Query, count and export the objects of a Zammad server with the lookups of zammad_orm,"
        " check the connection, open a shell, generate typed models for custom attributes; serve the bundled"
        " Zammad emulator; look after the disk cache. The server and credentials come from ZAMMAD_URL and"
        " ZAMMAD_HTTP_TOKEN (or ZAMMAD_USERNAME and ZAMMAD_PASSWORD, or ZAMMAD_OAUTH2_TOKEN).",
        epilog="exit status: 0 ok, 1 an error from the server or the library, 2 a usage error (nothing was"
        " sent), 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"zammad-orm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS:
        module.register(sub)
    sub.metavar = "{" + ",".join(sub.choices) + "}"
    return parser


def _hint(exc: BaseException) -> str:
    from zammad_orm import errors

    url = os.environ.get("ZAMMAD_URL", "")
    if isinstance(exc, errors.AuthenticationError):
        return (
            " (the server refused the credentials: check ZAMMAD_HTTP_TOKEN,"
            " ZAMMAD_USERNAME/ZAMMAD_PASSWORD or ZAMMAD_OAUTH2_TOKEN)"
        )
    if isinstance(exc, errors.PermissionDenied):
        return " (the user lacks the permission this needs)"
    if isinstance(exc, errors.RouteNotFound):
        return f" (is {url or 'ZAMMAD_URL'} the address of a Zammad server?)"
    if isinstance(exc, errors.TransportError):
        return f" (cannot reach {url or 'the server'}: is it running, is ZAMMAD_URL right?)"
    return ""


def _fail(prefix: str, exc: BaseException, debug: bool) -> None:
    if debug:
        # The frames and their source lines, never their locals (a credential could sit in one).
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"zammad-orm: {prefix}: {message}{_hint(exc)}", file=sys.stderr)


def _joined(words: list[str]) -> list[str]:
    """Join ``--order -created_at`` into ``--order=-created_at`` (else argparse reads an option)."""
    out: list[str] = []
    for word in words:
        if out and out[-1] == "--order" and word.startswith("-") and word[1:2].isalpha():
            out[-1] = f"--order={word}"
        else:
            out.append(word)
    return out


@contextlib.contextmanager
def _logging(debug: bool) -> Iterator[None]:
    """Show the library's log on stderr with ``--debug``; else a failure speaks through its one line only.

    Without ``--debug`` the transport's log (retries, giving up) is held back while the command runs
    (Python would print its warnings on stderr next to the error line). Either way the loggers are as
    they were when the command ends (``main()`` may run inside a larger program or a test).
    """
    if debug:
        logger = logging.getLogger("zammad_orm")
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        level = logging.DEBUG
    else:
        logger = logging.getLogger("zammad_orm.transport")
        handler = logging.NullHandler()
        level = logger.level
    before = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.level, logger.propagate = before


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (argparse exits 2 itself on bad arguments)."""
    from zammad_orm import errors

    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_joined(words))
    try:
        with _logging(args.debug):
            status: int = args.run(args)
    except KeyboardInterrupt:
        print("zammad-orm: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`zammad-orm query ... | head`): not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (Python would complain flushing the dead pipe)
        return OK
    except (UsageError, errors.ConfigurationError, errors.FieldError, errors.QueryError) as exc:
        _fail("error", exc, args.debug)
        return USAGE
    except (errors.ZammadError, OSError) as exc:
        _fail("error", exc, args.debug)
        return FAILED
    finally:
        _close(args)
    return status


def _close(args: argparse.Namespace) -> None:
    """Close the client a command opened, and stop it being the default client."""
    from zammad_orm import manager

    client = getattr(args, "client", None)
    if client is not None:
        client.close()
        if manager._default_client is client:
            manager.set_default_client(None)
