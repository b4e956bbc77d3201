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


def test_errors_may_be_imported_from_anywhere(tmp_path: Path) -> None:
    pkg = _copy_package(tmp_path)
    (pkg / "fields.py").write_text('"""synthetic"""\nfrom zammad_orm.errors import FieldError\n')
    assert violations(pkg, CONTRACT) == []


def test_an_upward_type_checking_import_fails_the_check(tmp_path: Path) -> None:
    # Imports for type checkers only are dependencies too: the lower layers name a client through
    # zammad_orm.interface.ClientAPI, never zammad_orm.client.
    pkg = _copy_package(tmp_path)
    (pkg / "fields.py").write_text(
        '"""synthetic"""\nfrom typing import TYPE_CHECKING\n'
        "if TYPE_CHECKING:\n    from zammad_orm.client import Client\n"
    )
    found = violations(pkg, CONTRACT)
    assert len(found) == 1
    assert "fields (layer 2) imports upward client (layer 6)" in found[0]


def test_a_typing_only_leave_does_not_allow_a_runtime_import(tmp_path: Path) -> None:
    pkg = _copy_package(tmp_path)
    source = (pkg / "client.py").read_text(encoding="utf-8")
    (pkg / "client.py").write_text(source + "\nfrom zammad_orm.resources.ticket import TicketManager\n")
    found = violations(pkg, CONTRACT)
    assert len(found) == 1
    assert "client (layer 6) imports upward resources (layer 7)" in found[0]
