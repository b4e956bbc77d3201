"""The rows of a QuerySet as pandas or Polars DataFrames, each column typed from its model field.

``QuerySet.to_dataframe()`` / ``to_polars()`` type each column by what it holds, not by guessing from
the values (an empty result has the same dtypes as a full one):

=====================  =============================  =========================
values                 pandas                         Polars
=====================  =============================  =========================
timestamps             ``datetime64[ns, UTC]``        ``Datetime("us", "UTC")``
``Trunc*(tzinfo=tz)``  ``datetime64[ns, <tz>]``       ``Datetime("us", <tz>)``
dates                  ``datetime64[ns]`` (midnight)  ``Date``
integers, counts       ``Int64`` (nullable)           ``Int64``
booleans               ``boolean`` (nullable)         ``Boolean``
decimals (time_unit)   ``object`` of ``Decimal``      ``Decimal`` (exact)
floats                 ``float64``                    ``Float64``
text                   ``string``                     ``String``
relations, lists       ``object``                     ``Object`` or inferred
=====================  =============================  =========================

Decimals stay exact :class:`~decimal.Decimal` objects in pandas (``df["time_unit"].sum()`` is exact;
``.astype(float)`` for plotting). Custom attributes the model does not declare get pandas' and Polars'
own inference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from .checks import path_types
from .errors import ConfigurationError
from .rows import RowMode, shape_rows

__all__ = ["Column", "column_kinds", "pandas_frame", "polars_frame", "row_dicts"]

Kind = Literal["datetime", "date", "int", "float", "decimal", "bool", "str", "object", "infer"]
#: A column's kind and, for timestamps, its time zone name.
Column = tuple[Kind, str]

_KINDS: tuple[tuple[type, Kind], ...] = (
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (Decimal, "decimal"),
    (dt.datetime, "datetime"),
    (dt.date, "date"),
    (str, "str"),
)


def _kind(types_: set[type] | None) -> Kind:
    if types_ is None:
        return "infer"
    if types_ == {int, float}:
        return "float"
    for cls, kind in _KINDS:
        if types_ == {cls}:
            return kind
    return "object"


def _tz_name(tz: Any) -> str:
    return "UTC" if tz is None or tz is dt.timezone.utc else str(getattr(tz, "key", tz))


def column_kinds(
    model: Any, names: Sequence[str], computed: Mapping[str, Any], annotations: Mapping[str, Any]
) -> dict[str, Column]:
    """Return the kind of each column: a field path, a computed column or an aggregate."""
    kinds: dict[str, Column] = {}
    for name in names:
        func, agg = computed.get(name), annotations.get(name)
        if func is not None:
            kinds[name] = (_kind({func.output(model)}), _tz_name(func.tzinfo))
        elif agg is not None:
            kinds[name] = (_kind(agg.output(model)), "UTC")
        else:
            kinds[name] = (_kind(path_types(model, name)), "UTC")
    return kinds


def row_dicts(
    rows: Iterable[Any],
    mode: RowMode,
    fields: tuple[str, ...] | None,
    model: Any,
    computed: Mapping[str, Any],
) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the column names and the rows of a QuerySet (shaped by ``mode``) as dicts.

    Objects give every declared field, the computed columns and the custom attributes.
    """
    if mode == "objects":
        dicts = list(shape_rows(rows, "dict", None, model._meta.fields, computed))
    elif mode == "dict":
        dicts = list(rows)
    else:
        dicts = [dict(zip(fields or (), (r,) if mode == "flat" else tuple(r), strict=False)) for r in rows]
    names = list(fields or ()) if mode != "objects" else [*model._meta.fields, *computed]
    for row in dicts:  # the custom attributes (values() of every field) and the aggregates
        names.extend(k for k in row if k not in names)
    return names, dicts


def _missing(extra: str, exc: ImportError) -> ConfigurationError:
    return ConfigurationError(f"this needs the [{extra}] extra: pip install 'zammad-orm[{extra}]' ({exc})")


def pandas_frame(
    names: Sequence[str], dicts: Sequence[Mapping[str, Any]], kinds: Mapping[str, Column]
) -> Any:
    """Return a pandas DataFrame of the rows, each column of its kind's dtype (see the table above)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise _missing("pandas", exc) from exc

    def series(name: str) -> Any:
        values = [row.get(name) for row in dicts]
        kind, tz = kinds.get(name, ("infer", "UTC"))
        if kind == "datetime":
            stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
            return stamps.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
        if kind == "date":
            return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
        dtypes = {"int": "Int64", "bool": "boolean", "float": "float64", "str": "string"}
        if kind in dtypes:
            if kind == "str":
                values = [v if v is None or isinstance(v, str) else str(v) for v in values]
            return pd.Series(pd.array(values, dtype=dtypes[kind]))
        if kind == "infer":
            return pd.Series(values)
        return pd.Series(values, dtype=object)

    return pd.DataFrame({name: series(name) for name in names}, columns=list(names))


def polars_frame(
    names: Sequence[str], dicts: Sequence[Mapping[str, Any]], kinds: Mapping[str, Column]
) -> Any:
    """Return a Polars DataFrame of the rows, each column of its kind's dtype (see the table above)."""
    try:
        import polars as pl
    except ImportError as exc:
        raise _missing("polars", exc) from exc

    def series(name: str) -> Any:
        values = [row.get(name) for row in dicts]
        kind, tz = kinds.get(name, ("infer", "UTC"))
        if kind == "decimal":
            exponents = [v.as_tuple().exponent for v in values if isinstance(v, Decimal)]
            scale = max((-e for e in exponents if isinstance(e, int)), default=0)
            return pl.Series(name, values, dtype=pl.Decimal(38, max(0, scale)))
        dtypes: dict[str, Any] = {
            "datetime": pl.Datetime("us", tz),
            "date": pl.Date,
            "int": pl.Int64,
            "bool": pl.Boolean,
            "float": pl.Float64,
            "str": pl.String,
        }
        if kind in dtypes:
            if kind == "str":
                values = [v if v is None or isinstance(v, str) else str(v) for v in values]
            return pl.Series(name, values, dtype=dtypes[kind])
        if kind == "object" and any(hasattr(v, "_meta") for v in values):
            return pl.Series(name, values, dtype=pl.Object)
        try:
            return pl.Series(name, values)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            return pl.Series(name, values, dtype=pl.Object)

    return pl.DataFrame([series(name) for name in names])
