"""The table of resources in docs/models.md shows the capabilities each model declares."""

from __future__ import annotations

from pathlib import Path

import zammad_orm  # noqa: F401 - registers every model
from zammad_orm.meta import OPERATIONS
from zammad_orm.models import registry

ROOT = Path(__file__).resolve().parents[2]
YES, NO = "✓", "—"


def _table() -> dict[str, dict[str, str]]:
    """The first table under '## Models', by model name: ``{column: cell}``."""
    lines = (ROOT / "docs" / "models.md").read_text(encoding="utf-8").splitlines()
    after = lines[lines.index("## Models") :]
    first = next(i for i, line in enumerate(after) if line.startswith("|"))
    block: list[str] = []
    for line in after[first:]:
        if not line.startswith("|"):
            break
        block.append(line)

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip("|").split("|")]

    header = cells(block[0])
    rows = [dict(zip(header, cells(line), strict=True)) for line in block[2:]]
    return {row["model"].strip("`"): row for row in rows}


def test_the_table_has_a_column_per_operation() -> None:
    row = next(iter(_table().values()))
    assert [c for c in row if c in OPERATIONS] == list(OPERATIONS)


def test_every_model_has_a_row_that_shows_its_declared_capabilities() -> None:
    table = _table()
    assert sorted(set(registry) - set(table)) == []
    shown = {name: {op for op in OPERATIONS if table[name][op] == YES} for name in registry}
    declared = {name: set(model._meta.capabilities) for name, model in registry.items()}
    assert shown == declared
    for name in registry:
        assert {table[name][op] for op in OPERATIONS} <= {YES, NO}, name
