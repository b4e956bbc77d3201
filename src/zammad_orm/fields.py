"""Typed field declarations (attrs metadata: wire name, searchable, read-only) and relation descriptors."""

from __future__ import annotations
