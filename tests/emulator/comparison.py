"""Comparison of a recorded answer with the emulator's: key sets, JSON types, learned ids, tolerances.

The tolerances and their reasons are listed in :mod:`tests.emulator.recordings`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.recordings import (
    CHILD_KINDS,
    EXTERNAL_IDS,
    LEARNED,
    LIST_KEYS,
    MISSING,
    NATURAL_KEYS,
    SEED_IDS,
    Exchange,
    IdMap,
    id_kind,
    response_kind,
)

# --------------------------------------------------------------------------------------------------
# Comparison


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict"


def _id_keyed(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k.isdigit() for k in value)


@dataclass
class Comparison:
    """Walks a recorded and an emulator JSON value side by side, learning ids and noting mismatches."""

    ids: IdMap
    #: created_at of the first object the recording created: records older than this are history (T1).
    epoch: str | None
    mismatches: list[str] = field(default_factory=list)
    #: Every difference a tolerance let pass, with the tolerance's name (for review: ``--tolerances``).
    tolerated: list[str] = field(default_factory=list)
    #: How many values of each kind were compared: ``nulls`` (null on either side), ``strings`` (empty or
    #: not), ``booleans``, ``id lists`` (lengths, and ids where learned).
    checked: Counter[str] = field(default_factory=Counter)

    def note(self, where: str, message: str) -> None:
        self.mismatches.append(f"{where or '<body>'}: {message}")

    def tolerate(self, rule: str, where: str, message: str) -> None:
        self.tolerated.append(f"{rule} {where or '<body>'}: {message}")

    def historic(self, record: dict[str, Any], kind: str | None) -> bool:
        created = record.get("created_at")
        if isinstance(created, str):
            return self.epoch is None or created < self.epoch
        rid = record.get("id")
        return kind is None or rid in SEED_IDS.get(kind, ()) or not self.ids.known(kind, rid)

    def walk(self, rec: Any, act: Any, kind: str | None, where: str, historic: bool) -> None:
        rtype, atype = json_type(rec), json_type(act)
        if "null" in (rtype, atype) or rtype == "str":
            self.checked["nulls" if "null" in (rtype, atype) else "strings"] += 1
        elif rtype == "bool":
            self.checked["booleans"] += 1
        if rtype != atype:
            if rec == "" or act == "":
                # Never tolerated: "" is the default of a string column, not something history sets.
                self.note(where, f"recorded {_short(rec)}, emulator {_short(act)} (an empty-string default)")
                return
            if (rtype == "null" or atype == "null") and historic:
                # T1: a value of the recorded server's history
                self.tolerate("T1", where, f"recorded {rtype}, emulator {atype}")
                return
            self.note(where, f"recorded {rtype}, emulator {atype}")
            return
        empty_differs = rtype == "str" and (rec == "") != (act == "")
        if empty_differs or (rtype == "bool" and rec != act):
            self.value_differs(where, rec, act, historic)
        if rtype == "dict":
            if _id_keyed(rec) or _id_keyed(act):
                self.walk_id_map(rec, act, kind, where, historic)
            else:
                self.walk_record(rec, act, kind, where, historic)
        elif rtype == "list":
            self.walk_list(rec, act, kind, where, historic)

    def value_differs(self, where: str, rec: Any, act: Any, historic: bool) -> None:
        """An empty string against a non-empty one, or another boolean: defaults and flags must agree."""
        if historic:  # T1: the recorded server's history filled in or switched the value
            self.tolerate("T1", where, f"recorded {_short(rec)}, emulator {_short(act)}")
        else:
            self.note(where, f"recorded {_short(rec)}, emulator {_short(act)}")

    def walk_record(
        self, rec: dict[str, Any], act: dict[str, Any], kind: str | None, where: str, historic: bool
    ) -> None:
        if isinstance(rec.get("id"), int):
            self.ids.learn(kind, rec["id"], act.get("id"))
            historic = self.historic(rec, kind)
        if kind == "Ticket" and isinstance(rec.get("number"), str):
            self.ids.learn("TicketNumber", rec["number"], act.get("number"))
        missing, extra = sorted(rec.keys() - act.keys()), sorted(act.keys() - rec.keys())
        if missing:
            self.note(where, f"keys missing in the emulator's answer: {missing}")
        if extra:
            self.note(where, f"keys the recording does not have: {extra}")
        for key in rec.keys() & act.keys():
            sub = f"{where}.{key}" if where else key
            rv, av = rec[key], act[key]
            if key == "preferences" and historic:
                # T1: a free-form hash filled by the recorded server's UI and jobs
                if json_type(rv) != json_type(av) or (isinstance(rv, dict) and rv.keys() != av.keys()):
                    self.tolerate("T1", sub, f"recorded {_short(rv)}, emulator {_short(av)}")
                continue
            if isinstance(rv, list) and (key.endswith("_ids") or key in LIST_KEYS):
                self.checked["id lists"] += 1
            if key == "assets":
                self.walk_assets(rv, av, sub)
            elif key in LIST_KEYS and isinstance(rv, list):
                self.walk_id_list(rv, av, LIST_KEYS[key], sub, historic)
            elif key == "group_ids" and isinstance(rv, dict):
                self.walk_id_map(rv, av, "Group", sub, historic, entries_are_records=False)
            else:
                child = id_kind(key, kind, rec)
                if isinstance(rv, int) and not isinstance(rv, bool):
                    self.ids.learn(child, rv, av)
                    if key != "id" and not historic:
                        self.check_reference(rv, av, child, sub)
                self.walk(
                    rv,
                    av,
                    CHILD_KINDS.get(key, child if isinstance(rv, (dict, list)) else None),
                    sub,
                    historic,
                )

    def check_reference(self, rec: int, act: Any, kind: str | None, where: str) -> None:
        """A reference to an object the replay knows must point at that object's emulator twin."""
        target = self.ids.get(kind, rec)
        if kind in LEARNED and target is not MISSING and target != act:
            self.note(
                where, f"refers to another {kind}: recorded {rec} (emulator {target}), emulator {act!r}"
            )

    def walk_assets(self, rec: Any, act: Any, where: str) -> None:
        if json_type(rec) != "dict" or json_type(act) != "dict":
            self.walk(rec, act, None, where, False)
            return
        for cls in sorted(rec.keys() | act.keys()):
            sub = f"{where}.{cls}"
            if cls not in act:
                known = [k for k in rec[cls] if self.ids.known(cls, int(k))]
                if known:  # T2 only covers classes whose every entry is an external object
                    self.note(sub, f"asset class missing in the emulator's answer (ids {known})")
                else:
                    self.tolerate("T2", sub, f"asset class of external objects {sorted(rec[cls])}")
            elif cls not in rec:
                self.note(sub, "asset class the recording does not have")
            else:
                self.walk_id_map(rec[cls], act[cls], cls, sub, False)

    def walk_id_map(
        self,
        rec: dict[str, Any],
        act: dict[str, Any],
        kind: str | None,
        where: str,
        historic: bool,
        entries_are_records: bool = True,
    ) -> None:
        """Maps keyed by id (asset classes, ``group_ids``): entries aligned through the id map."""
        matched: set[str] = set()
        for key, value in rec.items():
            rid = int(key)
            # Only learned or seed ids can be aligned: an id-keyed map has no order to learn from.
            target = self.ids.get(kind, rid)
            if target is MISSING or str(target) not in act:
                if target is MISSING or historic:
                    # T2 (or T1): an object of the recorded server's history
                    self.tolerate("T2" if target is MISSING else "T1", f"{where}.{key}", "entry absent")
                    continue
                self.note(f"{where}.{key}", f"entry missing in the emulator's answer (emulator id {target})")
                continue
            matched.add(str(target))
            self.walk(value, act[str(target)], kind, f"{where}.{key}", historic)
        if not entries_are_records and not historic and act.keys() - matched:
            # A membership map (group_ids) of a record made in the replay: as many entries as recorded.
            self.note(where, f"entries the recording does not have: {sorted(act.keys() - matched)}")
        if rec and entries_are_records:
            # Entries only the emulator has (its own users, roles ...) must still look like the recorded ones.
            sample = next(iter(rec.values()))
            for key in sorted(act.keys() - matched):
                if isinstance(sample, dict) and isinstance(act[key], dict):
                    self.compare_keys(sample, act[key], f"{where}.{key}")

    def compare_keys(self, rec: dict[str, Any], act: dict[str, Any], where: str) -> None:
        missing, extra = sorted(rec.keys() - act.keys()), sorted(act.keys() - rec.keys())
        if missing or extra:
            self.note(where, f"entry keys differ from the recorded entries: missing {missing}, extra {extra}")

    def walk_id_list(self, rec: list[Any], act: Any, kind: str, where: str, historic: bool) -> None:
        """Lists of ids: learn by position, then compare membership and order of learned kinds."""
        if not isinstance(act, list):
            self.walk(rec, act, None, where, historic)
            return
        for pos, rid in enumerate(rec):
            if pos < len(act) and not self.ids.known(kind, rid):
                self.ids.learn(kind, rid, act[pos])
        for pos, value in enumerate(act):
            if json_type(value) != (json_type(rec[0]) if rec else json_type(value)):
                self.note(f"{where}[{pos}]", f"recorded {json_type(rec[0])}, emulator {json_type(value)}")
        if historic:
            if rec != act:  # T1: memberships of a historic record
                self.tolerate("T1", where, f"recorded {rec}, emulator {act}")
            return
        # A record made in the replay: its id list has the recorded length and, id for id, the twins of
        # the recorded ids. An id the emulator has no twin for is a mismatch, unless it is an object the
        # recorded server's own configuration added (T3, listed with its evidence in recordings.py).
        kept = []
        for rid in rec:
            reason = EXTERNAL_IDS.get((kind, rid))
            if reason is not None and not self.ids.known(kind, rid):
                self.tolerate("T3", where, f"{kind} {rid}: {reason}")
            else:
                kept.append(rid)
        expected = [self.ids.get(kind, rid) for rid in kept]
        if len(expected) != len(act):
            self.note(where, f"recorded {len(kept)} ids {kept}, emulator {len(act)}: {act}")
            return
        unknown = [rid for rid, value in zip(kept, expected, strict=True) if value is MISSING]
        if unknown:
            self.note(where, f"ids without a twin in the emulator: {unknown} (emulator {act})")
            return
        if expected == act:
            return
        if sorted(map(str, expected)) == sorted(map(str, act)):
            self.note(where, f"same ids in another order: expected {expected}, emulator {act}")
        else:
            self.note(where, f"ids differ: expected {expected} (recorded {rec}), emulator {act}")

    def walk_list(self, rec: list[Any], act: list[Any], kind: str | None, where: str, historic: bool) -> None:
        if not rec and not act:
            return
        if not all(isinstance(v, dict) for v in rec + act):
            types_r, types_a = {json_type(v) for v in rec}, {json_type(v) for v in act}
            if rec and act and types_r != types_a:
                self.note(
                    where, f"element types differ: recorded {sorted(types_r)}, emulator {sorted(types_a)}"
                )
            if len(rec) != len(act):
                if historic:  # T1: a list of a historic record
                    self.tolerate("T1", where, f"recorded {rec!r}, emulator {act!r}")
                else:
                    self.note(where, f"recorded {len(rec)} elements, emulator {len(act)}: {rec!r} vs {act!r}")
            return
        pairs, unmatched = self.align(rec, act, kind)
        for r_pos, a_pos in pairs:
            self.walk(rec[r_pos], act[a_pos], kind, f"{where}[{r_pos}]", historic)
        matched_r = {r for r, _ in pairs}
        for r_pos, element in enumerate(rec):
            if r_pos in matched_r:
                continue
            rid = element.get("id")
            ours = any(element.get(key) in self.ids.names for key in NATURAL_KEYS)
            if historic or (isinstance(rid, int) and not self.ids.known(kind, rid) and not ours):
                # T1/T2: an element from the recorded server's history
                self.tolerate("T1" if historic else "T2", f"{where}[{r_pos}]", f"absent: {_short(element)}")
                continue
            self.note(f"{where}[{r_pos}]", "element missing in the emulator's answer")
        for a_pos in unmatched:
            self.note(f"{where}[{a_pos}]", f"element the recording does not have: {_short(act[a_pos])}")

    def align(
        self, rec: list[dict[str, Any]], act: list[dict[str, Any]], kind: str | None
    ) -> tuple[list[tuple[int, int]], list[int]]:
        """Pair recorded and emulator elements: by learned id, then natural key, then position."""
        free = list(range(len(act)))
        pairs: list[tuple[int, int]] = []
        pending: list[int] = []
        for r_pos, element in enumerate(rec):
            target = self.ids.get(kind, element.get("id"))
            hit = next((a for a in free if target is not MISSING and act[a].get("id") == target), None)
            if hit is None:
                for key in NATURAL_KEYS:
                    if key in element:
                        hit = next((a for a in free if act[a].get(key) == element[key]), None)
                        break
            if hit is None:
                pending.append(r_pos)
                continue
            free.remove(hit)
            pairs.append((r_pos, hit))
        for r_pos in pending:
            element = rec[r_pos]
            rid = element.get("id")
            external = isinstance(rid, int) and kind in LEARNED and not self.ids.known(kind, rid)
            has_natural = any(key in element for key in NATURAL_KEYS)
            # An element known by id or name that found no partner stays unmatched; position pairs the rest
            # (history entries, link lists, freshly created records of the same position).
            if has_natural or (not external and isinstance(rid, int)):
                continue
            if r_pos < len(act) and r_pos in free:
                free.remove(r_pos)
                pairs.append((r_pos, r_pos))
        return sorted(pairs), free


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def compare(
    exchange: Exchange,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    ids: IdMap,
    epoch: str | None,
    tolerated: list[str] | None = None,
    checked: Counter[str] | None = None,
) -> list[str]:
    """Compare one emulator answer with the recorded one; learn ids on the way. Returns the mismatches.

    The differences a tolerance let pass are appended to ``tolerated`` when given; ``checked`` counts the
    values compared strictly (see :attr:`Comparison.checked`).
    """
    problems: list[str] = []
    if status != exchange.status:
        problems.append(f"status: recorded {exchange.status}, emulator {status}")
    recorded_type = exchange.content_type
    content_type = headers.get("Content-Type", "").split(";")[0].strip()
    if recorded_type != content_type:
        problems.append(f"Content-Type: recorded {recorded_type!r}, emulator {content_type!r}")
    recorded_length = any(name.lower() == "content-length" for name in exchange.headers)
    length = any(name.lower() == "content-length" for name in headers)
    if recorded_length != length:
        # Zammad's error replies come without Content-Length (chunked), its other replies with it.
        problems.append(
            f"Content-Length: recorded {'with' if recorded_length else 'without'}, "
            f"emulator {'with' if length else 'without'}"
        )
    disposition = exchange.headers.get("Content-Disposition")
    if disposition is not None and headers.get("Content-Disposition") != disposition:
        problems.append(
            f"Content-Disposition: recorded {disposition!r}, emulator {headers.get('Content-Disposition')!r}"
        )
    if recorded_type != "application/json" or not exchange.body:
        if body != exchange.body:
            problems.append(f"body: recorded {exchange.body[:80]!r}, emulator {body[:80]!r}")
        return problems
    try:
        actual = json.loads(body)
    except ValueError:
        return [*problems, f"body is not JSON: {body[:120]!r}"]
    comparison = Comparison(ids, epoch)
    comparison.walk(exchange.json(), actual, response_kind(exchange.path), "", False)
    if tolerated is not None:
        tolerated.extend(comparison.tolerated)
    if checked is not None:
        checked.update(comparison.checked)
    return problems + comparison.mismatches


def epoch_of(exchanges: list[Exchange]) -> str | None:
    """created_at of the first object created in the recording (201 answers), or None."""
    stamps: list[str] = []
    for ex in exchanges:
        if ex.status == 201 and ex.content_type == "application/json":
            created = ex.json()
            if isinstance(created, dict) and isinstance(created.get("created_at"), str):
                stamps.append(created["created_at"])
    return min(stamps) if stamps else None
