"""docs/reference/*.md, the Markdown API reference, is what docs/gen_api.py writes from the package now."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import zammad_orm

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api", ROOT / "docs" / "gen_api.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_api"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_reference_is_up_to_date() -> None:
    stale = _generator().stale(REFERENCE)
    assert stale == [], f"docs/reference/ is out of date ({', '.join(stale)}): run python docs/gen_api.py"


def test_a_changed_docstring_makes_the_check_fail(tmp_path: Path) -> None:
    gen = _generator()
    gen.write(tmp_path)
    assert gen.stale(tmp_path) == []
    page = tmp_path / "client.md"
    page.write_text(page.read_text("utf-8").replace("Create a client", "Make a client"), "utf-8")
    (tmp_path / "gone.md").write_text("# a page no longer generated\n", "utf-8")
    assert gen.stale(tmp_path) == ["client.md", "gone.md"]


def test_every_public_name_has_a_heading_in_the_reference() -> None:
    headings = set()
    for page in REFERENCE.glob("*.md"):
        headings |= set(re.findall(r"^#+ `(\w+)", page.read_text("utf-8"), re.MULTILINE))
        headings |= set(re.findall(r"^## (\w+)$", page.read_text("utf-8"), re.MULTILINE))
    public = {name for name in zammad_orm.__all__ if callable(getattr(zammad_orm, name))}
    assert sorted(public - headings) == []


def test_the_reference_pages_are_in_the_sphinx_toctree() -> None:
    index = (REFERENCE / "index.md").read_text("utf-8")
    toctree = index.split("```{toctree}", 1)[1].split("```", 1)[0]
    pages = {p.stem for p in REFERENCE.glob("*.md")} - {"index"}
    assert pages == {line.strip() for line in toctree.splitlines()[2:] if line.strip()}
    assert "reference/index" in (ROOT / "docs" / "index.md").read_text("utf-8")
