"""Checks the layer contract of setup.cfg against the imports of a package tree."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import attrs


@attrs.frozen
class Contract:
    layers: dict[str, int]
    same_level: dict[str, frozenset[str]]
    outside: frozenset[str]
    typing_only: dict[str, frozenset[str]] = attrs.field(factory=dict)

    @classmethod
    def from_setup_cfg(cls, path: Path) -> Contract:
        cfg = configparser.ConfigParser()
        cfg.read(path)
        same = {
            k: frozenset(x.strip() for x in v.split(",") if x.strip())
            for k, v in cfg["layers.same_level"].items()
        }
        typing_only = {
            k: frozenset(x.strip() for x in v.split(",") if x.strip())
            for k, v in (cfg["layers.typing_only"].items() if cfg.has_section("layers.typing_only") else [])
        }
        return cls(
            layers={k: int(v) for k, v in cfg["layers"].items()},
            same_level=same,
            outside=frozenset(cfg["layers.outside"]),
            typing_only=typing_only,
        )


def _unit(parts: list[str]) -> str:
    """The contract unit of a module path below the package: its first component."""
    if not parts or parts == ["__init__"]:
        return "__init__"
    return parts[0]


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers inside `if TYPE_CHECKING:` blocks (imports for type checkers only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(sub.lineno for sub in ast.walk(stmt) if hasattr(sub, "lineno"))
    return lines


def _imported_units(path: Path, package_dir: Path, package: str) -> list[tuple[int, str, bool]]:
    """Every ``(line, unit, for typing only)`` the module at ``path`` imports from ``package``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_lines(tree)
    rel = path.relative_to(package_dir).with_suffix("").parts
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        targets: list[list[str]] = []
        if isinstance(node, ast.Import):
            targets = [a.name.split(".") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # rel[:-level] is the package the dots name, for modules and __init__ alike.
                base = list(rel[: len(rel) - node.level])
                mod = base + (node.module.split(".") if node.module else [])
                targets = [[package, *mod]] if node.module else [[package, *mod, a.name] for a in node.names]
            elif node.module:
                mod = node.module.split(".")
                targets = [[package, a.name] for a in node.names] if mod == [package] else [mod]
        for t in targets:
            if t[0] == package:
                found.append((node.lineno, _unit(t[1:]), node.lineno in typing_only))
    return found


def violations(package_dir: Path, contract: Contract) -> list[str]:
    """Every import in the tree at ``package_dir`` that breaks the contract, as readable lines."""
    package = package_dir.name
    problems: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        me = _unit(parts)
        if me in contract.outside:
            continue
        if me not in contract.layers:
            problems.append(f"{path}: module {me!r} has no layer in setup.cfg")
            continue
        for line, other, for_typing in _imported_units(path, package_dir, package):
            if other in {me, "errors"} or (for_typing and other in contract.typing_only.get(me, ())):
                continue
            where = f"{path.relative_to(package_dir.parent)}:{line}"
            if other in contract.outside:
                problems.append(f"{where}: {me} imports {other}, which is outside the layers")
            elif other not in contract.layers:
                problems.append(f"{where}: {me} imports {other}, which has no layer")
            elif contract.layers[other] > contract.layers[me]:
                problems.append(
                    f"{where}: {me} (layer {contract.layers[me]}) imports upward "
                    f"{other} (layer {contract.layers[other]})"
                )
            elif contract.layers[other] == contract.layers[me] and other not in contract.same_level.get(
                me, frozenset()
            ):
                problems.append(f"{where}: {me} imports {other} of its own layer without leave")
    return problems
