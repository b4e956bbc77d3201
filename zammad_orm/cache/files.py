"""The files of the disk cache: where they live, and that only their owner may read them.

:func:`default_cache_dir` is the user's cache directory; :func:`disk_usage` and
:func:`clear_disk_cache` see and remove the caches of every model in it (``zammad-orm cache
stats|clear``). Every directory the disk cache makes is ``0700`` and every file ``0600``: SQLite's
``-wal`` and ``-shm`` files take the mode of the database file, so the database is created ``0600``
before SQLite opens it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs

from zammad_orm.cache.base import _NAME
from zammad_orm.errors import CacheError, ConfigurationError

__all__ = ["DEFAULT_SIZE_LIMIT", "DiskUsage", "clear_disk_cache", "default_cache_dir", "disk_usage"]

#: The most bytes the disk cache of one model may take (its SQLite file), unless configured: 1 GiB.
DEFAULT_SIZE_LIMIT = 2**30
#: The file name of a model's database (diskcache's), in the model's directory.
DATABASE = "cache.db"
#: The SQLite files of a model's cache: the database and the journal files SQLite adds next to it.
_DB_FILES = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", f"{DATABASE}-journal")


def default_cache_dir() -> Path:
    """Return where :class:`DiskRecordCache` keeps its files when no directory is given.

    ``$ZAMMAD_ORM_CACHE_DIR`` when set, else the platform's user cache directory: ``$XDG_CACHE_HOME`` or
    ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows; then
    ``zammad_orm`` below it.
    """
    explicit = os.environ.get("ZAMMAD_ORM_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zammad_orm"


def _private_directory(path: Path) -> Path:
    """Create ``path`` as a directory only its owner may enter; tighten it when it exists looser.

    Missing parents are created ``0700`` as well (``mkdir(parents=True)`` would make them with the umask's
    mode); parents that exist are left as they are.
    """
    try:
        missing = [p for p in (path, *path.parents) if not p.exists()]
        for parent in reversed(missing):
            parent.mkdir(mode=0o700, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)
        if sys.platform != "win32" and mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise CacheError(f"cannot create a private cache directory {path}: {exc}") from exc
    return path


def _private_files(directory: Path) -> None:
    """Create ``cache.db`` as a file only its owner may read, before SQLite opens it; tighten old ones.

    SQLite creates its ``-wal`` and ``-shm`` files with the mode of the database file, so they are
    ``0600`` as well (and are tightened here when an older version left them looser).
    """
    try:
        os.close(os.open(directory / DATABASE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    else:
        _new_database(directory / DATABASE)
    if sys.platform == "win32":
        return
    for name in _DB_FILES:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE((directory / name).stat().st_mode) & 0o077:
                (directory / name).chmod(0o600)


#: The page size of a new cache database. Its rows are records of about a kilobyte each; 16 KB pages take
#: a third less of SQLite's work to write than its default of 4 KB (10,000 tickets: 0.053 s instead of
#: 0.085 s of CPU). A database made by an older version keeps its pages.
PAGE_SIZE = 16_384


def _new_database(path: Path) -> None:
    """Lay out a new, empty database file: :data:`PAGE_SIZE`, and diskcache's full auto-vacuum and WAL.

    Both the page size and the auto-vacuum mode are fixed once the first table is made (by diskcache).
    """
    import sqlite3

    con = sqlite3.connect(str(path), isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        con.execute("PRAGMA auto_vacuum = 1")
        con.execute("PRAGMA journal_mode = wal")
    finally:
        con.close()


def _check_limit(model_name: str, limit: object) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigurationError(
            f"size_limit of {model_name} must be a positive number of bytes, got {limit!r}"
        )
    return limit


# --- the cache directory as a whole (``zammad-orm cache stats|clear``) -----------------------------------


@attrs.frozen
class DiskUsage:
    """The disk cache of one model in one namespace.

    Attributes:
        namespace: The namespace directory (a hash of server and user, see ``cache_namespace``).
        model: The model name.
        entries: Records stored.
        size: Bytes of its files (the SQLite database and the files of large records).
        path: Its directory.

    """

    namespace: str
    model: str
    entries: int
    size: int
    path: Path


def _model_dirs(directory: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(namespace, model directory)`` of every model cache below ``directory``, sorted."""
    if not directory.is_dir():
        return
    for namespace in sorted(p for p in directory.iterdir() if p.is_dir() and _NAME.match(p.name)):
        for model in sorted(p for p in namespace.iterdir() if p.is_dir() and _NAME.match(p.name)):
            if (model / DATABASE).is_file():  # a diskcache.Cache: nothing else is counted or removed
                yield namespace.name, model


def _copies(directory: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(namespace, file)`` of every local copy (``client.sync``) below ``directory``, sorted."""
    replicas = directory / "replicas"
    if not replicas.is_dir():
        return
    for namespace in sorted(p for p in replicas.iterdir() if p.is_dir() and _NAME.match(p.name)):
        for copy in sorted(namespace.glob("*.sqlite3")):
            yield namespace.name, copy


def _entries(database: Path, table: str = "Cache") -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
            (count,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    except sqlite3.Error as exc:
        raise CacheError(f"disk cache {database.parent}: {exc}") from exc
    return int(count)


def disk_usage(directory: str | os.PathLike[str] | None = None) -> list[DiskUsage]:
    """Return the entries and bytes of every model's disk cache, by namespace and model.

    The local copies of ``client.sync(Model)`` (``replicas/NAMESPACE/MODEL.sqlite3``) are listed too, as
    model ``"MODEL (local copy)"``. Reads the SQLite files read-only; never loads an entry.

    Args:
        directory: The cache root; default :func:`default_cache_dir`.

    Raises:
        CacheError: A model's database cannot be read.

    """
    root = Path(directory) if directory is not None else default_cache_dir()
    return [
        DiskUsage(
            namespace=namespace,
            model=model.name,
            entries=_entries(model / DATABASE),
            size=sum(f.stat().st_size for f in model.rglob("*") if f.is_file()),
            path=model,
        )
        for namespace, model in _model_dirs(root)
    ] + [
        DiskUsage(
            namespace=namespace,
            model=f"{copy.name.removesuffix('.sqlite3')} (local copy)",
            entries=_entries(copy, "records"),
            size=sum(f.stat().st_size for f in copy.parent.glob(f"{copy.name}*") if f.is_file()),
            path=copy,
        )
        for namespace, copy in _copies(root)
    ]


def clear_disk_cache(directory: str | os.PathLike[str] | None = None) -> list[DiskUsage]:
    """Remove every model's disk cache below ``directory``; return what was removed.

    Only the cache's own layout is removed (``<namespace>/<model>/`` directories holding a
    ``cache.db``, and the local copies ``replicas/<namespace>/<Model>.sqlite3``), then the namespace
    directories and ``directory`` itself when they are empty: other files in a directory that
    ``$ZAMMAD_ORM_CACHE_DIR`` names stay. Run it while no client uses the cache.

    Args:
        directory: The cache root; default :func:`default_cache_dir`.

    Raises:
        CacheError: A directory cannot be read or removed.

    """
    root = Path(directory) if directory is not None else default_cache_dir()
    removed = disk_usage(root)
    try:
        for usage in removed:
            if usage.path.is_dir():
                shutil.rmtree(usage.path)
            else:  # a local copy: its database and SQLite's -wal and -shm beside it
                for file in usage.path.parent.glob(f"{usage.path.name}*"):
                    file.unlink()
        namespaces = (
            [p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name)] if root.is_dir() else []
        )
        replicas = root / "replicas"
        if replicas.is_dir():
            namespaces += [p for p in replicas.iterdir() if p.is_dir() and _NAME.match(p.name)] + [replicas]
        for directory in [*namespaces, root]:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                directory.rmdir()
    except OSError as exc:
        raise CacheError(f"cannot remove the disk cache in {root}: {exc}") from exc
    return removed
