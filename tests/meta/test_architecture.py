"""docs/architecture.md names every module of the package, so the map stays true to the code."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "zammad_orm"


def test_every_module_is_on_the_architecture_page() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.parent.name != "resources"  # resources/ is one row: one module per Zammad resource
        and path.name != "__init__.py"
        and f"`{path.name}`" not in text
    ]
    assert missing == []
