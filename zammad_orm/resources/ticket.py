"""Tickets (``/tickets``): the model, its relations and operations (articles, tags, links, merge, time)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from zammad_orm import errors
from zammad_orm.convert import json_copy
from zammad_orm.fields import ForeignKey, Reverse, field
from zammad_orm.models import model
from zammad_orm.reply_cache import asking
from zammad_orm.resources._common import Tracked
from zammad_orm.resources.article import FileSpec, TicketArticle, article_payload, encode_files
from zammad_orm.resources.link import LINK_TYPES, MIRROR, Link
from zammad_orm.resources.mention import Mention, MentionManager
from zammad_orm.resources.tag import Tag, Tags
from zammad_orm.resources.ticket_query import TicketQueryManager
from zammad_orm.resources.time_accounting import TimeAccounting, TimeAccountingType
from zammad_orm.resources.user import UNASSIGNED_USER_ID

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["LinkType", "Ticket", "TicketManager"]

LinkType = Literal["normal", "parent", "child"]


class TicketManager(TicketQueryManager):
    """The ``client.tickets`` collection (``open()``, ``pending()``, ``closed()``: see ticket_query)."""

    def create(
        self,
        /,
        title: str | None = None,
        group: Any = None,
        customer: Any = None,
        article: str | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Ticket:
        """Create a new ticket.

        Args:
            title: The ticket title.
            group: Group name, id or :class:`~zammad_orm.Group`.
            customer: Customer login/email, id, :class:`~zammad_orm.User`, or ``"guess:<email>"``
                (Zammad creates the customer when the email is unknown).
            article: The body of the first article, or the article mapping
                (``{"body": ..., "type": "note", "internal": False, "files": [...]}``).
            kwargs: More ticket properties (``state="open"``, ``priority="3 high"``, ``tags=[...]``,
                custom attributes).

        Returns:
            The created ticket.

        """
        values = dict(kwargs)
        for key, value in (("title", title), ("group", group), ("customer", customer), ("article", article)):
            if value is not None:
                values[key] = value
        return super().create(**values)

    # -- writes with an unknown outcome ------------------------------------------------------------

    @staticmethod
    def new_marker() -> str:
        """Return a unique marker to give the first article of a ticket about to be created.

        Pass it as the article's ``message_id`` (``article={"body": ..., "message_id": marker}``): if the
        reply to the create is lost (:class:`~zammad_orm.errors.OutcomeUnknown`),
        :meth:`find_created` finds the ticket by it. It has the form of an email Message-ID under the
        reserved ``.invalid`` domain, so it can never be confused with a real mail's.
        """
        return f"<zammad-orm.{secrets.token_hex(16)}@marker.invalid>"

    def find_created(
        self,
        marker: str,
        *,
        since: datetime | None = None,
        wait: float = 0.0,
        interval: float = 1.0,
    ) -> Ticket | None:
        """Find the ticket a create with an unknown outcome made, by the marker of its first article.

        Looks at the tickets the acting user (``users/me``, so ``on_behalf_of`` counts) created since
        ``since``, newest first, and returns the one whose first article's ``message_id`` is ``marker``.
        It relies on Zammad keeping the ``message_id`` given for an article created through the API as it
        is (a column of the article, read back by ``GET /ticket_articles/by_ticket/:id`` from the database)
        and on the ticket search: Zammad indexes a new ticket in Elasticsearch a moment after the create,
        so on a real server give ``wait`` a few seconds to keep looking while the index catches up.

        Args:
            marker: The value given as the first article's ``message_id`` (see :meth:`new_marker`).
            since: Tickets created before this instant are not looked at (default: the last hour). Use
                the time the create was started, less a little for clock skew.
            wait: Seconds to keep looking when it is not found (0: one look).
            interval: Seconds between two looks.

        Returns:
            The ticket, or ``None`` when no ticket of the acting user created since ``since`` carries the
            marker (after ``wait`` seconds): the create did not happen, unless the search index lags
            behind by more than ``wait``.

        Raises:
            FieldError: ``marker`` is not a non-empty string.

        """
        if not isinstance(marker, str) or not marker.strip():
            raise errors.FieldError(f"find_created needs the marker string, got {marker!r}")
        client = self.client
        start = since if since is not None else datetime.now(timezone.utc) - timedelta(hours=1)
        me = client.request("GET", "users/me")
        creator = me.get("id") if isinstance(me, dict) else None
        if not isinstance(creator, int):
            raise errors.DecodeError(f"GET users/me: expected a user with an id, got {str(me)[:200]!r}")
        deadline = time.monotonic() + max(0.0, wait)
        checked: set[int] = set()
        while True:
            with asking():  # each look asks the server: a kept reply would not show the new ticket
                mine: list[Ticket] = list(
                    self.filter(created_by_id=creator, created_at__gte=start).order_by("-id")
                )
            for ticket in mine:
                if ticket.id is None or ticket.id in checked:
                    continue
                articles = client.list_related(TicketArticle, f"ticket_articles/by_ticket/{ticket.id}")
                if articles and articles[0].message_id == marker:
                    return ticket
                if articles:
                    checked.add(ticket.id)  # its first article is kept: it never will carry the marker
            if time.monotonic() >= deadline:
                return None
            time.sleep(max(0.0, min(interval, deadline - time.monotonic())))

    def _how_to_check(self, payload: dict[str, Any]) -> str:
        article = payload.get("article")
        marker = article.get("message_id") if isinstance(article, dict) else None
        if isinstance(marker, str) and marker:
            return f"To check: client.tickets.find_created({marker!r}) returns it (None: it was not made)."
        return (
            "To check next time, give the first article a marker: marker = TicketManager.new_marker(),"
            ' article={"body": ..., "message_id": marker}; then client.tickets.find_created(marker) finds'
            " the ticket after a lost reply. Now: look for a ticket with this title created just now."
        )


def _ticket_id(target: Any) -> int:
    if isinstance(target, Ticket):
        return target._require_id()
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    raise errors.FieldError(f"expected a Ticket or a ticket id, got {target!r}")


def _check_link_type(link_type: str) -> None:
    if link_type not in LINK_TYPES:
        raise errors.FieldError(f"link_type must be one of {', '.join(LINK_TYPES)}, got {link_type!r}")


@model(
    endpoint="tickets",
    collection="tickets",
    capabilities=("list", "get", "create", "update", "delete", "search"),
    label="title",
    max_page_size=100,
    manager=TicketManager,
    write_only=("article", "tags", "mentions", "links"),
)
class Ticket(Tracked):
    """A Zammad ticket.

    ``owner`` of an unassigned ticket is Zammad's user 1 (``ticket.owner.is_unassigned``;
    ``ticket.is_unassigned`` checks ``owner_id`` without I/O).
    """

    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = (
        "article_ids",
        "create_article_sender",
        "create_article_type",
        "created_by",
        "customer",
        "group",
        "organization",
        "owner",
        "priority",
        "state",
        "ticket_time_accounting",
        "ticket_time_accounting_ids",
        "updated_by",
    )
    DEFAULT_CACHE_SIZE: ClassVar[int] = 100

    number: str | None = field(read_only=True)
    title: str | None = field()
    group_id: int | None = field()
    priority_id: int | None = field()
    state_id: int | None = field()
    organization_id: int | None = field()
    owner_id: int | None = field()
    customer_id: int | None = field()
    note: str | None = field()
    first_response_at: datetime | None = field(read_only=True)
    first_response_escalation_at: datetime | None = field(read_only=True)
    first_response_in_min: int | None = field(read_only=True)
    first_response_diff_in_min: int | None = field(read_only=True)
    close_at: datetime | None = field(read_only=True)
    close_escalation_at: datetime | None = field(read_only=True)
    close_in_min: int | None = field(read_only=True)
    close_diff_in_min: int | None = field(read_only=True)
    update_escalation_at: datetime | None = field(read_only=True)
    update_in_min: int | None = field(read_only=True)
    update_diff_in_min: int | None = field(read_only=True)
    last_close_at: datetime | None = field(read_only=True)
    last_contact_at: datetime | None = field(read_only=True)
    last_contact_agent_at: datetime | None = field(read_only=True)
    last_contact_customer_at: datetime | None = field(read_only=True)
    last_owner_update_at: datetime | None = field(read_only=True)
    create_article_type_id: int | None = field(read_only=True)
    create_article_sender_id: int | None = field(read_only=True)
    article_count: int | None = field(read_only=True)
    escalation_at: datetime | None = field(read_only=True)
    pending_time: datetime | None = field()
    type: str | None = field()
    time_unit: Decimal | None = field(read_only=True)
    preferences: dict[str, Any] = field(factory=dict)
    article_ids: list[int] = field(factory=list, read_only=True)
    ticket_time_accounting_ids: list[int] = field(factory=list, read_only=True)
    checklist_id: int | None = field(read_only=True)
    referencing_checklist_ids: list[int] = field(factory=list, read_only=True)

    group = ForeignKey("Group", "group_id", doc="The ticket's group.")
    state = ForeignKey("TicketState", "state_id", doc="The ticket's state.")
    priority = ForeignKey("TicketPriority", "priority_id", doc="The ticket's priority.")
    organization = ForeignKey("Organization", "organization_id", doc="The organization, or None.")
    owner = ForeignKey("User", "owner_id", doc="The owner (user 1 when unassigned).")
    customer = ForeignKey("User", "customer_id", doc="The customer.")
    create_article_type = ForeignKey(
        "ArticleType", "create_article_type_id", doc="Type of the first article."
    )
    create_article_sender = ForeignKey(
        "ArticleSender", "create_article_sender_id", doc="Sender of the first article."
    )
    articles = Reverse(
        "TicketArticle",
        "ticket_id",
        path="ticket_articles/by_ticket/{id}",
        search="article",
        doc="The ticket's articles in order (``/ticket_articles/by_ticket/<id>``), fetched once and kept.",
    )

    def _touches(self) -> Iterable[tuple[str, Any]]:
        # The customer's ticket counters (and updated_at) change with their tickets (spec §7.3).
        return [("User", self.customer_id)]

    def _label(self) -> Any:
        return f"#{self.number} {self.title}" if self.number else self.title

    @property
    def is_unassigned(self) -> bool:
        """Whether the ticket has no owner (``owner_id`` is Zammad's user 1 or empty)."""
        return self.owner_id in (None, UNASSIGNED_USER_ID)

    @property
    def weburl(self) -> str:
        """URL of the ticket in the web client."""
        return f"{self.client.url}/#ticket/zoom/{self._require_id()}"

    @classmethod
    def _write_only_input(cls, key: str, value: Any) -> Any:
        if key == "article":
            if isinstance(value, str):
                return {"body": value}
            if isinstance(value, Mapping):
                values = dict(value)
                files = values.pop("files", None)
                payload = TicketArticle._input(values)
                if files is not None:
                    payload["attachments"] = [*payload.get("attachments", []), *encode_files(files)]
                return payload
            raise errors.FieldError(f"Ticket.article: expected a body string or a mapping, got {value!r}")
        if key == "tags":
            if isinstance(value, str):
                return value
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return ",".join(value)
            raise errors.FieldError(f"Ticket.tags: expected a list of names, got {value!r}")
        return json_copy(value)

    # -- articles ----------------------------------------------------------------------------------

    def create_article(
        self,
        body: str,
        *,
        typ: str = "note",
        internal: bool = True,
        files: FileSpec | Iterable[FileSpec] | None = None,
        **kwargs: Any,
    ) -> TicketArticle:
        """Create a new article on this ticket.

        Args:
            body: The article text.
            typ: The article type name (``"note"``, ``"email"``, ``"phone"``, ...).
            internal: Whether only agents see it.
            files: Attachments: paths, bytes, binary file objects or ``(filename, bytes)`` pairs.
            kwargs: More article properties (``subject``, ``to``, ``content_type``, ``time_unit``...).

        Returns:
            The new article.

        """
        payload = article_payload(body, typ, internal, files, kwargs)
        payload["ticket_id"] = self._require_id()
        client = self.client
        TicketArticle._check_references(payload, client)  # typ="notee": refused before the write
        article = client.load(TicketArticle, client.request("POST", "ticket_articles", json=payload))
        article._mark_touched(client)  # this ticket: revalidated at its next lookup, articles dropped
        return article

    # -- tags --------------------------------------------------------------------------------------

    def tags(self) -> list[str]:
        """Return the names of the ticket's tags (``/tags?object=Ticket&o_id=<id>``)."""
        return self._tags().by_ticket(self)

    def add_tags(self, *names: str) -> None:
        """Add tags to the ticket; tags it already has are ignored."""
        self._tags().add_to_ticket(self, *names)

    def remove_tags(self, *names: str) -> None:
        """Remove tags from the ticket; tags it does not have are ignored."""
        self._tags().remove_from_ticket(self, *names)

    def _tags(self) -> Tags:
        # Bound to the ticket's client, else the active client when a request is sent (like self.client).
        return Tags(Tag, self._client)

    # -- links -------------------------------------------------------------------------------------

    def links(self) -> dict[str, list[Ticket]]:
        """Return the linked tickets by link type: ``{"normal": [...], "parent": [...], "child": [...]}``.

        Read an entry as "that ticket is the *parent* (*child*) of this one".
        """
        client = self.client
        reply = client.request(
            "GET", "links", params={"link_object": "Ticket", "link_object_value": self._require_id()}
        )
        if not isinstance(reply, dict):
            raise errors.DecodeError(f"unexpected reply of /links: {reply!r}")
        client.load_assets(reply.get("assets", {}))
        out: dict[str, list[Ticket]] = {t: [] for t in LINK_TYPES}
        for entry in reply.get("links", []):
            if entry.get("link_object") != "Ticket":
                continue
            out.setdefault(entry["link_type"], []).append(
                client.resolve(Ticket, int(entry["link_object_value"]))
            )
        return out

    def link_with(self, target: Ticket | int, link_type: LinkType = "normal") -> Link:
        """Link this ticket with another; an existing link is left alone.

        ``link_type`` is what ``target`` becomes for this ticket: after ``a.link_with(b, "child")``,
        ``b`` is in ``a.links()["child"]`` and ``a`` in ``b.links()["parent"]``. Zammad names the type
        from the other side, so the request carries the mirrored type (``"parent"`` here), with this
        ticket as the source.

        Args:
            target: The other ticket or its id.
            link_type: ``"normal"``, ``"parent"`` or ``"child"``: what ``target`` is to this ticket.

        Returns:
            The link row the server created.

        """
        _check_link_type(link_type)
        payload = {
            "link_type": MIRROR[link_type],
            "link_object_source": "Ticket",
            "link_object_source_number": self._number(),
            "link_object_target": "Ticket",
            "link_object_target_value": _ticket_id(target),
        }
        link = self.client.load(Link, self.client.request("POST", "links/add", json=payload))
        self._touch_both(_ticket_id(target))
        return link

    def _touch_both(self, other: int) -> None:
        """Revalidate both tickets at their next lookup: a link write touched them (``updated_at``)."""
        client = self.client
        client.mark_stale(Ticket, self._require_id())
        client.mark_stale(Ticket, other)

    def _number(self) -> str:
        if self.number is None:
            self.reload()
        return str(self.number)

    def unlink_from(self, target: Ticket | int, link_type: LinkType | None = None) -> None:
        """Remove the link to another ticket; a missing link is ignored.

        Args:
            target: The other ticket or its id.
            link_type: What ``target`` is to this ticket, as :meth:`links` lists it and as given to
                :meth:`link_with`; ``None`` removes every link between the two tickets (looked up with
                :meth:`links` first).

        """
        target_id = _ticket_id(target)
        if link_type is None:
            types = [t for t, tickets in self.links().items() if any(x.id == target_id for x in tickets)]
        else:
            _check_link_type(link_type)
            types = [link_type]
        for each in types:
            # Seen from ``target`` as the source, this ticket's view of the link is the type to remove.
            self.client.request(
                "DELETE",
                "links/remove",
                json={
                    "link_type": each,
                    "link_object_target": "Ticket",
                    "link_object_target_value": self._require_id(),
                    "link_object_source": "Ticket",
                    "link_object_source_value": target_id,
                },
            )
        if types:
            self._touch_both(target_id)

    # -- merge, history ----------------------------------------------------------------------------

    def merge_into(self, target: Ticket | int) -> Ticket:
        """Merge this ticket into ``target`` (uses Zammad's ``/ticket_merge`` endpoint).

        Returns:
            The target ticket, updated. This ticket is reloaded too (state ``merged``).

        Raises:
            Ticket.DoesNotExist: The server could not find one of the tickets.
            UnprocessableEntity: Zammad refused (already merged, same ticket, ...).

        """
        client = self.client
        goal = target if isinstance(target, Ticket) else client.resolve(Ticket, _ticket_id(target))
        reply = client.request("PUT", f"ticket_merge/{self._require_id()}/{goal._number()}")
        if not isinstance(reply, dict) or reply.get("result") != "success":
            message = reply.get("message") if isinstance(reply, dict) else None
            raise Ticket.DoesNotExist(str(message or f"merge failed: {reply!r}"), status=200, method="PUT")
        moved = self._raw.get("article_ids")
        merged = client.load(Ticket, reply["target_ticket"])
        client.load(Ticket, reply["source_ticket"])
        # The reply holds plain attributes only: the id lists (articles, links) of both tickets changed
        # too, and the source's articles now belong to the target. Revalidated at their next lookup.
        self._touch_both(merged._require_id())
        for pk in moved if isinstance(moved, list) else ():
            if type(pk) is int:
                client.mark_stale(TicketArticle, pk)
        return merged

    def history(self) -> list[dict[str, Any]]:
        """Return the ticket's history entries (uses Zammad's ``/ticket_history`` endpoint)."""
        client = self.client
        reply = client.request("GET", f"ticket_history/{self._require_id()}")
        if not isinstance(reply, dict):
            raise errors.DecodeError(f"unexpected reply of /ticket_history: {reply!r}")
        client.load_assets(reply.get("assets", {}))
        return [dict(entry) for entry in reply.get("history", [])]

    # -- time accounting ---------------------------------------------------------------------------

    def time_accountings(self) -> list[TimeAccounting]:
        """Return the ticket's time accounting entries."""
        return self.client.list_related(TimeAccounting, f"tickets/{self._require_id()}/time_accountings")

    def create_time_accounting(
        self,
        time_unit: str | float | Decimal,
        *,
        type: str | TimeAccountingType | int | None = None,
        **kwargs: Any,
    ) -> TimeAccounting:
        """Account time on the ticket.

        Args:
            time_unit: The time units (``"1.5"``, ``1.5``, ``Decimal("1.5")``).
            type: The accounting type: name, :class:`TimeAccountingType` or id.
            kwargs: More properties (``ticket_article_id``).

        Returns:
            The new time accounting entry.

        """
        values: dict[str, Any] = {"ticket_id": self._require_id(), "time_unit": time_unit, **kwargs}
        if type is not None:
            values["type"] = type
        payload = TimeAccounting._input(values)
        client = self.client
        TimeAccounting._check_references(payload, client)
        entry = client.load(TimeAccounting, client.request("POST", "time_accountings", json=payload))
        entry._mark_touched(client)  # the ticket's time_unit (and the article's) changed
        return entry

    # -- mentions ----------------------------------------------------------------------------------

    def mentions(self) -> list[Mention]:
        """Return the users subscribed to the ticket (Zammad's mentions)."""
        mentions: MentionManager = Mention.objects.using(self.client)
        return mentions.for_ticket(self)

    def subscribe(self) -> Mention:
        """Subscribe the current (or impersonated) user to the ticket."""
        mentions: MentionManager = Mention.objects.using(self.client)
        return mentions.create(mentionable_type="Ticket", mentionable_id=self._require_id())
