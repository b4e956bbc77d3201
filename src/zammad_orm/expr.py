"""Frozen expression nodes of a query: field lookups, And/Or/Not, ranges, exists, and the Q builder."""

from __future__ import annotations
