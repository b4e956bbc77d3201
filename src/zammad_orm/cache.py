"""Persistent caches of raw JSON records: diskcache (JSON-only disk, never pickle) and Redis backends."""

from __future__ import annotations
