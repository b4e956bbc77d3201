"""Ticket articles (``/ticket_articles``) and their attachments (``/ticket_attachment``)."""

# ruff: noqa: RUF009 - field() is attrs.field() with metadata; ruff only knows attrs' own name

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Union

import attrs

from zammad_orm import errors
from zammad_orm.fields import ForeignKey, field
from zammad_orm.models import model
from zammad_orm.resources._common import Tracked

__all__ = ["Attachment", "FileSpec", "TicketArticle", "encode_files"]

#: What ``files=`` accepts: a path, raw bytes, a binary file object, or ``(filename, bytes|file)``.
FileSpec = Union[str, "os.PathLike[str]", bytes, IO[bytes], tuple[str, bytes | IO[bytes]]]


@attrs.define(slots=True, eq=False, kw_only=True)
class Attachment:
    """A file attached to an article.

    Attributes:
        id: The attachment id.
        store_file_id: The id of the stored content (identical files share it).
        filename: The file name.
        size: The size in bytes.
        preferences: ``{"Mime-Type": ..., "Charset": ...}``.

    """

    id: int | None = field(default=None)
    store_file_id: int | None = field(default=None)
    filename: str | None = field(default=None)
    size: int | None = field(default=None)
    preferences: dict[str, Any] = field(factory=dict)
    _article: TicketArticle | None = attrs.field(default=None, repr=False, alias="_article")

    @property
    def mime_type(self) -> str | None:
        """The MIME type Zammad stored (``text/plain``)."""
        value = self.preferences.get("Mime-Type")
        return value if isinstance(value, str) else None

    @property
    def article(self) -> TicketArticle:
        """The article this attachment belongs to."""
        if self._article is None:
            raise errors.FieldError("this attachment is not attached to a loaded article")
        return self._article

    def read(self) -> bytes:
        """Download the attachment's content."""
        article = self.article
        path = f"ticket_attachment/{article.ticket_id}/{article.id}/{self.id}"
        return article.client.download(path)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Download the attachment into ``path`` (a file, or a directory to put ``filename`` in).

        Returns:
            The path written.

        """
        target = Path(path)
        if target.is_dir():
            # Only the last path component of the server's file name: never write outside ``path``.
            name = Path((self.filename or "").replace("\\", "/")).name
            if name in ("", ".", ".."):
                name = f"attachment-{self.id}"
            target = target / name
        target.write_bytes(self.read())
        return target


def _encode_one(spec: Any) -> dict[str, str]:
    name: str
    content: bytes
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        name, payload = spec
        content = payload if isinstance(payload, bytes) else payload.read()
    elif isinstance(spec, (str, os.PathLike)):
        p = Path(spec)
        try:
            content = p.read_bytes()
        except OSError as exc:
            raise errors.FieldError(f"cannot read attachment file {str(p)!r}: {exc}") from exc
        name = p.name
    elif isinstance(spec, (bytes, bytearray)):
        name, content = "attachment.bin", bytes(spec)
    elif hasattr(spec, "read"):
        content = spec.read()
        name = os.path.basename(str(getattr(spec, "name", "") or "attachment.bin"))
    else:
        raise errors.FieldError(f"files: expected a path, bytes or a binary file object, got {spec!r}")
    if not isinstance(content, bytes):
        raise errors.FieldError(f"files: {name!r} must give bytes (open the file in binary mode)")
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return {"filename": name, "data": base64.b64encode(content).decode("ascii"), "mime-type": mime}


def encode_files(files: FileSpec | Iterable[FileSpec] | None) -> list[dict[str, str]]:
    """Turn ``files=`` into Zammad's ``attachments`` list (base64 ``data``, ``mime-type``)."""
    if files is None:
        return []
    if isinstance(files, (str, bytes, bytearray, os.PathLike, tuple)) or hasattr(files, "read"):
        return [_encode_one(files)]
    return [_encode_one(f) for f in files]


@model(
    endpoint="ticket_articles",
    collection="ticket_articles",
    capabilities=("list", "get", "create", "update", "delete"),
    label="subject",
    asset_key="TicketArticle",
    server_class="Ticket::Article",
    write_only=("attachments", "files", "time_unit", "accounted_time_type", "accounted_time_type_id"),
)
class TicketArticle(Tracked):
    """An article of a ticket (always sent expanded by Zammad).

    Relations: ``ticket``, ``type`` (:class:`~zammad_orm.resources.article_meta.ArticleType`),
    ``sender`` (:class:`~zammad_orm.resources.article_meta.ArticleSender`), ``origin_by``, ``created_by``,
    ``updated_by``; ``attachments`` is a list of :class:`Attachment`.
    """

    ticket_id: int | None = field()
    type_id: int | None = field()
    sender_id: int | None = field()
    from_: str | None = field(wire="from")
    to: str | None = field()
    cc: str | None = field()
    subject: str | None = field()
    reply_to: str | None = field()
    message_id: str | None = field()
    message_id_md5: str | None = field(read_only=True)
    in_reply_to: str | None = field()
    content_type: str | None = field()
    references: str | None = field()
    body: str | None = field()
    internal: bool | None = field()
    preferences: dict[str, Any] = field(factory=dict)
    origin_by_id: int | None = field()
    attachments: list[Attachment] = field(factory=list, read_only=True, searchable=False)
    time_unit: Decimal | None = field(read_only=True)

    ticket = ForeignKey("Ticket", "ticket_id", doc="The ticket of the article.")
    type = ForeignKey("ArticleType", "type_id", doc="The article type (``note``, ``email``, ...).")
    sender = ForeignKey("ArticleSender", "sender_id", doc="Who wrote it (``Agent``, ``Customer``, ...).")
    origin_by = ForeignKey("User", "origin_by_id", doc="The user the article was written for, if any.")

    def _touches(self) -> Iterable[tuple[str, Any]]:
        # A new article touches its ticket: article_count, updated_at, last_contact_* (spec §5.2).
        return [("Ticket", self.ticket_id)]

    def _label(self) -> Any:
        return self.subject or (self.body or "")[:40]

    def _after_load(self) -> None:
        for attachment in self.attachments:
            object.__setattr__(attachment, "_article", self)

    @classmethod
    def _write_only_input(cls, key: str, value: Any) -> Any:
        if key == "files":
            return encode_files(value)
        if key == "time_unit":
            return str(value)
        return super()._write_only_input(key, value)

    @classmethod
    def _input(cls, values: Any) -> dict[str, Any]:
        out = super()._input(values)
        files = out.pop("files", None)
        if files:
            out["attachments"] = [*out.get("attachments", []), *files]
        return out


def article_payload(
    body: str, typ: str, internal: bool, files: Any, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Build the JSON of a new article (shared by ``Ticket.create_article`` and ticket creation)."""
    values = {"body": body, "type": typ, "internal": internal, **kwargs}
    payload = TicketArticle._input(values)
    payload["attachments"] = [*payload.get("attachments", []), *encode_files(files)]
    return payload
