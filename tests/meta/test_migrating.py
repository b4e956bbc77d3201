"""docs/migrating.md: every zammad_orm call of the table runs, in order, against the emulator.

The zammad_orm column holds lines separated by ``<br>``; each line starts with a code span (a complete
Python statement or expression) and may go on with a note in prose. The code spans are executed top to
bottom in one namespace that starts with ``client`` (a client of the emulator, active while they run),
``ticket``, ``other`` and ``article``; an expression's QuerySet or iterator is consumed, so that its
request is really sent.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zammad_orm import Ticket, manager
from zammad_orm.query import QuerySet
from zammad_orm.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "migrating.md"
COLUMN = "zammad_orm"


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _table() -> list[dict[str, str]]:
    lines = DOC.read_text("utf-8").split("\n## Calls\n", 1)[1].splitlines()
    block = [line for line in lines[lines.index(next(x for x in lines if x.startswith("|"))) :]]
    block = block[: next((i for i, x in enumerate(block) if not x.startswith("|")), len(block))]
    header = _cells(block[0])
    return [dict(zip(header, _cells(line), strict=True)) for line in block[2:]]


def snippets() -> list[tuple[str, str]]:
    """``(task, code)`` for every line of the zammad_orm column, in table order."""
    found = []
    for row in _table():
        for part in row[COLUMN].split("<br>"):
            match = re.match(r"`([^`]+)`", part.strip())
            assert match, f"{row['task']!r}: a line of the {COLUMN} column must start with code: {part!r}"
            found.append((row["task"], match.group(1).replace("\\|", "|")))
    return found


def test_the_table_has_the_three_libraries_and_every_row_a_zammad_orm_call() -> None:
    rows = _table()
    assert list(rows[0]) == ["task", "zammad_py 3.2", "zammadoo 0.3", COLUMN]
    assert len(rows) >= 30
    assert all(row[COLUMN] for row in rows)
    for task, code in snippets():
        ast.parse(code)  # each is a whole statement or expression (a SyntaxError names the task)
        assert code, task


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(demo=60, seed=2) as emulator:
        yield emulator


def _run(code: str, namespace: dict[str, Any]) -> None:
    tree = ast.parse(code)
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        value = eval(compile(ast.Expression(tree.body[0].value), "<migrating.md>", "eval"), namespace)
        if isinstance(value, QuerySet) or hasattr(value, "__next__"):
            list(value)
        return
    exec(compile(tree, "<migrating.md>", "exec"), namespace)


def test_every_zammad_orm_call_runs_against_the_emulator(
    server: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # article.attachments[0].save("log.txt")
    monkeypatch.setenv("ZAMMAD_ORM_CACHE_DIR", str(tmp_path / "cache"))  # cache="disk"
    monkeypatch.setenv("ZAMMAD_URL", server.url)  # zammad_orm.connect() without arguments
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", server.token)
    monkeypatch.setattr(manager, "_default_client", manager._default_client)  # connect() sets it
    client = server.client()
    ticket, other = client.tickets[42], client.tickets[43]
    article = ticket.create_article("log attached", files=[("log.txt", b"line 1\n")])
    namespace: dict[str, Any] = {"client": client, "ticket": ticket, "other": other, "article": article}
    ran = []
    with client.activate():
        for task, code in snippets():
            try:
                _run(code, namespace)
            except Exception as exc:
                raise AssertionError(f"docs/migrating.md, {task!r}: {code}\n  raised {exc!r}") from exc
            ran.append(code)
    assert len(ran) == len(snippets())
    client.close()
    # The writes of the table happened on the server, as a new client reads it.
    assert (tmp_path / "log.txt").read_bytes() == b"line 1\n"
    check = server.client()
    try:
        assert check.tickets.filter(tags="asap").exists()
        assert not check.tickets.filter(tags="urgent").exists()  # renamed
        assert check.tickets.filter(title="Printer on fire").count() == 2  # created twice
        bodies = [a.body for a in check.tickets[43].articles]
        assert bodies.count("Any news?") == 2  # added to ticket twice, then merged into other
        with pytest.raises(Ticket.DoesNotExist):
            check.tickets.get(42)  # deleted
    finally:
        check.close()
