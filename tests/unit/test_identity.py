"""IdentityMap: weak values keyed by (exact class, id), thread-safe."""

from __future__ import annotations

import gc
import threading
from typing import Any

import attrs
import pytest

from zammad_orm.errors import FieldError
from zammad_orm.identity import IdentityMap


@attrs.define(slots=True)
class Ticket:
    id: int
    title: str = ""


@attrs.define(slots=True)
class User:
    id: int


@attrs.define(slots=True)
class SpecialTicket(Ticket):
    pass


@attrs.define(slots=True, weakref_slot=False)
class NoWeakref:
    id: int


class Plain:
    def __init__(self, pk: Any) -> None:
        self.id = pk


def test_add_and_get_by_exact_class_and_id() -> None:
    imap = IdentityMap()
    t, u = Ticket(1, "a"), User(1)
    imap.add(t)
    imap.add(u)
    assert imap.get(Ticket, 1) is t
    assert imap.get(User, 1) is u
    assert imap.get(Ticket, 2) is None
    assert imap.get(SpecialTicket, 1) is None  # the key is the exact class
    assert len(imap) == 2
    assert (Ticket, 1) in imap
    assert set(imap) == {(Ticket, 1), (User, 1)}
    assert imap.objects(Ticket) == [t]
    assert {id(o) for o in imap.objects()} == {id(t), id(u)}


def test_add_replaces_and_setdefault_keeps_the_first() -> None:
    imap = IdentityMap()
    first, second = Ticket(5, "first"), Ticket(5, "second")
    assert imap.setdefault(first) is first
    assert imap.setdefault(second) is first
    imap.add(second)
    assert imap.get(Ticket, 5) is second


def test_values_are_weak() -> None:
    imap = IdentityMap()
    t = Ticket(1)
    imap.add(t)
    keep = Ticket(2)
    imap.add(keep)
    del t
    gc.collect()
    assert imap.get(Ticket, 1) is None
    assert len(imap) == 1
    assert imap.get(Ticket, 2) is keep


def test_discard_and_clear() -> None:
    imap = IdentityMap()
    objs = [Ticket(i) for i in range(5)]
    for o in objs:
        imap.add(o)
    imap.discard(Ticket, 3)
    imap.discard(Ticket, 99)  # unknown: no error
    assert imap.get(Ticket, 3) is None
    assert len(imap) == 4
    imap.clear()
    assert len(imap) == 0
    assert imap.get(Ticket, 1) is None


@pytest.mark.parametrize("pk", [None, "1", True, 1.0])
def test_objects_without_integer_id_are_refused(pk: Any) -> None:
    with pytest.raises(FieldError, match="integer id"):
        IdentityMap().add(Plain(pk))


def test_unweakrefable_objects_get_a_clear_error() -> None:
    with pytest.raises(FieldError, match="weakref_slot"):
        IdentityMap().add(NoWeakref(1))
    with pytest.raises(FieldError, match="weakref_slot"):
        IdentityMap().setdefault(NoWeakref(1))


def test_setdefault_is_atomic_across_threads() -> None:
    imap = IdentityMap()
    results: list[Ticket] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def load(i: int) -> None:
        start.wait()
        for pk in range(200):
            got = imap.setdefault(Ticket(pk, f"thread {i}"))
            with lock:
                results.append(got)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # One object per id, whatever thread won, and every thread got that one object.
    by_pk: dict[int, set[int]] = {}
    for obj in results:
        by_pk.setdefault(obj.id, set()).add(id(obj))
    assert len(by_pk) == 200
    assert all(len(ids) == 1 for ids in by_pk.values())
    assert len(imap) == 200


def test_repr_counts() -> None:
    imap = IdentityMap()
    t = Ticket(1)
    imap.add(t)
    assert repr(imap) == "<IdentityMap of 1 objects>"
