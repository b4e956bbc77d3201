"""Page iteration over index and search endpoints, including keyset paging past the search window."""

from __future__ import annotations
