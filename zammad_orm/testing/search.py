"""The emulator's search language: Zammad's query preprocessing and Elasticsearch ``query_string`` parsing.

:func:`prepare` does what Zammad does to a query before it reaches Elasticsearch; :func:`parse` turns an
Elasticsearch ``query_string`` (parsed with luqum) into the search nodes of :mod:`zammad_orm.expr`, with
Lucene's own clause semantics for the boolean operators and default operator AND; :func:`compile_query`
returns a predicate over search documents, evaluated by :mod:`zammad_orm.evaluator`. :func:`condition_match`
does the same for the selector ``condition`` hash that ``/tickets/search`` also accepts.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from luqum import tree
from luqum.exceptions import ParseError
from luqum.thread import parse as luqum_parse

from zammad_orm.evaluator import predicate
from zammad_orm.expr import Exists, Node, Phrase, Range, Regex, Term, Wildcard, conjoin, disjoin, negate
from zammad_orm.testing.core import version_tuple

__all__ = ["compile_query", "condition_match", "parse", "prepare"]

_MUST, _SHOULD, _MUST_NOT = "must", "should", "must_not"


def prepare(query: str, *, zammad_version: str) -> str:
    """Zammad's server-side preprocessing of a search query.

    Zammad 6.5+ deletes every ``*`` first; then the query is stripped and, when it contains no ``:``,
    ``*`` is appended (``welcome`` → ``welcome*``). An empty query stays empty.
    """
    if version_tuple(zammad_version) >= (6, 5):
        query = query.replace("*", "")
    query = query.strip()
    if query and ":" not in query:
        query += "*"
    return query


def compile_query(
    query: str, *, now: dt.datetime | None = None
) -> Callable[[Mapping[str, Any]], bool] | None:
    """Compile an Elasticsearch ``query_string`` into a predicate over search documents.

    Args:
        query: The query as Elasticsearch receives it (after :func:`prepare`).
        now: The instant ``now`` in date math refers to (default: the current time).

    Returns:
        The predicate, or ``None`` when the query does not parse (Zammad then answers an empty result).

    """
    node = parse(query)
    if node is None:
        return None
    return predicate(node, now=now)


def parse(query: str) -> Node | None:
    """Parse an Elasticsearch ``query_string`` into search nodes, or ``None`` when it does not parse."""
    if not query.strip():
        return None
    text, breaks = _normalise(query)
    token = _BREAKS.set(breaks)
    try:
        return _bool(luqum_parse(text), None)
    except (ParseError, _Unsupported, ValueError, ArithmeticError):
        # luqum reports malformed fuzzy/boost degrees ("a~.") as decimal errors; Elasticsearch would
        # reject all of these, and Zammad then answers an empty result.
        return None
    finally:
        _BREAKS.reset(token)


class _Unsupported(Exception):
    """A construct Elasticsearch would reject."""


# --- preprocessing: the operators luqum does not know -------------------------------------------------------


def _normalise(query: str) -> tuple[str, dict[str, str]]:
    """Rewrite ``&&``, ``||`` and ``!`` to ``AND``, ``OR``, ``NOT`` outside phrases, regexes and escapes.

    Also carries escaped line breaks, which luqum's lexer cannot read, as private-use characters that do
    not occur in the query; returns the rewritten query and the map back.
    """
    spare = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in query)
    carry: dict[str, str] = {}

    def escaped(char: str) -> str:
        if char == "\n":
            if char not in carry:
                carry[char] = next(spare)
            char = carry[char]
        return "\\" + char

    out: list[str] = []
    i, size = 0, len(query)
    quote = ""
    while i < size:
        char = query[i]
        if char == "\\" and i + 1 < size:
            out.append(escaped(query[i + 1]))
            i += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char == '"' or (char == "/" and _regex_may_start(query, i)):
            quote = char
        elif query[i : i + 2] in ("&&", "||") and _boundary(query, i - 1) and _boundary(query, i + 2):
            out.append(" AND " if char == "&" else " OR ")
            i += 2
            continue
        elif char == "!":
            out.append(" NOT ")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out), {v: k for k, v in carry.items()}


# The private characters standing for escaped line breaks in the query being parsed (see _normalise).
_BREAKS: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("breaks", default={})  # noqa: B039


def _boundary(query: str, index: int) -> bool:
    return index < 0 or index >= len(query) or query[index].isspace() or query[index] in "()"


def _regex_may_start(query: str, index: int) -> bool:
    # A regex starts a term: after whitespace, "(", ":" or at the start.
    return index == 0 or query[index - 1].isspace() or query[index - 1] in "(:"


# --- luqum tree → search nodes ------------------------------------------------------------------------------


def _bool(item: tree.Item, field: str | None) -> Node:
    """Apply Lucene's classic QueryParser clause rules (default operator AND) to one group."""
    clauses: list[list[Any]] = []  # [occur, node]
    for conj, mod, sub in _flatten(item):
        if clauses and conj == "AND" and clauses[-1][0] != _MUST_NOT:
            clauses[-1][0] = _MUST
        if clauses and conj == "OR" and clauses[-1][0] != _MUST_NOT:
            clauses[-1][0] = _SHOULD
        occur = _MUST_NOT if mod == "NOT" else _MUST if conj != "OR" else _SHOULD
        clauses.append([occur, _node(sub, field)])
    must = [n for occur, n in clauses if occur == _MUST]
    should = [n for occur, n in clauses if occur == _SHOULD]
    must_not = [negate(n) for occur, n in clauses if occur == _MUST_NOT]
    if must:
        return conjoin(must + must_not)
    if should:
        return conjoin([disjoin(should), *must_not])
    # Only prohibited clauses: Elasticsearch adds match_all, so "NOT x" means "everything but x".
    return conjoin(must_not)


def _flatten(item: tree.Item) -> list[tuple[str | None, str | None, tree.Item]]:
    """List the clauses of one group in order, each with the operator before it and its +/- modifier."""
    if isinstance(item, (tree.AndOperation, tree.OrOperation, tree.UnknownOperation)):
        conj = {tree.AndOperation: "AND", tree.OrOperation: "OR"}.get(type(item))
        out: list[tuple[str | None, str | None, tree.Item]] = []
        for index, operand in enumerate(item.operands):
            sub = _flatten(operand)
            if index:
                first = sub[0]
                sub[0] = (conj, first[1], first[2])
            out.extend(sub)
        return out
    if isinstance(item, (tree.Not, tree.Prohibit)):
        return [(None, "NOT", item.a)]
    if isinstance(item, tree.Plus):
        return [(None, "REQ", item.a)]
    return [(None, None, item)]


def _node(item: tree.Item, field: str | None) -> Node:
    if isinstance(item, tree.SearchField):
        name = item.name
        if name == "_exists_":
            return _exists(item.expr)
        return _node(item.expr, _unescape(name))
    if isinstance(item, (tree.Group, tree.FieldGroup)):
        return _bool(item.expr, field)
    if isinstance(item, (tree.BaseOperation, tree.Not, tree.Prohibit, tree.Plus)):
        return _bool(item, field)
    if isinstance(item, tree.Boost):
        return _node(item.expr, field)
    if isinstance(item, tree.Fuzzy):
        return _node(item.term, field)
    if isinstance(item, tree.Proximity):
        return Phrase(field, _unescape(item.term.value[1:-1]), slop=int(float(item.degree or 1)) or 1)
    if isinstance(item, tree.Phrase):
        return Phrase(field, _unescape(item.value[1:-1]))
    if isinstance(item, tree.Regex):
        return Regex(field, _restore(item.value[1:-1]))
    if isinstance(item, tree.Word):
        return _word(item.value, field)
    if isinstance(item, tree.Range):
        return Range(
            _need_field(field), _bound(item.low), _bound(item.high), item.include_low, item.include_high
        )
    if isinstance(item, tree.From):
        return Range(_need_field(field), _bound(item.a), None, item.include, True)
    if isinstance(item, tree.To):
        return Range(_need_field(field), None, _bound(item.a), True, item.include)
    raise _Unsupported(type(item).__name__)


def _need_field(field: str | None) -> str:
    if field is None:
        raise _Unsupported("a range needs a field")
    return field


def _exists(item: tree.Item) -> Node:
    if isinstance(item, tree.Word):
        return Exists(_unescape(item.value))
    if isinstance(item, tree.Phrase):
        return Exists(_unescape(item.value[1:-1]))
    raise _Unsupported("_exists_ needs a field name")


def _bound(item: tree.Item) -> str | None:
    if isinstance(item, tree.Prohibit):  # a negative number: "-5" lexes as MINUS TERM
        inner = _bound(item.a)
        return None if inner is None else "-" + inner
    if isinstance(item, tree.Phrase):
        return _unescape(item.value[1:-1])
    if isinstance(item, tree.Word):
        if item.value == "*":
            return None
        return _unescape(item.value)
    raise _Unsupported(type(item).__name__)


def _word(raw: str, field: str | None) -> Node:
    if raw == "*" and field is not None:
        return Exists(field)  # "field:*" is an exists query in Elasticsearch
    if any(char in "*?" for char in _unescaped_chars(raw)):
        return Wildcard(field, _wildcard_pattern(raw))
    text = _unescape(raw)
    if field is not None and len(text) > 1 and text[0] in "<>":
        # Elasticsearch reads an (escaped) term starting with > or < as a one-sided range.
        inclusive = text[1] == "="
        value = text[2:] if inclusive else text[1:]
        if text[0] == ">":
            return Range(field, value, None, inclusive, True)
        return Range(field, None, value, True, inclusive)
    return Term(field, text)


def _unescaped_chars(raw: str) -> list[str]:
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            next(chars, None)
        else:
            out.append(char)
    return out


def _wildcard_pattern(raw: str) -> str:
    """Keep ``*``/``?`` as wildcards, escape literal ones and backslashes, drop other escapes."""
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "\\")
            nxt = _BREAKS.get().get(nxt, nxt)
            out.append("\\" + nxt if nxt in "*?\\" else nxt)
        else:
            out.append(char)
    return "".join(out)


def _restore(raw: str) -> str:
    breaks = _BREAKS.get()
    return "".join(breaks.get(c, c) for c in raw) if breaks else raw


def _unescape(raw: str) -> str:
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "\\")
            out.append(_BREAKS.get().get(nxt, nxt))
        else:
            out.append(char)
    return "".join(out)


# --- selector conditions -----------------------------------------------------------------------------
_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2592000, "year": 31536000}
_RELATIVE = {
    "within last (relative)": (-1, 0),
    "within next (relative)": (0, 1),
    "before (relative)": (None, -1),
    "after (relative)": (1, None),
    "till (relative)": (None, 1),
    "from (relative)": (-1, None),
}


def _attribute(doc: Mapping[str, Any], attr: str) -> Any:
    if "." in attr:
        head, _, tail = attr.partition(".")
        nested = doc.get(head)
        return nested.get(tail) if isinstance(nested, dict) else None
    return doc.get(attr)


def _check(spec: Mapping[str, Any], actual: Any, now: dt.datetime) -> bool:
    op = str(spec.get("operator", "is")).lower()
    value = spec.get("value")
    values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if op in ("is", "is not"):
        hit = (
            (str(actual) in values)
            if not isinstance(actual, list)
            else bool(set(map(str, actual)) & set(values))
        )
        return hit == (op == "is")
    if op in ("contains", "contains not"):
        return (values[0].lower() in str(actual or "").lower()) == (op == "contains")
    if op in ("contains all", "contains one"):
        want = {v.strip() for vs in values for v in vs.split(",") if v.strip()}
        have = set(actual or [])
        return want <= have if op == "contains all" else bool(want & have)
    if not isinstance(actual, dt.datetime):
        return False
    if op in ("before (absolute)", "after (absolute)"):
        try:
            point = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return False
        point = point if point.tzinfo else point.replace(tzinfo=dt.timezone.utc)
        return actual < point if op.startswith("before") else actual > point
    if op in _RELATIVE:
        delta = dt.timedelta(seconds=_UNITS.get(str(spec.get("range", "day")), 86400) * int(value or 0))
        low, high = _RELATIVE[op]
        return (low is None or actual >= now + low * delta) and (high is None or actual <= now + high * delta)
    return True


def condition_match(condition: Any) -> Callable[[Mapping[str, Any]], bool]:
    """Return a predicate over search documents for a selector ``condition`` hash.

    The hash is what ``/tickets/search`` accepts as ``condition`` (``{"ticket.state_id": {"operator": "is",
    "value": [1, 2]}}``). The operators understood are a subset of Zammad's: ``is``, ``is not``,
    ``contains`` (``not``, ``all``, ``one``), and absolute and relative date comparisons.
    """
    if not isinstance(condition, dict):
        return lambda doc: True
    now = dt.datetime.now(dt.timezone.utc)
    specs = [
        (key.split(".", 1)[1] if "." in key else key, spec)
        for key, spec in condition.items()
        if isinstance(spec, dict)
    ]
    return lambda doc: all(_check(spec, _attribute(doc, attr), now) for attr, spec in specs)
