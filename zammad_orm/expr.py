"""Frozen expression nodes of a query: field lookups, And/Or/Not, ranges, exists, and the Q builder.

Two vocabularies share one tree:

* **Search nodes** mirror what an Elasticsearch ``query_string`` can say about one field: :class:`Term`,
  :class:`Phrase`, :class:`Wildcard`, :class:`Regex`, :class:`Range`, :class:`Exists`, combined with
  :class:`And`, :class:`Or`, :class:`Not` (plus :class:`MatchAll` / :class:`MatchNone`). The emulator's
  parser (``zammad_orm.testing.search``) produces them, :mod:`zammad_orm.compiler` writes them as a query
  string, :mod:`zammad_orm.evaluator` runs them as a Python predicate.
* **Lookups** are what users write (``Q(title__icontains="printer")``): a :class:`Lookup` names a dotted
  field, a Django lookup and a value. :func:`lower` defines the meaning of every lookup as a tree of search
  nodes, so the compiled query string and the client-side evaluator cannot disagree.

Field names in nodes are dotted Zammad search paths (``state.name``, ``owner.login``, ``article.body``);
``<field>.keyword`` addresses the whole-value (not tokenised) sub-field, as on a Zammad Elasticsearch index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal, cast, get_args

import attrs

from .dates import DATE_MATH, format_datetime
from .errors import QueryError

__all__ = [
    "LOOKUPS",
    "And",
    "DateMath",
    "Exists",
    "Lookup",
    "LookupName",
    "MatchAll",
    "MatchNone",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Q",
    "Range",
    "Regex",
    "Term",
    "Wildcard",
    "conjoin",
    "describe_node",
    "disjoin",
    "lower",
    "negate",
]

#: A lookup a :class:`Lookup` may carry (the Django ``field__lookup`` suffixes).
LookupName = Literal[
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "range",
    "isnull",
    "year",
    "month",
    "day",
    "date",
    "regex",
    "search",
]
#: Every lookup, as a set.
LOOKUPS: frozenset[str] = frozenset(get_args(LookupName))


@attrs.frozen
class Node:
    """Base of every expression node; ``&``, ``|`` and ``~`` combine nodes."""

    def __and__(self, other: Node) -> Node:
        if not isinstance(other, Node):
            return NotImplemented
        return conjoin((self, other))

    def __or__(self, other: Node) -> Node:
        if not isinstance(other, Node):
            return NotImplemented
        return disjoin((self, other))

    def __invert__(self) -> Node:
        return negate(self)


@attrs.frozen
class MatchAll(Node):
    """Matches every record (an empty filter)."""


@attrs.frozen
class MatchNone(Node):
    """Matches no record (e.g. ``id__in=[]``)."""


@attrs.frozen
class And(Node):
    """All children match."""

    children: tuple[Node, ...]


@attrs.frozen
class Or(Node):
    """At least one child matches."""

    children: tuple[Node, ...]


@attrs.frozen
class Not(Node):
    """The child does not match."""

    child: Node


@attrs.frozen
class Term(Node):
    """One literal query term (``title:printer``; ``field`` None = any field).

    On tokenised text fields the term is analysed and every token must occur; on ``.keyword`` fields it
    is compared with the whole value; numbers, dates and booleans compare typed.
    """

    field: str | None
    text: str


@attrs.frozen
class Phrase(Node):
    """A quoted phrase: consecutive tokens on text fields, the whole value on ``.keyword`` fields.

    ``slop`` > 0 (``"a b"~2``) is approximated as "all tokens occur".
    """

    field: str | None
    text: str
    slop: int = 0


@attrs.frozen
class Wildcard(Node):
    r"""A wildcard pattern: ``*`` any characters, ``?`` one; ``\\`` escapes ``*``, ``?`` and ``\\``."""

    field: str | None
    pattern: str


@attrs.frozen
class Regex(Node):
    """A Lucene regular expression, anchored at both ends (``/joh?n/``)."""

    field: str | None
    pattern: str


@attrs.frozen
class Range(Node):
    """A range; ``None`` leaves that side open; bounds are query text (numbers, dates, date math, strings)."""

    field: str
    low: str | None
    high: str | None
    include_low: bool = True
    include_high: bool = True


@attrs.frozen
class Exists(Node):
    """The field has a value (not null, not an empty list): ``_exists_:field``."""

    field: str


@attrs.frozen
class Lookup(Node):
    """A user lookup: ``Lookup("created_at", "gte", date(2024, 1, 1))``; meaning given by :func:`lower`."""

    field: str
    lookup: LookupName
    value: Any

    def __attrs_post_init__(self) -> None:
        if self.lookup not in LOOKUPS:
            raise QueryError(f"unknown lookup {self.lookup!r} on field {self.field!r}")


# --- combinators -------------------------------------------------------------------------------------------


def conjoin(nodes: Iterable[Node]) -> Node:
    """AND the nodes, flattening nested ``And`` and dropping ``MatchAll``."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, MatchNone):
            return node
        if isinstance(node, MatchAll):
            continue
        out.extend(node.children if isinstance(node, And) else (node,))
    if not out:
        return MatchAll()
    return out[0] if len(out) == 1 else And(tuple(out))


def disjoin(nodes: Iterable[Node]) -> Node:
    """OR the nodes, flattening nested ``Or`` and dropping ``MatchNone``."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, MatchAll):
            return node
        if isinstance(node, MatchNone):
            continue
        out.extend(node.children if isinstance(node, Or) else (node,))
    if not out:
        return MatchNone()
    return out[0] if len(out) == 1 else Or(tuple(out))


def negate(node: Node) -> Node:
    """NOT the node (double negation cancels; ``~MatchAll`` is ``MatchNone``)."""
    if isinstance(node, Not):
        return node.child
    if isinstance(node, MatchAll):
        return MatchNone()
    if isinstance(node, MatchNone):
        return MatchAll()
    return Not(node)


def Q(*nodes: Node, **lookups: Any) -> Node:
    """Build an expression: ``Q(state="open", created_at__gte="now-7d") | ~Q(tags="spam")``.

    Keyword arguments are ``field__lookup=value`` (``state__name__in=[...]``; no lookup means ``exact``);
    ``__`` separates relation steps. Positional nodes and keywords are ANDed. ``x__year`` combined with
    ``x__month`` (and ``x__day``) in one call narrows to that month (day).

    Raises:
        QueryError: for an unknown lookup or a malformed keyword.

    """
    parts: list[Node] = list(nodes)
    for node in nodes:
        if not isinstance(node, Node):
            raise QueryError(f"Q() takes expression nodes positionally, not {type(node).__name__}")
    periods: dict[str, dict[str, Any]] = {}
    for key, value in lookups.items():
        field, lookup = split_lookup(key)
        if lookup in ("year", "month", "day"):
            periods.setdefault(field, {})[lookup] = value
            continue
        parts.append(Lookup(field, lookup, value))
    for field, period in periods.items():
        parts.append(_period_lookup(field, period))
    return conjoin(parts)


def describe_node(node: Node) -> str:
    """Write a filter as it was given, for messages: ``state='open', title__icontains='x'``.

    ANDed parts are comma-separated, ORs and NOTs are written with ``Q``: ``Q(a=1) | ~Q(b=2)``; an empty
    filter is ``""``.
    """
    if isinstance(node, MatchAll):
        return ""
    if isinstance(node, MatchNone):
        return "<nothing>"
    if isinstance(node, Lookup):
        suffix = "" if node.lookup == "exact" else f"__{node.lookup}"
        return f"{node.field.replace('.', '__')}{suffix}={node.value!r}"
    if isinstance(node, And):
        return ", ".join(describe_node(c) for c in node.children)
    if isinstance(node, Or):
        return " | ".join(f"Q({describe_node(c)})" for c in node.children)
    if isinstance(node, Not):
        return f"~Q({describe_node(node.child)})"
    return repr(node)


def split_lookup(key: str) -> tuple[str, LookupName]:
    """Split ``state__name__in`` into the dotted field ``state.name`` and the lookup ``in``."""
    bits = key.split("__")
    if any(not bit for bit in bits):
        raise QueryError(f"malformed lookup {key!r}")
    lookup: LookupName = "exact"
    if len(bits) > 1 and bits[-1] in LOOKUPS:
        lookup = cast(LookupName, bits.pop())
    return ".".join(bits), lookup


def _period_lookup(field: str, period: dict[str, Any]) -> Node:
    for name, value in period.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise QueryError(f"{field}__{name} needs an int, got {value!r}")
    if "year" not in period:
        if "day" in period and "month" not in period:
            return Lookup(field, "day", period["day"])
        if "day" in period:
            return conjoin([Lookup(field, "month", period["month"]), Lookup(field, "day", period["day"])])
        return Lookup(field, "month", period["month"])
    if "day" in period and "month" not in period:
        raise QueryError(f"{field}__day with {field}__year also needs {field}__month")
    key = tuple(period[k] for k in ("year", "month", "day") if k in period)
    names: dict[int, LookupName] = {1: "year", 2: "month", 3: "day"}
    return Lookup(field, names[len(key)], key[0] if len(key) == 1 else key)


# --- lowering: the meaning of every lookup as search nodes ------------------------------------------------


class DateMath(str):
    """A date-math value (``DateMath("now-7d")``): compared as a point in time, never as text.

    A plain string is always literal text (``title="now-7d"`` matches that title). The resolver
    (:func:`zammad_orm.resolver.resolve`) turns a ``"now..."`` string given for a date or datetime field
    into a :class:`DateMath`; a :class:`datetime.timedelta` value is written as date math too (``now-7d``).

    Raises:
        QueryError: the text is not date math.

    """

    __slots__ = ()

    def __new__(cls, text: str) -> DateMath:  # noqa: D102
        if not DATE_MATH.match(text):
            raise QueryError(f"{text!r} is not Zammad date math (e.g. 'now-7d', 'now-1M/d')")
        return super().__new__(cls, text)


def keyword(field: str) -> str:
    """Return the whole-value sub-field of a string field (``title`` → ``title.keyword``)."""
    return field if field.endswith(".keyword") else f"{field}.keyword"


def format_value(value: Any, field: str) -> str:
    """Return the query text of a scalar value: numbers, ISO-8601 UTC datetimes with ms, dates, date math."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QueryError(f"{field}: {value!r} cannot be searched")
        return repr(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return date_math_ago(value)
    if isinstance(value, str):
        return value
    raise QueryError(f"{field}: cannot search for a value of type {type(value).__name__}")


def date_math_ago(delta: dt.timedelta) -> str:
    """``timedelta(days=7)`` → ``now-7d`` (a timedelta value means "that long ago")."""
    seconds = round(delta.total_seconds())
    sign = "-" if seconds >= 0 else "+"
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"now{sign}{seconds // size}{unit}"
    return f"now{sign}{seconds}s"


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, DateMath)


def _exact(field: str, value: Any) -> Node:
    if value is None:
        return Not(Exists(field))
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        raise QueryError(f"{field}: use {field.replace('.', '__')}__in for several values, not {value!r}")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return _day_range(field, value)
    if _is_text(value):
        return Phrase(keyword(field), value)
    return Term(field, format_value(value, field))


def _day_range(field: str, day: dt.date) -> Node:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return _half_open(field, start, start + dt.timedelta(days=1))


def _half_open(field: str, start: dt.datetime, end: dt.datetime) -> Node:
    return Range(field, format_datetime(start), format_datetime(end), True, False)


def _regex_escape(text: str, *, fold: bool) -> str:
    """Return a Lucene regex matching ``text`` literally (case-insensitively per character with ``fold``)."""
    out: list[str] = []
    for char in text:
        variants = {char}
        if fold:
            variants |= {c for c in (char.lower(), char.upper()) if len(c) == 1}
        if len(variants) > 1:
            out.append("[" + "".join(_regex_char(c) for c in sorted(variants)) + "]")
        else:
            out.append(_regex_char(char))
    return "".join(out)


def _regex_char(char: str) -> str:
    # A backslash is written as a class so that no escaped backslash can sit right before a closing
    # slash (Lucene's regex token would read "\/" as an escaped slash and run on).
    if char == "\\":
        return "[\\\\]"
    return char if char.isalnum() and char.isascii() else "\\" + char


_ANY = ".{0,}"  # not ".*": Zammad 6.5 deletes every "*" from a query before searching


def _text_lookup(field: str, lookup: str, value: Any) -> Node:
    if not isinstance(value, str):
        raise QueryError(f"{field}__{lookup} needs a string, got {value!r}")
    fold = lookup.startswith("i")
    body = _regex_escape(value, fold=fold)
    kind = lookup[1:] if fold else lookup
    if kind == "exact":
        if not fold:
            return Phrase(keyword(field), value)
    elif kind == "contains":
        body = f"{_ANY}{body}{_ANY}"
    elif kind == "startswith":
        body = f"{body}{_ANY}"
    elif kind == "endswith":
        body = f"{_ANY}{body}"
    return Regex(keyword(field), body)


def _compare(field: str, lookup: str, value: Any) -> Node:
    if value is None or isinstance(value, (list, tuple, set, dict)):
        raise QueryError(f"{field}__{lookup} needs a single value, got {value!r}")
    if isinstance(value, str) and _is_text(value):
        field = keyword(field)
        if value == "":  # the empty string is below every other string
            return {"gt": Exists(field), "gte": Exists(field), "lt": MatchNone(), "lte": Phrase(field, "")}[
                lookup
            ]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        start = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
        # A date compares as its whole day: "> 2024-01-01" starts at the next midnight.
        value = start + dt.timedelta(days=1) if lookup in ("gt", "lte") else start
        lookup = {"gt": "gte", "lte": "lt"}.get(lookup, lookup)
    text = format_value(value, field)
    if lookup in ("gt", "gte"):
        return Range(field, text, None, lookup == "gte", True)
    return Range(field, None, text, True, lookup == "lte")


def _period(field: str, lookup: str, value: Any) -> Node:
    parts = value if isinstance(value, tuple) else (value,)
    if any(isinstance(p, bool) or not isinstance(p, int) for p in parts):
        raise QueryError(f"{field}__{lookup} needs an int, got {value!r}")
    if lookup != "year" and len(parts) == 1:
        raise QueryError(
            f"{field}__{lookup}={value!r} cannot be searched: Zammad's search matches a {lookup} only "
            f"together with {field}__year (or use {field}__range)"
        )
    try:
        if len(parts) == 1:
            start = dt.datetime(parts[0], 1, 1, tzinfo=dt.timezone.utc)
            end = start.replace(year=parts[0] + 1)
        elif len(parts) == 2:
            start = dt.datetime(parts[0], parts[1], 1, tzinfo=dt.timezone.utc)
            end = start.replace(year=parts[0] + parts[1] // 12, month=parts[1] % 12 + 1)
        else:
            start = dt.datetime(parts[0], parts[1], parts[2], tzinfo=dt.timezone.utc)
            end = start + dt.timedelta(days=1)
    except (ValueError, OverflowError) as exc:
        raise QueryError(f"{field}__{lookup}={value!r}: {exc}") from None
    return _half_open(field, start, end)


def lower(node: Node) -> Node:
    """Replace every :class:`Lookup` in ``node`` by the search nodes that define its meaning.

    Raises:
        QueryError: when a lookup cannot be expressed in Zammad's search language.

    """
    if isinstance(node, And):
        return conjoin(lower(c) for c in node.children)
    if isinstance(node, Or):
        return disjoin(lower(c) for c in node.children)
    if isinstance(node, Not):
        return negate(lower(node.child))
    if isinstance(node, Lookup):
        return _lower_lookup(node.field, node.lookup, node.value)
    return node


def _lower_lookup(field: str, lookup: LookupName, value: Any) -> Node:
    if not field:
        raise QueryError(f"lookup {lookup!r} without a field")
    if lookup == "exact":
        return _exact(field, value)
    if lookup in ("iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"):
        if lookup == "iexact" and not isinstance(value, str):
            return _exact(field, value)
        return _text_lookup(field, lookup, value)
    if lookup == "in":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise QueryError(f"{field}__in needs a list of values, got {value!r}")
        return disjoin(_exact(field, v) for v in value)
    if lookup in ("gt", "gte", "lt", "lte"):
        return _compare(field, lookup, value)
    if lookup == "range":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or len(list(value)) != 2:
            raise QueryError(f"{field}__range needs (low, high), got {value!r}")
        low, high = list(value)
        above, below = _compare(field, "gte", low), _compare(field, "lte", high)
        if isinstance(above, Range) and isinstance(below, Range) and above.field == below.field:
            return Range(above.field, above.low, below.high, above.include_low, below.include_high)
        return conjoin([above, below])
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise QueryError(f"{field}__isnull needs True or False, got {value!r}")
        return Not(Exists(field)) if value else Exists(field)
    if lookup in ("year", "month", "day"):
        return _period(field, lookup, value)
    if lookup == "date":
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.timezone.utc).date() if value.tzinfo else value.date()
        if not isinstance(value, dt.date):
            raise QueryError(f"{field}__date needs a date, got {value!r}")
        return _day_range(field, value)
    if lookup == "regex":
        if not isinstance(value, str) or not value:
            raise QueryError(f"{field}__regex needs a non-empty Lucene regular expression, got {value!r}")
        return Regex(keyword(field), value)
    # "search": full-text words on the analysed field, each word must occur
    if not isinstance(value, str) or not value.split():
        raise QueryError(f"{field}__search needs words to search for, got {value!r}")
    return conjoin(Phrase(field, word) for word in value.split())
