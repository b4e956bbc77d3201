"""The public surface: every resource is exported and documented, and ``__all__`` tells the truth."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import zammad_orm
import zammad_orm.resources
from zammad_orm.models import Model, registry

ROOT = Path(__file__).resolve().parents[2]
MODELS_DOC = ROOT / "docs" / "models.md"
API_DOC = ROOT / "docs" / "api.md"


def test_all_names_exist_and_are_unique() -> None:
    names = zammad_orm.__all__
    assert len(names) == len(set(names))
    missing = [n for n in names if not hasattr(zammad_orm, n)]
    assert missing == []


def test_every_registered_model_is_exported() -> None:
    not_exported = sorted(set(registry) - set(zammad_orm.__all__))
    assert not_exported == []
    for name in registry:
        assert getattr(zammad_orm, name) is registry[name]


def test_every_resource_module_public_name_is_in_its_all() -> None:
    for info in pkgutil.iter_modules(zammad_orm.resources.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"zammad_orm.resources.{info.name}")
        public_classes = {
            name
            for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__ and not name.startswith("_")
        }
        assert public_classes <= set(module.__all__), (info.name, public_classes - set(module.__all__))
        assert all(hasattr(module, n) for n in module.__all__)


def test_resource_package_exports_every_model() -> None:
    assert set(registry) <= set(zammad_orm.resources.__all__)


def test_every_exported_class_and_function_has_a_docstring() -> None:
    undocumented = [
        name
        for name in zammad_orm.__all__
        if (inspect.isclass(getattr(zammad_orm, name)) or inspect.isfunction(getattr(zammad_orm, name)))
        and not (getattr(zammad_orm, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_public_methods_of_models_are_documented() -> None:
    undocumented = []
    for model in registry.values():
        for name, member in inspect.getmembers(model):
            if name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                continue
            if not (member.__doc__ or "").strip():
                undocumented.append(f"{model.__name__}.{name}")
    assert undocumented == []


def test_every_resource_is_documented_in_the_user_guide_and_api_reference() -> None:
    guide = MODELS_DOC.read_text(encoding="utf-8")
    api = API_DOC.read_text(encoding="utf-8")
    missing_guide = [name for name in registry if f"`{name}`" not in guide]
    assert missing_guide == []
    for info in pkgutil.iter_modules(zammad_orm.resources.__path__):
        if not info.name.startswith("_"):
            assert f"zammad_orm.resources.{info.name}" in api, info.name
    for module in ("zammad_orm.client", "zammad_orm.models", "zammad_orm.manager", "zammad_orm.fields"):
        assert module in api


def test_models_are_model_subclasses() -> None:
    assert all(issubclass(m, Model) for m in registry.values())
