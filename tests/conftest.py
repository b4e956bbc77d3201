"""Settings of the whole test suite: no test writes to the user's real cache directory.

Clients keep their records on disk by default (``default_cache_dir()``). The suite points
``$ZAMMAD_ORM_CACHE_DIR`` at a temporary directory: one for the session (clients made at import time or by
session fixtures, and subprocesses), and a fresh one for every test, so that no test reads records an
earlier test cached. ``$ZAMMAD_ORM_CACHE`` of the developer's environment is ignored: tests run with the
default setting unless they choose another.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION_CACHE = tempfile.mkdtemp(prefix="zammad-orm-tests-cache-")
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)
os.environ["ZAMMAD_ORM_CACHE_DIR"] = _SESSION_CACHE
os.environ.pop("ZAMMAD_ORM_CACHE", None)


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give each test a cache directory of its own (``$ZAMMAD_ORM_CACHE_DIR``)."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ZAMMAD_ORM_CACHE_DIR", str(path))
    return path
