"""zammad-orm codegen against an emulator with custom attributes: the module type-checks and works.

The attributes are created through the object manager API; the command runs as a subprocess; mypy
``--strict`` checks the module with a usage file (and refuses a wrong one); a fresh interpreter imports
the module and creates, reads and queries tickets with it. Importing the module replaces the models of
the registry, so that part runs in its own process and leaves this one untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zammad_orm as zo
from zammad_orm.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]

ATTRIBUTES: list[dict[str, Any]] = [
    {"object": "Ticket", "name": "customer_tier", "display": "Customer tier", "data_type": "select",
     "data_option": {"options": {"gold": "Gold", "silver": "Silver"}, "default": "", "null": True}},
    {"object": "Ticket", "name": "products", "display": "Products", "data_type": "multiselect",
     "data_option": {"options": {"mail": "Mail", "chat": "Chat", "phone": "Phone"}, "null": True}},
    {"object": "Ticket", "name": "seats", "display": "Seats", "data_type": "integer",
     "data_option": {"min": 0, "max": 100000, "null": True}},
    {"object": "Ticket", "name": "vip", "display": "VIP", "data_type": "boolean",
     "data_option": {"options": {"true": "yes", "false": "no"}, "default": False, "null": True}},
    {"object": "Ticket", "name": "renewal_on", "display": "Renewal", "data_type": "date",
     "data_option": {"null": True, "diff": 0}},
    {"object": "Ticket", "name": "audited_at", "display": "Audited", "data_type": "datetime",
     "data_option": {"null": True, "future": True, "past": True, "diff": 0}},
    {"object": "Ticket", "name": "region", "display": "Region", "data_type": "tree_select",
     "data_option": {"null": True, "options": [
         {"name": "EU", "value": "EU", "children": [{"name": "DE", "value": "EU::DE"}]},
         {"name": "US", "value": "US"}]}},
    {"object": "Ticket", "name": "account_note", "display": "Account \"note\"", "data_type": "input",
     "data_option": {"type": "text", "maxlength": 120, "null": True}},
    {"object": "User", "name": "cost_center", "display": "Cost center", "data_type": "select",
     "data_option": {"options": {"sales": "Sales", "it": "IT"}, "null": True}},
]  # fmt: skip

USAGE_OK = """
from __future__ import annotations

import datetime as dt
from typing import Literal

import zammad_orm as zo
from typed_models import Ticket, User


def tier(ticket: Ticket) -> Literal["gold", "silver"] | None:
    return ticket.customer_tier


def seats_after(ticket: Ticket) -> int:
    return (ticket.seats or 0) + 1


def renewal(ticket: Ticket) -> dt.date | None:
    return ticket.renewal_on


def upgrade(ticket: Ticket, user: User) -> None:
    ticket.customer_tier = "gold"
    ticket.products = ["mail", "chat"]
    ticket.vip = True
    user.cost_center = "it"


def still_a_ticket(ticket: Ticket) -> zo.Ticket:
    return ticket
"""

USAGE_BAD = """
from __future__ import annotations

from typed_models import Ticket


def wrong(ticket: Ticket) -> str:
    ticket.customer_tier = "platinum"
    return ticket.seats
"""

RUN = """
import datetime as dt, json
import zammad_orm as zo
import typed_models as tm

client = zo.connect()
out = {}
t = client.tickets.create(
    title="typed", group="Users", customer="nicole.braun@zammad.org", article="typed ticket",
    customer_tier="gold", products=["mail", "phone"], seats=12, vip=True,
    renewal_on=dt.date(2027, 1, 31), region="EU::DE",
)
client.tickets.create(title="untyped", group="Users", customer="nicole.braun@zammad.org", article="x",
                      customer_tier="silver", seats=2)
out["created_class"] = type(t).__module__ + "." + type(t).__name__
again = zo.Ticket.objects.get(id=t.id)
out["read"] = [type(again).__module__, again.customer_tier, again.products, again.seats, again.vip,
               again.renewal_on.isoformat(), again.region, again is t]
gold = tm.Ticket.objects.filter(customer_tier="gold", seats__gte="10")
out["gold_and_seats"] = [x.id == t.id for x in gold]
out["in"] = sorted(x.customer_tier for x in client.tickets.filter(customer_tier__in=["gold", "silver"]))
out["region"] = [x.id == t.id for x in client.tickets.filter(region="EU::DE")]
out["article_ticket"] = type(t.articles[0].ticket).__module__
out["extra"] = sorted(again.extra)
for name, kwargs in [("platinum", {"customer_tier": "platinum"}),
                     ("glod_in", {"customer_tier__in": ["glod"]}),
                     ("seats_text", {"seats": "many"}),
                     ("seats_icontains", {"seats__icontains": "1"})]:
    try:
        client.tickets.filter(**kwargs).count()
        out[name] = None
    except zo.QueryError as exc:
        out[name] = str(exc)
try:
    t.customer_tier = "bronze"
    out["assign"] = None
except zo.FieldError as exc:
    out["assign"] = str(exc)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emulator:
        client = emulator.client()
        for position, attribute in enumerate(ATTRIBUTES, 900):
            client.object_attributes.create(
                **attribute, screens={}, position=position, editable=True, active=True
            )
        client.object_attributes.create(
            object="Ticket", name="pending_one", display="Pending", data_type="input",
            data_option={"type": "text", "maxlength": 20, "null": True}, screens={}, position=990,
            editable=True, active=True,
        )  # fmt: skip
        client.object_attributes.execute_migrations()
        client.object_attributes.create(  # created after the migration: still pending
            object="Ticket", name="not_yet", display="Not yet", data_type="input",
            data_option={"type": "text", "maxlength": 20, "null": True}, screens={}, position=991,
            editable=True, active=True,
        )  # fmt: skip
        client.close()
        yield emulator


def _env(server: Emulator, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, ZAMMAD_URL=server.url, ZAMMAD_HTTP_TOKEN=server.token)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT), env.get("PYTHONPATH", "")])
    env["ZAMMAD_ORM_CACHE_DIR"] = str(tmp_path / "cache")
    return env


@pytest.fixture(scope="module")
def generated(server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("codegen")
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "codegen", "--out", str(tmp_path / "typed_models.py")],
        env=_env(server, tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"wrote Ticket, User to {tmp_path / 'typed_models.py'}\n"
    return tmp_path


def test_the_module_declares_the_attributes_with_their_types(generated: Path) -> None:
    text = (generated / "typed_models.py").read_text(encoding="utf-8")
    for line in [
        "class Ticket(zammad_orm.Ticket):",
        "    customer_tier: Literal['gold', 'silver'] | None = field()",
        "    products: list[Literal['mail', 'chat', 'phone']] | None = field()",
        "    seats: int | None = field()",
        "    vip: bool | None = field()",
        "    renewal_on: date | None = field()",
        "    audited_at: datetime | None = field()",
        "    region: Literal['EU', 'EU::DE', 'US'] | None = field()",
        "    account_note: str | None = field()",
        '    """Account \'note\' (input)."""',
        "    # 'not_yet' (input) left out: a pending change (run execute_migrations, then codegen again)",
        "class User(zammad_orm.User):",
        "    cost_center: Literal['sales', 'it'] | None = field()",
    ]:
        assert line in text.splitlines(), line


def _mypy(directory: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPYPATH=str(ROOT))  # this checkout's zammad_orm, not the installed one
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         "--config-file", os.devnull, *files],
        cwd=directory, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_mypy_strict_accepts_the_module_and_its_use_and_refuses_misuse(generated: Path) -> None:
    (generated / "usage_ok.py").write_text(textwrap.dedent(USAGE_OK), encoding="utf-8")
    (generated / "usage_bad.py").write_text(textwrap.dedent(USAGE_BAD), encoding="utf-8")
    good = _mypy(generated, "typed_models.py", "usage_ok.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _mypy(generated, "typed_models.py", "usage_bad.py")
    assert bad.returncode == 1
    errors = [line for line in bad.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, bad.stdout
    assert errors[0].startswith("usage_bad.py:")
    assert (
        """error: Incompatible types in assignment (expression has type "Literal['platinum']", variable has"""
        """ type "Literal['gold', 'silver'] | None")"""
    ) in errors[0]
    assert 'error: Incompatible return value type (got "int | None", expected "str")' in errors[1]


def test_imported_module_types_reads_writes_and_queries(server: Emulator, generated: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN], env=_env(server, generated), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["created_class"] == "typed_models.Ticket"
    assert out["read"] == ["typed_models", "gold", ["mail", "phone"], 12, True, "2027-01-31", "EU::DE", True]
    assert out["gold_and_seats"] == [True]
    assert out["in"] == ["gold", "silver"]
    assert out["region"] == [True]
    assert out["article_ticket"] == "typed_models"
    assert "customer_tier" not in out["extra"]
    assert (
        out["platinum"]
        == "customer_tier: 'platinum' is not one of its values; its values are 'gold', 'silver'"
    )
    assert out["glod_in"].startswith("customer_tier: 'glod' is not one of its values (did you mean 'gold'?)")
    assert out["seats_text"] == "seats holds integer values; cannot compare it with 'many'"
    assert "seats is a number field and has no lookup 'icontains'" in out["seats_icontains"]
    assert out["assign"] == "Ticket.customer_tier: 'bronze' is not one of its values 'gold', 'silver'"


def test_codegen_of_a_server_without_custom_attributes_says_so(tmp_path: Path) -> None:
    with Emulator() as bare:
        url = bare.url
        done = subprocess.run(
            [sys.executable, "-m", "zammad_orm", "codegen", "--out", str(tmp_path / "m.py")],
            env=_env(bare, tmp_path), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stderr
        == f"zammad-orm: error: {url} has no active custom attributes of a model zammad_orm knows\n"
    )
    assert not (tmp_path / "m.py").exists()


def test_codegen_needs_admin_object(server: Emulator, tmp_path: Path) -> None:
    env = _env(server, tmp_path)
    env["ZAMMAD_HTTP_TOKEN"] = server.user_tokens["agent1@example.com"]
    done = subprocess.run(
        [sys.executable, "-m", "zammad_orm", "codegen", "--out", str(tmp_path / "m.py")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("zammad-orm: error: 403 ")
    assert done.stderr.rstrip().endswith("(the user lacks the permission this needs)")
    assert not (tmp_path / "m.py").exists()


def test_this_process_keeps_the_plain_models(generated: Path) -> None:
    from zammad_orm.meta import registry

    assert registry["Ticket"] is zo.Ticket
    assert "typed_models" not in sys.modules
