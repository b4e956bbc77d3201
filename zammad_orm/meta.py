"""Declaring a model: its metadata (:class:`ModelMeta`), the :data:`registry` and the :func:`model` decorator.

The public names are re-exported by :mod:`zammad_orm.models`, where the :class:`~zammad_orm.models.Model`
base class lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from zammad_orm import errors, sync
from zammad_orm.fields import FIELD_KEY, FieldInfo, FieldMeta, Relation, RelationInfo

if TYPE_CHECKING:
    from zammad_orm.manager import Manager
    from zammad_orm.models import Model

__all__ = ["ModelMeta", "ObjectDoesNotExist", "model", "registry"]

M = TypeVar("M", bound="Model")

#: Every model class by class name (``registry["Ticket"]``).
registry: dict[str, type[Model]] = {}


@attrs.define
class ModelMeta:
    """Describes a model to the client and the query layer.

    Attributes:
        name: The class name (``"Ticket"``), also the key in the record cache.
        endpoint: The REST path below ``/api/v1`` (``"tickets"``), ``None`` when Zammad has none.
        collection: The ``client.<collection>`` name (``"tickets"``).
        fields: Declared attributes by name.
        relations: Relations by name.
        searchable: Whether ``<endpoint>/search`` exists.
        search_key: The key of the id list in a 6.0–6.4 search reply (``"tickets"``).
        asset_key: The key of this model in ``assets`` maps (``"Ticket"``).
        label: The attribute shown in ``repr`` (``"title"``, ``"login"``, ``"name"``).
        expanded: Keys the server adds with ``expand=true``; kept in ``view()``, not in ``extra``.
        write_only: Input-only keys accepted by create/update (``article`` of a ticket).
        max_page_size: The largest ``per_page`` the index endpoint honours.
        server_class: Zammad's class name in error messages (``"Ticket::State"``).
        custom_keys: Custom attribute names seen in records (accepted by create/update).
        readers: Per attrs attribute, the function structuring it from a raw record.
        not_custom: Record keys that are not custom attributes (field wire keys and ``expanded``).

    """

    name: str
    endpoint: str | None
    collection: str
    fields: dict[str, FieldInfo]
    relations: dict[str, RelationInfo]
    searchable: bool
    search_key: str
    asset_key: str
    label: str
    expanded: frozenset[str]
    write_only: frozenset[str]
    max_page_size: int
    server_class: str
    descriptors: dict[str, Relation] = attrs.field(factory=dict, repr=False)
    by_wire: dict[str, str] = attrs.field(factory=dict, repr=False)
    custom_keys: set[str] = attrs.field(factory=set, repr=False)
    readers: dict[str, sync.Reader] = attrs.field(factory=dict, repr=False)
    not_custom: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    _relation_keys: dict[str, RelationInfo] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        keys = dict(self.relations)
        for info in self.relations.values():
            keys.setdefault(info.search, info)  # a name wins over a search prefix; the first prefix wins
        self._relation_keys = keys

    def relation(self, key: str) -> RelationInfo | None:
        """Return the relation called ``key`` or searched as ``key`` (``"articles"`` or ``"article"``).

        Args:
            key: A relation name, or its prefix in a Zammad search.

        Returns:
            The relation, or ``None`` when the model has none by that name or prefix.

        """
        return self._relation_keys.get(key)


class ObjectDoesNotExist(errors.DoesNotExist, errors.NotFound):
    """Base of every ``Model.DoesNotExist``: a :class:`~zammad_orm.errors.DoesNotExist` and a 404."""


def _define(cls: type[M]) -> type[M]:
    """Apply attrs the way every model needs it (slots, weakref, no generated eq/repr/setattr hooks)."""
    return attrs.define(slots=True, eq=False, repr=False, kw_only=True, on_setattr=attrs.setters.NO_OP)(cls)


def model(
    *,
    endpoint: str | None,
    collection: str,
    label: str = "name",
    searchable: bool = False,
    search_key: str | None = None,
    asset_key: str | None = None,
    expanded: Iterable[str] = (),
    write_only: Iterable[str] = (),
    max_page_size: int = 1000,
    server_class: str | None = None,
    manager: type[Manager[Any]] | None = None,
) -> Callable[[type[M]], type[M]]:
    """Class decorator declaring a Zammad resource model.

    Args:
        endpoint: REST path below ``/api/v1`` (``None`` when Zammad has no endpoint).
        collection: Name of the collection on the client (``client.tickets``).
        label: Attribute shown in ``repr``.
        searchable: Whether ``<endpoint>/search`` exists.
        search_key: Key of the id list in a 6.0–6.4 search reply (default: ``collection``).
        asset_key: Key in ``assets`` maps (default: the class name).
        expanded: Keys the server adds with ``expand=true`` besides ``EXPANDED_ATTRIBUTES``.
        write_only: Input-only keys accepted by create/update.
        max_page_size: Largest ``per_page`` the index endpoint honours.
        server_class: Zammad's class name (default: the class name).
        manager: The manager class of ``Model.objects`` and ``client.<collection>``.

    Returns:
        The decorator.

    """

    def decorate(cls: type[M]) -> type[M]:
        new = _define(cls)
        attrs.resolve_types(new)
        fields: dict[str, FieldInfo] = {}
        for a in attrs.fields(new):
            meta = a.metadata.get(FIELD_KEY)
            if isinstance(meta, FieldMeta):
                fields[a.name] = FieldInfo(
                    name=a.name,
                    wire=meta.wire or a.name,
                    type=a.type,
                    searchable=meta.searchable,
                    read_only=meta.read_only,
                )
        descriptors: dict[str, Relation] = {}
        for klass in reversed(new.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Relation):
                    descriptors[name] = value
        name = new.__name__
        exp = set(expanded) | {e for e in new.EXPANDED_ATTRIBUTES if e != "*"}
        exp |= {r.name for r in descriptors.values()}
        exp -= set(fields)
        by_wire = {info.wire: n for n, info in fields.items()}
        exp_frozen = frozenset(exp)
        new._meta = ModelMeta(
            name=name,
            endpoint=endpoint,
            collection=collection,
            fields=fields,
            relations={n: r.info() for n, r in descriptors.items()},
            searchable=searchable,
            search_key=search_key or collection,
            asset_key=asset_key or name,
            label=label,
            expanded=exp_frozen,
            write_only=frozenset(write_only),
            max_page_size=max_page_size,
            server_class=server_class or name,
            descriptors=descriptors,
            by_wire=by_wire,
            readers=sync.readers(new, fields, exp_frozen),
            not_custom=frozenset(by_wire) | exp_frozen,
        )
        new.DoesNotExist = type(
            "DoesNotExist",
            (ObjectDoesNotExist,),
            {"__module__": new.__module__, "__qualname__": f"{name}.DoesNotExist"},
        )
        new.MultipleObjectsReturned = type(
            "MultipleObjectsReturned",
            (errors.MultipleObjectsReturned,),
            {"__module__": new.__module__, "__qualname__": f"{name}.MultipleObjectsReturned"},
        )
        if manager is not None:
            new._manager_class = manager
        registry[name] = new
        return new

    return decorate
