"""``zammad-orm cache path|stats|clear``: where the disk cache lives, what it holds, removing it.

``cache path`` prints the directory, ``cache stats`` its entries and bytes per namespace (a server and
user) and model, ``cache clear`` removes it and prints what it removed. No server is asked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``cache`` to the subcommands ``sub``."""
    cache = sub.add_parser(
        "cache",
        help="the disk cache: where it is, what it holds, remove it",
        description="The disk cache of cache='disk' clients: 'path' prints its directory"
        " ($ZAMMAD_ORM_CACHE_DIR, else the platform's user cache directory), 'stats' the entries and bytes of"
        " each namespace (a server and user) and model, 'clear' removes it and prints what it removed.",
    )
    cache.add_argument("action", choices=("path", "stats", "clear"), help="what to do")
    cache.add_argument(
        "--dir", default=None, metavar="PATH", help="the cache directory (default: the one 'path' prints)"
    )
    cache.set_defaults(run=_cache)


def _cache(args: argparse.Namespace) -> int:
    from zammad_orm.cache.disk import clear_disk_cache, default_cache_dir, disk_usage
    from zammad_orm.errors import CacheError

    root = Path(args.dir).expanduser() if args.dir else default_cache_dir()
    if args.action == "path":
        print(root)
        return 0
    try:
        usage = clear_disk_cache(root) if args.action == "clear" else disk_usage(root)
    except CacheError as exc:
        print(f"zammad-orm cache {args.action}: {exc}", file=sys.stderr)
        return 1
    if not usage:
        print(f"{'nothing to remove' if args.action == 'clear' else 'no disk cache'} in {root}")
        return 0
    entries, size = sum(u.entries for u in usage), sum(u.size for u in usage)
    namespaces = len({u.namespace for u in usage})
    summary = (
        f"{len(usage)} model{'s' * (len(usage) != 1)} in {namespaces} namespace{'s' * (namespaces != 1)}:"
        f" {entries} entries, {size} bytes"
    )
    if args.action == "clear":
        for u in usage:
            print(f"removed {u.path} ({u.entries} entries, {u.size} bytes)")
        print(f"removed {summary}")
        return 0
    print(f"disk cache in {root}")
    model_width = max(len("model"), *(len(u.model) for u in usage))
    namespace_width = max(len(u.namespace) for u in usage)
    print(f"{'namespace':<{namespace_width}}  {'model':<{model_width}}  {'entries':>9}  {'bytes':>12}")
    for u in usage:
        print(f"{u.namespace:<{namespace_width}}  {u.model:<{model_width}}  {u.entries:>9}  {u.size:>12}")
    print(f"total: {summary}")
    return 0
