"""The rows a QuerySet yields: objects, or the dicts, tuples and values of ``values()``/``values_list()``.

:data:`RowMode` names the shape; :func:`shape_rows` turns objects into rows of that shape and
:func:`dataframe` puts them in a pandas DataFrame. The path helpers are shared with grouped counts:
:func:`value_of` reads ``"state__name"`` from an object, :func:`relation_prefixes` lists the relations
such paths walk (loaded in batches with the rows).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from .errors import ConfigurationError

__all__ = ["ResultCache", "RowMode", "relation_prefixes", "shape_rows", "value_of", "with_progress"]

#: What a QuerySet yields: objects (the default), dicts (``values()``), tuples (``values_list()``), single
#: values (``flat=True``) or namedtuples (``named=True``).
RowMode = Literal["objects", "dict", "list", "flat", "named"]


class ResultCache:
    """The mutable result cache of one QuerySet, the rows it yielded (never shared by clones)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Any] | None = None


def shape_rows(
    objects: Iterable[Any], mode: RowMode, fields: tuple[str, ...] | None, declared: Iterable[str]
) -> Iterator[Any]:
    """Yield the rows of ``objects`` in the shape ``mode`` names.

    Args:
        objects: The model objects, in order.
        mode: The shape of each row.
        fields: The field paths of ``values()``/``values_list()``; ``None`` or empty for every field.
        declared: The model's declared fields (every field; ``values()`` adds the custom attributes).

    """
    if mode == "objects":
        yield from objects
        return
    names = fields or tuple(declared)
    row_type: Any = namedtuple("Row", [f.replace("__", "_") for f in names]) if mode == "named" else None
    for obj in objects:
        values = [value_of(obj, f) for f in names]
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


def dataframe(rows: Iterable[Any], mode: RowMode, fields: tuple[str, ...] | None) -> Any:
    """Return ``rows`` (shaped by ``mode``) as a pandas DataFrame (needs the ``[pandas]`` extra)."""
    import pandas as pd

    if mode == "objects":
        return pd.DataFrame([dict(obj.view()) for obj in rows])
    if mode in ("list", "named", "flat"):
        tuples = [(r,) if mode == "flat" else tuple(r) for r in rows]
        return pd.DataFrame(tuples, columns=list(fields or ()))
    return pd.DataFrame(list(rows))


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


def with_progress(rows: Iterator[Any], desc: str) -> Iterator[Any]:
    """Wrap ``rows`` in a tqdm progress bar on stderr (``iterator(progress=True)``; the ``[progress]`` extra).

    Raises:
        ConfigurationError: tqdm is not installed.

    """
    try:
        from tqdm import tqdm
    except ImportError as exc:
        raise ConfigurationError(
            f"progress=True needs tqdm: pip install 'zammad-orm[progress]' ({exc})"
        ) from exc
    return iter(tqdm(rows, desc=desc, unit=" rows"))
