"""Declaring a model: its metadata (:class:`ModelMeta`), the :data:`registry` and the :func:`model` decorator.

A resource declares once, on its metadata, what Zammad lets you do with it (its *capabilities*, like the
mixins of python-gitlab): ``list``, ``get``, ``create``, ``update``, ``delete`` and ``search``. The
manager and the model ask :meth:`ModelMeta.rest_endpoint` for the path of an operation, which refuses an
operation the resource does not offer with :class:`~zammad_orm.errors.UnsupportedOperation` before any
request is sent. The public names are re-exported by :mod:`zammad_orm.models`, where the
:class:`~zammad_orm.models.Model` base class lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import attrs

from zammad_orm import errors, references, sync
from zammad_orm.fields import FIELD_KEY, FieldInfo, FieldMeta, Relation, RelationInfo

if TYPE_CHECKING:
    from zammad_orm.manager import Manager
    from zammad_orm.models import Model

__all__ = [
    "OPERATIONS",
    "ModelMeta",
    "ObjectDoesNotExist",
    "Operation",
    "model",
    "persistent_cache_defaults",
    "registry",
    "specialise",
]

M = TypeVar("M", bound="Model")

#: What one can do with a resource: ``list`` (``objects.iter()``, ``all()``), ``get`` (one by id,
#: ``reload()``), ``create``, ``update`` (``save()``, ``update()``), ``delete``, ``search``
#: (``objects.search()``).
Operation = Literal["list", "get", "create", "update", "delete", "search"]
#: Every operation, in the order of the capability columns of the models guide.
OPERATIONS: tuple[Operation, ...] = get_args(Operation)

#: Every model class by class name (``registry["Ticket"]``).
registry: dict[str, type[Model]] = {}


def persistent_cache_defaults(name: str) -> tuple[int, int | None]:
    """Return the persistent-tier size and byte limit of the model ``name``: its class attributes.

    ``(PERSISTENT_CACHE_SIZE, PERSISTENT_CACHE_BYTES)``; ``(-1, None)`` for a name no model has.
    """
    found = registry.get(name)
    return (-1, None) if found is None else (found.PERSISTENT_CACHE_SIZE, found.PERSISTENT_CACHE_BYTES)


@attrs.define
class ModelMeta:
    """Describes a model to the client and the query layer.

    Attributes:
        name: The class name (``"Ticket"``), also the key in the record cache.
        endpoint: The REST path below ``/api/v1`` (``"tickets"``), ``None`` when Zammad has none.
        collection: The ``client.<collection>`` name (``"tickets"``).
        fields: Declared attributes by name.
        relations: Relations by name.
        capabilities: The operations the resource offers (see :data:`OPERATIONS`).
        searchable: Whether ``<endpoint>/search`` exists (the QuerySet searches there).
        search_key: The key of the id list in a 6.0–6.4 search reply (``"tickets"``).
        asset_key: The key of this model in ``assets`` maps (``"Ticket"``).
        label: The attribute shown in ``repr`` (``"title"``, ``"login"``, ``"name"``).
        expanded: Keys the server adds with ``expand=true`` (the model's ``EXPANDED_ATTRIBUTES`` and the
            names of its relations); kept in ``view()``, not in ``extra``.
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
    capabilities: frozenset[Operation]
    searchable: bool
    search_key: str
    asset_key: str
    label: str
    expanded: frozenset[str]
    write_only: frozenset[str]
    max_page_size: int
    server_class: str
    table: bool = False
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

    def unsupported(self, operation: Operation, hint: str = "") -> errors.UnsupportedOperation:
        """Return the error refusing ``operation`` (for a caller to raise), with an optional ``hint``."""
        route = "no search endpoint" if operation == "search" else f"no route to {operation} it"
        return errors.UnsupportedOperation(
            f"{self.name} does not support {operation!r}: Zammad has {route}"
            f" (No route matches; nothing was sent){f'. {hint}' if hint else ''}",
            model=self.name,
            operation=operation,
        )

    def require(self, operation: Operation) -> None:
        """Refuse ``operation`` unless the resource offers it.

        Raises:
            UnsupportedOperation: The resource does not offer ``operation``.

        """
        if operation not in self.capabilities:
            raise self.unsupported(operation)

    def rest_endpoint(self, operation: Operation | None = None) -> str:
        """Return the REST path of the collection below ``/api/v1``, for ``operation`` if given.

        The one check that a request can be sent at all: the resource offers ``operation``, and Zammad
        has an endpoint for it (state types, article types and senders are seeded constants: they are
        listed and got without one).

        Raises:
            UnsupportedOperation: The resource does not offer ``operation``, or Zammad has no REST
                endpoint for it.

        """
        if operation is not None:
            self.require(operation)
        if self.endpoint is None:
            doing = f" to {operation} it" if operation is not None else ""
            raise errors.UnsupportedOperation(
                f"Zammad has no REST endpoint for {self.name}{doing} (No route matches; nothing was sent)",
                model=self.name,
                operation=operation or "",
            )
        return self.endpoint


class ObjectDoesNotExist(errors.DoesNotExist, errors.NotFound):
    """Base of every ``Model.DoesNotExist``: a :class:`~zammad_orm.errors.DoesNotExist` and a 404."""


def _define(cls: type[M]) -> type[M]:
    """Apply attrs the way every model needs it (slots, weakref, no generated eq/repr/setattr hooks)."""
    return attrs.define(slots=True, eq=False, repr=False, kw_only=True, on_setattr=attrs.setters.NO_OP)(cls)


def model(
    *,
    endpoint: str | None,
    collection: str,
    capabilities: Iterable[Operation],
    label: str = "name",
    searchable: bool | None = None,
    search_key: str | None = None,
    asset_key: str | None = None,
    write_only: Iterable[str] = (),
    max_page_size: int = 1000,
    server_class: str | None = None,
    manager: type[Manager[Any]] | None = None,
    table: bool = False,
) -> Callable[[type[M]], type[M]]:
    """Class decorator declaring a Zammad resource model.

    The keys the server adds with ``expand=true`` are declared once per model, by its class attribute
    ``EXPANDED_ATTRIBUTES``; the names of its relations are expand keys too.

    Args:
        endpoint: REST path below ``/api/v1`` (``None`` when Zammad has no endpoint).
        collection: Name of the collection on the client (``client.tickets``).
        capabilities: What Zammad lets you do with the resource, from :data:`OPERATIONS`; any other
            operation raises :class:`~zammad_orm.errors.UnsupportedOperation` before a request.
        label: Attribute shown in ``repr``.
        searchable: Whether ``<endpoint>/search`` exists (default: whether ``"search"`` is a capability).
        search_key: Key of the id list in a 6.0–6.4 search reply (default: ``collection``).
        asset_key: Key in ``assets`` maps (default: the class name).
        write_only: Input-only keys accepted by create/update.
        max_page_size: Largest ``per_page`` the index endpoint honours.
        server_class: Zammad's class name (default: the class name).
        manager: The manager class of ``Model.objects`` and ``client.<collection>``.
        table: A small reference table (states, priorities, groups, ...): the client loads it whole,
            once, when it first needs one of its rows, and checks names given for it against it.

    Returns:
        The decorator.

    Raises:
        ConfigurationError: ``capabilities`` names an unknown operation.

    """
    declared = frozenset(capabilities)
    unknown = sorted(set(declared) - set(OPERATIONS))
    if unknown:
        raise errors.ConfigurationError(f"unknown capabilities {unknown}: choose from {OPERATIONS}")

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
        exp = {e for e in new.EXPANDED_ATTRIBUTES if e != "*"}
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
            capabilities=declared,
            searchable="search" in declared if searchable is None else searchable,
            search_key=search_key or collection,
            asset_key=asset_key or name,
            label=label,
            expanded=exp_frozen,
            write_only=frozenset(write_only),
            max_page_size=max_page_size,
            server_class=server_class or name,
            table=table,
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


def specialise(cls: type[M]) -> type[M]:
    """Class decorator: a subclass of a model, with typed fields for the server's custom attributes.

    The subclass keeps everything its base declares (endpoint, capabilities, relations, manager) and
    replaces the base in the :data:`registry`: relations, search ``assets``, ``client.tickets`` and the
    base's ``Ticket.objects`` then build instances of the subclass (still instances of the base). Its
    new fields are real fields: read from the record (not ``extra``), checked when assigned, and checked
    in queries like the built-in ones (a ``Literal`` field takes only its values). This is what the
    module ``zammad-orm codegen`` writes uses::

        @specialise
        class Ticket(zammad_orm.Ticket):
            customer_tier: Literal["gold", "silver"] | None = field()

    Raises:
        ConfigurationError: ``cls`` is not a subclass of a registered model, or has another name.

    """
    base = next((b for b in cls.__mro__[1:] if "_meta" in b.__dict__), None)
    meta: ModelMeta | None = getattr(base, "_meta", None)
    if base is None or meta is None or registry.get(meta.name) is not base:
        raise errors.ConfigurationError(f"{cls.__name__} must subclass a registered model (e.g. Ticket)")
    if cls.__name__ != meta.name:
        raise errors.ConfigurationError(f"a specialised {meta.name} must keep its name, not {cls.__name__!r}")
    new = model(
        endpoint=meta.endpoint,
        collection=meta.collection,
        capabilities=meta.capabilities,
        label=meta.label,
        searchable=meta.searchable,
        search_key=meta.search_key,
        asset_key=meta.asset_key,
        write_only=meta.write_only,
        max_page_size=meta.max_page_size,
        server_class=meta.server_class,
        manager=base._manager_class,  # type: ignore[union-attr]  # not None: checked above
        table=meta.table,
    )(cls)
    references.forget_models()  # relation targets are looked up again: the subclass is the target now
    return new
