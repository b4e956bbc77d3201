"""The pytest plugin (entry point pytest11), exercised in throw-away pytest runs with pytester."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
filterwarnings = error
addopts = -p no:cacheprovider
"""

ME = """
import requests

def get(emulator, path):
    return requests.get(
        f"{emulator.url}/api/v1/{path}",
        headers={"Authorization": f"Token token={emulator.token}"},
        timeout=10,
    )
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(helpers=ME)
    return pytester


def test_plugin_is_registered_by_the_entry_point(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--zammad-demo*", "*--zammad-version*", "*--zammad-search-backend*"])


def test_loading_the_plugin_imports_no_emulator_code() -> None:
    code = textwrap.dedent(
        """
        import sys
        import zammad_orm.testing.plugin
        emulator = ("werkzeug", "luqum", "zammad_orm.testing.server", "zammad_orm.testing.app")
        heavy = [m for m in emulator if m in sys.modules]
        print(heavy)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_session_emulator_is_shared_and_answers_as_admin(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_one="""
        from helpers import get

        def test_me(zammad_emulator):
            me = get(zammad_emulator, "users/me")
            assert me.status_code == 200
            assert me.json()["login"] == zammad_emulator.admin_login == "admin@example.com"
            print("URL", zammad_emulator.url)
        """,
        test_two="""
        def test_same(zammad_emulator):
            print("URL", zammad_emulator.url)
        """,
    )
    result = project.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    urls = re.findall(r"URL (http://\S+)", result.stdout.str())
    assert len(urls) == 2
    assert len(set(urls)) == 1


def test_demo_and_version_options_configure_the_emulator(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_options="""
        from helpers import get

        def test_configured(zammad_emulator):
            assert get(zammad_emulator, "version").json()["version"].startswith("6.5")
            assert len(get(zammad_emulator, "tickets?per_page=100").json()) >= 7
        """
    )
    result = project.runpytest_subprocess("--zammad-demo", "7", "--zammad-version", "6.5")
    result.assert_outcomes(passed=1)


def test_ini_keys_configure_the_emulator_and_the_command_line_wins(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makeini(INI + "zammad_version = 6.5\nzammad_demo = 3\n")
    project.makepyfile(
        test_ini="""
        import os
        from helpers import get

        def test_configured(zammad_emulator):
            expected = os.environ["EXPECTED_VERSION"]
            assert get(zammad_emulator, "version").json()["version"].startswith(expected)
        """
    )
    monkeypatch.setenv("EXPECTED_VERSION", "6.5")
    project.runpytest_subprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("EXPECTED_VERSION", "6.2")
    project.runpytest_subprocess("--zammad-version", "6.2").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--zammad-version", "7.0"], "", "zammad_version must be one of 6.2, 6.5, got '7.0'"),
        ([], "zammad_demo = lots\n", "zammad_demo must be a whole number, got 'lots'"),
        (["--zammad-demo", "-4"], "", "zammad_demo must be >= 0, got -4"),
        (["--zammad-search-backend", "solr"], "", "zammad_search_backend must be one of"),
    ],
)
def test_bad_settings_are_usage_errors(
    project: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    project.makeini(INI + ini)
    project.makepyfile(test_bad="def test_x(zammad_emulator):\n    pass\n")
    result = project.runpytest_subprocess(*args)
    assert result.ret != 0
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()


def test_faults_fixture_is_cleared_between_tests(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_faults="""
        from helpers import get

        def test_a_fault(zammad_faults, zammad_emulator):
            rule = zammad_faults.add("status", status=503, path="/users/me")
            assert get(zammad_emulator, "users/me").status_code == 503
            assert rule.hits == 1

        def test_no_fault_left(zammad_emulator):
            assert zammad_emulator.faults.rules == ()
            assert get(zammad_emulator, "users/me").status_code == 200
        """
    )
    project.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_client_fixture_talks_to_the_emulator_as_admin(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_client="""
        import zammad_orm

        def test_client(zammad_client, zammad_emulator):
            assert isinstance(zammad_client, zammad_orm.Client)
            me = zammad_client.request("GET", "users/me")
            assert me["login"] == zammad_emulator.admin_login
        """
    )
    project.runpytest_subprocess().assert_outcomes(passed=1)
