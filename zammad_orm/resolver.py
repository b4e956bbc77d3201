"""Resolves the user paths of a filter against a model: Zammad search fields, with values typed per field.

``state="open"`` becomes ``state.name``, ``owner__login`` becomes ``owner.login``, ``created_at="now-7d"``
becomes date math; relations are found through :meth:`ModelMeta.relation`, custom attributes through the
server's list of them. A path means what it says or raises :class:`~zammad_orm.errors.QueryError`, here,
before any request:

* every unknown name (the message suggests the closest ones) and every value or lookup a field has no
  meaning for;
* what Zammad's search index does not hold (:mod:`zammad_orm.indexed`, spec §4.4): a ticket's
  document nests its state, group, owner, ... with their own columns, but nothing of *theirs*
  (``customer.organization``), and no id list that is not a column (``article_ids``);
* the names of reference tables (``priority="high"``: did you mean ``'3 high'``?), checked against the
  table (:mod:`zammad_orm.references`);
* a condition on a reference table the index cannot answer (``state__state_type__name="open"``) is
  evaluated on the table's rows and becomes their ids (``state_id`` in ``[1, 2, 3, 7]``).

The resolved tree is what :mod:`zammad_orm.compiler` writes and :mod:`zammad_orm.evaluator` evaluates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from typing import Any, Literal

import attrs

from .coerce import (
    RELATION_LOOKUPS,
    base_types,
    check_lookup,
    coerce,
    display,
    id_of,
    lookups_of,
    plain,
    unknown_lookup,
)
from .errors import QueryError
from .expr import LOOKUPS, And, Lookup, LookupName, Node, Not, Or, conjoin, disjoin, lower, negate
from .indexed import INDEX_IGNORED, INDEX_LISTS, INDEX_NESTED, INDEX_NESTED_FIELDS, INDEX_ONLY
from .references import Tables, check_names, human_name, is_reference, matching_ids, related_model, source_of
from .suggest import did_you_mean

__all__ = [
    "INDEX_IGNORED",
    "INDEX_LISTS",
    "INDEX_NESTED",
    "INDEX_NESTED_FIELDS",
    "INDEX_ONLY",
    "AttributeNames",
    "NotInIndex",
    "related_model",
    "resolve",
]

AttributeNames = Callable[[str], "AbstractSet[str]"]

#: Where a path is resolved: a searchable model's index document (``root``), an object nested in one
#: (``nested``), the rows of a reference table (``table``), or documents the client builds (``deep``:
#: models without a search endpoint; any path).
Where = Literal["root", "nested", "table", "deep"]
_NAME_LOOKUPS = ("exact", "iexact", "in")


class NotInIndex(QueryError):
    """A path Zammad's search index does not hold (a reference table's condition is evaluated instead)."""


@attrs.frozen
class _Scope:
    attributes: AttributeNames | None
    tables: Tables | None
    notes: list[str] | None


def resolve(
    model: Any,
    node: Node,
    *,
    attributes: AttributeNames | None = None,
    tables: Tables | None = None,
    notes: list[str] | None = None,
    index: bool = True,
) -> Node:
    """Rewrite the user paths of every lookup into Zammad search fields, with values typed per field.

    ``state="open"`` becomes ``state.name`` (users: ``login``), ``state=2`` or a model instance
    ``state_id``; ``owner__login`` → ``owner.login``; ``article__body`` → ``article.body``; ``tags`` and
    custom attributes pass through.

    Args:
        model: A model class (its ``_meta`` describes fields and relations).
        node: The filter.
        attributes: ``attributes(model_name)`` lists the custom attributes the server knows.
        tables: The rows of reference tables (a client's ``facts``): names given for them are checked,
            conditions the index cannot answer are evaluated on them; ``None`` checks only the built-in
            tables (state types, article types and senders).
        notes: Receives a line per condition evaluated on a reference table (``explain()`` shows them).
        index: Keep to what Zammad's search index holds (searchable models); ``False`` resolves for
            documents built client-side, where every path can be followed.

    Raises:
        QueryError: an unknown field, relation, lookup or name (the closest ones suggested), a value that
            cannot be compared, or a path the search index does not hold and cannot be translated.

    """
    searched = index and model._meta.searchable and model._meta.endpoint is not None
    return _resolve(model, node, _Scope(attributes, tables, notes), "root" if searched else "deep")


def _resolve(model: Any, node: Node, scope: _Scope, where: Where) -> Node:
    # Every part is resolved (lists, not generators): a part that matches nothing must not hide a
    # malformed one next to it.
    if isinstance(node, And):
        return conjoin([_resolve(model, c, scope, where) for c in node.children])
    if isinstance(node, Or):
        return disjoin([_resolve(model, c, scope, where) for c in node.children])
    if isinstance(node, Not):
        return negate(_resolve(model, node.child, scope, where))
    if isinstance(node, Lookup):
        key = _Key(node.field, node.lookup)
        found = _path(model, node.field.split("."), node.lookup, node.value, "", scope, key, where)
        try:
            lower(found)  # a value the lookup cannot take raises here, even where the rest matches nothing
        except QueryError as exc:
            if isinstance(found, Lookup) and display(found.field) == str(key):
                raise
            raise QueryError(f"{key.written(node.value)}: {exc}") from None  # name the path as written
        return found
    return node


@attrs.frozen
class _Key:
    """The path as the user wrote it, for messages: ``state__state_type__name__in``."""

    field: str
    lookup: str

    def __str__(self) -> str:
        return display(self.field)

    def written(self, value: Any) -> str:
        suffix = "" if self.lookup == "exact" else f"__{self.lookup}"
        return f"{display(self.field)}{suffix}={value!r}"


def _path(
    model: Any, parts: list[str], lookup: LookupName, value: Any, prefix: str, scope: _Scope, key: _Key,
    where: Where,
) -> Node:  # fmt: skip
    meta = model._meta
    head, rest = ("id" if parts[0] == "pk" else parts[0]), parts[1:]
    rel = meta.relation(head)
    if rel is not None:
        return _relation(model, rel, rest, lookup, value, prefix, scope, key, where)
    info = meta.fields.get(head) or next((f for f in meta.fields.values() if f.wire == head), None)
    if info is not None:
        owner = f"{meta.name}.{info.name}"
        if rest and (list in base_types(info.type) or not base_types(info.type) & {dict}):
            if len(rest) == 1:
                raise unknown_lookup(str(key), owner, rest[0], lookups_of(info.type))
            raise QueryError(f"{key}: {owner} has no field {rest[0]!r}")
        if not info.searchable:
            raise QueryError(f"{key}: {owner} cannot be searched")
        _held(meta.name, info, where, key)
        if not rest:
            check_lookup(str(key), owner, info.type, lookup)
            value = coerce(info.type, lookup, value, key.field)
        return Lookup(prefix + ".".join([info.wire, *rest]), lookup, plain(value) if rest else value)
    extra = INDEX_ONLY.get(meta.name, {}).get(head)
    if extra is not None and where in ("root", "deep"):
        if rest:
            raise unknown_lookup(str(key), f"{meta.name}.{head}", rest[0], lookups_of(extra))
        check_lookup(str(key), f"{meta.name}.{head}", extra, lookup)
        return Lookup(prefix + head, lookup, coerce(extra, lookup, value, key.field))
    known = set(getattr(meta, "custom_keys", ()) or ())
    if head not in known and scope.attributes is not None:
        known |= scope.attributes(meta.name)
    if head in known:
        if rest:
            raise unknown_lookup(str(key), f"the custom attribute {meta.name}.{head}", rest[0], LOOKUPS)
        value = plain(value)
        dates = scope.attributes(f"{meta.name}:dates") if scope.attributes is not None else ()
        if _mentions_now(value) and head in dates:
            value = coerce(dt.datetime, lookup, value, key.field)  # a date attribute: date math allowed
        return Lookup(prefix + head, lookup, value)
    names = [*meta.fields, *meta.relations, *INDEX_ONLY.get(meta.name, {}), *known]
    if prefix and not rest:  # the last word after a relation: a field of the target, or a lookup
        return_hint = did_you_mean(head, [*names, *RELATION_LOOKUPS])
        raise QueryError(
            f"{key}: {head!r} is neither a field of {meta.name}{return_hint} nor a lookup "
            f"(a relation's lookups are {', '.join(sorted(RELATION_LOOKUPS))})"
        )
    raise QueryError(
        f"{key}: {meta.name} has no field {head!r}{did_you_mean(head, names)} (not declared, not a relation, "
        "and not a custom attribute of the server)"
    )


def _held(model_name: str, info: Any, where: Where, key: _Key) -> None:
    """Refuse a field the index document does not hold at this place."""
    if where in ("deep", "table"):
        return
    listed = list in base_types(info.type)
    if info.wire in INDEX_IGNORED.get(model_name, ()):
        why = "Zammad leaves it out of its search index"
    elif listed and (where == "nested" or info.wire not in INDEX_LISTS.get(model_name, ())):
        why = "an id list that is not a column of the table Zammad indexes"
    elif where == "nested" and info.wire not in INDEX_NESTED_FIELDS.get(model_name, {info.wire}):
        why = f"Zammad's search index holds only {', '.join(sorted(INDEX_NESTED_FIELDS[model_name]))} of it"
    else:
        return
    raise NotInIndex(f"{key}: {model_name}.{info.name} cannot be searched: {why}")


def _mentions_now(value: Any) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, str) and v.startswith("now") for v in values)


def _relation(
    model: Any, rel: Any, rest: list[str], lookup: LookupName, value: Any, prefix: str, scope: _Scope,
    key: _Key, where: Where,
) -> Node:  # fmt: skip
    target = related_model(model, rel.target)
    if target is None:  # a relation to a model that is not declared: pass the path through
        return Lookup(".".join([prefix + rel.search, *rest]), lookup, plain(value))
    reference = is_reference(target)
    nested = _nested(model, rel, target, where)
    local = prefix + rel.local if rel.local is not None and _local_held(model, rel, where) else None
    if rest in (["id"], ["pk"]) and rel.kind == "fk" and local is not None:
        check_lookup(str(key), f"{model._meta.name}.{rel.local}", int, lookup)  # state__id: state_id
        return Lookup(local, lookup, coerce(int, lookup, value, key.field))
    names = _names(rel, rest, lookup, value)
    if names is not None and (reference or (lookup != "iexact" and (nested or local is None))):
        _check(target, names, lookup == "iexact", scope, key, value)  # organizations: if listed cheaply
    inner: Where = "deep" if where == "deep" else "table" if where == "table" else "nested"
    search = prefix + rel.search
    if rest:
        if nested and reference and where == "root":
            try:
                return _path(target, rest, lookup, value, search + ".", scope, key, inner)
            except NotInIndex:
                pass  # the index holds state.* but not this: evaluate it on the table's rows
        elif nested:
            return _path(target, rest, lookup, value, search + ".", scope, key, inner)
        if where == "nested" and is_reference(model):
            raise NotInIndex(f"{key}: not in the search index")  # the table around it is matched instead
        if reference and local is not None:
            return _translate(target, rest, lookup, value, local, scope, key)
        raise _not_nested(model, rel, prefix, key, local, where)
    if lookup not in RELATION_LOOKUPS:
        raise unknown_lookup(
            str(key), f"the relation {model._meta.name}.{rel.name}", lookup, RELATION_LOOKUPS
        )
    if rel.kind == "reverse" or rel.local is None:
        raise QueryError(f"{key}: compare a field of {rel.name}, e.g. {key}__id")
    if lookup == "isnull":
        if local is None and not nested:
            raise _not_nested(model, rel, prefix, key, local, where)
        return Lookup(local or search, "isnull", value)

    def by_name(given: Any, how: LookupName) -> Node:
        if nested and (rel.kind == "fk" or rel.search != rel.local):
            return _path(target, [rel.lookup], how, given, search + ".", scope, key, inner)
        if reference and local is not None:
            return _translate(target, [rel.lookup], how, given, local, scope, key)
        raise QueryError(
            f"{key}: Zammad's search index holds only {local or rel.local} of {rel.name}, and "
            f"{human_name(target)}s are no small table of names that could be matched locally; "
            f"filter by {rel.target} objects or ids, not names"
        )

    def by_id(ids: Any, how: LookupName) -> Node:
        if local is not None:
            return Lookup(local, how, ids)
        if nested:
            return Lookup(search + ".id", how, ids)
        raise _not_nested(model, rel, prefix, key, local, where)

    if lookup == "in":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise QueryError(f"{key}__in needs a list of values, got {value!r}")
        values = list(value)
        ids = [id_of(v) for v in values if id_of(v) is not None]
        strings = [v for v in values if isinstance(v, str)]
        if len(ids) + len(strings) != len(values):
            raise QueryError(f"{key}__in takes ids, {rel.target} objects or names, got {values!r}")
        parts: list[Node] = []
        if ids or not strings:
            parts.append(by_id(ids, "in"))
        if strings:
            parts.append(by_name(strings, "in"))
        return disjoin(parts)
    if value is None and lookup == "exact":
        return by_id(True, "isnull")
    pk = id_of(value)
    if pk is not None:
        return by_id(pk, lookup)
    if isinstance(value, str):
        return by_name(value, lookup)
    raise QueryError(f"{key}: expected a {rel.target}, an id or a name, got {value!r}")


def _nested(model: Any, rel: Any, target: Any, where: Where) -> bool:
    """Whether the document at this place holds the related object(s) themselves, not just their ids."""
    if where == "deep":
        return bool(rel.kind != "m2m" or rel.search != rel.local)
    if where == "root":
        return rel.name in INDEX_NESTED.get(model._meta.name, ())
    if where == "table":
        return bool(rel.kind == "fk" and is_reference(target))
    return False


def _local_held(model: Any, rel: Any, where: Where) -> bool:
    if where in ("deep", "table") or rel.kind == "fk":
        return True
    return where == "root" and rel.local in INDEX_LISTS.get(model._meta.name, ())


def _not_nested(model: Any, rel: Any, prefix: str, key: _Key, local: str | None, where: Where) -> QueryError:
    if where == "table":
        holder = f"the rows of {source_of(model)} hold"
    elif prefix:
        holder = f"the {display(prefix[:-1])} in Zammad's search index holds"
    else:
        holder = f"Zammad's search index of {model._meta.name} holds"
    target = human_name(related_model(model, rel.target))
    article = "an" if rel.target[:1] in "AEIO" else "a"
    how = (
        f"compare {display(prefix + rel.name) if where != 'table' else rel.name} with {article} {rel.target} "
        "object or an id"
        if local
        else "it cannot be searched"
    )
    return NotInIndex(
        f"{key}: {holder} {f'only {local} of' if local else 'nothing of'} {rel.name}, and {target}s are no "
        f"small table of names that could be matched locally; {how}"
    )


def _names(rel: Any, rest: list[str], lookup: str, value: Any) -> list[str] | None:
    """Return the names a lookup compares with a reference's name (``state="open"``, ``state__name__in``)."""
    if lookup not in _NAME_LOOKUPS or rest not in ([], [rel.lookup]):
        return None
    if lookup == "in":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            return None
        found = [v for v in value if isinstance(v, str)]
        return found or None
    return [value] if isinstance(value, str) else None


def _check(target: Any, names: list[str], fold: bool, scope: _Scope, key: _Key, value: Any) -> None:
    def error(name: str, hint: str) -> QueryError:
        return QueryError(f"{key.written(value)}: there is no {human_name(target)} named {name!r}{hint}")

    check_names(target, names, scope.tables, fold=fold, error=error)


def _translate(
    target: Any, rest: list[str], lookup: LookupName, value: Any, local: str, scope: _Scope, key: _Key
) -> Node:
    """Evaluate the rest of the path on a reference table's rows: the ids that match, on ``local``."""
    condition = _path(target, rest, lookup, value, "", scope, key, "table")
    ids, empty, rows = matching_ids(target, condition, scope.tables)
    node = Lookup(local, "in", ids)
    if scope.notes is not None:
        scope.notes.append(
            f"{key.written(value)} -> {local} in {ids}"
            f"{' or no ' + local.rsplit('.', 1)[-1] if empty else ''} (matched client-side on the {rows} "
            f"rows of {source_of(target)}: Zammad's search index cannot answer it)"
        )
    return disjoin([node, Lookup(local, "isnull", True)]) if empty else node
