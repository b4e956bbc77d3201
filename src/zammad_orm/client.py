"""Client: composes transport, converter, identity map and cache; default-client handling."""

from __future__ import annotations
