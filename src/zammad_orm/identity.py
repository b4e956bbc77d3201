"""The per-client weak identity map: one Python object per (model, id)."""

from __future__ import annotations
