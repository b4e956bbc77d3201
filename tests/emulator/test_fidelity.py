"""Fidelity: each recorded Zammad 6.2 exchange, replayed against a fresh emulator, gets the same answer shape.

One test per exchange (id ``<dir>/<file>:<index>``), so the list of failures is the list of mismatches.
How ids are mapped and which differences are tolerated (and why) is in ``tests/emulator/recordings.py``
(comparison in ``comparison.py``, replay in ``replay.py``).
``python -m tests.emulator.test_fidelity`` prints the share of matching exchanges and every mismatch.
"""

from __future__ import annotations

import copy
import functools
import json
import sys
from collections import Counter
from typing import Any

import pytest

from tests.emulator.comparison import Comparison, compare, epoch_of
from tests.emulator.recordings import RECORDINGS, Exchange, IdMap, all_exchanges, parse
from tests.emulator.replay import Outcome, file_names, replay_file, request_body

#: Exchanges the emulator does not answer like Zammad yet: "<file>:<index>" -> what is missing.
#: Strict xfail, so a fix turns them into failures until the entry is removed.
KNOWN_GAPS: dict[str, str] = {}

EXCHANGES = all_exchanges()
#: The headers of a successful JSON reply (Zammad's carry a Content-Length; its value is not compared).
JSON = {"Content-Type": "application/json; charset=utf-8", "Content-Length": "2"}


@functools.cache
def _replayed(name: str) -> tuple[Outcome, ...]:
    # A file is replayed once, in order, on the first of its exchanges' tests.
    return tuple(replay_file(name))


def _param(exchange: Exchange) -> Any:
    gap = KNOWN_GAPS.get(exchange.id)
    marks = [pytest.mark.xfail(strict=True, reason=f"emulator: {gap}")] if gap else []
    return pytest.param(exchange, id=exchange.id, marks=marks)


@pytest.mark.parametrize("exchange", [_param(ex) for ex in EXCHANGES])
def test_exchange_matches_recording(exchange: Exchange) -> None:
    outcome = _replayed(exchange.file)[exchange.index]
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert not outcome.mismatches, f"{outcome.request}\n  " + "\n  ".join(outcome.mismatches)


#: Keys of a created record whose value is the recorded server's, not a default: its ticket counter, its
#: admin's name and login (``from``, ``created_by``), a generated login, its locale setting.
SERVER_VALUES = {"number", "from", "created_by", "updated_by", "login", "preferences"}


def defaults_of(exchange: Exchange) -> dict[str, Any]:
    """What the server filled in for a create: the answer's keys the request did not set (ids and times
    aside: the replay compares those)."""
    recorded, sent = exchange.json(), request_body(exchange)
    if not isinstance(recorded, dict) or not isinstance(sent, dict):
        return {}
    return {
        key: value
        for key, value in recorded.items()
        if key not in sent
        and key not in SERVER_VALUES
        and key != "id"
        and not key.endswith(("_id", "_ids", "_at", "_value"))
    }


CREATIONS = [ex for ex in EXCHANGES if ex.method == "POST" and ex.status == 201 and defaults_of(ex)]


@pytest.mark.parametrize("exchange", [pytest.param(ex, id=ex.id) for ex in CREATIONS])
def test_created_records_have_the_recorded_defaults(exchange: Exchange) -> None:
    """Value level: the defaults the server filled in for a create are the recorded ones, value for value."""
    defaults = defaults_of(exchange)
    answer = json.loads(_replayed(exchange.file)[exchange.index].answer)
    assert {key: answer.get(key) for key in defaults} == defaults


# -- the comparator itself ---------------------------------------------------------------------------


def _file(name: str) -> list[Exchange]:
    return parse(RECORDINGS / f"{name}.log")


def test_every_recording_is_parsed_and_counted() -> None:
    assert len(file_names()) == 54
    assert len(EXCHANGES) == 252
    assert {ex.method for ex in EXCHANGES} == {"GET", "POST", "PUT", "DELETE"}


def test_a_recording_compared_with_itself_has_no_mismatch() -> None:
    for name in file_names():
        exchanges = _file(name)
        ids, epoch = IdMap(), epoch_of(exchanges)
        for ex in exchanges:
            assert compare(ex, ex.status, ex.headers, ex.body, ids, epoch) == [], ex.id


def _search_exchange() -> tuple[Exchange, dict[str, Any]]:
    ex = _file("test_tickets/test_ticket_search")[2]
    return ex, json.loads(ex.body)


def _ids_after_creates(ex_file: str) -> IdMap:
    ids = IdMap()
    exchanges = _file(ex_file)
    for ex in exchanges:
        if ex.method == "POST" and ex.status == 201:
            compare(ex, ex.status, ex.headers, ex.body, ids, epoch_of(exchanges))
    return ids


def test_a_missing_key_and_a_changed_type_are_reported() -> None:
    ex, body = _search_exchange()
    ids = _ids_after_creates("test_tickets/test_ticket_search")
    answer = copy.deepcopy(body)
    del answer["assets"]["Ticket"]["374"]["title"]
    answer["tickets_count"] = "2"
    problems = compare(ex, 200, JSON, json.dumps(answer).encode(), ids, epoch_of([ex]))
    assert any("assets.Ticket.374" in p and "'title'" in p for p in problems)
    assert any(p.startswith("tickets_count: recorded int, emulator str") for p in problems)


def test_null_instead_of_a_value_is_reported_for_created_records_only() -> None:
    exchanges = _file("test_time_accountings/test_create_ticket_time_accounting_default_type")
    epoch = epoch_of(exchanges)
    created = exchanges[3]  # GET /tickets/338: created in the recording, time_unit "12.3"
    body = json.loads(created.body)
    body["time_unit"] = None
    problems = compare(created, 200, JSON, json.dumps(body).encode(), IdMap(), epoch)
    assert problems == ["time_unit: recorded str, emulator null"]
    me = exchanges[2]  # GET /users/me: the admin existed long before; last_login is its history
    body = json.loads(me.body)
    body["last_login"] = None
    body["organization_id"] = None
    assert compare(me, 200, JSON, json.dumps(body).encode(), IdMap(), epoch) == []


def test_an_empty_string_default_is_never_null() -> None:
    # User 26 (the guess: customer) was made before test_ticket_merge began: a historic record, whose
    # nulls may be history (T1). An empty-string default is not history: "" against null is reported.
    exchanges = _file("test_tickets/test_ticket_merge")
    links = exchanges[4]
    ids = _ids_after_creates("test_tickets/test_ticket_merge")
    answer = json.loads(links.body)
    answer["assets"]["User"]["26"]["lastname"] = None
    answer["assets"]["User"]["26"]["last_login"] = "2024-03-18T22:00:00.000Z"  # history: tolerated
    problems = compare(links, 200, JSON, json.dumps(answer).encode(), ids, epoch_of(exchanges))
    assert problems == ['assets.User.26.lastname: recorded "", emulator null (an empty-string default)']


def test_defaults_and_flags_of_created_records_must_agree() -> None:
    exchanges = _file("test_organizations/test_create_organization")
    created = json.loads(exchanges[0].body)  # POST /organizations {"name": ...}: made in the recording
    created["note"], created["shared"] = "x", False
    problems = compare(exchanges[0], 201, JSON, json.dumps(created).encode(), IdMap(), epoch_of(exchanges))
    assert sorted(problems) == ['note: recorded "", emulator "x"', "shared: recorded true, emulator false"]


def test_id_lists_of_created_records_keep_their_length() -> None:
    exchanges = _file("test_tickets/test_ticket_update")
    ids = _ids_after_creates("test_tickets/test_ticket_update")
    updated = exchanges[2]  # PUT /tickets/353 with an article: article_ids [574, 576]
    answer = json.loads(updated.body)
    recorded = list(answer["article_ids"])
    answer["article_ids"] = recorded[:1]
    problems = compare(updated, 200, JSON, json.dumps(answer).encode(), ids, epoch_of(exchanges))
    assert problems == [f"article_ids: recorded 2 ids {recorded}, emulator 1: {recorded[:1]}"]
    # The one id of the recordings a server's own configuration added (T3) is tolerated, and listed.
    merge = _file("test_tickets/test_ticket_merge")
    ids = _ids_after_creates("test_tickets/test_ticket_merge")
    target = json.loads(merge[5].body)  # article_ids [570, 571, 573]
    target["article_ids"] = [570, 571]
    tolerated: list[str] = []
    assert compare(merge[5], 200, JSON, json.dumps(target).encode(), ids, epoch_of(merge), tolerated) == []
    assert [note.split(":")[0] for note in tolerated] == ["T3 article_ids"]


def test_a_membership_map_of_a_created_record_has_no_extra_entries() -> None:
    exchanges = _file("test_users/test_create_user")
    created = json.loads(exchanges[0].body)  # group_ids {}
    created["group_ids"] = {"1": ["full"]}
    problems = compare(exchanges[0], 201, JSON, json.dumps(created).encode(), IdMap(), epoch_of(exchanges))
    assert problems == ["group_ids: entries the recording does not have: ['1']"]


def test_error_replies_are_compared_without_content_length() -> None:
    error = _file("test_priorities/test_delete_priority")[2]  # 404 Couldn't find: no Content-Length
    assert compare(error, 404, {"Content-Type": JSON["Content-Type"]}, error.body, IdMap(), None) == []
    assert compare(error, 404, JSON, error.body, IdMap(), None) == [
        "Content-Length: recorded without, emulator with"
    ]


def test_search_results_are_compared_through_the_learned_ids() -> None:
    exchanges = _file("test_tickets/test_ticket_search")
    epoch = epoch_of(exchanges)
    ids = IdMap()
    for pos, new_id in ((0, 5), (1, 6)):
        created = json.loads(exchanges[pos].body)
        created["id"], created["number"] = new_id, f"6700{new_id}"
        compare(exchanges[pos], 201, JSON, json.dumps(created).encode(), ids, epoch)
    assert ids.translate("Ticket", 373) == 5
    assert ids.translate("TicketNumber", "67359") == "67006"
    search = json.loads(exchanges[2].body)
    search["tickets"] = [5, 6]  # the recorded order is [374, 373] = [6, 5]
    search["assets"]["Ticket"] = {
        "5": search["assets"]["Ticket"]["373"],
        "6": search["assets"]["Ticket"]["374"],
    }
    problems = compare(exchanges[2], 200, JSON, json.dumps(search).encode(), ids, epoch)
    assert problems == ["tickets: same ids in another order: expected [6, 5], emulator [5, 6]"]


def test_external_objects_may_be_absent_but_created_ones_may_not() -> None:
    exchanges = _file("test_tags/test_create_tag")
    tag_list = exchanges[2]  # Test, __pytest__, accounting, plombery: only __pytest__ is the recording's
    recorded = json.loads(tag_list.body)
    only_ours = [dict(t, id=1) for t in recorded if t["name"] == "__pytest__"]
    ids = IdMap()
    assert compare(tag_list, 200, JSON, json.dumps(only_ours).encode(), ids, None) == []
    assert ids.translate("Tag", 185) == 1
    # Without a learned id the recording's own tag is still known by the name its request gave it.
    ids = IdMap()
    ids.names.add("__pytest__")
    problems = compare(tag_list, 200, JSON, b"[]", ids, None)
    assert problems == ["[1]: element missing in the emulator's answer"]


def test_requests_are_rewritten_with_the_learned_ids() -> None:
    ids = IdMap()
    ids.learn("Ticket", 352, 7)
    ids.learn("TicketNumber", "67336", "67006")
    ids.learn("Ticket", 375, 8)
    ids.learn("TicketArticle", 601, 40)
    assert ids.map_path("/api/v1/ticket_merge/352/67336") == "/api/v1/ticket_merge/7/67006"
    assert ids.map_path("/api/v1/ticket_attachment/375/601/175") == "/api/v1/ticket_attachment/8/40/175"
    assert ids.map_path("/api/v1/tickets/1") == "/api/v1/tickets/1"  # seed ticket
    assert ids.map_query([("object", "Ticket"), ("o_id", "352")]) == "object=Ticket&o_id=7"
    body = {"link_type": "normal", "link_object_target_value": 375, "link_object_source_number": "67336"}
    assert ids.map_body(body, "/api/v1/links/add") == {
        "link_type": "normal",
        "link_object_target_value": 8,
        "link_object_source_number": "67006",
    }
    article = {"ticket_id": 352, "body": "x", "type": "note"}
    assert ids.map_body(article, "/api/v1/ticket_articles")["ticket_id"] == 7


def test_the_replay_notices_a_broken_emulator() -> None:
    def break_it(emulator: Any) -> None:
        emulator.faults.add("status", method="POST", path=r"^/api/v1/tickets$", status=500, times=1)
        emulator.faults.add("truncate", path=r"^/api/v1/tickets/search$")
        emulator.faults.add("non_json", method="DELETE")

    outcomes = replay_file("test_tickets/test_ticket_search", prepare=break_it)
    first, second, search, delete_a, delete_b = outcomes
    assert "status: recorded 201, emulator 500" in first.mismatches
    assert second.ok  # the second create goes through
    assert any(problem.startswith("body is not JSON") for problem in search.mismatches)
    for delete in (delete_a, delete_b):  # same status and media type, but an HTML page for an empty body
        assert [problem.split(", emulator")[0] for problem in delete.mismatches] == ["body: recorded b''"]


def test_comparison_records_where_the_difference_is() -> None:
    comparison = Comparison(IdMap(), None)
    comparison.walk({"a": {"b": [1]}}, {"a": {"b": ["x"]}}, None, "", False)
    assert comparison.mismatches == ["a.b: element types differ: recorded ['int'], emulator ['str']"]


# -- script entry: python -m tests.emulator.test_fidelity ------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Replay every recording, print each mismatch and the share of matching exchanges.

    ``--tolerances`` also prints every difference a tolerance let pass (T1 history, T2 external objects,
    T3 objects of the recorded server's configuration).
    """
    show_tolerated = "--tolerances" in (sys.argv[1:] if argv is None else argv)
    matched = compared = skipped = tolerated = 0
    checked: Counter[str] = Counter()
    for name in file_names():
        for outcome in replay_file(name):
            if outcome.skipped:
                skipped += 1
                continue
            compared += 1
            tolerated += len(outcome.tolerated)
            checked.update(outcome.checked)
            if show_tolerated and outcome.tolerated:
                print(f"{outcome.exchange.id}  {outcome.request}  (tolerated)")
                for note in outcome.tolerated:
                    print(f"    {note}")
            if outcome.ok:
                matched += 1
            else:
                print(f"{outcome.exchange.id}  {outcome.request}")
                for problem in outcome.mismatches:
                    print(f"    {problem}")
    share = 100.0 * matched / compared if compared else 0.0
    print(f"\n{matched}/{compared} exchanges match ({share:.1f} %), {skipped} skipped (not Zammad);")
    print(f"{tolerated} differences passed a documented tolerance (--tolerances lists them)")
    print("values compared strictly: " + ", ".join(f"{n} {kind}" for kind, n in sorted(checked.items())))
    print(f"defaults of {len(CREATIONS)} creates compared value for value")
    return 0 if matched == compared else 1


if __name__ == "__main__":
    sys.exit(main())
