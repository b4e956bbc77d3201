"""``zammad-orm query``, ``count`` and ``export``: the QuerySet of Python, on the command line.

``query MODEL [LOOKUP=VALUE ...]`` prints rows (a table, CSV, JSON or JSON lines), ``count`` prints a
number or, with ``--by FIELD``, a count per value (``values(FIELD).annotate(n=Count("id"))``), and
``export`` streams every row into a CSV, JSON lines or Parquet file (``QuerySet.iterator()``: one page in
memory at a time), with a progress bar on stderr. The lookups are those of ``filter()``; every name is
checked by the library before a request is sent.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from zammad_orm.cli.common import (
    UsageError,
    add_filter_arguments,
    filtered,
    names,
    plain_value,
    whole_number,
)
from zammad_orm.cli.writers import FORMATS, arrow_schema, atomic_file, write_parquet, write_rows

__all__ = ["EXPORT_FORMATS", "default_columns", "register"]

#: The file formats of ``export``, by suffix.
EXPORT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
_COLUMNS = {
    "Ticket": ("id", "number", "title", "state__name", "priority__name", "group__name", "owner__login",
               "created_at"),
    "User": ("id", "login", "firstname", "lastname", "email", "active"),
    "Organization": ("id", "name", "active"),
}  # fmt: skip


def default_columns(model: Any) -> tuple[str, ...]:
    """Return the columns ``query`` shows without ``--fields``: a few that say what a row is."""
    columns = _COLUMNS.get(model._meta.name)
    if columns is None:
        fields = model._meta.fields
        columns = tuple(dict.fromkeys(c for c in ("id", model._meta.label, "updated_at") if c in fields))
    return columns


def _row_options(parser: argparse.ArgumentParser) -> None:
    add_filter_arguments(parser)
    parser.add_argument(
        "--fields", metavar="A,B,...", help="columns, as values() takes them (relation paths: state__name)"
    )
    parser.add_argument(
        "--order", metavar="FIELD,...", help="ordering, as order_by() takes it (-created_at: descending)"
    )
    parser.add_argument("--limit", type=whole_number, metavar="N", help="at most N rows")


def register(sub: Any) -> None:
    """Add ``query``, ``count`` and ``export`` to the subcommands ``sub``."""
    query = sub.add_parser(
        "query",
        help="print the objects a filter finds",
        description="Print the objects of MODEL that the lookups find, as in Python's"
        " MODEL.objects.filter(LOOKUP=VALUE, ...).order_by(...).values(...)[:N].",
    )
    _row_options(query)
    query.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    query.set_defaults(run=_query)
    count = sub.add_parser(
        "count",
        help="count the objects a filter finds, in all or per value of a field",
        description="Print how many objects of MODEL the lookups find (QuerySet.count()), or with --by"
        " FIELD how many per value of FIELD (values(FIELD).annotate(n=Count('id'))).",
    )
    add_filter_arguments(count)
    count.add_argument("--by", metavar="FIELD", help="count per value of this field (e.g. state__name)")
    count.add_argument("--format", choices=FORMATS, default="table", help="output format of --by")
    count.set_defaults(run=_count)
    export = sub.add_parser(
        "export",
        help="stream the objects a filter finds into a CSV, JSON lines or Parquet file",
        description="Stream the objects of MODEL that the lookups find into FILE (.csv, .jsonl or .parquet,"
        " the last with pyarrow), one page at a time. The file is written beside FILE under a temporary"
        " name and renamed when complete: an error or Ctrl-C leaves nothing half-written. Without"
        " --fields every field of the model is written.",
    )
    _row_options(export)
    export.add_argument("--to", required=True, metavar="FILE", help="the file: FILE.csv, .jsonl or .parquet")
    bar = export.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    export.set_defaults(run=_export)


def _shaped(qs: Any, args: argparse.Namespace, columns: Sequence[str]) -> Any:
    order = names(args.order)
    if order:
        qs = qs.order_by(*order)
    qs = qs.values(*columns)
    return qs[: args.limit] if args.limit is not None else qs


def _plain(rows: Any, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {c: plain_value(row.get(c)) for c in columns}


def _query(args: argparse.Namespace) -> int:
    base = filtered(args)
    columns = names(args.fields) or list(default_columns(base.model))
    qs = _shaped(base, args, columns)
    rows = _plain(qs.iterator() if args.format != "table" else qs, columns)
    write_rows(rows, columns, args.format, sys.stdout)
    return 0


def _count(args: argparse.Namespace) -> int:
    from zammad_orm import Count

    qs = filtered(args)
    if not args.by:
        print(qs.count())
        return 0
    grouped = qs.values(args.by).annotate(n=Count("id"))
    rows = sorted(_plain(grouped, [args.by, "n"]), key=lambda r: (-r["n"], str(r[args.by])))
    write_rows(rows, [args.by, "n"], args.format, sys.stdout)
    return 0


def _every_field(qs: Any) -> list[str]:
    from zammad_orm.errors import APIError

    meta = qs.model._meta
    columns = [f for f in meta.fields if not f.startswith("_")]
    with contextlib.suppress(APIError):  # untyped custom attributes too, when this user may list them
        columns += sorted(set(qs.client.facts.attributes(meta.name)) - set(columns))
    return columns


def _export(args: argparse.Namespace) -> int:
    target = Path(args.to).expanduser()
    form = EXPORT_FORMATS.get(target.suffix.lower())
    if form is None:
        raise UsageError(
            f"cannot tell the format of {target.name}: give a file ending in .csv, .jsonl or .parquet"
        )
    if form == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise UsageError(f"Parquet needs pyarrow: pip install 'zammad-orm[parquet]' ({exc})") from None
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {target}: no directory {target.parent}")
    base = filtered(args)
    columns = names(args.fields) or _every_field(base)
    qs = _shaped(base, args, columns)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    rows = _plain(qs.iterator(progress=progress), columns)
    if form == "parquet":
        schema = arrow_schema(qs.model, columns)
        with atomic_file(target, binary=True) as (temp, _):
            n = write_parquet(rows, schema, temp)
    else:
        with atomic_file(target) as (_, stream):
            assert stream is not None
            n = write_rows(rows, columns, form, stream)
    print(f"wrote {n} {qs.model._meta.name} row{'s' * (n != 1)} to {target}", file=sys.stderr)
    return 0
