"""Online notifications (``/online_notifications``): the current user's notification list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from zammad_orm.fields import ForeignKey, field
from zammad_orm.manager import Manager
from zammad_orm.models import Model, model, registry
from zammad_orm.resources._common import Tracked

__all__ = ["OnlineNotification", "OnlineNotificationManager"]


class OnlineNotificationManager(Manager["OnlineNotification"]):
    """The ``client.online_notifications`` collection."""

    def iter(self, *args: Any, **params: Any) -> Iterator[OnlineNotification]:
        """Iterate the current user's notifications (Zammad sends at most 200, newest first, unpaged).

        Always expanded (``'*'`` in ``EXPANDED_ATTRIBUTES``): ``page``, ``page_size`` and ``expand`` are
        ignored, as in the seed API's reference.
        """
        for key in ("page", "page_size", "per_page", "expand"):
            params.pop(key, None)
        reply = self.client.request("GET", self.endpoint, params={"expand": True, **params})
        return iter(self.client.decode_list(self.model, reply))

    def mark_all_as_read(self) -> None:
        """Mark every notification of the current user as seen."""
        self.client.request("POST", f"{self.endpoint}/mark_all_as_read")


@model(
    endpoint="online_notifications",
    collection="online_notifications",
    capabilities=("list", "get", "update", "delete"),  # the server creates them
    label="type_name",
    manager=OnlineNotificationManager,
)
class OnlineNotification(Tracked):
    """A notification of the current user about an object (usually a ticket)."""

    EXPANDED_ATTRIBUTES: ClassVar[tuple[str, ...]] = ("*", "object", "type", "user")

    o_id: int | None = field(read_only=True)
    object_lookup_id: int | None = field(read_only=True)
    type_lookup_id: int | None = field(read_only=True)
    user_id: int | None = field(read_only=True)
    seen: bool | None = field()

    user = ForeignKey("User", "user_id", doc="The user notified.")

    @property
    def object_name(self) -> str | None:
        """The kind of object (``"Ticket"``), from the expanded record."""
        value = self._raw.get("object")
        return value if isinstance(value, str) else None

    @property
    def type_name(self) -> str | None:
        """What happened (``"create"``, ``"update"``, ...), from the expanded record."""
        value = self._raw.get("type")
        return value if isinstance(value, str) else None

    @property
    def target(self) -> Model | None:
        """The object the notification is about (a Ticket), when its kind is a known model."""
        model_class = registry.get(self.object_name or "")
        if model_class is None or self.o_id is None:
            return None
        return self.client.resolve(model_class, self.o_id)
