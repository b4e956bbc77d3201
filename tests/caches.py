"""A record cache of its own for a test's client: clients compared request by request must start cold.

By default clients of one server and user share the disk cache in ``$ZAMMAD_ORM_CACHE_DIR`` (one
directory per test, ``tests/conftest.py``), as processes of one host do. A test that counts what one
client costs against another gives each its own directory.
"""

from __future__ import annotations

import os
import tempfile


def own_cache() -> str:
    """Return a ``cache=`` setting: the default disk cache, in a new directory of the test's own."""
    return "disk:" + tempfile.mkdtemp(prefix="client-", dir=os.environ.get("ZAMMAD_ORM_CACHE_DIR"))
