"""zammad_orm: a Django-style ORM and active-record client for the Zammad helpdesk REST API."""

from __future__ import annotations

from zammad_orm import errors
from zammad_orm._version import __version__

__all__ = ["__version__", "errors"]
