"""The zammad-orm command line: serve the emulator, run the demo report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``zammad-orm`` command."""
    parser = argparse.ArgumentParser(prog="zammad-orm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the bundled Zammad emulator")
    sub.add_parser("demo", help="start the emulator with demo data and print the example report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = build_parser().parse_args(argv)
    print(
        f"zammad-orm {args.command}: the Zammad emulator (issue #3) is not built yet.",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
