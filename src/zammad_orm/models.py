"""The Model base class: registry, per-model DoesNotExist, dirty tracking, save/delete/refresh."""

from __future__ import annotations
