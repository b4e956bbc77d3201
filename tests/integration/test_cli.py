"""zammad-orm check, query, count, export and shell against the emulator over real HTTP.

Most run ``main(argv)`` in-process (the environment set with monkeypatch, the output read with capsys);
a few run the real command in a subprocess. Every expectation is computed with the library itself on a
client of the same server, never written down.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm.cli import FAILED, INTERRUPTED, OK, USAGE, main
from zammad_orm.manager import set_default_client
from zammad_orm.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard: nothing listens on loopback


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(demo=40, seed=7) as emulator:
        yield emulator


@pytest.fixture
def env(server: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in ("ZAMMAD_USERNAME", "ZAMMAD_PASSWORD", "ZAMMAD_OAUTH2_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "ZAMMAD_URL": server.url,
        "ZAMMAD_HTTP_TOKEN": server.token,
        "ZAMMAD_ORM_CACHE_DIR": str(tmp_path / "cache"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def client(server: Emulator) -> Iterator[zo.Client]:
    c = zo.Client(server.url, http_token=server.token)
    yield c
    c.close()
    set_default_client(None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subprocess_env(values: dict[str, str]) -> dict[str, str]:
    environ = dict(os.environ, **values)
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), environ.get("PYTHONPATH", "")])
    return environ


# --- query ---------------------------------------------------------------------------------------------


def test_query_table_shows_the_default_columns_of_the_filtered_tickets(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "query", "tickets", "state=open")
    assert (code, err) == (OK, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "id", "number", "title", "state__name", "priority__name", "group__name", "owner__login", "created_at"
    ]  # fmt: skip
    expected = list(client.tickets.filter(state="open").values_list("id", "number"))
    assert expected
    assert [tuple(line.split()[:2]) for line in lines[1:]] == [(str(i), n) for i, n in expected]


def test_query_csv_with_fields_order_and_limit_is_what_python_gets(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "query", "ticket", "state__name__in=open,new", "--fields", "id,title,state__name",
        "--order", "-created_at", "--limit", "4", "--format", "csv",
    )  # fmt: skip
    assert code == OK
    rows = list(csv.reader(io.StringIO(out)))
    expected = client.tickets.filter(state__name__in=["open", "new"]).order_by("-created_at")[:4]
    assert rows[0] == ["id", "title", "state__name"]
    assert rows[1:] == [[str(i), t, s] for i, t, s in expected.values_list("id", "title", "state__name")]
    assert len(rows) == 5


def test_query_json_and_jsonl_with_id_in_and_date_math(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "query", "Ticket", "id__in=1,2,3", "--fields", "id,number", "--format", "json")
    assert code == OK
    assert json.loads(out) == [
        {"id": t.id, "number": t.number} for t in client.tickets.filter(id__in=[1, 2, 3])
    ]
    code, out, _ = run(
        capsys,
        "query",
        "tickets",
        "created_at__gte=now-30d",
        "--fields",
        "id,created_at",
        "--format",
        "jsonl",
    )
    assert code == OK
    rows = [json.loads(line) for line in out.splitlines()]
    recent = client.tickets.filter(created_at__gte="now-30d")
    assert [r["id"] for r in rows] == [t.id for t in recent]
    assert all(r["created_at"].endswith("Z") for r in rows)


def test_query_excludes_with_not_equal_and_takes_relation_paths(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "query", "tickets", "state!=closed", "owner__login=agent1@example.com", "--fields", "id",
        "--format", "jsonl",
    )  # fmt: skip
    assert code == OK
    expected = client.tickets.filter(owner__login="agent1@example.com").exclude(state="closed")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [t.id for t in expected]


def test_query_users_by_collection_name(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "query", "users", "login__icontains=example", "--format", "json")
    assert code == OK
    assert [r["login"] for r in json.loads(out)] == [
        u.login for u in client.users.filter(login__icontains="example")
    ]


# --- count ---------------------------------------------------------------------------------------------


def test_count_in_all_and_by_state(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "count", "tickets", "priority=2 normal")
    assert (code, out) == (OK, f"{client.tickets.filter(priority='2 normal').count()}\n")
    code, out, _ = run(capsys, "count", "tickets", "--by", "state__name", "--format", "json")
    assert code == OK
    grouped = {r["state__name"]: r["n"] for r in json.loads(out)}
    expected = {s: client.tickets.filter(state=s).count() for s in grouped}
    assert grouped == expected
    assert sum(grouped.values()) == client.tickets.count()


# --- usage errors: one line, exit status 2 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "tickts"], "unknown model 'tickts' (did you mean 'tickets'"),
        (["query", "tickets", "state"], "expected LOOKUP=VALUE"),
        (["query", "tickets", "owner__isnull=maybe"], "owner__isnull takes true or false"),
        (["query", "tickets", "created_at__icontains=x"], "has no lookup 'icontains'"),
        (["query", "tickets", "created_at__gte=next week"], "is neither an ISO-8601 date/time nor date math"),
        (["query", "tickets", "id=1", "id=2"], "id is given twice"),
        (["count", "tickets", "article_count=many"], "article_count holds integer values"),
        (["export", "tickets", "--to", "out.xlsx"], "cannot tell the format of out.xlsx"),
    ],
)
def test_bad_input_is_one_line_and_status_2_before_any_request(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens at this URL: a request would fail with status 1, not 2.
    for name in ("ZAMMAD_USERNAME", "ZAMMAD_PASSWORD", "ZAMMAD_OAUTH2_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZAMMAD_URL", CLOSED_PORT_URL)
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", "t")
    code, out, err = run(capsys, *argv)
    assert (code, out) == (USAGE, "")
    assert err.startswith("zammad-orm: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_unknown_field_names_the_closest_ones(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "query", "tickets", "stat=open")
    assert code == USAGE
    assert err == (
        "zammad-orm: error: stat: Ticket has no field 'stat' (did you mean 'state' or 'state_id'?) (not"
        " declared, not a relation, and not a custom attribute of the server)\n"
    )


def test_missing_url_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ZAMMAD_URL", raising=False)
    code, _, err = run(capsys, "check")
    assert code == USAGE
    assert err == "zammad-orm: error: no Zammad URL: pass url=... or set ZAMMAD_URL\n"


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"ZAMMAD_USERNAME": "admin@example.com"}, "username and password must be given together"),
        ({"ZAMMAD_HTTP_TOKEN": "t", "ZAMMAD_OAUTH2_TOKEN": "o"}, "contradictory credentials"),
    ],
)
def test_unusable_credentials_are_one_line_and_status_2(
    credentials: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name in ("ZAMMAD_HTTP_TOKEN", "ZAMMAD_USERNAME", "ZAMMAD_PASSWORD", "ZAMMAD_OAUTH2_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZAMMAD_URL", CLOSED_PORT_URL)
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "query", "tickets")
    assert (code, out) == (USAGE, "")
    assert err.startswith("zammad-orm: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_debug_adds_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ZAMMAD_URL", raising=False)
    code, _, err = run(capsys, "--debug", "count", "tickets")
    assert code == USAGE
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == "zammad-orm: error: no Zammad URL: pass url=... or set ZAMMAD_URL"


# --- check ---------------------------------------------------------------------------------------------


def test_check_prints_server_user_permissions_backend_and_cache(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check")
    assert (code, err) == (OK, "")
    fields = dict(line.split(":", 1) for line in out.splitlines())
    fields = {k: v.strip() for k, v in fields.items()}
    assert fields["version"] == f"Zammad {client.facts.version}"
    me = client.users.me()
    assert fields["user"].startswith(f"{me.login} (id {me.id}")
    assert fields["roles"] == ", ".join(r.name for r in me.roles)
    assert "admin" in fields["permissions"].split(", ")
    assert fields["search"] == "elasticsearch"
    assert fields["cache"]
    assert env["ZAMMAD_HTTP_TOKEN"] not in out


def test_check_as_an_agent_and_as_a_customer(
    server: Emulator, env: dict[str, str], client: zo.Client, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", server.user_tokens["agent1@example.com"])
    code, out, _ = run(capsys, "check")
    assert code == OK
    assert "user:         agent1@example.com" in out
    agent = client.users.get(login="agent1@example.com")
    permissions = sorted(
        {p for r in agent.roles for p in client.get(f"roles/{r.id}", expand="true")["permissions"]}
    )
    assert f"permissions:  {', '.join(permissions)}\n" in out
    assert "admin" not in permissions
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", server.user_tokens["nicole.braun@zammad.org"])
    code, out, _ = run(capsys, "check")
    assert code == OK
    assert "user:         nicole.braun@zammad.org" in out
    assert "permissions:  (not readable with these credentials: GET /roles answered 403)" in out


def test_check_with_a_wrong_token_says_401(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", "not-the-token")
    code, out, err = run(capsys, "check")
    assert (code, out) == (FAILED, "")
    assert err.startswith("zammad-orm: error: 401 ")
    assert "the server refused the credentials: check ZAMMAD_HTTP_TOKEN" in err
    assert err.count("\n") == 1


def test_check_of_an_unreachable_server_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZAMMAD_URL", CLOSED_PORT_URL)
    monkeypatch.setenv("ZAMMAD_HTTP_TOKEN", "t")
    code, _, err = run(capsys, "check")
    assert code == FAILED
    assert f"cannot reach {CLOSED_PORT_URL}: is it running, is ZAMMAD_URL right?" in err
    assert err.count("\n") == 1  # the transport's retry log is held back


# --- export --------------------------------------------------------------------------------------------


def test_export_csv_streams_every_row(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "tickets.csv"
    code, out, err = run(
        capsys, "export", "tickets", "state!=closed", "--fields", "id,title,state__name", "--to", str(target)
    )
    assert (code, out) == (OK, "")
    expected = client.tickets.exclude(state="closed").values_list("id", "title", "state__name")
    assert err == f"wrote {len(expected)} Ticket rows to {target}\n"
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows == [["id", "title", "state__name"], *([str(i), t, s] for i, t, s in expected)]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["tickets.csv"]


def test_export_jsonl_without_fields_writes_every_field_and_shows_progress(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "users.jsonl"
    code, _, err = run(capsys, "export", "users", "--to", str(target), "--progress")
    assert code == OK
    assert "User: " in err
    assert " rows" in err  # tqdm's bar on stderr
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["login"] for r in rows] == [u.login for u in client.users.all()]
    assert set(zo.User._meta.fields) <= set(rows[0])


def test_export_parquet_keeps_the_types(
    env: dict[str, str], client: zo.Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "tickets.parquet"
    code, _, _ = run(
        capsys, "export", "tickets", "--fields", "id,number,created_at,state__name,article_count",
        "--order", "id", "--to", str(target),
    )  # fmt: skip
    assert code == OK
    table = pq.read_table(target)
    assert str(table.schema.field("id").type) == "int64"
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    expected = list(client.tickets.order_by("id").values("id", "number", "created_at", "state__name"))
    got = table.to_pylist()
    assert [(r["id"], r["number"], r["created_at"], r["state__name"]) for r in got] == [
        (e["id"], e["number"], e["created_at"], e["state__name"]) for e in expected
    ]


def test_export_parquet_without_pyarrow_is_a_clear_error(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    code, _, err = run(capsys, "export", "tickets", "--to", str(tmp_path / "t.parquet"))
    assert code == USAGE
    assert "Parquet needs pyarrow: pip install 'zammad-orm[parquet]'" in err
    assert [p.name for p in tmp_path.iterdir()] == []


def test_interrupted_export_leaves_the_old_file_and_no_temporary_one(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zammad_orm.cli import data

    target = tmp_path / "tickets.jsonl"
    target.write_text("the previous export\n", encoding="utf-8")
    real = data._plain

    def interrupted(rows: Any, columns: Any) -> Iterator[dict[str, Any]]:
        for n, row in enumerate(real(rows, columns)):
            if n == 5:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the stream
            yield row

    monkeypatch.setattr(data, "_plain", interrupted)
    code, _, err = run(capsys, "export", "tickets", "--to", str(target))
    assert code == INTERRUPTED
    assert err.endswith("zammad-orm: interrupted\n")
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["tickets.jsonl"]


def test_export_into_a_missing_directory_is_refused(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "export", "tickets", "--to", str(tmp_path / "nowhere" / "t.csv"))
    assert code == USAGE
    assert "no directory" in err


# --- the real command in a subprocess ------------------------------------------------------------------


def test_python_m_zammad_orm_version_and_help_of_every_subcommand() -> None:
    from zammad_orm.cli import build_parser

    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "--version"], env=subprocess_env({}), capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, f"zammad-orm {zo.__version__}\n")
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) >= {"check", "query", "count", "export", "shell", "codegen", "serve", "cache"}
    for name in commands:
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        assert exited.value.code == 0


def test_query_in_a_subprocess_with_the_environment(env: dict[str, str], client: zo.Client) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "count", "tickets", "state=new"], env=subprocess_env(env),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{client.tickets.filter(state='new').count()}\n"


def test_shell_reads_python_from_stdin_with_client_and_models(env: dict[str, str], client: zo.Client) -> None:
    code = (
        "print('tickets', client.tickets.count())\n"
        "print('admin', User.objects.get(login='admin@example.com').id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "shell", "--plain"], input=code, env=subprocess_env(env),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"tickets {client.tickets.count()}" in done.stdout
    assert f"admin {client.users.get(login='admin@example.com').id}" in done.stdout
    assert f"connected to {env['ZAMMAD_URL']}" in done.stderr + done.stdout


PRINT_NEW = "print(Ticket.objects.filter(state='new').count())"


def test_shell_c_runs_code_and_its_errors_are_one_line(env: dict[str, str], client: zo.Client) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "shell", "-c", PRINT_NEW],
        env=subprocess_env(env), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, f"{client.tickets.filter(state='new').count()}\n")
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "shell", "-c", "Ticket.objects.filter(stat='new').count()"],
        env=subprocess_env(env), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == USAGE
    assert done.stderr.startswith("zammad-orm: error: stat: Ticket has no field 'stat'")


def test_debug_shows_the_requests_and_leaves_the_loggers_as_they_were(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    loggers = [logging.getLogger(n) for n in ("", "zammad_orm", "zammad_orm.transport")]
    before = [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    code, _, err = run(capsys, "--debug", "count", "tickets")
    assert code == OK
    assert "DEBUG zammad_orm.transport: GET /api/v1/" in err
    assert [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers] == before
