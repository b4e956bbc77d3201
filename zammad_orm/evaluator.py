"""Evaluates an expression tree as a Python predicate over records (client-side filtering, emulator).

A record is a document shaped like a Zammad search-index document: the object's columns with Python values
(``int``, ``str``, ``bool``, ``None``, aware ``datetime``), nested dicts for referenced objects (``state``,
``owner``, ...), lists for ``tags`` and ``article``. The matching approximates Elasticsearch:

* text (``str``) values are split into lowercase tokens (runs of letters, digits and ``_``); a term matches
  when all its tokens occur, a phrase when its tokens occur consecutively, a wildcard or regex when one
  token matches it whole;
* ``<field>.keyword`` compares the whole string value, case-sensitively (range: code-point order); a string
  longer than :data:`KEYWORD_LIMIT` (Zammad's ``ignore_above`` 5012) has no keyword and never matches;
* numbers, dates (with date math such as ``now-7d/d``, read by :mod:`zammad_orm.dates`) and booleans
  compare typed; a date without a time covers its whole period (``created_at:2024-01-01`` is that day);
* a list value matches when any element matches; a missing field never matches (``Exists`` is false).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import as_datetime, iso_instant, parse_date
from .errors import QueryError
from .expr import (
    And,
    Exists,
    Lookup,
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
)
from .expr import lower as lower_lookups

__all__ = [
    "KEYWORD_LIMIT",
    "Predicate",
    "evaluate",
    "lucene_regex_to_python",
    "predicate",
    "tokenize",
    "wildcard_to_python",
]

Predicate = Callable[[Mapping[str, Any]], bool]
_Match = Callable[[Any], bool]
#: The leaves that match values as text: terms, phrases, wildcards and regular expressions.
_Text = Term | Phrase | Wildcard | Regex

#: Zammad maps string fields with a ``.keyword`` sub-field of ``ignore_above: 5012`` characters.
KEYWORD_LIMIT = 5012

_TOKEN = re.compile(r"\w+")
_MISSING: list[Any] = []


@functools.lru_cache(maxsize=65536)
def tokenize(text: str) -> tuple[str, ...]:
    """Lowercase tokens of a text value, approximating Elasticsearch's standard analyzer."""
    return tuple(m.group().lower() for m in _TOKEN.finditer(text))


def evaluate(node: Node, record: Mapping[str, Any], *, now: dt.datetime | None = None) -> bool:
    """Return whether ``record`` matches ``node`` (lookups included)."""
    return predicate(node, now=now)(record)


def predicate(node: Node, *, now: dt.datetime | None = None) -> Predicate:
    """Compile ``node`` into a fast predicate over records.

    Args:
        node: An expression tree; :class:`~zammad_orm.expr.Lookup` nodes are lowered first.
        now: The instant ``now`` in date math refers to (default: the current time, UTC).

    Raises:
        QueryError: when a lookup cannot be expressed, or the tree holds a node type the evaluator does
            not know.

    """
    when = now or dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return _build(lower_lookups(node), when)


def _build(node: Node, now: dt.datetime) -> Predicate:
    if isinstance(node, MatchAll):
        return lambda record: True
    if isinstance(node, MatchNone):
        return lambda record: False
    if isinstance(node, And):
        parts = [_build(c, now) for c in node.children]
        return lambda record: all(p(record) for p in parts)
    if isinstance(node, Or):
        parts = [_build(c, now) for c in node.children]
        return lambda record: any(p(record) for p in parts)
    if isinstance(node, Not):
        inner = _build(node.child, now)
        return lambda record: not inner(record)
    if isinstance(node, Lookup):  # pragma: no cover - lowered before
        return _build(lower_lookups(node), now)
    if isinstance(node, Exists):
        present = _strip_keyword(node.field)[0]
        return lambda record: any(v is not None for v in _values(record, present))
    if isinstance(node, Range):
        name, whole = _strip_keyword(node.field)
        match = _range_matcher(node, whole, now)
    elif isinstance(node, (Term, Phrase, Wildcard, Regex)):
        if node.field is None:
            return _any_string(_memoized(_text_matcher(node, now)))
        name, whole = _strip_keyword(node.field)
        match = _matcher(node, whole, now)
    else:
        raise QueryError(f"the evaluator does not know the expression node {type(node).__name__}: {node!r}")
    if whole:
        # Zammad maps ``.keyword`` with ignore_above 5012: a longer string is not in the sub-field at all.
        inner = match
        match = lambda value: not (isinstance(value, str) and len(value) > KEYWORD_LIMIT) and inner(value)  # noqa: E731
    return lambda record: any(match(v) for v in _values(record, name))


def _strip_keyword(field: str) -> tuple[str, bool]:
    if field.endswith(".keyword"):
        return field[: -len(".keyword")], True
    return field, False


def _values(record: Mapping[str, Any], field: str) -> list[Any]:
    """Leaf values at a dotted path; lists along the way fan out; a missing path gives ``[]``."""
    if field in record:
        value = record[field]
        return list(value) if isinstance(value, (list, tuple)) else [value]
    head, dot, rest = field.partition(".")
    while dot:
        if head in record:
            sub = record[head]
            subs = sub if isinstance(sub, (list, tuple)) else [sub]
            out: list[Any] = []
            for item in subs:
                if isinstance(item, Mapping):
                    out.extend(_values(item, rest))
            return out
        # Keys may themselves contain dots; try a longer head.
        more, dot, rest = rest.partition(".")
        head = f"{head}.{more}"
    return _MISSING


_SCALARS = frozenset({int, float, bool, type(None), dt.datetime, dt.date, Decimal})


def _any_string(match: _Match) -> Predicate:
    """Return a predicate: some string leaf of the record (nested ones included) matches.

    Bare terms search every string field. The walk is iterative and checks the exact built-in types
    first: it runs for every record of a search, so it dominates the cost of a free-text query.
    """

    def test(record: Mapping[str, Any]) -> bool:
        stack: list[Any] = [record]
        pop, extend = stack.pop, stack.extend
        while stack:
            item = pop()
            kind = type(item)
            if kind is str:
                if match(item):
                    return True
            elif kind in _SCALARS:
                continue
            elif kind is dict:
                extend(item.values())
            elif kind is list or kind is tuple:
                extend(item)
            elif isinstance(item, str):
                if match(item):
                    return True
            elif isinstance(item, Mapping):
                extend(item.values())
            elif isinstance(item, (list, tuple)):
                extend(item)
        return False

    return test


#: Most string results one matcher remembers (the strings of a search repeat across records: names,
#: states, e-mail addresses, template phrases); beyond that the memo starts over.
MEMO_SIZE = 200_000


def _memoized(match: _Match) -> _Match:
    """Remember the answer of ``match`` per string value (strings are immutable, so it cannot go stale)."""
    memo: dict[str, bool] = {}

    def cached(value: str) -> bool:
        hit = memo.get(value)
        if hit is None:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            hit = memo[value] = match(value)
        return hit

    return cached


# --- per-value matchers -------------------------------------------------------------------------------------


def _matcher(node: _Text, whole: bool, now: dt.datetime) -> _Match:
    text = _text_matcher(node, now) if not whole else _whole_matcher(node)
    typed = _typed_matcher(node, now)

    def match(value: Any) -> bool:
        if isinstance(value, str):
            stamp = None if whole else iso_instant(value)
            return text(value) if stamp is None else typed(stamp)
        return typed(value)

    return match


def _text_matcher(node: _Text, now: dt.datetime) -> _Match:
    """Build the matcher for an analysed text value (lowercase tokens)."""
    if isinstance(node, Term):
        wanted = tokenize(node.text)
        if not wanted:
            return lambda value: False
        return lambda value: all(t in tokenize(value) for t in wanted)
    if isinstance(node, Phrase):
        words = tokenize(node.text)
        if not words:
            return lambda value: False
        if node.slop:
            return lambda value: all(t in tokenize(value) for t in words)
        return lambda value: _consecutive(tokenize(value), words)
    if isinstance(node, Wildcard):
        pattern = re.compile(wildcard_to_python(node.pattern.lower()), re.DOTALL)
        # A pattern with characters the tokenizer drops (e.g. "*@example.com") can only match the
        # whole value; a plain one matches single tokens.
        literal = re.sub(r"\\.|[*?]", "", node.pattern)
        if tokenize(literal) != (literal.lower(),) and literal:
            return lambda value: pattern.fullmatch(value.lower()) is not None
        return lambda value: any(pattern.fullmatch(t) for t in tokenize(value))
    regex = _compile_regex(node.pattern)
    if regex is None:
        return lambda value: False
    return lambda value: any(regex.fullmatch(t) for t in tokenize(value))


def _whole_matcher(node: _Text) -> _Match:
    """Build the matcher for a ``.keyword`` value: the whole string, case-sensitive."""
    if isinstance(node, (Term, Phrase)):
        text = node.text
        return lambda value: value == text
    if isinstance(node, Wildcard):
        pattern = re.compile(wildcard_to_python(node.pattern), re.DOTALL)
        return lambda value: pattern.fullmatch(value) is not None
    regex = _compile_regex(node.pattern)
    if regex is None:
        return lambda value: False
    return lambda value: regex.fullmatch(value) is not None


def _typed_matcher(node: _Text, now: dt.datetime) -> _Match:
    """Build the matcher of a term or phrase on numbers, booleans and dates (wildcards never match)."""
    if not isinstance(node, (Term, Phrase)):
        return lambda value: False
    text = node.text.strip()
    number = _number(text)
    low = parse_date(text, now=now, round_up=False)
    high = parse_date(text, now=now, round_up=True)
    flag = text.lower()

    def match(value: Any) -> bool:
        if isinstance(value, bool):
            return flag == ("true" if value else "false")
        if isinstance(value, (int, float, Decimal)):
            return number is not None and value == number
        if isinstance(value, dt.date):
            stamp = as_datetime(value)
            return low is not None and high is not None and low <= stamp <= high
        return False

    return match


def _range_matcher(node: Range, whole: bool, now: dt.datetime) -> _Match:
    def bounds(convert: Callable[[str, bool], Any]) -> tuple[Any, Any] | None:
        low = None if node.low is None else convert(node.low, not node.include_low)
        high = None if node.high is None else convert(node.high, node.include_high)
        if (node.low is not None and low is None) or (node.high is not None and high is None):
            return None  # a bound of the wrong type: Elasticsearch fails, nothing matches
        return low, high

    numbers = bounds(lambda text, _up: _number(text))
    dates = bounds(lambda text, up: parse_date(text, now=now, round_up=up))
    strings = bounds(lambda text, _up: text)

    def inside(value: Any, limits: tuple[Any, Any] | None) -> bool:
        if limits is None:
            return False
        low, high = limits
        if low is not None and (value < low or (value == low and not node.include_low)):
            return False
        return not (high is not None and (value > high or (value == high and not node.include_high)))

    def match(value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, (int, float, Decimal)):
            return inside(value, numbers)
        if isinstance(value, dt.date):
            return inside(as_datetime(value), dates)
        if isinstance(value, str):
            if whole:
                return inside(value, strings)
            stamp = iso_instant(value)
            if stamp is not None:
                return inside(stamp, dates)
            return any(inside(t, strings) for t in tokenize(value))
        return False

    return match


def _consecutive(tokens: tuple[str, ...], words: tuple[str, ...]) -> bool:
    size = len(words)
    return any(tokens[i : i + size] == words for i in range(len(tokens) - size + 1))


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# --- wildcards and Lucene regular expressions -------------------------------------------------------------


def wildcard_to_python(pattern: str) -> str:
    r"""Translate a Lucene wildcard (``*``, ``?``, ``\\`` escapes) into a Python regex."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def _compile_regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(lucene_regex_to_python(pattern), re.DOTALL)
    except (re.error, ValueError):
        return None


def lucene_regex_to_python(pattern: str) -> str:
    r"""Translate a Lucene regular expression into an equivalent Python one (to be used with fullmatch).

    Supported: literals, ``\\`` escapes, ``.``, ``?``, ``+``, ``*``, ``{n}``, ``{n,}``, ``{n,m}``,
    ``|``, ``( )``, character classes ``[a-z]`` / ``[^...]``, ``"literal strings"``, ``@`` (any string),
    ``#`` (the empty language) and ``<n-m>`` numeric intervals. ``&`` and ``~`` are taken literally.

    Raises:
        ValueError: for a malformed expression.

    """
    out: list[str] = []
    i, size = 0, len(pattern)
    while i < size:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= size:
                raise ValueError("dangling backslash")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "[":
            end, cls = _char_class(pattern, i)
            out.append(cls)
            i = end
            continue
        if char == '"':
            end = pattern.find('"', i + 1)
            if end < 0:
                raise ValueError("unterminated string")
            out.append(re.escape(pattern[i + 1 : end]))
            i = end + 1
            continue
        if char == "<":
            interval = re.match(r"<(\d+)-(\d+)>", pattern[i:])
            if interval:
                low, high = sorted((int(interval.group(1)), int(interval.group(2))))
                out.append("(?:" + "|".join(str(n) for n in range(low, min(high, low + 10000) + 1)) + ")")
                i += interval.end()
                continue
            out.append(re.escape(char))
        elif char == "@":
            out.append(".*")
        elif char == "#":
            out.append("(?!)")
        elif char == "(":
            out.append("(?:")
        elif char in ".?+*|){}" or char.isdigit() or char == ",":
            out.append(char)
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _char_class(pattern: str, start: int) -> tuple[int, str]:
    i = start + 1
    out = ["["]
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            out.append("]")
            return i + 1, "".join(out)
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif char == "-" and not first and i + 1 < len(pattern) and pattern[i + 1] != "]":
            out.append("-")
            i += 1
        else:
            out.append(re.escape(char))
            i += 1
        first = False
    raise ValueError("unterminated character class")
