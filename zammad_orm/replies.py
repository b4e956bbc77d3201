"""Decoding search replies of every Zammad generation into objects, ids and totals.

Zammad answers a search in one of three shapes: 6.0–6.4 a dict of ids under the model's key
(``tickets``) with the records in ``assets`` (``full=true``), or a list of records (``expand=true``, and
users and organizations); 6.5+ ``record_ids`` with ``assets`` and, when asked, ``total_count``. The shape
tells the client its server's reply generation (:attr:`~zammad_orm.facts.ServerFacts.generation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .errors import DecodeError
from .resolver import related_model

if TYPE_CHECKING:
    from .interface import ClientAPI, ModelLike

__all__ = ["Page", "attach_assets", "decode_search", "has_rows", "reply_ids"]

M = TypeVar("M", bound="ModelLike")


@attrs.frozen
class Page:
    """The objects of one search reply (and the total, when the server sent one).

    ``assets``: the related records the reply carried and the client loaded with it (``None`` for a
    stream, which only attaches them): ``select_related`` needs no lookup of their freshness.
    """

    rows: list[Any]
    total: int | None = None
    assets: Mapping[str, Any] | None = None


def reply_ids(model: Any, reply: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """Return ``(key, ids)`` of a dict search reply: the model's key, ``record_ids`` or any ``*_ids``."""
    for key in (model._meta.search_key, "record_ids", *(k for k in reply if k.endswith("_ids"))):
        ids = reply.get(key)
        if isinstance(ids, list):
            return key, ids
    return None


def decode_search(
    client: ClientAPI, model: type[M], reply: Any, *, expanded: bool = False, stream: bool = False
) -> Page:
    """Load the objects of a search reply of any generation (dict with ids + assets, list, full).

    Related objects in ``assets`` (users, groups, organizations) are attached to the rows that refer to
    them (``t.owner`` is then read without a lookup) and go to the record cache, where later relation
    reads find them without a request. With ``stream`` (``QuerySet.iterator()``) they are attached only:
    a stream keeps no more than its current page alive, whatever the number of rows.

    Raises:
        DecodeError: the reply has none of the known shapes.

    """
    meta = model._meta
    facts = client.facts
    if isinstance(reply, list):
        if meta.name == "Ticket" and not expanded:
            facts.note_generation("unified")  # before 6.5 a ticket search answered a dict
        return Page(client.load_many(model, reply, owned=True))
    found = reply_ids(model, reply) if isinstance(reply, dict) else None
    if found is None:
        raise DecodeError(f"unexpected {meta.name} search reply: {str(reply)[:200]!r}")
    key, ids = found
    if key == meta.search_key:
        facts.note_generation("pre65")
    elif key == "record_ids" and meta.name == "Ticket":
        facts.note_generation("unified")
    assets = reply.get("assets") or {}
    own: Mapping[str, Any] = {}
    if isinstance(assets, Mapping):
        own = assets.get(meta.asset_key) or {}
        if not stream:
            client.load_assets({k: v for k, v in assets.items() if k != meta.asset_key})
    keys = [str(pk) for pk in ids]
    if all(k in own for k in keys):  # the usual case: one load of the page (one lock, one cache write)
        rows = client.load_many(model, [own[k] for k in keys])
    else:
        rows = [client.load(model, own[k]) if k in own else client.resolve(model, int(k)) for k in keys]
    if isinstance(assets, Mapping) and rows:
        attach_assets(client, rows, assets, merged=not stream)
    total = reply.get("total_count")
    loaded = assets if isinstance(assets, Mapping) and not stream else None
    return Page(rows, total if isinstance(total, int) else None, loaded)


def attach_assets(client: ClientAPI, rows: list[Any], assets: Mapping[str, Any], *, merged: bool) -> None:
    """Give each row the related objects its page's ``assets`` hold, for its belongs-to relations.

    The related objects are built once per page (through the identity map, so a live one is reused) and
    kept by the rows that refer to them, as a relation read keeps what it resolved. They are not written
    to the record cache here (:meth:`~zammad_orm.interface.ClientAPI.load_assets` does that). ``merged``:
    ``load_assets`` has merged these assets into the live objects already (not so when streaming).
    Relations to a reference table, which Zammad leaves out of ``assets`` (a ticket's state and
    priority), get the objects the identity map holds. The ids are read from the rows' records: a row
    whose id was changed locally since is checked when the relation is read (the kept object's id must
    match), so nothing is attached wrongly.
    """
    model = type(rows[0])
    meta = model._meta
    for rel in meta.relations.values():
        if rel.kind != "fk" or rel.local is None:
            continue
        target = related_model(model, rel.target)
        if target is None:
            continue
        records = assets.get(target._meta.asset_key)
        if not isinstance(records, Mapping) or not records:
            if not target._meta.table:
                continue
            records = None  # a reference table: the objects the identity map holds
        info = meta.fields.get(rel.local)
        wire = info.wire if info is not None else rel.local
        built: dict[int, Any] = {}
        for row in rows:
            pk = row._raw.get(wire)
            kept = row._rel
            if type(pk) is not int or rel.name in kept:
                continue
            obj = built.get(pk)
            if obj is None:
                if records is None:
                    obj = client.identity.get(target, pk)
                    if obj is None:
                        continue
                else:
                    record = records.get(str(pk))
                    if not isinstance(record, Mapping):
                        continue
                    live = client.identity.get(target, pk) if merged else None
                    obj = live if live is not None else client.load(target, record, store=False)
                built[pk] = obj
            kept[rel.name] = obj


def has_rows(reply: Any) -> bool:
    """Return whether a search or index reply holds any row (or a positive total)."""
    if isinstance(reply, list):
        return bool(reply)
    if isinstance(reply, dict):
        return any(isinstance(v, list) and v for k, v in reply.items() if k != "assets") or bool(
            reply.get("total_count")
        )
    return False
