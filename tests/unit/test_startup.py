"""``import zammad_orm`` loads what every client needs, and no optional or rarely needed part."""

from __future__ import annotations

import subprocess
import sys

#: Loaded on first use only: optional extras, the emulator, and the parts a plain import does not need.
LATER = ("pandas", "tqdm", "redis", "werkzeug", "zammad_orm.testing", "cattrs", "html", "pyarrow")


def test_import_loads_no_optional_part() -> None:
    code = f"import sys, zammad_orm; print(sorted(m for m in {LATER!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_converter_loads_on_first_use() -> None:
    code = (
        "import sys, datetime, zammad_orm\n"
        "from zammad_orm.convert import from_wire\n"
        "assert 'cattrs' not in sys.modules\n"
        "when = from_wire(datetime.datetime, '2024-03-18T22:50:03.732Z')\n"
        "print(when.isoformat(), 'cattrs' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2024-03-18T22:50:03.732000+00:00", "True"]
