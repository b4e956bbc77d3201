"""Emulator route ``GET /version``: the version string of the imitated Zammad release."""

from __future__ import annotations

from typing import Any

from zammad_orm.testing.core import Ctx, Route

__all__ = ["ROUTES"]

#: The version strings recorded from real servers, by imitated release.
VERSIONS = {"6.2": "6.2.0-1709189301.4a2dd7d0.focal", "6.5": "6.5.0-1746531111.2b0b1b6d.noble"}


def version(ctx: Ctx) -> Any:
    """``GET /version``."""
    known = VERSIONS.get(ctx.zammad_version)
    if known is None:
        # Other 6.x versions answer in the same format, with their own number.
        release = ctx.zammad_version if ctx.zammad_version.count(".") >= 2 else ctx.zammad_version + ".0"
        known = f"{release}-1709189301.4a2dd7d0.noble"
    return {"version": known}


ROUTES: list[Route] = [("/version", "GET", version)]
