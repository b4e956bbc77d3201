"""Typed field declarations (attrs metadata: wire name, searchable, read-only) and relation descriptors.

A model declares each Zammad attribute once::

    title: str | None = field()
    created_at: datetime | None = field(read_only=True)

and each relation as a descriptor beside the fields::

    state = ForeignKey("TicketState", "state_id")
    articles = Reverse("TicketArticle", "ticket_id", path="ticket_articles/by_ticket/{id}")

The descriptors do no I/O themselves: they hand over to the instance (``_get_relation`` /
``_set_relation``, implemented by :class:`zammad_orm.models.Model`), which knows its client. Class-level
access (``Ticket.state``) returns the descriptor, and :class:`RelationInfo`/:class:`FieldInfo` describe
the model to the query layer.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

import attrs

from zammad_orm.errors import FieldError

__all__ = [
    "FIELD_KEY",
    "FieldInfo",
    "FieldMeta",
    "ForeignKey",
    "ManyToMany",
    "Relation",
    "RelationInfo",
    "Reverse",
    "check_value",
    "field",
    "literal_values",
    "union_members",
]

#: Key of the zammad_orm entry in ``attrs.field(metadata=...)``.
FIELD_KEY = "zammad_orm"

RelationKind = Literal["fk", "m2m", "reverse"]


@attrs.frozen
class FieldMeta:
    """What ``field()`` stores in the attrs metadata of an attribute.

    Attributes:
        wire: The key in Zammad's JSON, or ``None`` when it equals the attribute name.
        searchable: Whether the attribute can be used in a Zammad search query.
        read_only: Whether the server ignores or refuses writes (ids, timestamps, counters).

    """

    wire: str | None = None
    searchable: bool = True
    read_only: bool = False


@attrs.frozen
class FieldInfo:
    """A model attribute as the query layer sees it."""

    name: str
    wire: str
    type: Any
    searchable: bool
    read_only: bool


@attrs.frozen
class RelationInfo:
    """A relation of a model as the query layer sees it.

    Attributes:
        name: The attribute name on the model (``"state"``).
        target: Class name of the related model (``"TicketState"``).
        local: The local id field (``"state_id"``, ``"role_ids"``), ``None`` for reverse relations.
        kind: ``"fk"``, ``"m2m"`` or ``"reverse"``.
        search: Prefix of the relation in a Zammad search (``"state"`` in ``state.name:open``).
        lookup: Field of the target compared when a query gives a plain string (``"name"``; users
            ``"login"``).

    """

    name: str
    target: str
    local: str | None
    kind: RelationKind
    search: str
    lookup: str


class _RelationOwner(Protocol):
    def _get_relation(self, relation: Relation) -> Any: ...

    def _set_relation(self, relation: Relation, value: Any) -> None: ...


def field(
    *,
    wire: str | None = None,
    searchable: bool = True,
    read_only: bool = False,
    default: Any = None,
    factory: Any = None,
    repr: bool = True,
) -> Any:
    """Declare a model attribute with its Zammad metadata.

    Args:
        wire: The JSON key when it differs from the attribute name.
        searchable: Whether the attribute may be used in search queries.
        read_only: Whether the attribute is maintained by the server (never sent on save).
        default: Default value of the attribute (``None`` unless given).
        factory: A callable producing the default (for lists and dicts); wins over ``default``.
        repr: Whether the attribute shows in the attrs ``repr``.

    Returns:
        An ``attrs.field`` carrying a :class:`FieldMeta` in its metadata.

    """
    meta = {FIELD_KEY: FieldMeta(wire=wire, searchable=searchable, read_only=read_only)}
    if factory is not None:
        return attrs.field(factory=factory, metadata=meta, repr=repr)
    return attrs.field(default=default, metadata=meta, repr=repr)


class Relation:
    """Base of the relation descriptors: they delegate reads and writes to the model instance."""

    kind: RelationKind = "fk"

    def __init__(
        self,
        target: str,
        local: str | None,
        *,
        lookup: str | None = None,
        search: str | None = None,
        doc: str | None = None,
    ) -> None:
        self.target = target
        self.local = local
        self.lookup = lookup if lookup is not None else ("login" if target == "User" else "name")
        self._search = search
        self.name = ""
        self.__doc__ = doc or f"The related {target} (resolved lazily, then kept)."

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @property
    def search(self) -> str:
        """The prefix of this relation in a Zammad search query."""
        return self._search if self._search is not None else self.name

    def info(self) -> RelationInfo:
        """Describe the relation for the query layer."""
        return RelationInfo(
            name=self.name,
            target=self.target,
            local=self.local,
            kind=self.kind,
            search=self.search,
            lookup=self.lookup,
        )

    @typing.overload
    def __get__(self, instance: None, owner: type) -> Relation: ...

    @typing.overload
    def __get__(self, instance: object, owner: type) -> Any: ...

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        if self.kind == "fk":
            # The fast path of a loop reading ``t.state.name`` row after row: the kept object, while its
            # id is still the local id (the owner's ``_rel`` slot holds it; see ``Model._get_relation``).
            kept = getattr(instance, "_rel", None)
            if kept is not None:
                hit = kept.get(self.name)
                if hit is not None and hit.id == getattr(instance, self.local):  # type: ignore[arg-type]
                    return hit
        return typing.cast(_RelationOwner, instance)._get_relation(self)

    def __set__(self, instance: object, value: Any) -> None:
        typing.cast(_RelationOwner, instance)._set_relation(self, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} -> {self.target} via {self.local}>"


class ForeignKey(Relation):
    """A belongs-to relation through a local id field (``ticket.state`` via ``state_id``).

    Reading resolves through identity map, cache and at most one request, and keeps the result.
    Assigning a model instance or an id sets the local id; assigning a string sends the name on the
    next save (Zammad resolves names server-side, e.g. ``ticket.state = "closed"``).
    """

    kind: RelationKind = "fk"


class ManyToMany(Relation):
    """A has-many relation through a local list of ids (``user.roles`` via ``role_ids``)."""

    kind: RelationKind = "m2m"


class Reverse(Relation):
    """A has-many relation the server lists from the other side (``ticket.articles``).

    Args:
        target: Class name of the related model.
        remote: The id field on the target pointing back (``"ticket_id"``).
        path: The endpoint listing the related objects, formatted with ``id``.
        lookup: See :class:`Relation`.
        search: See :class:`Relation`.
        doc: Docstring of the attribute.

    """

    kind: RelationKind = "reverse"

    def __init__(
        self,
        target: str,
        remote: str,
        *,
        path: str,
        lookup: str | None = None,
        search: str | None = None,
        doc: str | None = None,
    ) -> None:
        super().__init__(target, None, lookup=lookup, search=search, doc=doc)
        self.remote = remote
        self.path = path

    def __set__(self, instance: object, value: Any) -> None:
        raise FieldError(f"{self.name} is a reverse relation and cannot be assigned")


# --------------------------------------------------------------------------------------------------
# Client-side type checks for assignments (``ticket.title = 1`` raises FieldError before any request).


def union_members(tp: Any) -> tuple[Any, ...]:
    """Return the members of a union annotation (``int | None`` → ``(int, NoneType)``), else ``(tp,)``.

    ``Optional[X]`` and ``X | Y`` alike; Python flattens nested unions, so no member is a union.
    """
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def literal_values(tp: Any) -> tuple[Any, ...]:
    """Return the values of the ``Literal`` members of an annotation (``()`` when it has none).

    ``Literal["gold", "silver"] | None`` → ``("gold", "silver")``; a list of them
    (``list[Literal["a", "b"]]``) gives the values of its elements.
    """
    found: list[Any] = []
    for member in union_members(tp):
        origin = typing.get_origin(member)
        if origin is Literal:
            found.extend(typing.get_args(member))
        elif origin is list and typing.get_args(member):
            found.extend(literal_values(typing.get_args(member)[0]))
    return tuple(found)


def _allowed(tp: Any) -> tuple[type, ...] | None:
    """Return the Python classes a value of annotation ``tp`` may have (``None``: anything)."""
    out: list[type] = []
    for member in union_members(tp):
        origin = typing.get_origin(member)
        if origin is Literal:
            out.extend(type(v) for v in typing.get_args(member))
            continue
        if member is Any or member is object or (origin is None and not isinstance(member, type)):
            return None
        out.append(member if origin is None else origin)
    return tuple(out)


def check_value(name: str, tp: Any, value: Any) -> Any:
    """Check (and lightly coerce) a value assigned to field ``name`` of annotation ``tp``.

    Integers, floats and numeric strings become :class:`~decimal.Decimal` for decimal fields; a naive
    datetime is refused because Zammad stores UTC instants.

    Args:
        name: The field name (for the error message).
        tp: The resolved annotation of the field.
        value: The value being assigned.

    Returns:
        The value to store.

    Raises:
        FieldError: The value has the wrong type for the field.

    """
    allowed = _allowed(tp)
    if allowed is None:
        return value
    if Decimal in allowed and not isinstance(value, (Decimal, bool)) and isinstance(value, (int, float, str)):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise FieldError(f"{name}: {value!r} is not a decimal number") from None
    if isinstance(value, bool) and bool not in allowed:
        raise FieldError(f"{name}: expected {_names(allowed)}, got bool {value!r}")
    if isinstance(value, datetime) and (datetime in allowed or date in allowed) and value.tzinfo is None:
        raise FieldError(f"{name}: naive datetime {value!r}; give an aware datetime (e.g. tzinfo=UTC)")
    if not isinstance(value, allowed):
        raise FieldError(f"{name}: expected {_names(allowed)}, got {type(value).__name__} {value!r}")
    options = literal_values(tp)
    if options:
        items = value if isinstance(value, list) else [] if value is None else [value]
        wrong = [v for v in items if v not in options]
        if wrong:
            raise FieldError(f"{name}: {wrong[0]!r} is not one of its values {', '.join(map(repr, options))}")
    return value


def _names(allowed: tuple[type, ...]) -> str:
    return " | ".join("None" if t is type(None) else t.__name__ for t in allowed)
