"""``zammad-orm cache path|stats|clear``: the disk cache from the command line, in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zammad_orm.cache import DiskRecordCache, clear_disk_cache, disk_usage
from zammad_orm.cli import main


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("ZAMMAD_ORM_CACHE_DIR", str(directory))
    return directory


def fill(namespace: str, counts: dict[str, int], directory: Path | None = None) -> None:
    cache = DiskRecordCache(directory, namespace=namespace)
    try:
        for model, count in counts.items():
            cache.set_many(model, [(pk, {"id": pk, "title": "x" * 100}, None) for pk in range(1, count + 1)])
    finally:
        cache.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["cache", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_path_prints_the_cache_directory(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "path") == (0, f"{cache_dir}\n")
    assert not cache_dir.exists()  # path only tells


def test_stats_counts_the_entries_and_bytes_per_namespace_and_model(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill("a" * 32, {"Ticket": 3, "User": 2})
    fill("b" * 32, {"Ticket": 5})
    code, out = run(capsys, "stats")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"disk cache in {cache_dir}"
    assert lines[1].split() == ["namespace", "model", "entries", "bytes"]
    rows = [line.split() for line in lines[2:-1]]
    assert [row[:3] for row in rows] == [
        ["a" * 32, "Ticket", "3"],
        ["a" * 32, "User", "2"],
        ["b" * 32, "Ticket", "5"],
    ]
    assert all(int(row[3]) > 0 for row in rows)
    total = sum(int(row[3]) for row in rows)
    assert lines[-1] == f"total: 3 models in 2 namespaces: 10 entries, {total} bytes"
    usage = disk_usage()
    assert [(u.namespace, u.model, u.entries, u.size) for u in usage] == [
        (row[0], row[1], int(row[2]), int(row[3])) for row in rows
    ]


def test_stats_of_no_cache_says_so(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "stats") == (0, f"no disk cache in {cache_dir}\n")
    assert run(capsys, "clear") == (0, f"nothing to remove in {cache_dir}\n")


def test_clear_removes_the_cache_and_prints_what_it_removed(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill("a" * 32, {"Ticket": 3, "User": 2})
    code, out = run(capsys, "clear")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"removed {cache_dir / ('a' * 32) / 'Ticket'} (3 entries, ")
    assert lines[1].startswith(f"removed {cache_dir / ('a' * 32) / 'User'} (2 entries, ")
    assert lines[2].startswith("removed 2 models in 1 namespace: 5 entries, ")
    assert not cache_dir.exists()
    fill("a" * 32, {"Ticket": 1})  # a cache made afterwards starts empty and works
    assert [(u.model, u.entries) for u in disk_usage()] == [("Ticket", 1)]


def test_clear_leaves_what_is_not_the_caches_own(cache_dir: Path) -> None:
    fill("a" * 32, {"Ticket": 2})
    (cache_dir / "notes.txt").write_text("mine")
    (cache_dir / "project").mkdir()
    (cache_dir / "project" / "data.json").write_text("{}")
    removed = clear_disk_cache()
    assert [(u.namespace, u.model) for u in removed] == [("a" * 32, "Ticket")]
    assert sorted(p.name for p in cache_dir.iterdir()) == ["notes.txt", "project"]
    assert (cache_dir / "project" / "data.json").read_text() == "{}"


def test_dir_names_another_cache_directory(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    fill("c" * 32, {"Group": 4}, other)
    assert run(capsys, "path", "--dir", str(other)) == (0, f"{other}\n")
    code, out = run(capsys, "stats", "--dir", str(other))
    assert code == 0
    assert out.splitlines()[2].split()[:3] == ["c" * 32, "Group", "4"]
    assert run(capsys, "stats") == (0, f"no disk cache in {cache_dir}\n")


def test_an_unreadable_database_is_an_error(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = cache_dir / ("a" * 32) / "Ticket"
    broken.mkdir(parents=True)
    (broken / "cache.db").write_bytes(b"not a database")
    assert main(["cache", "stats"]) == 1
    _out, err = capsys.readouterr()
    assert err.startswith("zammad-orm cache stats: disk cache ")


def test_the_command_runs_without_the_emulator(cache_dir: Path) -> None:
    code = (
        "import sys\n"
        "from zammad_orm.cli import main\n"
        "assert main(['cache', 'stats']) == 0\n"
        "print('werkzeug' in sys.modules, 'zammad_orm.testing' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"no disk cache in {cache_dir}", "False False"]
