"""Article types (``note``, ``email``, ``phone``, ...) and senders (``Agent``, ``Customer``, ``System``).

Zammad has no REST endpoint for either; they are seeded constants, named from the expanded form of
articles and tickets when the server sends it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from zammad_orm.fields import field
from zammad_orm.freshness import REFERENCE_MAX_AGE
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["ArticleSender", "ArticleType"]

_TYPES = [
    "email",
    "sms",
    "chat",
    "fax",
    "phone",
    "twitter status",
    "twitter direct-message",
    "facebook feed post",
    "facebook feed comment",
    "note",
    "web",
    "telegram personal-message",
    "facebook direct-message",
    "whatsapp message",
]


@model(
    endpoint=None,
    collection="article_types",
    capabilities=("list", "get"),
    label="name",
    server_class="Ticket::Article::Type",
)
class ArticleType(Tracked):
    """The channel of an article (``note``, ``email``, ``phone``, ``web``, ...)."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    name: str | None = field()
    communication: bool | None = field()
    active: bool | None = field()
    note: str | None = field()

    #: The article types of a Zammad 6.x installation (spec §7.1).
    BUILTIN: ClassVar[dict[int, dict[str, Any]]] = {
        i + 1: {"id": i + 1, "name": n, "communication": n != "note", "active": True}
        for i, n in enumerate(_TYPES)
    }


@model(
    endpoint=None,
    collection="article_senders",
    capabilities=("list", "get"),
    label="name",
    server_class="Ticket::Article::Sender",
)
class ArticleSender(Tracked):
    """Who wrote an article: ``Agent``, ``Customer`` or ``System``."""

    #: A reference table: its rows are used for a day before they are revalidated.
    MAX_AGE: ClassVar[float] = REFERENCE_MAX_AGE

    name: str | None = field()
    note: str | None = field()

    #: The article senders of every Zammad installation (spec §7.1).
    BUILTIN: ClassVar[dict[int, dict[str, Any]]] = {
        1: {"id": 1, "name": "Agent"},
        2: {"id": 2, "name": "Customer"},
        3: {"id": 3, "name": "System"},
    }
