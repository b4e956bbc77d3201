"""The obvious report loop, written the way a user first writes it, against the floor and the peers.

```python
for t in Ticket.objects.filter(id__lte=10_000).order_by("id"):
    rows.append([t.number, t.title, t.created_at, t.state.name, t.priority.name, t.group.name,
                 t.owner.login, t.customer.email, t.organization.name if t.organization else None])
```

Each contender runs in a fresh process (``_loop_contender.py``) against one emulator; the loop is timed
inside that process (imports and client construction excluded), with a cold record cache of its own;
requests are counted on the server.
Every contender must read the same rows (a digest is compared). Medians of 3 runs (1 for a peer that
needs more than 30 s a run). Contenders:

* **floor**: plain ``requests``, search pages of 200 with their ``assets`` (keyset on ``id``), the two
  reference tables; without a search index, the index endpoint's pages of 100 with ``full=true``.
* **zammad_orm**: the loop above, default settings (``page_concurrency=8``, the default disk cache), and
  ``client.close()`` after it, inside the time: it finishes the disk cache's writes still queued; also with
  ``select_related(...)`` of the six relations, with ``page_concurrency=1`` (one page after the other) and,
  under the latency profile, with ``page_concurrency=4``.
* **zammad-py 3.2**: ``ticket.search`` pages (``expand=true``, names inline) and one ``user.find`` per
  customer for the email; **zammadoo 0.3**: ``tickets.search(...)`` and attribute reads, as documented.

The latency profile imitates a real server: 150 ms more for each search page, 30 ms for every other
request (the emulator's fault injection, ``latency`` rules), 2,000 tickets.

Also: attribute reads (``timeit``, best of 5), start-up (``python -c "import X"``, median of 15
processes, with the package's bytecode compiled as a wheel install has it), and peak RSS growth of
``iterator()`` over 20,000 and 100,000 tickets (a fresh process each).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import RequestCounter, duration

HERE = Path(__file__).resolve().parent
CONTENDER = HERE / "_loop_contender.py"
PEERS = ["zammad-py 3.2", "zammadoo 0.3"]
OURS = ["zammad_orm", "zammad_orm, select_related", "zammad_orm, page_concurrency=1"]

Row = tuple[str, str, str]


def _emulator(
    demo: int, *, version: str = "6.2", backend: str = "elasticsearch", latency: bool = False
) -> Any:
    from zammad_orm.testing import Emulator
    from zammad_orm.testing.faults import Faults

    emulator = Emulator(demo=demo, zammad_version=version, search_backend=backend)
    app: Any = emulator.app
    if latency:
        faults = Faults()
        faults.add("latency", path=r"/search$", latency=0.150)
        faults.add("latency", path=r"^(?!.*/search$)", latency=0.030)
        app = faults.wrap(app)
    counter = RequestCounter(app)
    emulator.app = counter  # replaced before start(): the server serves the counting app
    emulator.start()
    return emulator, counter


def _run(name: str, emulator: Any, counter: RequestCounter, backend: str) -> tuple[float, int, str]:
    before = counter.count
    with tempfile.TemporaryDirectory() as cache:  # default settings, but a cold cache of its own each run
        done = subprocess.run(
            [sys.executable, str(CONTENDER), name, emulator.url, emulator.token, backend],
            capture_output=True,
            text=True,
            check=False,
            cwd=HERE,
            env={**os.environ, "ZAMMAD_ORM_CACHE_DIR": cache},
        )
    if done.returncode:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), counter.count - before, f"{result['rows']}:{result['digest']}"


def _measure(
    label: str, names: list[str], emulator: Any, counter: RequestCounter, backend: str, rounds: int = 3
) -> tuple[list[Row], dict[str, float]]:
    rows: list[Row] = []
    medians: dict[str, float] = {}
    seen: dict[str, str] = {}
    for name in names:
        samples = [_run(name, emulator, counter, backend)]
        if samples[0][0] < 30:
            samples += [_run(name, emulator, counter, backend) for _ in range(rounds - 1)]
        seen[name] = samples[0][2]
        medians[name] = statistics.median(s[0] for s in samples)
        calls = statistics.median(s[1] for s in samples)
        floor = medians.get("floor")
        ratio = f", {medians[name] / floor:.2f}× the floor" if floor and name != "floor" else ""
        fig = f"{duration(medians[name])}, {calls:g} requests{ratio} (median of {len(samples)})"
        rows.append((f"{label}: {name}", fig, _target(label, name)))
        print(f"  {label}: {name}: {fig}", flush=True)
    if len(set(seen.values())) != 1:
        raise RuntimeError(f"{label}: the contenders read different rows: {seen}")
    return rows, medians


def _target(label: str, name: str) -> str:
    if name == "floor" or name in PEERS:
        return "reference"
    if "latency" in label:
        return "≥ 3× faster than the floor and every peer" if name == "zammad_orm" else "-"
    return "requests ≤ floor + 3, time ≤ 1.3× floor" if name != "zammad_orm, page_concurrency=1" else "-"


def _compile_package() -> None:
    # As installed from a wheel: pip compiles the bytecode at install time. An editable checkout with
    # PYTHONDONTWRITEBYTECODE set would compile every module at every start instead.
    package = Path(__file__).resolve().parent.parent / "zammad_orm"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, capture_output=True)


def loop_rows() -> list[Row]:
    _compile_package()
    rows: list[Row] = []
    for version, backend, names in (
        ("6.2", "elasticsearch", ["floor", *OURS, *PEERS]),
        ("6.5", "elasticsearch", ["floor", *OURS]),
        ("6.2", "database", ["floor", "zammad_orm", "zammad_orm, select_related"]),
    ):
        emulator, counter = _emulator(10_000, version=version, backend=backend)
        try:
            label = f"plain loop, 10,000 tickets, Zammad {version}, {backend} search"
            found, _ = _measure(label, names, emulator, counter, backend)
            rows += found
        finally:
            emulator.close()
    emulator, counter = _emulator(2_000, latency=True)
    try:
        label = "plain loop, 2,000 tickets, latency profile (150 ms per search page, 30 ms per other request)"
        names = [
            "floor",
            "zammad_orm",
            "zammad_orm, page_concurrency=1",
            "zammad_orm, page_concurrency=4",
            *PEERS,
        ]
        found, medians = _measure(label, names,
                                  emulator, counter, "elasticsearch")  # fmt: skip
        rows += found
        others = [n for n in ("floor", *PEERS) if n in medians]
        worst = min(medians[n] / medians["zammad_orm"] for n in others)
        rows.append(
            (f"{label}: zammad_orm speed-up over the fastest of floor and peers", f"{worst:.1f}×", "≥ 3×")
        )
    finally:
        emulator.close()
    return rows


_ATTRIBUTES = """
import timeit, sys
from zammad_orm.testing import Emulator
with Emulator(demo=50) as z:
    c = z.client()
    t = c.tickets.get(2)
    t.title, t.state.name, t.owner.login
    for stmt in ("t.title", "t.state", "t.owner.login"):
        best = min(timeit.repeat(stmt, globals={"t": t}, number=200_000, repeat=5)) / 200_000
        print(stmt, best)
    import zammadoo
    zc = zammadoo.Client(z.url + "/api/v1", http_token=z.token)
    zt = zc.tickets(2)
    zt.title
    best = min(timeit.repeat("t.title", globals={"t": zt}, number=200_000, repeat=5)) / 200_000
    print("zammadoo t.title", best)
"""


def attribute_rows() -> list[Row]:
    out = subprocess.run([sys.executable, "-c", _ATTRIBUTES], capture_output=True, text=True, check=True)
    rows: list[Row] = []
    for line in out.stdout.strip().splitlines():
        stmt, seconds = line.rsplit(" ", 1)
        target = {"t.title": "≤ 60 ns", "t.state": "≤ 200 ns", "t.owner.login": "≤ 200 ns"}.get(stmt, "peer")
        rows.append((f"attribute read {stmt} (loaded)", f"{float(seconds) * 1e9:.0f} ns", target))
    return rows


def _startup(module: str, runs: int = 15) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def startup_rows() -> list[Row]:
    _compile_package()
    base = _startup("requests")
    ours = _startup("zammad_orm")
    return [
        ("start-up: python -c 'import requests'", duration(base), "reference"),
        (
            "start-up: python -c 'import zammad_orm'",
            f"{duration(ours)} ({ours / base:.2f}× requests)",
            "≤ 2×",
        ),
    ]


_MEMORY = """
import sys
import zammad_orm as zo
from zammad_orm import Ticket

def peak():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

url, token = sys.argv[1:3]
zo.connect(url, http_token=token)
zo.Ticket.objects.filter(id=1).count()  # the connection, the pool and the first reply's imports
before = peak()
n = 0
for t in Ticket.objects.order_by("id").iterator():
    n += bool(t.title) + bool(t.owner.login) - 1
print(n, peak() - before)
"""


def memory_rows() -> list[Row]:
    rows: list[Row] = []
    for demo in (20_000, 100_000):
        emulator, _ = _emulator(demo)
        try:
            with tempfile.TemporaryDirectory() as cache:  # default settings, a cache of its own
                out = subprocess.run(
                    [sys.executable, "-c", _MEMORY, emulator.url, emulator.token],
                    capture_output=True, text=True, check=True,
                    env={**os.environ, "ZAMMAD_ORM_CACHE_DIR": cache},
                )  # fmt: skip
        finally:
            emulator.close()
        n, grown = (int(x) for x in out.stdout.split())
        rows.append((f"iterator() over {n:,} tickets: peak RSS growth", f"{grown / 2**20:.1f} MB", "< 64 MB"))
    return rows


def run() -> list[Row]:
    return attribute_rows() + startup_rows() + loop_rows() + memory_rows()


if __name__ == "__main__":
    for measure, fig, target in run():
        print(f"{measure}: {fig} (target {target})")
