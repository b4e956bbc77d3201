"""Evaluates an expression tree as a Python predicate over records (client-side filtering, emulator)."""

from __future__ import annotations
