"""``zammad-orm codegen``: a module of typed model subclasses for the server's custom attributes.

Reads ``GET /object_manager_attributes`` (needs ``admin.object``) and writes, per object with custom
attributes (Ticket, User, Organization, Group), a subclass of the model declared with
:func:`zammad_orm.meta.specialise`, one typed ``field()`` per attribute::

    @specialise
    class Ticket(zammad_orm.Ticket):
        customer_tier: Literal["gold", "silver"] | None = field()

Importing the module makes these the models of those names (relations, ``client.tickets`` and
``zammad_orm.Ticket.objects`` build them): type checkers know ``ticket.customer_tier``, assignments are
checked, and query filters on the attribute are checked like those on built-in fields (a ``select`` takes
only its options). Attributes that clash with a declared field, are not Python identifiers, or are still
pending (``to_create``, not migrated) are left out with a comment saying why; they stay in ``extra``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import keyword
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zammad_orm.cli.common import UsageError, connect
from zammad_orm.cli.writers import atomic_file

__all__ = ["annotation", "generate", "register"]

_PLAIN = {
    "input": "str",
    "textarea": "str",
    "richtext": "str",
    "integer": "int",
    "boolean": "bool",
    "checkbox": "bool",
    "date": "date",
    "datetime": "datetime",
    "autocompletion_ajax": "int",  # the id of the user or organization chosen
    "autocompletion_ajax_external_data_source": "dict[str, Any]",  # {"value": ..., "label": ...}
}
_CHOICES = {"select": False, "tree_select": False, "multiselect": True, "multi_tree_select": True}


def register(sub: Any) -> None:
    """Add ``codegen`` to the subcommands ``sub``."""
    codegen = sub.add_parser(
        "codegen",
        help="write a module of typed models for the server's custom attributes",
        description="Read the server's custom attributes (GET /object_manager_attributes, needs"
        " admin.object) and write a Python module of typed subclasses of Ticket, User, Organization and"
        " Group. Import it once (e.g. in your package's __init__) and the client builds those classes:"
        " editors and mypy know the attributes, and filters on them are checked (select: its options).",
    )
    codegen.add_argument("--out", required=True, metavar="PATH", help="the module to write ('-': stdout)")
    codegen.set_defaults(run=_codegen)


def _options(data_option: Mapping[str, Any]) -> list[str]:
    """Return the stored values of a select or tree select (a dict value → label, or a list of nodes)."""
    options = data_option.get("options")
    found: list[str] = []
    if isinstance(options, Mapping):
        found = [str(k) for k in options]
    elif isinstance(options, list):
        found = list(_tree_values(options, ""))
    return list(dict.fromkeys(v for v in found if v != ""))


def _tree_values(nodes: Iterable[Any], parent: str) -> Iterable[str]:
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        value = node.get("value")
        path = str(value) if value is not None else f"{parent}{node.get('name')}"
        yield path
        yield from _tree_values(node.get("children") or [], f"{path}::")


def annotation(attribute: Mapping[str, Any]) -> str:
    """Return the annotation (source text) of a custom attribute: ``Literal['a', 'b'] | None``, ...."""
    data_type = attribute.get("data_type")
    option = attribute.get("data_option")
    data_option = option if isinstance(option, Mapping) else {}
    if data_type in _CHOICES:
        values = _options(data_option)
        element = f"Literal[{', '.join(repr(v) for v in values)}]" if values else "str"
        return f"list[{element}] | None" if _CHOICES[data_type] else f"{element} | None"
    return f"{_PLAIN.get(str(data_type), 'Any')} | None"


def _skip_reason(attribute: Mapping[str, Any], model: Any) -> str | None:
    name = attribute.get("name")
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        return "not a Python identifier"
    meta = model._meta
    if name in meta.fields or name in meta.descriptors or name in meta.not_custom or hasattr(model, name):
        return f"a built-in attribute of {meta.name}"
    if attribute.get("to_create") or attribute.get("to_delete"):
        return "a pending change (run execute_migrations, then codegen again)"
    if attribute.get("active") is False:
        return "inactive"
    return None


def generate(attributes: Iterable[Mapping[str, Any]], *, source: str) -> str:
    """Return the source of the typed module for a server's attribute records (``source`` names it).

    Raises:
        UsageError: No attribute belongs to a model zammad_orm knows.

    """
    import zammad_orm  # noqa: F401  (registers the models)
    from zammad_orm.meta import registry

    per_model: dict[str, list[Mapping[str, Any]]] = {}
    for attribute in attributes:
        obj = attribute.get("object")
        if isinstance(obj, str) and obj in registry:
            per_model.setdefault(obj, []).append(attribute)
    classes: list[str] = []
    annotations: list[str] = []
    for name in sorted(per_model):
        model = registry[name]
        lines = [
            "@specialise",
            f"class {name}(zammad_orm.{name}):",
            f'    """{name} with the custom attributes of the server."""',
            "",
        ]
        body = 0
        for attribute in sorted(per_model[name], key=lambda a: (a.get("position") or 0, str(a.get("name")))):
            why = _skip_reason(attribute, model)
            label = str(attribute.get("display") or "").replace("\n", " ")
            if why is not None:
                lines.append(
                    f"    # {attribute.get('name')!r} ({attribute.get('data_type')}) left out: {why}"
                )
                continue
            annotations.append(annotation(attribute))
            lines.append(f"    {attribute['name']}: {annotations[-1]} = field()")
            doc = f"{label or attribute['name']} ({attribute.get('data_type')})".replace("\\", "/")
            lines.append(f'    """{doc.replace(chr(34), chr(39))}."""')
            body += 1
        if body:
            classes.append("\n".join(lines))
    if not classes:
        raise UsageError(f"{source} has no active custom attributes of a model zammad_orm knows")
    names = [c.split("class ", 1)[1].split("(", 1)[0] for c in classes]
    used = set(re.findall(r"\b(date|datetime|Any|Literal)\b", " ".join(annotations)))
    imports = [
        f"from {module} import {', '.join(n for n in names_ if n in used)}"
        for module, names_ in (("datetime", ("date", "datetime")), ("typing", ("Any", "Literal")))
        if used & set(names_)
    ]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = f'''"""Typed models of the custom attributes of {source}.

Written by ``zammad-orm codegen`` on {stamp}. Do not edit: run it again when the attributes
change. Importing this module makes these classes the models zammad_orm builds for their names.
"""

from __future__ import annotations

{"".join(line + chr(10) for line in imports)}
import zammad_orm
from zammad_orm.fields import field
from zammad_orm.meta import specialise

__all__ = [{", ".join(repr(n) for n in names)}]
'''
    return (
        header.replace("\n\n\nimport zammad_orm", "\n\nimport zammad_orm")
        + "\n\n"
        + "\n\n\n".join(classes)
        + "\n"
    )


def _codegen(args: argparse.Namespace) -> int:
    client = connect(args)
    reply = client.get("object_manager_attributes")
    if not isinstance(reply, list):
        from zammad_orm.errors import DecodeError

        raise DecodeError(f"unexpected reply of /object_manager_attributes: {reply!r:.200}")
    text = generate(reply, source=client.url)
    compile(text, "<codegen>", "exec")  # a bug here must not leave an unimportable module behind
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.out).expanduser()
    with atomic_file(target) as (_, stream):
        assert stream is not None
        stream.write(text)
    print(f"wrote {', '.join(_classes(text))} to {target}", file=sys.stderr)
    return 0


def _classes(text: str) -> list[str]:
    return [
        line.split("class ", 1)[1].split("(", 1)[0] for line in text.splitlines() if line.startswith("class ")
    ]
