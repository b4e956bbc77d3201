"""The Model base class: attribute access, relations, input checks, save/delete/refresh.

A resource module declares its model with the :func:`model` decorator (:mod:`zammad_orm.meta`, re-exported
here with :class:`ModelMeta`, :data:`registry` and :class:`ObjectDoesNotExist`), which makes the class a
slotted, weak-referenceable attrs class, builds its metadata, creates ``Ticket.DoesNotExist`` /
``Ticket.MultipleObjectsReturned`` and registers the class.

Every instance remembers the raw record it was last synced with (``view()``) and structures an attribute
from it when the attribute is first read; dirty tracking compares the JSON form of the attributes read
with that record, so in-place edits of dicts and lists are seen too (:mod:`zammad_orm.sync`).
I/O goes through the instance's client (the one that loaded it, else the active client of
:mod:`zammad_orm.manager`); this module never imports the client.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from zammad_orm import errors, references, sync
from zammad_orm.convert import json_copy, to_wire
from zammad_orm.fields import FIELD_KEY, FieldMeta, ManyToMany, Relation, Reverse, check_value
from zammad_orm.freshness import DEFAULT_MAX_AGE
from zammad_orm.manager import Manager, get_active_client
from zammad_orm.meta import ModelMeta, ObjectDoesNotExist, Operation, model, registry

if TYPE_CHECKING:
    from zammad_orm.interface import ClientAPI

__all__ = ["Model", "ModelMeta", "ObjectDoesNotExist", "model", "registry"]

M = TypeVar("M", bound="Model")
_setattr = object.__setattr__


class _State:
    """Per-instance bookkeeping slots that are not Zammad attributes."""

    __slots__ = ("__weakref__", "_client", "_fetched_at", "_pending", "_raw", "_ready", "_rel")

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # Mark the instance as "being built" before attrs' __init__ assigns the fields, so that
        # Model.__setattr__ can skip its checks without tripping over the unset slot.
        obj = object.__new__(cls)
        object.__setattr__(obj, "_ready", False)
        return obj


class _ManagerAccess:
    """``Model.objects``: the model's manager, unbound (uses the active client at call time).

    Once a model is specialised (:func:`~zammad_orm.meta.specialise`), its base's ``objects`` is the
    specialised model's manager: one class per model name, so one object per ticket in an identity map.
    """

    def __get__(self, instance: object, owner: type[Model]) -> Manager[Any]:
        meta = owner.__dict__.get("_meta")
        current = registry.get(meta.name) if meta is not None else None
        if current is not None and current is not owner and issubclass(current, owner):
            owner = current  # a specialised model (typed custom attributes) answers for its base
        mgr: Manager[Any] | None = owner.__dict__.get("_unbound_manager")
        if mgr is None:
            mgr = owner._manager_class(owner)
            type.__setattr__(owner, "_unbound_manager", mgr)
        return mgr


@attrs.define(slots=True, eq=False, repr=False, kw_only=True, on_setattr=attrs.setters.NO_OP)
class Model(_State):
    """Base of every Zammad resource model.

    Attributes:
        id: The server id (``None`` until created).
        extra: Attributes the model does not declare (custom object attributes); also readable and
            writable as plain attributes (``ticket.my_custom_field``).

    """

    id: int | None = attrs.field(default=None, metadata={FIELD_KEY: FieldMeta(read_only=True)})
    extra: dict[str, Any] = attrs.field(factory=dict)

    _meta: ClassVar[ModelMeta]
    _manager_class: ClassVar[type[Manager[Any]]] = Manager
    objects: ClassVar[Any] = _ManagerAccess()
    DoesNotExist: ClassVar[type[ObjectDoesNotExist]] = ObjectDoesNotExist
    MultipleObjectsReturned: ClassVar[type[errors.MultipleObjectsReturned]] = errors.MultipleObjectsReturned
    #: Keys the server adds with ``expand=true``; ``'*'`` makes :meth:`reload` always expand.
    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = ("created_by", "updated_by")
    #: Record cache size of the collection in memory (the in-process tier): -1 unbounded, 0 off, >0 LRU
    #: with that many entries.
    DEFAULT_CACHE_SIZE: ClassVar[int] = -1
    #: Entries of the collection in the persistent tier of the record cache (disk or Redis), the same
    #: way: -1 unbounded (a whole helpdesk), 0 off, >0 LRU.
    PERSISTENT_CACHE_SIZE: ClassVar[int] = -1
    #: The most bytes of the collection's disk cache; ``None``: the client's ``size_limit`` (1 GiB).
    PERSISTENT_CACHE_BYTES: ClassVar[int | None] = None
    #: Seconds a loaded record is used before it is revalidated with the server (``Client(max_age=...)``
    #: overrides it; reference tables: a day).
    MAX_AGE: ClassVar[float] = DEFAULT_MAX_AGE

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_client", None)
        object.__setattr__(self, "_raw", {})
        object.__setattr__(self, "_fetched_at", None)
        object.__setattr__(self, "_ready", True)

    # -- attribute access --------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: an empty slot (an attribute not read since the record
        # came: structure it now; ``_rel``/``_pending``: made when first used), or a custom attribute
        # (they live in ``extra``).
        meta: ModelMeta | None = getattr(type(self), "_meta", None)
        reader = meta.readers.get(name) if meta is not None else None
        if reader is not None:
            # sync.materialise, inlined for the first read of each attribute of each row of a loop.
            raw = getattr(self, "_raw", None)  # None inside __init__
            if raw is not None:
                try:
                    value = reader(raw)
                except errors.DecodeError:
                    return sync.materialise(self, name, reader)  # raises, naming the object
                _setattr(self, name, value)
                if self._raw is raw:
                    return value
                return sync.materialise(self, name, reader)  # a merge swapped the record meanwhile
        elif name in sync.LAZY_DICTS:
            made: dict[str, Any] = {}
            object.__setattr__(self, name, made)
            return made
        elif name != "extra" and not name.startswith("_"):
            extra = self.extra
            if name in extra:
                return extra[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if not self._ready or name.startswith("_"):
            if self._ready and name in _State.__slots__:
                # The library fills these with object.__setattr__; a value from outside breaks save().
                raise errors.FieldError(f"{type(self).__name__}.{name} is internal bookkeeping, not a field")
            object.__setattr__(self, name, value)
            return
        meta = type(self)._meta
        info = meta.fields.get(name)
        if info is not None:
            if info.read_only:
                raise errors.FieldError(f"{type(self).__name__}.{name} is read-only")
            object.__setattr__(self, name, check_value(f"{type(self).__name__}.{name}", info.type, value))
        elif name in meta.descriptors:
            object.__setattr__(self, name, value)
        elif isinstance(getattr(type(self), name, None), property):
            if getattr(type(self), name).fset is None:
                raise errors.FieldError(f"{type(self).__name__}.{name} is read-only")
            object.__setattr__(self, name, value)
        elif name == "extra":
            if not isinstance(value, dict):
                raise errors.FieldError(f"{type(self).__name__}.extra must be a dict, got {value!r}")
            object.__setattr__(self, name, value)
        elif name in self.extra:
            self.extra[name] = value
        else:
            raise errors.FieldError(
                f"{type(self).__name__} has no field {name!r}"
                " (custom attributes must appear in a loaded record or be set through .extra)"
            )

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self) or self.id is None:
            return False
        return bool(getattr(other, "id", None) == self.id)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id)) if self.id is not None else id(self)

    def __repr__(self) -> str:
        try:
            label = self._label()
        except errors.DecodeError:  # a malformed label value: the repr still shows the id
            label = None
        shown = f" {label!r}" if label not in (None, "") else ""
        return f"<{type(self).__name__} {self.id}{shown}>"

    def _label(self) -> Any:
        return getattr(self, self._meta.label, None)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle/copy the raw record and the current values (local changes included), not the client:
        # an unpickled object uses the active client, and is not in any identity map.
        # Only the attributes read so far: the others are what the raw record says.
        values = sync.filled_values(self, [n for n, info in self._meta.fields.items() if not info.read_only])
        return (_restore, (type(self), dict(self._raw), values, dict(self.extra), dict(self._pending)))

    @property
    def pk(self) -> int | None:
        """The primary key (same as ``id``)."""
        return self.id

    # -- seed API ----------------------------------------------------------------------------------

    @property
    def client(self) -> ClientAPI:
        """The client this object was loaded through (else the active client)."""
        return self._client if self._client is not None else get_active_client()

    @property
    def parent(self) -> Manager[Any]:
        """The collection this object belongs to (``client.tickets`` for a ticket)."""
        manager: Manager[Any] = type(self).objects.using(self.client)
        return manager

    @property
    def url(self) -> str:
        """The API endpoint URL of this object."""
        return f"{self.parent.url}/{self.id}"

    def view(self) -> Mapping[str, Any]:
        """Return a read-only mapping of the object's properties as the REST API returned them."""
        return MappingProxyType(self._raw)

    def last_request_age_s(self) -> float | None:
        """Return the seconds since this object's data came from the server (``None``: never)."""
        fetched: float | None = self._fetched_at
        return None if fetched is None else max(0.0, time.time() - fetched)

    def reload(self, expand: bool = False) -> None:
        """Update the object from the server, discarding local changes.

        Args:
            expand: Ask for the expanded form (names of related objects); always on when
                ``EXPANDED_ATTRIBUTES`` contains ``'*'``.

        """
        expand = expand or "*" in self.EXPANDED_ATTRIBUTES
        record = self.client.fetch_record(type(self), self._require_id(), expand=expand)
        self._absorb(record, keep=())

    def _load_expanded(self) -> None:
        """Merge the expanded record from the server, keeping local unsaved changes."""
        record = self.client.fetch_record(type(self), self._require_id(), expand=True)
        self._absorb(record, keep=self._dirty_names())

    def refresh_from_db(self) -> None:
        """Reload the object from the server, discarding local changes (Django's name)."""
        self.reload()

    def update(self: M, **kwargs: Any) -> M:
        """Update the given properties on the server (names accepted for references).

        Args:
            kwargs: Values to change, e.g. ``title="x"``, ``state="closed"``, ``owner=agent``.

        Returns:
            The updated object (this same instance: the identity map keeps one per id).

        """
        path = self._path("update")
        payload = self._input(kwargs)
        self._check_references(payload, self.client)
        record = sync.written_record(payload, self.client.request("PUT", path, json=payload))
        keep = [n for n in self._dirty_names() if n not in kwargs]
        self._absorb(record, keep=keep)
        self._mark_touched(self.client)
        return self

    def delete(self) -> None:
        """Delete the object on the server (needs the respective permission)."""
        path = self._path("delete")
        client = self.client
        client.request("DELETE", path)
        client.forget(type(self), self._require_id())
        self._mark_touched(client)

    def save(self, *, update_fields: Iterable[str] | None = None, if_unmodified: bool = False) -> None:
        """Create or update the object on the server, sending only what changed.

        Args:
            update_fields: Restrict the update to these attribute names.
            if_unmodified: First check that the server's ``updated_at`` still equals the loaded one;
                raise :class:`~zammad_orm.errors.StaleObjectError` if it moved. (Zammad has no
                conditional PUT, so a write in the short window between check and PUT still wins.)

        Raises:
            UnsupportedOperation: Zammad cannot create (a new object) or update this resource.
            FieldError: ``update_fields`` names an unknown field.
            StaleObjectError: ``if_unmodified`` found a newer version on the server.

        A failed save leaves the pending changes on the object.

        """
        self._meta.require("create" if self.id is None else "update")
        if self.id is None:
            self._create()
            return
        changes = self.changes()
        if update_fields is not None:
            wanted = set(update_fields)
            known = set(self._meta.fields) | set(self._meta.descriptors) | set(self.extra)
            unknown = sorted(wanted - known)
            if unknown:
                raise errors.FieldError(f"{type(self).__name__} has no field(s) {', '.join(unknown)}")
            wires = {self._wire_of(n) for n in wanted}
            changes = {k: v for k, v in changes.items() if k in wires or self._pending_owner(k) in wanted}
        if not changes:
            return
        client = self.client
        self._check_references(changes, client)
        if if_unmodified:
            current = client.fetch_record(type(self), self._require_id())
            theirs = current.get("updated_at") if isinstance(current, dict) else None
            if theirs != self._raw.get("updated_at"):
                raise errors.StaleObjectError(
                    f"{type(self).__name__} {self.id} changed on the server"
                    f" (updated_at {self._raw.get('updated_at')} -> {theirs})"
                )
        record = sync.written_record(changes, client.request("PUT", self._path("update"), json=changes))
        sent_names = {self._name_of(k) for k in changes}
        keep = [n for n in self._dirty_names() if n not in sent_names]
        pending = sync.filled(self, "_pending")
        if pending is not sync.ABSENT:
            for key in changes:
                pending.pop(key, None)
        self._absorb(record, keep=keep)
        self._mark_touched(client)

    def _create(self) -> None:
        payload: dict[str, Any] = {}
        for name, info in self._meta.fields.items():
            value = getattr(self, name)
            if info.read_only or value is None:
                continue
            if isinstance(value, (list, dict)) and not value:
                continue
            payload[info.wire] = to_wire(value)
        payload.update(json_copy(self.extra))
        payload.update(self._pending)
        self._check_references(payload, self.client)
        try:
            record = self.client.request("POST", self._meta.rest_endpoint("create"), json=payload)
        except errors.OutcomeUnknown as exc:
            check = type(self).objects.using(self.client)._how_to_check(payload)
            raise exc.about(f"{type(self).__name__} create", check) from exc
        self._pending.clear()
        self._absorb(record, keep=())
        self._mark_touched(self.client)

    # -- dirty tracking ----------------------------------------------------------------------------

    def changes(self) -> dict[str, Any]:
        """Return the wire payload of everything changed since the object was loaded or saved."""
        return sync.changes(self)

    @property
    def is_dirty(self) -> bool:
        """Whether the object has changes not yet saved."""
        return bool(self.changes())

    def _dirty_names(self) -> list[str]:
        return [self._name_of(k) for k in self.changes()]

    def _wire_of(self, name: str) -> str:
        info = self._meta.fields.get(name)
        if info is not None:
            return info.wire
        rel = self._meta.descriptors.get(name)
        if rel is not None and rel.local is not None:
            return self._wire_of(rel.local)
        return name

    def _name_of(self, wire: str) -> str:
        return self._meta.by_wire.get(wire, wire)

    def _pending_owner(self, key: str) -> str:
        # A name sent for a relation ("state": "closed") belongs to the relation and its id field.
        rel = self._meta.descriptors.get(key)
        return rel.name if rel is not None else key

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def _from_record(
        cls: type[M], record: Mapping[str, Any], client: ClientAPI | None, *, copy: bool = True
    ) -> M:
        """Build a fresh instance from a wire record (the client's ``load`` calls this).

        ``copy=False``: the instance keeps ``record`` itself (one just decoded, that nobody else changes).
        """
        return sync.build(cls, record, client, copy=copy)

    def _after_load(self) -> None:
        """Run after the instance's values were (re)loaded from a record."""

    def _merge(
        self, record: Mapping[str, Any], *, keep: Iterable[str] = (), fetched_at: float | None = None
    ) -> None:
        """Merge a (possibly partial) server record into this instance.

        Fields named in ``keep`` (local unsaved changes) keep their current values.
        """
        sync.merge(self, record, keep=keep, fetched_at=fetched_at)

    def _holds(self, record: Mapping[str, Any]) -> bool:
        """Whether the raw record already contains ``record`` (nothing to merge)."""
        return sync.holds(self, record)

    def _absorb(self, record: Any, *, keep: Iterable[str]) -> None:
        if not isinstance(record, dict):
            raise errors.DecodeError(
                f"expected a {type(self).__name__} object from the server, got {record!r}"
            )
        self._merge(record, keep=keep)
        self.client.adopt(self)

    def _touches(self) -> Iterable[tuple[str, Any]]:
        """Name the records ``(model name, id)`` a write of this object changes on the server besides it.

        Zammad touches them (``updated_at``, counters): an article its ticket, a ticket its customer.
        """
        return ()

    def _mark_touched(self, client: ClientAPI) -> None:
        """Make the client's copies of the records :meth:`_touches` names due for revalidation."""
        for name, pk in self._touches():
            if type(pk) is int and name in registry:
                client.mark_stale(registry[name], pk)

    # -- relations ---------------------------------------------------------------------------------

    def _get_relation(self, relation: Relation, memo: dict[Any, Any] | None = None) -> Any:
        """Read a relation (kept once resolved); ``memo`` shares resolved keys across objects of a batch.

        ``_rel`` keeps a reverse relation's list, a many-to-many relation's ``(ids, objects)`` and a
        foreign key's object (``None`` is not kept): the object's id tells whether the key still matches.
        """
        target = registry[relation.target]
        known = self._rel
        hit = known.get(relation.name)
        if isinstance(relation, Reverse):
            if hit is None:
                hit = self.client.list_related(target, relation.path.format(id=self._require_id()))
                known[relation.name] = hit
            return hit
        assert relation.local is not None
        key = getattr(self, relation.local)
        many = isinstance(relation, ManyToMany)
        if many:
            key = tuple(key or ())
            if hit is not None and hit[0] == key:
                return hit[1]
        elif key is None:
            return None
        elif hit is not None and hit.id == key:
            return hit
        value: Any
        if memo is not None and key in memo:
            value = memo[key]
        elif many:
            value = self.client.resolve_many(
                target, list(key), via=self._via(relation, memo), max_age=self._batch_age(memo)
            )
        else:
            hint = self._raw.get(relation.name)
            value = self.client.resolve(
                target, key, hint=hint, via=self._via(relation, memo), max_age=self._batch_age(memo)
            )
        if memo is not None:
            memo[key] = value
        known[relation.name] = (key, value) if many else value
        return value

    @staticmethod
    def _batch_age(memo: dict[Any, Any] | None) -> float | None:
        """Return the max_age of a read: any copy in a ``select_related`` batch (it revalidated them)."""
        return None if memo is None else math.inf

    def _via(self, relation: Relation, memo: dict[Any, Any] | None) -> tuple[str, str] | None:
        """Name a relation read of its own for the N+1 warning (a ``select_related`` batch is none)."""
        return None if memo is not None else (type(self).__name__, relation.name)

    def _set_relation(self, relation: Relation, value: Any) -> None:
        local = relation.local
        assert local is not None
        payload = self._relation_input(relation, value)  # checks the value; names stay names
        self._pending.pop(relation.name, None)
        self._pending.pop(local, None)
        if local in payload and not isinstance(payload[local], str):
            object.__setattr__(self, local, payload[local])  # ids (or None): set the id field
        else:
            self._pending.update(payload)  # names (and "guess:<email>") are resolved by the server on save
        self._rel.pop(relation.name, None)

    # -- input -------------------------------------------------------------------------------------

    @classmethod
    def _input(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """Translate create/update keyword arguments to a wire payload, checking names and types.

        Relations accept instances, ids or names (Zammad resolves names server-side); a user reference
        ``"guess:<email>"`` goes to ``<relation>_id`` as Zammad expects.
        """
        meta = cls._meta
        out: dict[str, Any] = {}
        for key, value in values.items():
            info = meta.fields.get(key)
            if info is not None:
                if info.read_only and key not in meta.write_only:
                    raise errors.FieldError(f"{cls.__name__}.{key} is read-only (the server maintains it)")
                out[info.wire] = to_wire(check_value(f"{cls.__name__}.{key}", info.type, value))
                continue
            rel = meta.descriptors.get(key)
            if rel is not None and rel.local is not None:
                out.update(cls._relation_input(rel, value))
                continue
            if key in meta.write_only:
                out[key] = cls._write_only_input(key, value)
                continue
            if key == "extra" and isinstance(value, Mapping):
                out.update(json_copy(dict(value)))
                continue
            if key in meta.custom_keys:
                out[key] = to_wire(value)
                continue
            raise errors.FieldError(
                f"{cls.__name__} has no field {key!r} (pass custom attributes as extra={{...}})"
            )
        return out

    @classmethod
    def _check_references(cls, payload: Mapping[str, Any], client: ClientAPI) -> None:
        """Refuse names of reference tables the server does not have (``state="opne"``), before a write.

        Raises:
            FieldError: naming the field, the name and the closest names (``did you mean 'open'?``).

        """
        references.check_payload(cls, payload, client.facts)

    @classmethod
    def _relation_input(cls, rel: Relation, value: Any) -> dict[str, Any]:
        assert rel.local is not None
        if isinstance(rel, ManyToMany):
            if not isinstance(value, (list, tuple)):
                raise errors.FieldError(f"{cls.__name__}.{rel.name}: expected a list, got {value!r}")
            if value and all(isinstance(v, str) for v in value):
                return {rel.name: list(value)}
            return {rel.local: [_ref_id(cls, rel, v) for v in value]}
        if value is None:
            return {rel.local: None}
        if isinstance(value, str):
            if value.startswith("guess:"):
                return {rel.local: value}
            return {rel.name: value}
        return {rel.local: _ref_id(cls, rel, value)}

    @classmethod
    def _write_only_input(cls, key: str, value: Any) -> Any:
        """Convert an input-only value (resources override for e.g. a ticket's ``article``)."""
        return to_wire(value)

    # -- paths -------------------------------------------------------------------------------------

    def _require_id(self) -> int:
        if self.id is None:
            raise errors.FieldError(f"this {type(self).__name__} has no id yet (save it first)")
        return self.id

    def _path(self, operation: Operation) -> str:
        """Return the REST path of this object for ``operation`` (refused first if the resource lacks it)."""
        return f"{self._meta.rest_endpoint(operation)}/{self._require_id()}"


def _restore(
    cls: type[M], raw: dict[str, Any], values: dict[str, Any], extra: dict[str, Any], pending: dict[str, Any]
) -> M:
    """Rebuild a pickled model instance (see ``Model.__reduce__``)."""
    obj = cls._from_record(raw, None)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, "extra", extra)
    obj._pending.update(pending)
    return obj


def _ref_id(cls: type[Model], rel: Relation, value: Any) -> int:
    if isinstance(value, Model):
        if type(value).__name__ != rel.target:
            raise errors.FieldError(f"{cls.__name__}.{rel.name}: expected a {rel.target}, got {value!r}")
        return value._require_id()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise errors.FieldError(
        f"{cls.__name__}.{rel.name}: expected a {rel.target}, an id or a name, got {type(value).__name__}"
    )
