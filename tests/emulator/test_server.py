"""The Emulator object: lifecycle, file databases, configuration errors, the client helper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests

from zammad_orm.testing import Emulator


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token token={token}"}


def test_url_only_while_running() -> None:
    z = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = z.url
    z.start()
    try:
        assert z.url.startswith("http://127.0.0.1:")
        assert not z.url.endswith("/api/v1")
        assert requests.get(z.url + "/api/v1/version", headers=_auth(z.token), timeout=10).status_code == 200
    finally:
        z.close()


def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "zammad.sqlite")
    with Emulator(db=db, token="first-token") as z:
        api = z.url + "/api/v1"
        created = requests.post(
            api + "/tickets",
            headers=_auth(z.token),
            timeout=10,
            json={"title": "persisted", "group": "Users", "customer_id": 2, "article": {"body": "b"}},
        ).json()
        requests.post(
            api + "/object_manager_attributes",
            headers=_auth(z.token),
            timeout=10,
            json={"name": "shoe_size", "object": "Ticket", "data_type": "integer", "display": "Shoe size"},
        )
        requests.post(
            api + "/object_manager_attributes_execute_migrations", headers=_auth(z.token), timeout=10
        )
    with Emulator(db=db) as again:
        assert again.token == "first-token"
        ticket = requests.get(
            f"{again.url}/api/v1/tickets/{created['id']}", headers=_auth(again.token), timeout=10
        ).json()
        assert ticket["title"] == "persisted"
        assert ticket["shoe_size"] is None
        nxt = requests.post(
            f"{again.url}/api/v1/tickets",
            headers=_auth(again.token),
            timeout=10,
            json={"title": "next", "group": "Users", "customer_id": 2},
        ).json()
        assert int(nxt["number"]) == int(created["number"]) + 1


def test_given_token_and_fixed_port() -> None:
    with Emulator(token="my-token") as z:
        assert z.token == "my-token"
        port = int(z.url.rsplit(":", 1)[1])
    with Emulator(port=port) as again:
        assert again.url.endswith(f":{port}")


@pytest.mark.parametrize("kwargs", [{"search_backend": "solr"}, {"zammad_version": "5.4"}, {"demo": -1}])
def test_bad_configuration(kwargs: dict) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the argument; checked below
        Emulator(**kwargs)


def test_seed_users_and_client() -> None:
    with Emulator() as z:
        assert (z.admin_login, z.admin_password) == ("admin@example.com", "admin")
        for login, token in z.user_tokens.items():
            me = requests.get(z.url + "/api/v1/users/me", headers=_auth(token), timeout=10).json()
            assert me["login"] == login
        client = z.client()
        assert client.tickets.get(1).title == "Welcome to Zammad!"


def test_faults_are_wired_in() -> None:
    with Emulator() as z:
        z.faults.add("status", path="/api/v1/version", status=503, times=1)
        first = requests.get(z.url + "/api/v1/version", headers=_auth(z.token), timeout=10)
        second = requests.get(z.url + "/api/v1/version", headers=_auth(z.token), timeout=10)
        assert (first.status_code, second.status_code) == (503, 200)


def test_a_database_file_from_before_checklists_gains_them(tmp_path: Path) -> None:
    db = str(tmp_path / "old.sqlite")
    Emulator(db=db).close()
    # Make the file look like one written before checklists existed.
    conn = sqlite3.connect(db)
    for table in ("checklists", "checklist_items", "checklist_templates", "checklist_template_items"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE tickets DROP COLUMN checklist_id")
    conn.commit()
    conn.close()
    with Emulator(db=db, zammad_version="6.5") as z:
        made = requests.post(
            f"{z.url}/api/v1/checklists", headers=_auth(z.token), timeout=10, json={"ticket_id": 1}
        )
        assert made.status_code == 201
        ticket = requests.get(f"{z.url}/api/v1/tickets/1", headers=_auth(z.token), timeout=10).json()
        assert ticket["checklist_id"] == made.json()["id"]
