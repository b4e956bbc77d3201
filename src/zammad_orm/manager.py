"""Manager: the seed API's collection methods and the entry points of QuerySets, bound to a client."""

from __future__ import annotations
