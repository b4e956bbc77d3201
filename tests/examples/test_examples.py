"""Every script in examples/ runs as a subprocess against an emulator with demo data, its output checked.

The test is parametrised over the files in examples/, and each file needs an entry in ``CHECKS`` saying
how its output is checked: a new example cannot be forgotten. The numbers an example prints or writes are
compared with direct queries of the same emulator (server-side counts, not the example's own code path).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import zammad_orm
from zammad_orm import Count, Ticket
from zammad_orm.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 180


@pytest.fixture(scope="module")
def demo() -> Iterator[Emulator]:
    with Emulator(demo=200, seed=7) as server:
        yield server


@pytest.fixture
def tickets(demo: Emulator) -> Iterator[Any]:
    """``Ticket.objects`` on a client of our own, for the direct queries the outputs are compared with."""
    client = demo.client()
    try:
        yield Ticket.objects.using(client)
    finally:
        client.close()


def _env(server: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAMMAD_")}
    env.update(ZAMMAD_URL=server.url, ZAMMAD_HTTP_TOKEN=server.token, MPLBACKEND="Agg")
    # Clients cache on disk by default: in the test's cache directory (tests/conftest.py), never the user's.
    env["ZAMMAD_ORM_CACHE_DIR"] = os.environ["ZAMMAD_ORM_CACHE_DIR"]
    # The examples import the zammad_orm this test imports (the checkout under test, not another install).
    package_root = str(Path(zammad_orm.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def _run(script: str, server: Emulator, cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env=_env(server),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"examples/{script} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


def check_weekly_report(server: Emulator, tickets: Any, tmp_path: Path) -> None:
    before = dt.datetime.now(dt.timezone.utc).date()
    out = _run("weekly_report.py", server, tmp_path, "--csv", "weeks.csv", "--png", "weeks.png")
    after = dt.datetime.now(dt.timezone.utc).date()
    with open(tmp_path / "weeks.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8
    starts = [dt.date.fromisoformat(row["week_start"]) for row in rows]
    assert all(day.weekday() == 0 for day in starts)
    assert [(b - a).days for a, b in itertools.pairwise(starts)] == [7] * 7
    assert starts[-1] in {day - dt.timedelta(days=day.weekday()) for day in (before, after)}
    for row, start in zip(rows, starts, strict=True):
        year, week, _ = start.isocalendar()
        assert row["week"] == f"{year}-W{week:02d}"
        end = start + dt.timedelta(days=7)
        window = {"gte": _utc(start), "lt": _utc(end)}
        created = tickets.filter(**{f"created_at__{k}": v for k, v in window.items()}).count()
        closed = tickets.filter(**{f"close_at__{k}": v for k, v in window.items()}).count()
        assert (int(row["created"]), int(row["closed"])) == (created, closed), row["week"]
        assert re.search(rf"^{row['week']}\s+{created}\s+{closed}$", out, re.MULTILINE), out
    assert sum(int(row["created"]) for row in rows) > 0  # the demo data has recent tickets
    assert sum(int(row["closed"]) for row in rows) > 0
    png = (tmp_path / "weeks.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 1000


def _section(out: str, title: str) -> dict[str, int]:
    """The ``name  count`` lines under ``title`` in the script's output, up to the next blank line."""
    lines = out.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    table: dict[str, int] = {}
    for line in lines[1:]:  # the first line is pandas' index name
        name, count = line.rsplit(maxsplit=1)
        table[name.strip()] = int(count)
    return table


def check_sync_to_pandas(server: Emulator, tickets: Any, tmp_path: Path) -> None:
    import pandas as pd

    out = _run("sync_to_pandas.py", server, tmp_path, "--pickle", "tickets.pkl")
    total = tickets.count()
    assert total >= 200
    assert f"tickets: {total}\n" in out
    by_state = {row["state__name"]: row["n"] for row in tickets.values("state__name").annotate(n=Count("id"))}
    assert _section(out, "Tickets by state") == by_state
    closed = tickets.exclude(close_at=None).count()
    assert f"(of {closed} closed tickets)" in out
    df = pd.read_pickle(tmp_path / "tickets.pkl")
    assert len(df) == total
    assert sorted(df["number"]) == sorted(tickets.values_list("number", flat=True))
    assert {"state__name", "priority__name", "group__name", "created_at", "close_at"} <= set(df.columns)


def check_web_view(server: Emulator, tickets: Any, tmp_path: Path) -> None:
    newest_open = tickets.open().order_by("-created_at").first()
    a_closed = tickets.closed().order_by("-created_at").first()
    assert newest_open is not None
    assert a_closed is not None
    with subprocess.Popen(
        [sys.executable, str(EXAMPLES / "web_view.py"), "--port", "0", "--once"],
        cwd=tmp_path,
        env=_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            match = re.match(r"serving on (http://127\.0\.0\.1:\d+/)$", first.strip())
            assert match, f"unexpected first line {first!r}"
            reply = requests.get(match.group(1), timeout=TIMEOUT)
            _, errors = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, f"examples/web_view.py exited {proc.returncode}:\n{errors}"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.text
    assert "<table" in page
    assert "</table>" in page
    assert f"<td>{newest_open.number}</td>" in page
    assert f"<td>{a_closed.number}</td>" not in page
    shown = re.findall(r"<tr><td>(\d+)</td>", page)
    assert len(shown) == min(100, tickets.open().count())


# examples/<file> -> how its run is checked: a check function of this module, or the test module that runs
# and checks the script (in the same test session). Every script in examples/ must have an entry.
CHECKS: dict[str, Callable[[Emulator, Any, Path], None] | str] = {
    "weekly_report.py": check_weekly_report,
    "sync_to_pandas.py": check_sync_to_pandas,
    "web_view.py": check_web_view,
    "report.py": "tests/integration/test_example_report.py",
}


def test_every_check_names_an_existing_example() -> None:
    assert sorted(set(CHECKS) - set(SCRIPTS)) == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_against_the_emulator(script: str, demo: Emulator, tickets: Any, tmp_path: Path) -> None:
    check = CHECKS.get(script)
    assert check is not None, f"examples/{script} has no entry in CHECKS of {Path(__file__).name}: add one"
    if isinstance(check, str):  # checked by that test module, which must exist and run this script
        module = ROOT / check
        assert module.is_file(), f"CHECKS names {check} for examples/{script}, and there is no such file"
        text = module.read_text("utf-8")
        runs = f'"examples" / "{script}"' in text or f"examples/{script}" in text
        assert runs, f"{check} does not run examples/{script}"
        return
    check(demo, tickets, tmp_path)
