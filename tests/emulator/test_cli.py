"""The zammad-orm command line, run as a real subprocess: serve prints its URL and token and answers HTTP.

``routes`` prints the URL map; it starts nothing, so it also runs through ``main()``.
"""

from __future__ import annotations

import importlib
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from zammad_orm.cli import build_parser, main

STARTUP_TIMEOUT = 60.0


class Served:
    def __init__(self, proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        self.proc = proc
        self.lines = lines
        self.output: list[str] = []
        self.url = self.token = self.login = self.password = ""

    def read_banner(self) -> None:
        while not (self.url and self.token and self.login and self.password):
            line = self.lines.get(timeout=STARTUP_TIMEOUT)
            if line is None:
                stderr = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"serve exited early: {self.output} {stderr}")
            self.output.append(line)
            for name, pattern in (
                ("url", r"serving on (http://\S+)"),
                ("token", r"token:\s+(\S+)"),
                ("login", r"login:\s+(\S+)"),
                ("password", r"password:\s+(\S+)"),
            ):
                match = re.search(pattern, line)
                if match:
                    setattr(self, name, match.group(1))

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Token token={token or self.token}"}
        return requests.get(f"{self.url}/api/v1/{path}", headers=headers, timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        rest: list[str] = []
        while True:
            line = self.lines.get(timeout=5)
            if line is None:
                break
            rest.append(line)
        return code, "".join(rest)


def _pump(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    lines.put(None)


def _start(*args: str) -> Served:
    proc = subprocess.Popen(
        [sys.executable, "-m", "zammad_orm.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    served = Served(proc, lines)
    try:
        served.read_banner()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return served


@pytest.fixture
def serve() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for served in started:
        if served.proc.poll() is None:
            served.proc.kill()
            served.proc.wait()
        for stream in (served.proc.stdout, served.proc.stderr):
            if stream:
                stream.close()


def test_serve_prints_url_and_admin_credentials_and_answers_http(serve: list[Served]) -> None:
    served = _start()
    serve.append(served)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", served.url)
    me = served.get("users/me")
    assert me.status_code == 200
    assert me.json()["login"] == served.login == "admin@example.com"
    # The printed login and password work for HTTP basic auth too.
    basic = requests.get(f"{served.url}/api/v1/users/me", auth=(served.login, served.password), timeout=10)
    assert basic.json()["id"] == me.json()["id"]
    code, rest = served.stop(signal.SIGTERM)
    assert code == 0
    assert "stopped" in rest
    with pytest.raises(requests.exceptions.ConnectionError):
        served.get("users/me")


def test_ctrl_c_stops_the_server_cleanly(serve: list[Served]) -> None:
    served = _start()
    serve.append(served)
    code, rest = served.stop(signal.SIGINT)
    assert code == 0
    assert "Traceback" not in rest


def test_serve_uses_the_given_token_and_demo_data(serve: list[Served]) -> None:
    served = _start("--token", "secret-token-123", "--demo", "12", "--seed", "3")
    serve.append(served)
    assert served.token == "secret-token-123"
    assert served.get("users/me").status_code == 200
    assert served.get("users/me", token="wrong").status_code == 401
    tickets = served.get("tickets?per_page=100").json()
    assert len(tickets) >= 12  # the demo tickets (plus the seed's welcome ticket)


def test_serve_keeps_data_in_the_given_sqlite_file(serve: list[Served], tmp_path: Path) -> None:
    db = tmp_path / "zammad.sqlite3"
    first = _start("--db", str(db), "--token", "t0k3n")
    serve.append(first)
    created = requests.post(
        f"{first.url}/api/v1/tickets",
        headers={"Authorization": "Token token=t0k3n"},
        json={"title": "kept across restarts", "group": "Users", "customer_id": 2, "article": {"body": "x"}},
        timeout=10,
    )
    assert created.status_code == 201
    assert first.stop()[0] == 0
    assert db.exists()
    second = _start("--db", str(db), "--token", "t0k3n")
    serve.append(second)
    again = second.get(f"tickets/{created.json()['id']}")
    assert again.status_code == 200
    assert again.json()["title"] == "kept across restarts"


def test_serve_imitates_the_requested_zammad_version(serve: list[Served]) -> None:
    served = _start("--zammad-version", "6.5", "--search-backend", "database")
    serve.append(served)
    assert "Zammad 6.5, database search" in served.output[0]
    assert served.get("version").json()["version"].startswith("6.5")
    # 6.5 answers the ticket search with a plain list (the "unified" generation).
    assert isinstance(served.get("tickets/search?query=welcome").json(), list)


def test_a_port_in_use_is_a_clear_error(serve: list[Served]) -> None:
    served = _start()
    serve.append(served)
    port = served.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "zammad_orm.cli", "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert served.get("users/me").status_code == 200  # the first server is unharmed


def test_an_unusable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "missing-dir" / "zammad.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "zammad_orm.cli", "serve", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cannot open the emulator's database" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "70000"], "port must be within 0..65535"),
        (["serve", "--port", "http"], "not a port number"),
        (["serve", "--demo", "-1"], "must be >= 0"),
        (["serve", "--zammad-version", "7.0"], "invalid choice: '7.0'"),
        (["serve", "--search-backend", "solr"], "invalid choice: 'solr'"),
        (["demo", "--demo", "many"], "not a whole number"),
        (["launch"], "invalid choice: 'launch'"),
        (["routes", "--zammad-version", "7.0"], "invalid choice: '7.0'"),
        ([], "required: {serve,demo,routes,cache,check,query,count,export,shell,codegen}"),
        (["cache", "purge"], "invalid choice: 'purge'"),
        (["cache"], "required: action"),
    ],
)
def test_bad_arguments_are_argparse_errors(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zammad_orm.cli", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_parser_defaults_match_the_emulator_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.db, args.demo, args.seed, args.token) == (
        "127.0.0.1",
        0,
        ":memory:",
        0,
        0,
        None,
    )
    assert (args.zammad_version, args.search_backend) == ("6.2", "elasticsearch")


def test_demo_prints_the_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zammad_orm.cli", "demo", "--demo", "20"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "serving on http://127.0.0.1:" in result.stderr
    assert "21 tickets" in result.stdout  # 20 demo tickets and the welcome ticket of a fresh system
    assert "Tickets by state" in result.stdout


def _routes(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[tuple[str, ...], str, str]]:
    assert main(["routes", *args]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    return [(tuple(row[:-2]), row[-2], row[-1]) for row in rows]


def test_routes_lists_every_rule_with_its_handler_sorted_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _routes(capsys)
    assert (("GET", "POST"), "/api/v1/tickets/search", "routes_search.tickets_search") in rows
    assert (("POST",), "/api/v1/ticket_states", "routes_reference.create") in rows
    assert (("GET",), "/api/v1/organizations/<ident>", "routes_organizations.orgs_show") in rows
    assert (("PUT", "PATCH"), "/api/v1/checklists/<ident>", "routes_checklists.checklists_update") not in rows
    paths = [path for _, path, _ in rows]
    assert paths == sorted(paths)
    assert len(rows) == len(set(rows)) > 90
    # Every handler is named as module.function of a real function of zammad_orm.testing.
    for _, _, handler in rows:
        module, function = handler.split(".")
        assert callable(getattr(importlib.import_module(f"zammad_orm.testing.{module}"), function))


def test_routes_of_a_newer_release_include_its_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    older = _routes(capsys)
    newer = _routes(capsys, "--zammad-version", "6.5")
    assert (("PUT", "PATCH"), "/api/v1/checklists/<ident>", "routes_checklists.checklists_update") in newer
    assert set(older) < set(newer)


def test_routes_help_says_what_it_prints() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zammad_orm.cli", "routes", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "URL map" in result.stdout
    assert "module.function" in result.stdout
    assert "--zammad-version" in result.stdout
