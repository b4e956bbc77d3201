"""A model instance and its raw record: lazy structuring, dirty tracking and merging of server records.

An instance built from a server record keeps that record (``view()``) and structures an attribute only
when it is first read: the attribute's slot stays empty until then, and ``Model.__getattr__`` (which
Python calls for an empty slot) fills it through :func:`materialise`. Loading a page of records thus
costs a dict copy per record; the converter runs only for the attributes a program reads.

An empty slot means "what the raw record says". So dirty tracking (:func:`changes`) compares only the
filled slots with the record (in-place edits of a list or dict that was read are seen, an attribute never
read cannot have changed), and a merge empties the slots of the attributes it refreshes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from zammad_orm.convert import field_reader, json_copy, to_wire
from zammad_orm.dates import iso_instant
from zammad_orm.errors import DecodeError
from zammad_orm.fields import FieldInfo, Reverse
from zammad_orm.freshness import fetched_now

if TYPE_CHECKING:
    from zammad_orm.interface import ClientAPI
    from zammad_orm.models import Model

__all__ = [
    "ABSENT",
    "LAZY_DICTS",
    "build",
    "changes",
    "filled",
    "filled_values",
    "holds",
    "materialise",
    "merge",
    "readers",
    "written_record",
]

M = TypeVar("M", bound="Model")

#: Reads one attribute from a raw record.
Reader = Callable[[Mapping[str, Any]], Any]

#: What :func:`filled` returns for an empty slot.
ABSENT: Any = object()
#: Bookkeeping dicts of an instance (resolved relations, pending names) that are made when first used:
#: most loaded objects never need them.
LAZY_DICTS = frozenset({"_rel", "_pending"})


def readers(cls: type, fields: Mapping[str, FieldInfo], skip: frozenset[str]) -> dict[str, Reader]:
    """Return a reader for every attrs attribute of the model ``cls``.

    Fields read their wire key; ``extra`` collects the keys that are neither fields nor in ``skip``
    (the names ``expand=true`` adds); any other attribute gets its default.
    """
    known = frozenset(info.wire for info in fields.values()) | skip
    out: dict[str, Reader] = {}
    for a in attrs.fields(cls):
        info = fields.get(a.name)
        if info is not None:
            out[a.name] = field_reader(cls.__name__, a.name, info.type, info.wire, a.default)
        elif a.name == "extra":
            out[a.name] = lambda raw: {k: json_copy(v) for k, v in raw.items() if k not in known}
        else:
            out[a.name] = field_reader(cls.__name__, a.name, a.type, f"<{a.name}>", a.default)
    return out


def build(cls: type[M], record: Mapping[str, Any], client: ClientAPI | None, *, copy: bool = True) -> M:
    """Build an instance of ``cls`` from a wire record without structuring its attributes yet.

    ``copy=False`` keeps ``record`` itself as the raw record (a dict nobody else changes, such as one
    just decoded from a reply).
    """
    meta = cls._meta
    obj = object.__new__(cls)
    put = object.__setattr__
    raw = record if not copy and type(record) is dict else dict(record)
    put(obj, "_raw", raw)
    pk = raw.get("id")
    if type(pk) is int:
        put(obj, "id", pk)  # the identity map's key: set at once (anything else is checked when read)
    if not meta.not_custom.issuperset(raw):
        meta.custom_keys.update(raw.keys() - meta.not_custom)
    put(obj, "_client", client)
    put(obj, "_fetched_at", fetched_now())
    put(obj, "_ready", True)
    obj._after_load()
    return obj


def materialise(obj: Model, name: str, reader: Reader) -> Any:
    """Structure attribute ``name`` from the raw record, fill its slot and return the value.

    Safe against a :func:`merge` in another thread (objects of the identity map are shared): the slot is
    filled, then the record is checked to be the one the value was read from; if a merge swapped it
    meanwhile, the value is dropped and read again. :func:`merge` swaps the record *before* it empties
    the slots, so a value read from the old record can never stay behind in a slot.
    """
    get = object.__getattribute__
    while True:
        raw = get(obj, "_raw")
        try:
            value = reader(raw)
        except DecodeError as exc:
            raise DecodeError(f"{exc} ({_where(obj, raw)})") from exc
        object.__setattr__(obj, name, value)
        if get(obj, "_raw") is raw:
            return value
        with contextlib.suppress(AttributeError):  # emptied by the merge already
            object.__delattr__(obj, name)


def _where(obj: Model, raw: Mapping[str, Any]) -> str:
    """Name the object a malformed value belongs to, and the URL it is read from."""
    meta = obj._meta
    pk = raw.get("id")
    client = object.__getattribute__(obj, "_client")
    if type(pk) is int and client is not None and meta.endpoint:
        return f"{meta.name} {pk}, {client.api_url}/{meta.endpoint}/{pk}"
    return f"{meta.name} {pk}" if pk is not None else f"a {meta.name} record without an id"


def filled(obj: Model, name: str) -> Any:
    """Return the value in the slot of ``name``, or a private marker when the slot is still empty."""
    try:
        return object.__getattribute__(obj, name)
    except AttributeError:
        return ABSENT


def filled_values(obj: Model, names: Iterable[str]) -> dict[str, Any]:
    """Return ``{name: value}`` for the names whose slots are filled (read or assigned)."""
    values = {name: filled(obj, name) for name in names}
    return {name: value for name, value in values.items() if value is not ABSENT}


def changes(obj: Model) -> dict[str, Any]:
    """Return the wire payload of everything changed since ``obj`` was loaded or saved."""
    raw = obj._raw
    out: dict[str, Any] = {}
    for name, info in obj._meta.fields.items():
        if info.read_only:
            continue
        value = filled(obj, name)
        if value is ABSENT:
            continue  # never read since the record came: still what the record says
        wire = to_wire(value)
        if info.wire in raw:
            if wire != raw[info.wire]:
                out[info.wire] = wire
        elif wire is not None and wire != [] and wire != {}:
            out[info.wire] = wire
    extra = filled(obj, "extra")
    if extra is not ABSENT:
        for key, value in extra.items():
            if raw.get(key, ABSENT) != value:
                out[key] = json_copy(value)
    pending = filled(obj, "_pending")
    if pending is not ABSENT:
        out.update(pending)
    return out


def holds(obj: Model, record: Mapping[str, Any]) -> bool:
    """Whether the raw record of ``obj`` already contains ``record`` (nothing to merge)."""
    raw: dict[str, Any] = obj._raw
    return record.items() <= raw.items()  # a C-level subset test of the (key, value) pairs


def merge(
    obj: Model, record: Mapping[str, Any], *, keep: Iterable[str] = (), fetched_at: float | None = None
) -> None:
    """Merge a (possibly partial) server record into ``obj``.

    Attributes named in ``keep`` (local unsaved changes) keep their current values; the others are read
    again from the merged record when next used. A record whose ``updated_at`` is older than the one
    ``obj`` holds is an answer that was overtaken on the way (a page read while another thread saved):
    it is not merged.
    """
    if _older(record.get("updated_at"), obj._raw.get("updated_at")):
        return
    meta = obj._meta
    raw = {**obj._raw, **record}
    for key in _stale_expansions(obj, record):
        raw.pop(key, None)
    keep = set(keep)
    extra = filled(obj, "extra")
    kept_extra = {} if extra is ABSENT else {k: extra[k] for k in keep if k in extra}
    if not meta.not_custom.issuperset(raw):
        meta.custom_keys.update(raw.keys() - meta.not_custom)
    # The record first, then the slots: a reader in another thread that filled a slot from the old record
    # sees the swap and reads again (materialise), or has its slot emptied here.
    object.__setattr__(obj, "_raw", raw)
    for name in meta.readers:
        if name not in keep:
            with contextlib.suppress(AttributeError):  # an empty slot: never read, nothing to forget
                object.__delattr__(obj, name)
    pk = raw.get("id")
    if type(pk) is int and "id" not in keep:
        object.__setattr__(obj, "id", pk)
    if kept_extra:
        obj.extra.update(kept_extra)
    object.__setattr__(obj, "_fetched_at", fetched_at if fetched_at is not None else fetched_now())
    # Reverse relations are lists the server may have changed; id-based ones re-check their key.
    known = filled(obj, "_rel")
    if known is not ABSENT:
        for name, rel in meta.descriptors.items():
            if isinstance(rel, Reverse):
                known.pop(name, None)
    obj._after_load()


def _older(new: Any, held: Any) -> bool:
    """Whether the ``updated_at`` of a record is before the one an object holds (both readable)."""
    if not isinstance(new, str) or not isinstance(held, str) or new == held:
        return False
    new_at, held_at = iso_instant(new), iso_instant(held)
    return new_at is not None and held_at is not None and new_at < held_at


def _stale_expansions(obj: Model, record: Mapping[str, Any]) -> list[str]:
    """List the expanded names whose ids the new record changes (``state`` after ``state_id``)."""
    meta = obj._meta
    old = obj._raw
    stale = []
    for key in meta.expanded:
        if key not in old or key in record:
            continue
        rel = meta.descriptors.get(key)
        sources = [rel.local] if rel is not None and rel.local else []
        sources += [f"{key}_id", f"{key}_ids", f"{key.removesuffix('s')}_ids"]
        if any(src in record and record[src] != old.get(src) for src in sources):
            stale.append(key)
    return stale


def written_record(sent: Mapping[str, Any], reply: Any) -> Any:
    """Return the record the reply to a write stands for.

    Zammad acknowledges some writes with ``{}`` or another object without an ``id`` (an update of
    ``tag_list``): the record is then what was sent, with what the reply holds over it. Any other reply
    (a full record) is returned as it is.
    """
    if isinstance(reply, dict) and "id" not in reply:
        return {**sent, **reply}
    return reply
