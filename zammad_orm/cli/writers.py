"""How ``query``, ``count`` and ``export`` write rows: a table, CSV, JSON, JSON lines or Parquet.

Rows are dicts of plain values (:func:`~zammad_orm.cli.common.plain_value`), all with the same columns.
Every writer but the table streams: it holds one row (Parquet: one batch of rows) at a time. A file is
written by :func:`atomic_file` to a temporary file in the same directory and renamed over the target
only when it is complete: an error or Ctrl-C leaves no half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import tempfile
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from zammad_orm.cli.common import UsageError
from zammad_orm.fields import union_members

__all__ = ["FORMATS", "PARQUET_BATCH", "arrow_schema", "atomic_file", "write_parquet", "write_rows"]

#: The formats of ``--format`` (``parquet`` only for files: ``export --to FILE.parquet``).
FORMATS = ("table", "csv", "json", "jsonl")
#: Rows per Parquet row group: what the writer holds in memory at a time.
PARQUET_BATCH = 1000
_CELL = 60  # the widest a table cell is shown


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str], form: str, out: IO[str]) -> int:
    """Write rows in ``form`` (one of :data:`FORMATS`) to ``out`` and return how many were written."""
    writers: dict[str, Callable[[Iterable[dict[str, Any]], Sequence[str], IO[str]], int]] = {
        "table": _table,
        "csv": _csv,
        "json": _json,
        "jsonl": _jsonl,
    }
    return writers[form](rows, columns, out)


def _table(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: IO[str]) -> int:
    cells = [[_cut(_text(row.get(c))) for c in columns] for row in rows]  # widths need every row
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    return len(cells)


def _cut(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def _csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for n, row in enumerate(rows, 1):  # noqa: B007  (n is the count)
        writer.writerow([_text(row.get(c)) for c in columns])
    return n


def _json(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: IO[str]) -> int:
    n = 0
    out.write("[")
    for n, row in enumerate(rows, 1):
        out.write(
            ("\n" if n == 1 else ",\n") + json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False)
        )
    out.write("\n]\n" if n else "]\n")
    return n


def _jsonl(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: IO[str]) -> int:
    n = 0
    for n, row in enumerate(rows, 1):  # noqa: B007
        out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
    return n


@contextlib.contextmanager
def atomic_file(target: Path, *, binary: bool = False) -> Iterator[tuple[Path, IO[Any] | None]]:
    """Yield a temporary file beside ``target`` (its path and, unless ``binary``, a text stream).

    The file becomes ``target`` (``os.replace``) when the block ends normally; on any exception, Ctrl-C
    included, it is removed and ``target`` is left as it was.

    Raises:
        UsageError: The directory of ``target`` does not exist.

    """
    directory = target.parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {target}: no directory {directory}")
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    temp = Path(name)
    try:
        if binary:
            os.close(fd)
            yield temp, None
        else:
            with open(fd, "w", encoding="utf-8", newline="") as stream:
                yield temp, stream
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _arrow_type(annotation: Any) -> Any:
    import pyarrow as pa

    members = [m for m in union_members(annotation) if m is not type(None)]
    if len(members) == 1 and typing.get_origin(members[0]) is typing.Literal:
        members = list({type(v) for v in typing.get_args(members[0])})
    if len(members) != 1:
        return pa.string()
    kind = members[0]
    table: list[tuple[type, Any]] = [
        (bool, pa.bool_()),
        (int, pa.int64()),
        (float, pa.float64()),
        (dt.datetime, pa.timestamp("us", tz="UTC")),
        (dt.date, pa.date32()),
        (str, pa.string()),
        (Decimal, pa.string()),
    ]
    for py, arrow in table:
        if kind is py:
            return arrow
    return pa.string()  # lists, dicts, unknown: their JSON text


def arrow_schema(model: Any, columns: Sequence[str]) -> Any:
    """Return the pyarrow schema of ``columns`` (``__`` paths) of ``model``, typed from its fields."""
    import pyarrow as pa

    from zammad_orm.references import related_model

    fields = []
    for column in columns:
        current, annotation = model, None
        for step in column.split("__"):
            if current is None:
                annotation = None
                break
            meta = current._meta
            rel = meta.relations.get(step)
            if rel is not None:
                current, annotation = related_model(current, rel.target), int  # a bare relation: its id
                continue
            info = meta.fields.get("id" if step == "pk" else step)
            annotation = info.type if info is not None else None
            current = None
        fields.append(pa.field(column, _arrow_type(annotation) if annotation is not None else pa.string()))
    return pa.schema(fields)


def _arrow_value(value: Any, kind: Any) -> Any:
    import pyarrow as pa

    if value is None:
        return None
    if kind == pa.string() and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
    if kind == pa.timestamp("us", tz="UTC") and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if kind == pa.date32() and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def write_parquet(rows: Iterable[dict[str, Any]], schema: Any, path: Path) -> int:
    """Write rows to a Parquet file in row groups of :data:`PARQUET_BATCH` and return how many.

    Raises:
        UsageError: pyarrow is not installed.

    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise UsageError(f"Parquet needs pyarrow: pip install 'zammad-orm[parquet]' ({exc})") from None
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append({f.name: _arrow_value(row.get(f.name), f.type) for f in schema})
            if len(batch) == PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        if batch or not n:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n
