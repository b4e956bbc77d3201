"""The Zammad emulator: a real HTTP server on loopback backed by SQLite, for tests and the demo.

Needs the ``[emulator]`` extra. Nothing in the runtime package imports this subpackage.
``Emulator`` is imported lazily so that ``import zammad_orm.testing.plugin`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zammad_orm.testing.server import Emulator

__all__ = ["Emulator"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from zammad_orm.testing.server import Emulator

        return Emulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
