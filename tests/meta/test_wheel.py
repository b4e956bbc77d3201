"""The published wheel works on its own: built, installed into a fresh virtualenv, used from elsewhere.

The package sits at the top of the repository, so a test run from the checkout would import it from
there whatever the wheel holds. These tests build the wheel and the sdist from a copy of the checkout,
install the wheel with its ``[emulator]`` extra into a new virtualenv in a temporary directory outside the
checkout, and run the package from there (no ``PYTHONPATH``, working directory outside the checkout).
pip fetches the dependencies from the package index (its cache makes later runs quick).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = "Scripts" if sys.platform == "win32" else "bin"
TIMEOUT = 300  # seconds for one build or install step (the package index may be slow)
#: Not copied to the build directory: VCS data, environments, caches and earlier builds.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "_build", ".*_cache", ".hypothesis",
    ".benchmarks", ".data",
)  # fmt: skip

pytestmark = pytest.mark.slow

#: Runs in the new virtualenv: where the package came from, its data files, one query to the emulator.
PROBE = """
import json, sys
from importlib import resources

import zammad_orm
import zammad_orm.testing
from zammad_orm import Client, Ticket
from zammad_orm.testing import Emulator

out = {
    "prefix": sys.prefix,
    "package": zammad_orm.__file__,
    "testing": zammad_orm.testing.__file__,
    "py_typed": resources.files("zammad_orm").joinpath("py.typed").is_file(),
    "demo_words": resources.files("zammad_orm.testing").joinpath("data/demo_words.json").is_file(),
}
with Emulator(demo=20) as z:
    client = Client(z.url, http_token=z.token)
    try:
        out["orm_count"] = Ticket.objects.using(client).filter(state_id=4).count()
        listed = client.get("tickets", per_page=100)
        out["listed"] = len(listed)
        out["rest_count"] = sum(1 for t in listed if t["state_id"] == 4)
    finally:
        client.close()
print(json.dumps(out))
"""


@attrs.frozen
class Built:
    wheel: Path
    sdist: Path
    venv: Path
    work: Path  # an empty directory outside the checkout, the working directory of every command


def _clean_env() -> dict[str, str]:
    """The environment of a command in the new virtualenv: nothing that points back to the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _python(venv: Path) -> Path:
    return venv / BIN / ("python.exe" if sys.platform == "win32" else "python")


def _build_frontend(tmp: Path) -> list[str | Path]:
    """``python -m build``: this interpreter's (the ``dev`` extra has it), else one in a tools venv."""
    probe = subprocess.run(
        [sys.executable, "-m", "build", "--version"], cwd=tmp, env=_clean_env(), capture_output=True
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "build"]
    tools = tmp / "tools"
    _run([sys.executable, "-m", "venv", tools], cwd=tmp)
    _run([_python(tools), "-m", "pip", "install", "--quiet", "build"], cwd=tmp)
    return [_python(tools), "-m", "build"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("wheel")
    assert not tmp.resolve().is_relative_to(ROOT)
    source, dist, venv, work = tmp / "source", tmp / "dist", tmp / "venv", tmp / "work"
    work.mkdir()
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # the build leaves egg-info and build/ behind
    _run([*_build_frontend(tmp), "--outdir", dist, source], cwd=work)
    (wheel,) = dist.glob("zammad_orm-*.whl")
    (sdist,) = dist.glob("zammad_orm-*.tar.gz")
    _run([sys.executable, "-m", "venv", venv], cwd=work)
    _run([_python(venv), "-m", "pip", "install", "--quiet", f"{wheel}[emulator]"], cwd=work)
    yield Built(wheel=wheel, sdist=sdist, venv=venv, work=work)
    shutil.rmtree(tmp, ignore_errors=True)


def test_the_wheel_holds_the_package_and_its_data_but_not_the_tests(built: Built) -> None:
    names = zipfile.ZipFile(built.wheel).namelist()
    assert "zammad_orm/py.typed" in names
    assert "zammad_orm/testing/data/demo_words.json" in names
    assert "zammad_orm/testing/server.py" in names
    assert [n for n in names if n.startswith("tests/") or "/tests/" in n] == []
    tops = {n.split("/")[0] for n in names}
    assert [t for t in tops if t != "zammad_orm" and not t.endswith(".dist-info")] == []


def test_the_sdist_holds_py_typed_and_the_data_files(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert "zammad_orm/py.typed" in names
    assert "zammad_orm/testing/data/demo_words.json" in names
    assert "pyproject.toml" in names


def test_the_installed_package_runs_from_the_venv_outside_the_checkout(built: Built) -> None:
    script = built.work / "probe.py"
    script.write_text(PROBE, encoding="utf-8")
    out: dict[str, Any] = json.loads(_run([_python(built.venv), script], cwd=built.work).stdout)
    venv = built.venv.resolve()
    for module in ("package", "testing"):
        where = Path(out[module]).resolve()
        assert where.is_relative_to(venv), (module, where)
        assert not where.is_relative_to(ROOT), (module, where)
    assert Path(out["prefix"]).resolve() == venv
    assert out["py_typed"] is True
    assert out["demo_words"] is True
    assert out["listed"] < 100  # one page of the raw REST list holds every ticket
    assert out["orm_count"] == out["rest_count"] > 0


def test_the_console_script_is_installed(built: Built) -> None:
    done = _run([built.venv / BIN / "zammad-orm", "--help"], cwd=built.work)
    assert "serve" in done.stdout
    assert "demo" in done.stdout
