"""The single private cattrs Converter: wire JSON <-> model instances, datetimes and decimals.

Zammad sends timestamps as ``"2024-03-18T22:50:03.732Z"`` (UTC, milliseconds), date-only columns as
``"2024-03-18"`` and time units as decimal strings (``"12.3"``). Models hold aware :class:`datetime`,
:class:`date` and :class:`Decimal` values. Structure functions are generated once per model class with
``make_dict_structure_fn`` and ``override(rename=<wire key>)``; keys the model does not declare (custom
object attributes) are collected into the model's ``extra`` dict, except the keys the server adds for
``expand=true`` (names instead of ids), which the caller lists in ``skip``.

:func:`field_reader` gives the converter of one attribute, for models that structure an attribute only when
it is first read (see :mod:`zammad_orm.sync`).

Containers (``dict``/``list``) are deep-copied on the way in, so that a model's values never share
mutable state with the raw record it was built from (dirty tracking compares against that record).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

import attrs

from zammad_orm.dates import format_datetime
from zammad_orm.errors import DecodeError
from zammad_orm.fields import FIELD_KEY, FieldMeta, union_members

__all__ = [
    "field_reader",
    "format_datetime",
    "from_wire",
    "json_copy",
    "parse_datetime",
    "structure",
    "to_wire",
    "wire_names",
]

T = TypeVar("T")


def parse_datetime(value: str) -> datetime:
    """Parse Zammad's ISO-8601 timestamp (``...Z``) into an aware UTC datetime.

    Raises:
        DecodeError: The string is not an ISO-8601 timestamp.

    """
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise DecodeError(f"not an ISO-8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def json_copy(value: Any) -> Any:
    """Deep-copy a JSON value (dicts and lists; scalars are immutable)."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise DecodeError(f"expected a timestamp string, got {value!r}")
    return parse_datetime(value)


def _structure_date(value: Any, _: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DecodeError(f"expected a date string, got {value!r}")
    try:
        if len(value) > 10:  # some servers send a full timestamp for date columns
            return parse_datetime(value).date()
        return date.fromisoformat(value)
    except ValueError:
        raise DecodeError(f"not an ISO-8601 date: {value!r}") from None


def _structure_decimal(value: Any, _: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise DecodeError(f"not a decimal number: {value!r}") from None


_SCALARS = (str, int, float, bool, type(None))


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 80 else text[:77] + '...'}"


# The scalar hooks refuse what cattrs' defaults (``str(value)``, ``int(value)``, ``bool(value)``) would
# turn into a wrong value without a word: a list read as the string "['x']", ``True`` as the id 1, the
# string "false" as ``True``. Numbers in strings and integral floats are read as numbers.


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise DecodeError(f"expected a string, got {_shown(value)}")


def _structure_int(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise DecodeError(f"expected an integer, got {_shown(value)}")


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise DecodeError(f"expected a number, got {_shown(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise DecodeError(f"expected true or false, got {_shown(value)}")


def _structure_container(value: Any, tp: Any) -> Any:
    kind = typing.get_origin(tp) or tp
    if not isinstance(value, kind):
        raise DecodeError(f"expected a JSON {'object' if kind is dict else 'array'}, got {_shown(value)}")
    args = typing.get_args(tp)
    element = args[-1] if args else Any
    if element in (int, str, float, bool):
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            if not isinstance(item, element) or (element is not bool and isinstance(item, bool)):
                raise DecodeError(f"expected {element.__name__} elements, got {_shown(item)}")
    return json_copy(value)


def _is_literal(tp: Any) -> bool:
    return bool(typing.get_origin(tp) is Literal)


def _structure_literal(value: Any, tp: Any) -> Any:
    """Read a value of fixed values (a select attribute): kept as the server sent it, if of their type.

    The server is the source of truth: a value outside the options of a typed model (an option added
    after ``zammad-orm codegen``, the empty string of a cleared select) is read, not refused; writes and
    filters are what :func:`~zammad_orm.fields.check_value` and the query checks hold to the options.
    """
    options = typing.get_args(tp)
    if value in options or any(type(value) is type(option) for option in options):
        return value
    raise DecodeError(f"expected one of {', '.join(map(repr, options))}, got {_shown(value)}")


def _is_container(tp: Any) -> bool:
    """Whether ``tp`` is a dict/list of plain JSON (``dict[str, Any]``, ``list[int]``, ...)."""
    if tp in (dict, list):
        return True
    if typing.get_origin(tp) not in (dict, list):
        return False
    return all(a is Any or a in _SCALARS or _is_container(a) for a in typing.get_args(tp))


@functools.cache
def _converter() -> Any:
    """Return the converter, made on first use: ``cattrs`` is imported then, not with the package (9 ms)."""
    import cattrs

    converter = cattrs.Converter()
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_structure_hook(date, _structure_date)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook_func(_is_container, _structure_container)
    converter.register_structure_hook_func(_is_literal, _structure_literal)
    converter.register_unstructure_hook(datetime, format_datetime)
    converter.register_unstructure_hook(date, lambda d: d.isoformat())
    converter.register_unstructure_hook(Decimal, str)
    converter.register_unstructure_hook_func(_is_container, json_copy)
    return converter


@attrs.frozen
class _Plan:
    """The generated structure function of a class and the wire keys it consumes."""

    fn: Callable[[Mapping[str, Any], Any], Any]
    known: frozenset[str]


_plans: dict[type, _Plan] = {}


def wire_names(cls: type) -> dict[str, str]:
    """Return ``{attribute name: wire key}`` for every ``field()`` of an attrs class."""
    out: dict[str, str] = {}
    for a in attrs.fields(cls):
        meta = a.metadata.get(FIELD_KEY)
        if isinstance(meta, FieldMeta):
            out[a.name] = meta.wire or a.name
    return out


def _plan(cls: type) -> _Plan:
    plan = _plans.get(cls)
    if plan is None:
        from cattrs.gen import make_dict_structure_fn, override

        names = wire_names(cls)
        overrides: dict[str, Any] = {}
        for a in attrs.fields(cls):
            if a.name not in names:
                overrides[a.name] = override(omit=True)
            elif names[a.name] != a.name:
                overrides[a.name] = override(rename=names[a.name])
        fn: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(cls, _converter(), **overrides)
        plan = _Plan(fn=fn, known=frozenset(names.values()))
        _plans[cls] = plan
    return plan


def structure(cls: type[T], record: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> T:
    """Build an instance of the attrs model ``cls`` from a wire record.

    Args:
        cls: The model class (its ``field()`` declarations give the wire keys).
        record: The JSON object as the server sent it.
        skip: Keys that are neither fields nor custom attributes (``expand=true`` names).

    Returns:
        The instance; unknown keys are in its ``extra`` dict (when the class has one).

    Raises:
        DecodeError: A value does not have the type the field promises.

    """
    plan = _plan(cls)
    try:
        obj = plan.fn(record, cls)
    except DecodeError:
        raise
    except Exception as exc:  # cattrs wraps type errors in ExceptionGroups; keep our tree
        raise DecodeError(f"cannot read a {cls.__name__} from the server's record: {exc}") from exc
    if hasattr(obj, "extra"):
        extra = {k: json_copy(v) for k, v in record.items() if k not in plan.known and k not in skip}
        object.__setattr__(obj, "extra", extra)
    return typing.cast(T, obj)


_ABSENT: Any = object()


def field_reader(
    owner: str, name: str, tp: Any, wire: str, default: Any
) -> Callable[[Mapping[str, Any]], Any]:
    """Return a function reading one attribute from a wire record (the lazy form of :func:`structure`).

    Args:
        owner: The class name (for error messages).
        name: The attribute name.
        tp: The attribute's resolved annotation; the value goes through the converter's hook for it.
        wire: The key in the record.
        default: The attrs default: a value, an ``attrs.Factory``, or ``attrs.NOTHING`` (required).

    Returns:
        ``read(record)``: the structured value, or the default when the key is absent.

    Raises:
        DecodeError: (from ``read``) the value does not have the type the attribute promises, or a
            required key is absent.

    """
    hooks: list[Callable[[Any, Any], Any]] = []  # looked up on first use: forward references resolve late
    plain: frozenset[type] | None = None  # value types the hook returns unchanged (known on first use)
    factory: Callable[[], Any] | None = None
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # typed as a function, is a class
        factory = default.factory

    def read(record: Mapping[str, Any]) -> Any:
        nonlocal plain
        value = record.get(wire, _ABSENT)
        if value is _ABSENT:
            if factory is not None:
                return factory()
            if default is attrs.NOTHING:
                raise DecodeError(f"the server's {owner} record has no {wire!r}")
            return default
        if plain is None:
            plain = _unchanged_types(tp)
        if type(value) in plain:
            return value  # what the hook would return (an id, a number, a string): skip the converter
        try:
            if not hooks:
                hooks.append(_converter().get_structure_hook(tp))
            return hooks[0](value, tp)
        except Exception as exc:  # ours, or cattrs' TypeError/ValueError/ExceptionGroup: name the attribute
            raise DecodeError(f"cannot read {owner}.{name} from the server's {wire!r}: {exc}") from exc

    return read


def _unchanged_types(tp: Any) -> frozenset[type]:
    """Return the value types whose values the structure hook of ``tp`` returns as they are.

    ``int``, ``str``, ``float``, ``bool`` and optional forms of them (``int | None``): a value of exactly
    such a type comes back unchanged; anything else (``bool`` for ``int``, ``int`` for ``float``,
    datetimes, containers) goes through the converter.
    """
    args = union_members(tp)
    if not args or not all(arg in _SCALARS for arg in args):
        return frozenset()
    return frozenset(args)


def from_wire(tp: Any, value: Any) -> Any:
    """Convert one wire value to the Python type ``tp`` (``None`` stays ``None``)."""
    if value is None:
        return None
    try:
        return _converter().structure(value, tp)
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(f"cannot read {value!r} as {tp}: {exc}") from exc


def to_wire(value: Any) -> Any:
    """Convert one Python value to its JSON form (datetimes, dates, decimals, containers)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return _converter().unstructure(value)
