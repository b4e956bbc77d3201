"""The parts of the command line that need no server: lookup words, model names, codegen's annotations,
the atomic file, and the Literal fields typed models use (assignment and query checks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import pytest

import zammad_orm as zo
from zammad_orm.cli import _joined
from zammad_orm.cli.codegen import annotation, generate
from zammad_orm.cli.common import UsageError, lookups, model_named, plain_value
from zammad_orm.cli.writers import atomic_file
from zammad_orm.coerce import check_lookup, coerce, lookups_of
from zammad_orm.fields import check_value, literal_values
from zammad_orm.meta import specialise

Tier = Literal["gold", "silver"]
AB = {"options": {"a": "A", "b": "B"}}
TREE_A = {"options": [{"name": "A"}]}


def test_lookup_words_become_filter_and_exclude_keywords() -> None:
    include, exclude = lookups(
        ["state=open", "id__in=1, 2,3", "created_at__range=now-7d,now", "owner__isnull=yes", "title!=a=b"]
    )
    assert include == {
        "state": "open",
        "id__in": ["1", "2", "3"],
        "created_at__range": ("now-7d", "now"),
        "owner__isnull": True,
    }
    assert exclude == {"title": "a=b"}


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["state"], "expected LOOKUP=VALUE"),
        (["=open"], "expected LOOKUP=VALUE"),
        (["id__range=1"], "id__range takes two values"),
        (["owner__isnull=perhaps"], "owner__isnull takes true or false"),
        (["state=open", "state=new"], "state is given twice"),
    ],
)
def test_malformed_lookup_words(words: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        lookups(words)


@pytest.mark.parametrize(
    ("word", "model"),
    [("ticket", zo.Ticket), ("tickets", zo.Ticket), ("Ticket", zo.Ticket), ("users", zo.User),
     ("ticket_states", zo.TicketState), ("TicketState", zo.TicketState), ("priorities", zo.TicketPriority)],
)  # fmt: skip
def test_model_names(word: str, model: type) -> None:
    assert model_named(word) is model


def test_unknown_model_suggests() -> None:
    with pytest.raises(UsageError, match=r"unknown model 'orgs'.*models: .*organizations"):
        model_named("orgs")


def test_order_words_are_joined_for_argparse() -> None:
    assert _joined(["query", "t", "--order", "-created_at", "--limit", "1"]) == [
        "query", "t", "--order=-created_at", "--limit", "1"
    ]  # fmt: skip
    assert _joined(["--order", "title"]) == ["--order", "title"]


def test_plain_values() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert plain_value({"a": [when, dt.date(2026, 1, 2)]}) == {"a": ["2026-01-02T03:04:05Z", "2026-01-02"]}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"data_type": "select", "data_option": AB}, "Literal['a', 'b'] | None"),
        ({"data_type": "multiselect", "data_option": {"options": {"x": "X"}}}, "list[Literal['x']] | None"),
        ({"data_type": "select", "data_option": {"options": {}}}, "str | None"),
        (
            {"data_type": "tree_select", "data_option": {"options": [
                {"name": "A", "value": "A", "children": [{"name": "B", "value": "A::B"}]}]}},
            "Literal['A', 'A::B'] | None",
        ),
        ({"data_type": "multi_tree_select", "data_option": TREE_A}, "list[Literal['A']] | None"),
        ({"data_type": "integer", "data_option": {}}, "int | None"),
        ({"data_type": "boolean", "data_option": {}}, "bool | None"),
        ({"data_type": "date", "data_option": {}}, "date | None"),
        ({"data_type": "datetime", "data_option": {}}, "datetime | None"),
        ({"data_type": "textarea", "data_option": {}}, "str | None"),
        ({"data_type": "autocompletion_ajax", "data_option": {}}, "int | None"),
        ({"data_type": "something_new", "data_option": {}}, "Any | None"),
    ],
)  # fmt: skip
def test_codegen_annotations(record: dict[str, object], expected: str) -> None:
    assert annotation(record) == expected


def test_generate_leaves_out_what_cannot_be_a_field_and_compiles() -> None:
    records = [
        {"object": "Ticket", "name": "tier", "data_type": "select", "data_option": {"options": {"a": "A"}}},
        {"object": "Ticket", "name": "title", "data_type": "input", "data_option": {}},
        {"object": "Ticket", "name": "class", "data_type": "input", "data_option": {}},
        {"object": "Ticket", "name": "old", "data_type": "input", "data_option": {}, "active": False},
        {"object": "Nope", "name": "x", "data_type": "input", "data_option": {}},
    ]
    text = generate(records, source="https://zammad.example")
    compile(text, "<generated>", "exec")
    lines = text.splitlines()
    assert "    tier: Literal['a'] | None = field()" in lines
    assert "    # 'title' (input) left out: a built-in attribute of Ticket" in lines
    assert "    # 'class' (input) left out: not a Python identifier" in lines
    assert "    # 'old' (input) left out: inactive" in lines
    assert "__all__ = ['Ticket']" in lines
    with pytest.raises(UsageError, match="has no active custom attributes"):
        generate(records[1:2], source="s")


def test_atomic_file_renames_only_a_complete_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"

    def interrupted() -> None:
        with atomic_file(target) as (_, stream):
            assert stream is not None
            stream.write("half")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        interrupted()
    assert list(tmp_path.iterdir()) == []
    with atomic_file(target) as (_, stream):
        assert stream is not None
        stream.write("whole")
    assert target.read_text() == "whole"
    assert list(tmp_path.iterdir()) == [target]
    with pytest.raises(UsageError, match="no directory"), atomic_file(tmp_path / "missing" / "x.csv"):
        pass


# --- Literal fields (the typed models of codegen) --------------------------------------------------------


def test_literal_values_and_assignment_checks() -> None:
    assert literal_values(Tier | None) == ("gold", "silver")
    assert literal_values(list[Tier] | None) == ("gold", "silver")
    assert literal_values(str | None) == ()
    assert check_value("T.tier", Tier | None, "gold") == "gold"
    assert check_value("T.tier", Tier | None, None) is None
    with pytest.raises(zo.FieldError, match=r"T.tier: 'bronze' is not one of its values 'gold', 'silver'"):
        check_value("T.tier", Tier | None, "bronze")
    with pytest.raises(zo.FieldError, match="expected str"):
        check_value("T.tier", Tier | None, 1)
    assert check_value("T.tiers", list[Tier] | None, ["gold"]) == ["gold"]
    with pytest.raises(zo.FieldError, match="'x' is not one of its values"):
        check_value("T.tiers", list[Tier] | None, ["gold", "x"])


def test_literal_fields_in_queries() -> None:
    assert lookups_of(Tier | None) == lookups_of(str)
    check_lookup("tier", "T.tier", Tier | None, "icontains")
    with pytest.raises(zo.QueryError, match="no lookup 'year'"):
        check_lookup("tier", "T.tier", Tier | None, "year")
    assert coerce(Tier | None, "exact", "gold", "tier") == "gold"
    assert coerce(Tier | None, "in", ["gold", "silver"], "tier") == ["gold", "silver"]
    assert coerce(Tier | None, "icontains", "gol", "tier") == "gol"  # a part of a value: not checked
    with pytest.raises(
        zo.QueryError, match=r"tier: 'glod' is not one of its values \(did you mean 'gold'\?\)"
    ):
        coerce(Tier | None, "exact", "glod", "tier")
    with pytest.raises(zo.QueryError, match="'x' is not one of its values"):
        coerce(list[Tier] | None, "in", ["gold", "x"], "tiers")


def test_specialise_refuses_what_is_no_typed_model() -> None:
    with pytest.raises(zo.ConfigurationError, match="must subclass a registered model"):

        @specialise
        class Stray(zo.Model):
            pass

    with pytest.raises(zo.ConfigurationError, match="must keep its name, not 'Tickets'"):

        @specialise
        class Tickets(zo.Ticket):
            pass


def test_literal_fields_read_what_the_server_sends() -> None:
    from zammad_orm.convert import field_reader

    read = field_reader("Ticket", "tier", Tier | None, "tier", None)
    assert [read({"tier": v}) for v in ("gold", None)] == ["gold", None]
    assert read({}) is None
    # A cleared select, an option added after codegen: the server's value, not an error.
    assert [read({"tier": v}) for v in ("", "platinum")] == ["", "platinum"]
    with pytest.raises(zo.DecodeError, match="expected one of 'gold', 'silver', got int 5"):
        read({"tier": 5})
