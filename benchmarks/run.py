"""Runs every benchmarks/bench_*.py and writes benchmarks/RESULTS.md with the date and the machine.

Each bench module has `run() -> list[tuple[str, str, str]]`: rows of (measure, figure, target).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    return f"{system}, {cpu}, Python {platform.python_version()}"


def main() -> int:
    modules = sorted(HERE.glob("bench_*.py"))
    if not modules:
        print("no benchmarks are written yet (benchmarks/bench_*.py)", file=sys.stderr)
        return 1
    sections: list[str] = []
    for path in modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ImportError(path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print(f"running {path.name} ...", flush=True)
        rows = mod.run()
        lines = [
            f"## {path.stem}",
            "",
            (mod.__doc__ or "").strip(),
            "",
            "| measure | figure | target |",
            "|---|---|---|",
        ]
        lines += [f"| {m} | {f} | {t} |" for m, f, t in rows]
        sections.append("\n".join(lines))
        for m, f, t in rows:
            print(f"  {m}: {f} (target {t})")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"# Benchmark results\n\nRun: {now}\n\nMachine: {machine()}\n\n" + "\n\n".join(sections) + "\n"
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
