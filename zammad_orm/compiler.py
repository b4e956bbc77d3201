r"""Compiles an expression tree into a Zammad query_string search string; all escaping lives here.

Every user value reaches the query only in one of three escaped forms, so no value can change the meaning
of a query (a title of ``x OR state.name:closed`` only ever matches that literal title):

* a **phrase** ``"..."`` with ``\\`` and ``"`` backslash-escaped (whole-value matches on ``.keyword``);
* a **term** with every reserved character (``+ - = && || > < ! ( ) { } [ ] ^ " ~ * ? : \\ /``), every
  space and ``'`` backslash-escaped, and a leading escape for the words ``AND``/``OR``/``NOT``/``TO``;
  ``<`` and ``>`` are only ever written after a ``>=``-style comparison prefix, where Elasticsearch reads
  the rest of the term literally;
* a **regular expression** ``/.../`` in which every character that is not an ASCII letter or digit is
  backslash-escaped (a backslash itself as ``[\\\\]``).

No query contains ``*`` unless the user wrote a regex or wildcard with one: Zammad 6.5 deletes every
``*`` from a query before searching (spec §4.4), so open ranges use ``field:>=x`` rather than
``[x TO *]``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import typing
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any

from .dates import DATE_MATH
from .errors import QueryError
from .expr import (
    And,
    DateMath,
    Exists,
    Lookup,
    LookupName,
    MatchAll,
    MatchNone,
    Node,
    Not,
    Or,
    Phrase,
    Range,
    Regex,
    Term,
    Wildcard,
    conjoin,
    disjoin,
    lower,
    negate,
)
from .fields import union_members

__all__ = [
    "INDEX_ONLY",
    "MATCH_ALL",
    "MATCH_NONE",
    "compile_expression",
    "compile_ordering",
    "escape_term",
    "quote_phrase",
    "raw_ordering",
    "related_model",
    "resolve",
]

#: The query string of an empty filter (every Zammad record has a positive id).
MATCH_ALL = "id:>0"
#: The query string that matches nothing.
MATCH_NONE = "NOT id:>0"

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*\Z")
_ALWAYS = set("+-=&|><!(){}[]^\"~*?:\\/'")
_WORDS = {"AND", "OR", "NOT", "TO"}
_SIMPLE_BOUND = re.compile(
    r"-?\d+(\.\d+)?\Z"  # numbers
    r"|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?)?Z?\Z"  # ISO dates
    rf"|{DATE_MATH.pattern}"  # date math
)


def escape_term(text: str) -> str:
    """Escape ``text`` so it is read as one literal query term.

    Raises:
        QueryError: for an empty term (it cannot be written).

    """
    if not text:
        raise QueryError("an empty term cannot be written in a query")
    out = []
    for index, char in enumerate(text):
        if (
            char.isspace()
            or (char in _ALWAYS and (index == 0 or char not in "+-"))
            or (not char.isprintable() and not char.isalnum())
        ):
            out.append("\\" + char)
        else:
            out.append(char)
    escaped = "".join(out)
    if text in _WORDS:
        escaped = "\\" + escaped
    return escaped


def quote_phrase(text: str) -> str:
    r"""Quote ``text`` as a phrase, escaping ``\\`` and ``"``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compile_expression(node: Node, *, allow_stars: bool = True) -> str:
    """Compile an expression tree (lookups included) into a query string.

    Args:
        node: The expression.
        allow_stars: ``False`` for Zammad 6.5+, which deletes every ``*`` from a query; a query that
            would need one raises :class:`QueryError` instead of silently searching for something else.

    Raises:
        QueryError: when a lookup or value cannot be expressed; the message names the field.

    """
    tree = lower(node)
    if isinstance(tree, MatchAll):
        return MATCH_ALL
    if isinstance(tree, MatchNone):
        return MATCH_NONE
    text = _write(tree, top=True)
    if not allow_stars and "*" in text:
        raise QueryError(
            f"this Zammad version deletes '*' from queries, so this query cannot be sent: {text}"
        )
    return text


def _write(node: Node, *, top: bool = False) -> str:
    if isinstance(node, And):
        parts = [("NOT " + _write(c.child)) if isinstance(c, Not) else _write(c) for c in node.children]
        text = " AND ".join(parts)
        return text if top else f"({text})"
    if isinstance(node, Or):
        text = " OR ".join(_write(c) for c in node.children)
        return text if top else f"({text})"
    if isinstance(node, Not):
        text = "NOT " + _write(node.child)
        return text if top else f"({text})"
    if isinstance(node, Exists):
        return "_exists_:" + _field(node.field)
    if isinstance(node, (MatchAll, MatchNone)):
        return _write(Exists("id") if isinstance(node, MatchAll) else Not(Exists("id")), top=top)
    if isinstance(node, Range):
        return _range(node, top=top)
    return _prefix(node) + _leaf(node)


def _field(name: str) -> str:
    if not _FIELD.match(name) or name.split(".")[0] in ("_exists_",):
        raise QueryError(f"{name!r} is not a field name that can be searched")
    return name


def _prefix(node: Node) -> str:
    field: str | None = getattr(node, "field", None)
    return "" if field is None else _field(field) + ":"


def _leaf(node: Node) -> str:
    if isinstance(node, Term):
        return escape_term(node.text)
    if isinstance(node, Phrase):
        slop = f"~{node.slop}" if node.slop else ""
        return quote_phrase(node.text) + slop
    if isinstance(node, Regex):
        return "/" + _regex_body(node.pattern) + "/"
    if isinstance(node, Wildcard):
        return _wildcard(node.pattern)
    raise QueryError(f"cannot compile {type(node).__name__} nodes")


def _regex_body(pattern: str) -> str:
    """Escape unescaped slashes; a pattern ending in a lone backslash is malformed."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            nxt = next(chars, None)
            if nxt is None:
                raise QueryError(f"regular expression {pattern!r} ends with a lone backslash")
            out.append("\\" + nxt)
        elif char == "/":
            out.append("\\/")
        else:
            out.append(char)
    body = "".join(out)
    if body.endswith("\\\\"):
        # "\\/" at the end would be read as an escaped slash by Lucene's lexer: close with an empty group.
        body += "()"
    return body


def _wildcard(pattern: str) -> str:
    out: list[str] = []
    chars = iter(pattern)
    for index, char in enumerate(chars):
        if char == "\\":
            literal = next(chars, "\\")
            out.append(escape_term(literal) if literal not in "*?\\" else "\\" + literal)
        elif char in "*?":
            out.append(char)
        else:
            out.append(escape_term(char) if index == 0 or char not in "+-" else char)
    return "".join(out)


def _range(node: Range, *, top: bool) -> str:
    field = _field(node.field)
    low, high = node.low, node.high
    if low is not None and high is not None:
        if _SIMPLE_BOUND.match(low) and _SIMPLE_BOUND.match(high):
            opening = "[" if node.include_low else "{"
            closing = "]" if node.include_high else "}"
            return f"{field}:{opening}{low} TO {high}{closing}"
        text = f"{_side(field, '>', low, node.include_low)} AND {_side(field, '<', high, node.include_high)}"
        return text if top else f"({text})"
    if low is not None:
        return _side(field, ">", low, node.include_low)
    if high is not None:
        return _side(field, "<", high, node.include_high)
    return _write(Exists(field), top=top)


def _side(field: str, op: str, bound: str, inclusive: bool) -> str:
    # After ">=" Elasticsearch takes the (unescaped) rest of the term literally, so "<" and ">" may be
    # escaped here like any other character.
    return f"{field}:{op}{'=' if inclusive else ''}{escape_term(bound)}"


def compile_ordering(ordering: Sequence[str], *, tie_break: str = "id") -> tuple[list[str], list[str]]:
    """Compile ``order_by("-created_at", "title")`` into ``sort_by`` and ``order_by`` lists.

    ``tie_break`` (``id``, ascending unless the last given key is descending) is appended unless already
    present, so pages of equal sort values never overlap or leave gaps.

    Raises:
        QueryError: for relation paths or anything that is not a column name.

    """
    sort_by: list[str] = []
    order_by: list[str] = []
    for key in ordering:
        name = key[1:] if key.startswith(("-", "+")) else key
        if "__" in name or "." in name:
            raise QueryError(f"order_by({key!r}): Zammad sorts only by the model's own columns")
        if not _FIELD.match(name):
            raise QueryError(f"order_by({key!r}) is not a column name")
        if name in sort_by:
            continue
        sort_by.append(name)
        order_by.append("desc" if key.startswith("-") else "asc")
    if tie_break and tie_break not in sort_by:
        sort_by.append(tie_break)
        order_by.append(order_by[-1] if order_by else "asc")
    return sort_by, order_by


def raw_ordering(
    sort_by: str | Sequence[str] | None, order_by: str | Sequence[str] | None
) -> tuple[tuple[str, bool], ...] | None:
    """Read the seed API's ``sort_by``/``order_by`` (comma-separated or lists) as ``(column, desc)`` pairs.

    Returns ``None`` without ``sort_by``; a missing ``order_by`` entry means ascending.

    Raises:
        QueryError: an order other than ``asc``/``desc``, or a column :func:`compile_ordering` refuses.

    """
    if sort_by is None:
        return None
    columns = [c.strip() for c in (sort_by.split(",") if isinstance(sort_by, str) else sort_by) if c.strip()]
    orders = [
        o.strip().lower() for o in (order_by.split(",") if isinstance(order_by, str) else order_by or [])
    ]
    out = []
    for index, column in enumerate(columns):
        order = orders[index] if index < len(orders) else "asc"
        if order not in ("asc", "desc"):
            raise QueryError(f"order_by must be 'asc' or 'desc', got {order!r}")
        out.append((column, order == "desc"))
    compile_ordering([("-" if d else "") + c for c, d in out])
    return tuple(out)


# --- model paths → Zammad search fields ---------------------------------------------------------------------

# Search-index fields that are not model attributes (spec §4.4), by model name.
INDEX_ONLY: dict[str, dict[str, type]] = {
    "Ticket": {"tags": str, "mention_user_ids": int},
    "User": {"permissions": str},
}

AttributeNames = Callable[[str], "AbstractSet[str]"]


def resolve(model: Any, node: Node, *, attributes: AttributeNames | None = None) -> Node:
    """Rewrite the user paths of every lookup into Zammad search fields, with values typed per field.

    ``state="open"`` becomes ``state.name`` (users: ``login``), ``state=2`` or a model instance
    ``state_id``; ``owner__login`` → ``owner.login``; ``article__body`` → ``article.body``; ``tags`` and
    custom attributes pass through. ``model`` is a model class (its ``_meta`` describes fields and
    relations); ``attributes(model_name)`` lists the custom attributes the server knows.

    Raises:
        QueryError: an unknown field or relation (named), or a value that cannot be compared.

    """
    if isinstance(node, And):
        return conjoin(resolve(model, c, attributes=attributes) for c in node.children)
    if isinstance(node, Or):
        return disjoin(resolve(model, c, attributes=attributes) for c in node.children)
    if isinstance(node, Not):
        return negate(resolve(model, node.child, attributes=attributes))
    if isinstance(node, Lookup):
        return _resolve_path(
            model, node.field.split("."), node.lookup, node.value, "", attributes, node.field
        )
    return node


def related_model(model: Any, name: str) -> Any:
    """Return the model class called ``name`` (a relation target), found among the model classes."""
    root = next((c for c in reversed(model.__mro__) if hasattr(c, "_meta") or c.__name__ == "Model"), model)
    return _subclass_named(root, name)


@functools.lru_cache(maxsize=256)
def _subclass_named(root: type, name: str) -> Any:
    stack = [root]
    while stack:
        cls = stack.pop()
        meta = cls.__dict__.get("_meta")
        if meta is not None and getattr(meta, "name", None) == name:
            return cls
        stack.extend(cls.__subclasses__())
    return None


def _display(key: str) -> str:
    return key.replace(".", "__")


def _resolve_path(
    model: Any,
    parts: list[str],
    lookup: LookupName,
    value: Any,
    prefix: str,
    attributes: AttributeNames | None,
    key: str,
) -> Node:
    meta = model._meta
    head, rest = ("id" if parts[0] == "pk" else parts[0]), parts[1:]
    rel = meta.relation(head)
    if rel is not None:
        return _resolve_relation(model, rel, rest, lookup, value, prefix, attributes, key)
    info = meta.fields.get(head) or next((f for f in meta.fields.values() if f.wire == head), None)
    if info is not None:
        if rest and _base_types(info.type) - {dict}:
            raise QueryError(f"{_display(key)}: {meta.name}.{head} has no field {rest[0]!r}")
        if not info.searchable:
            raise QueryError(f"{_display(key)}: {meta.name}.{head} cannot be searched")
        return Lookup(prefix + ".".join([info.wire, *rest]), lookup, _coerce(info.type, lookup, value, key))
    extra = INDEX_ONLY.get(meta.name, {}).get(head)
    if extra is not None and not rest:
        return Lookup(prefix + head, lookup, _coerce(extra, lookup, value, key))
    known = set(getattr(meta, "custom_keys", ()) or ())
    if head not in known and attributes is not None:
        known |= attributes(meta.name)
    if head in known:
        value = _plain(value)
        if attributes is not None and _mentions_now(value) and head in attributes(f"{meta.name}:dates"):
            value = _coerce(dt.datetime, lookup, value, key)  # a date attribute: date math allowed
        return Lookup(prefix + ".".join([head, *rest]), lookup, value)
    raise QueryError(
        f"{_display(key)}: {meta.name} has no field {head!r} (not declared, not a relation, and not a custom "
        "attribute of the server)"
    )


def _resolve_relation(
    model: Any,
    rel: Any,
    rest: list[str],
    lookup: LookupName,
    value: Any,
    prefix: str,
    attributes: AttributeNames | None,
    key: str,
) -> Node:
    target = related_model(model, rel.target)
    search = prefix + rel.search
    if rest:
        if target is None:
            return Lookup(".".join([search, *rest]), lookup, _plain(value))
        return _resolve_path(target, rest, lookup, value, search + ".", attributes, key)
    if lookup == "isnull":
        return Lookup(prefix + (rel.local or rel.search), "isnull", value)
    if rel.kind == "reverse" or rel.local is None:
        raise QueryError(f"{_display(key)}: compare a field of {rel.name}, e.g. {_display(key)}__id")

    def by_name(names: Any, how: LookupName) -> Node:
        if not _names_searchable(rel):
            raise QueryError(
                f"{_display(key)}: Zammad's search index holds only the {rel.local} of {rel.name}; "
                f"filter by {rel.target} objects or ids, not names"
            )
        if target is None:
            return Lookup(f"{search}.{rel.lookup}", how, names)
        return _resolve_path(target, [rel.lookup], how, names, search + ".", attributes, key)

    if lookup == "in":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise QueryError(f"{_display(key)}__in needs a list of values, got {value!r}")
        values = list(value)
        ids = [_id_of(v) for v in values if _id_of(v) is not None]
        names = [v for v in values if isinstance(v, str)]
        if len(ids) + len(names) != len(values):
            raise QueryError(f"{_display(key)}__in takes ids, {rel.target} objects or names, got {values!r}")
        parts: list[Node] = []
        if ids or not names:
            parts.append(Lookup(prefix + rel.local, "in", ids))
        if names:
            parts.append(by_name(names, "in"))
        return disjoin(parts)
    if value is None and lookup == "exact":
        return Lookup(prefix + rel.local, "isnull", True)
    pk = _id_of(value)
    if pk is not None:
        return Lookup(prefix + rel.local, lookup, pk)
    if isinstance(value, str):
        return by_name(value, lookup)
    raise QueryError(f"{_display(key)}: expected a {rel.target}, an id or a name, got {value!r}")


def _names_searchable(rel: Any) -> bool:
    # Zammad's index nests the referenced object of a belongs-to relation, but a has-many relation only
    # as its id list (``role_ids``): names of m2m targets cannot be searched.
    return bool(rel.kind == "fk")


def _id_of(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if hasattr(value, "_meta") and isinstance(getattr(value, "id", None), int):
        return int(value.id)
    return None


def _plain(value: Any) -> Any:
    pk = _id_of(value)
    return pk if pk is not None and not isinstance(value, int) else value


def _base_types(annotation: Any) -> set[type]:
    """Return the classes of the members of ``annotation`` (``list`` for ``list[int]``), ``None`` left out."""
    classes = (typing.get_origin(m) or m for m in union_members(annotation) if m is not type(None))
    return {c for c in classes if isinstance(c, type)}


def _coerce(annotation: Any, lookup: str, value: Any, key: str) -> Any:
    if lookup in ("isnull", "regex", "search", "year", "month", "day", "date"):
        return value
    if lookup == "in" and isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return [_coerce_one(annotation, v, key) for v in value]
    if lookup == "range" and isinstance(value, (list, tuple)):
        return tuple(_coerce_one(annotation, v, key) for v in value)
    return _coerce_one(annotation, value, key)


def _mentions_now(value: Any) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, str) and v.startswith("now") for v in values)


def _coerce_one(annotation: Any, value: Any, key: str) -> Any:
    types_ = _base_types(annotation)
    value = _plain(value)
    if value is None or not types_:
        return value
    if types_ & {dt.datetime, dt.date} and isinstance(value, str) and value.startswith("now"):
        if not DATE_MATH.match(value):
            raise QueryError(
                f"{_display(key)}: {value!r} is not Zammad date math (e.g. 'now-7d', 'now-1M/d')"
            )
        return DateMath(value)  # date math only for date fields: elsewhere "now-7d" is text
    if dt.datetime in types_ and isinstance(value, str) and not value.startswith("now"):
        return _parse_datetime(value, key)
    if dt.date in types_ and dt.datetime not in types_ and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise QueryError(f"{_display(key)}: {value!r} is not a date (YYYY-MM-DD)") from None
    if int in types_ and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if str in types_ and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if bool in types_ and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    _check_type(types_, value, key)
    return value


_NUMBER = (int, float, Decimal)


def _check_type(types_: set[type], value: Any, key: str) -> None:
    """Refuse a value the field cannot hold (``article_count="abc"``, ``created_at=5``, ``title=True``).

    Fields typed with anything beyond str/int/float/bool/date/datetime (dicts, lists, ``Any``) are not
    checked.
    """
    if not types_ or types_ - {str, int, float, Decimal, bool, dt.datetime, dt.date}:
        return
    if isinstance(value, bool):
        ok = bool in types_
    elif isinstance(value, _NUMBER):
        ok = bool(types_ & {int, float, Decimal})
    elif isinstance(value, (dt.date, dt.timedelta)):
        ok = bool(types_ & {dt.datetime, dt.date})
    elif isinstance(value, str):
        ok = str in types_  # date math ("now-7d") for date fields is handled before
    else:
        ok = False
    if not ok:
        names = " or ".join(sorted(_TYPE_NAMES.get(t, t.__name__) for t in types_))
        raise QueryError(f"{_display(key)} holds {names} values; cannot compare it with {value!r}")


_TYPE_NAMES = {str: "text", int: "integer", float: "number", Decimal: "number", bool: "boolean",
               dt.datetime: "date/time", dt.date: "date"}  # fmt: skip


def _parse_datetime(text: str, key: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"{_display(key)}: {text!r} is neither an ISO-8601 date/time nor date math like 'now-7d'"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
