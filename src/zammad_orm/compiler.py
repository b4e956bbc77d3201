"""Compiles an expression tree into a Zammad query_string search string; all escaping lives here."""

from __future__ import annotations
