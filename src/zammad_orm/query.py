"""The immutable, lazy QuerySet: chaining, slicing, result caching; it does no I/O of its own."""

from __future__ import annotations
