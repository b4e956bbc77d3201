"""The rows a QuerySet yields: objects, or the dicts, tuples and values of ``values()``/``values_list()``.

:data:`RowMode` names the shape; :func:`shape_rows` turns objects into rows of that shape and
:mod:`zammad_orm.frames` puts them in DataFrames. The path helpers are shared with aggregates:
:func:`value_of` reads ``"state__name"`` from an object, :func:`read_column` a path or a computed column
(``TruncWeek``), :func:`relation_prefixes` lists the relations such paths walk (loaded in batches with
the rows).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

from .errors import ConfigurationError

__all__ = [
    "ResultCache",
    "RowMode",
    "read_column",
    "relation_prefixes",
    "shape_rows",
    "value_of",
    "with_progress",
]

#: What a QuerySet yields: objects (the default), dicts (``values()``), tuples (``values_list()``), single
#: values (``flat=True``) or namedtuples (``named=True``).
RowMode = Literal["objects", "dict", "list", "flat", "named"]


class ResultCache:
    """The mutable result cache of one QuerySet, the rows it yielded (never shared by clones)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Any] | None = None


def shape_rows(
    objects: Iterable[Any],
    mode: RowMode,
    fields: tuple[str, ...] | None,
    declared: Iterable[str],
    computed: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """Yield the rows of ``objects`` in the shape ``mode`` names.

    Args:
        objects: The model objects, in order.
        mode: The shape of each row.
        fields: The field paths of ``values()``/``values_list()``; ``None`` or empty for every field.
        declared: The model's declared fields (every field; ``values()`` adds the custom attributes).
        computed: The computed columns by name (``TruncWeek(...)``); added to every field when
            ``fields`` is empty.

    """
    if mode == "objects":
        yield from objects
        return
    computed = computed or {}
    names = fields or (*declared, *computed)
    row_type: Any = namedtuple("Row", [f.replace("__", "_") for f in names]) if mode == "named" else None
    for obj in objects:
        values = [read_column(obj, f, computed) for f in names]
        if mode == "dict":
            row: Any = dict(zip(names, values, strict=False))
            if not fields:
                row.update(obj.extra)
            yield row
        elif mode == "flat":
            yield values[0]
        elif row_type is not None:
            yield row_type(*values)
        else:
            yield tuple(values)


def relation_prefixes(fields: Iterable[str]) -> tuple[str, ...]:
    """Return the relation paths that field paths walk: ``("state__name",)`` → ``("state",)``."""
    return tuple(dict.fromkeys(f.rpartition("__")[0] for f in fields if "__" in f))


def value_of(obj: Any, path: str) -> Any:
    """Read a ``__`` path from an object (``"customer__organization__name"``; ``pk`` is ``id``)."""
    value = obj
    for step in path.split("__"):
        if value is None:
            return None
        value = getattr(value, "id" if step == "pk" else step)
        if callable(value) and not isinstance(value, type):
            value = value()
    return value


def read_column(obj: Any, name: str, computed: Mapping[str, Any]) -> Any:
    """Read a column of a row: a computed one (``computed[name]``, e.g. ``TruncWeek``) or a ``__`` path."""
    func = computed.get(name)
    return value_of(obj, name) if func is None else func.apply(value_of(obj, func.field))


def with_progress(rows: Callable[[Callable[[int], None]], Iterator[Any]], desc: str) -> Iterator[Any]:
    """Show a tqdm progress bar on stderr over rows (``iterator(progress=True)``; the ``[progress]`` extra).

    ``rows`` is called with a function that sets the bar's total (and so its ETA) once it is known: the
    first search page carries it. tqdm is imported here, only when a bar is asked for.

    Raises:
        ConfigurationError: tqdm is not installed (raised at once, before any request).

    """
    try:
        from tqdm import tqdm
    except ImportError as exc:
        raise ConfigurationError(
            f"progress=True needs tqdm: pip install 'zammad-orm[progress]' ({exc})"
        ) from exc
    bar = tqdm(desc=desc, unit=" rows", total=None)

    def learn(total: int) -> None:
        if bar.total is None:
            bar.total = total
            bar.refresh()

    def shown() -> Iterator[Any]:
        try:
            for row in rows(learn):
                bar.update(1)
                yield row
        finally:
            bar.close()

    return shown()
