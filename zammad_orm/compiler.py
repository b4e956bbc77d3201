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

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .dates import DATE_MATH
from .errors import QueryError
from .expr import (
    And,
    Exists,
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
    lower,
)

__all__ = [
    "DEFAULT_RAW_ORDER",
    "MATCH_ALL",
    "MATCH_NONE",
    "compile_expression",
    "compile_ordering",
    "escape_term",
    "quote_phrase",
    "raw_ordering",
    "raw_paging",
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
            "this server is Zammad 6.5 or later, which deletes every '*' from a search query before "
            f"searching, so this query would search for something else: {text}. A value with '*' cannot be "
            "searched there; in a regex write x{0,} for x*"
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


#: Zammad's default search order per model (spec §2.4), used by ``raw()`` without ``sort_by``.
DEFAULT_RAW_ORDER: dict[str, tuple[tuple[str, bool], ...]] = {
    "Ticket": (("updated_at", True),),
    "User": (("active", True), ("updated_at", True)),
    "Organization": (("active", True), ("updated_at", True)),
}


def raw_paging(params: Mapping[str, Any]) -> tuple[int, int, dict[str, Any]]:
    """Read the seed API's paging of ``search()``: ``(page, page_size, the other parameters)``.

    ``page`` is 1-based (default 1), ``page_size``/``per_page`` 0 means the default; ``expand`` is sent as
    ``true``/``false``.

    Raises:
        QueryError: a page below 1 or a negative page size.

    """
    rest = dict(params)
    page = int(rest.pop("page", 1) or 1)
    size = int(rest.pop("page_size", rest.pop("per_page", 0)) or 0)
    if page < 1 or size < 0:
        raise QueryError(f"page must be >= 1 and page_size >= 1, got {page} and {size}")
    if "expand" in rest:
        rest["expand"] = "true" if rest["expand"] else "false"
    return page, size, rest


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
