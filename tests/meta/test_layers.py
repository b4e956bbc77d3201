from __future__ import annotations

import shutil
from pathlib import Path

import zammad_orm

from .layering import Contract, violations

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(zammad_orm.__file__).resolve().parent
CONTRACT = Contract.from_setup_cfg(ROOT / "setup.cfg")


def test_package_respects_the_layer_contract() -> None:
    assert violations(PACKAGE, CONTRACT) == []


def test_every_module_has_a_layer() -> None:
    units = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.glob("*")}
    units -= {"py.typed", "__pycache__"}
    unknown = units - set(CONTRACT.layers) - set(CONTRACT.outside)
    assert unknown == set()


def _copy_package(tmp_path: Path) -> Path:
    target = tmp_path / "zammad_orm"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_an_upward_import_fails_the_check(tmp_path: Path) -> None:
    pkg = _copy_package(tmp_path)
    (pkg / "expr.py").write_text('"""synthetic"""\nfrom zammad_orm import client\n')
    found = violations(pkg, CONTRACT)
    assert len(found) == 1
    assert "expr (layer 2) imports upward client (layer 6)" in found[0]


def test_a_relative_upward_import_fails_the_check(tmp_path: Path) -> None:
    pkg = _copy_package(tmp_path)
    (pkg / "fields.py").write_text('"""synthetic"""\nfrom .query import QuerySet\n')
    assert any("fields (layer 2) imports upward query (layer 4)" in v for v in violations(pkg, CONTRACT))


def test_importing_the_emulator_from_the_runtime_fails(tmp_path: Path) -> None:
    pkg = _copy_package(tmp_path)
    (pkg / "transport.py").write_text('"""synthetic"""\nimport zammad_orm.testing.app\n')
    assert any("transport imports testing, which is outside" in v for v in violations(pkg, CONTRACT))


def test_type_checking_imports_and_errors_are_allowed(tmp_path: Path) -> None:
    pkg = _copy_package(tmp_path)
    (pkg / "fields.py").write_text(
        '"""synthetic"""\nfrom typing import TYPE_CHECKING\nfrom zammad_orm.errors import FieldError\n'
        "if TYPE_CHECKING:\n    from zammad_orm.models import Model\n"
    )
    assert violations(pkg, CONTRACT) == []
