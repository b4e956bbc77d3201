"""``zammad-orm shell``: a Python prompt with a connected client and the models imported.

IPython when it is installed (and ``--plain`` is not given), else the standard library's
``code.interact``. The namespace holds ``client`` (made by :func:`zammad_orm.connect`, so also the
default client of ``Ticket.objects``), ``zo`` (the package), ``Q``, ``Count`` and every model class by
name. ``-c CODE`` runs the code in that namespace instead of a prompt.
"""

from __future__ import annotations

import argparse
import code
import sys
from typing import Any

from zammad_orm.cli.common import connect

__all__ = ["namespace", "register"]


def register(sub: Any) -> None:
    """Add ``shell`` to the subcommands ``sub``."""
    shell = sub.add_parser(
        "shell",
        help="a Python prompt with a connected client and the models imported",
        description="Start IPython (when installed) or the standard Python prompt with `client` connected"
        " from the environment (the default client of Model.objects), `zo` (the package), Q, Count and"
        " every model (Ticket, User, ...). Leave with Ctrl-D or exit().",
    )
    shell.add_argument(
        "--plain", action="store_true", help="the standard prompt even if IPython is installed"
    )
    shell.add_argument(
        "-c", dest="code", metavar="CODE", help="run CODE in that namespace instead of a prompt"
    )
    shell.set_defaults(run=_shell)


def namespace(client: Any) -> dict[str, Any]:
    """Return the names the shell starts with."""
    import zammad_orm
    from zammad_orm.meta import registry

    names: dict[str, Any] = {"zo": zammad_orm, "client": client, "Q": zammad_orm.Q, "Count": zammad_orm.Count}
    names.update({name: cls for name, cls in registry.items()})
    return names


def _shell(args: argparse.Namespace) -> int:
    client = connect(args)
    names = namespace(client)
    if args.code is not None:
        exec(compile(args.code, "<zammad-orm shell -c>", "exec"), names)  # the user's own code, as python -c
        return 0
    banner = (
        f"zammad_orm {names['zo'].__version__} shell, connected to {client.url}\n"
        "client, zo, Q, Count and the models (Ticket, User, ...) are imported. Ctrl-D leaves."
    )
    if not args.plain:
        try:
            from IPython import start_ipython
        except ImportError:
            pass
        else:
            print(banner)
            start_ipython(argv=[], user_ns=names)
            return 0
    sys.stdout.flush()
    code.interact(banner=banner, local=names, exitmsg="")
    return 0
