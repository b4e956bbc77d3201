"""Tags: the ``Tag`` model (``/tag_list``) and the seed API's ``Tags`` collection (``client.tags``).

The collection manages ``/tags`` (tags of a ticket), ``/tag_list`` (admin list, create, rename, delete)
and ``/tag_search``. Names that the server does not know raise :class:`~zammad_orm.errors.TagNotFound`,
which is also a :class:`KeyError` as the seed API documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zammad_orm import errors
from zammad_orm.fields import field
from zammad_orm.manager import Manager
from zammad_orm.models import Model, model, registry

__all__ = ["Tag", "Tags"]


def _tid(ticket: Model | int) -> int:
    if isinstance(ticket, Model):
        return ticket._require_id()
    if isinstance(ticket, int) and not isinstance(ticket, bool):
        return ticket
    raise errors.FieldError(f"expected a ticket or a ticket id, got {ticket!r}")


def _names(names: tuple[str, ...]) -> list[str]:
    """Return the tag ``names`` stripped, refusing anything but non-empty strings."""
    out = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise errors.FieldError(f"tag names must be non-empty strings, got {name!r}")
        out.append(name.strip())
    return out


class Tags(Manager["Tag"]):
    """The tag collection (``client.tags``): manages ``/tags``, ``/tag_list`` and ``/tag_search``."""

    def _list(self) -> list[Tag]:
        reply = self.client.request("GET", "tag_list")
        return self.client.decode_list(self.model, reply)

    def reload(self) -> None:
        """Reload the tag list from the server (every lookup by name also asks the server afresh)."""
        self._list()

    def iter(self, *args: Any, **params: Any) -> Iterator[Tag]:
        """Iterate over every tag (``/tag_list``, sorted by name, with usage ``count``)."""
        return iter(self._list())

    def _by_name(self, name: str) -> Tag:
        for tag in self._list():
            if tag.name == name:
                return tag
        raise errors.TagNotFound(f"tag {name!r} not found", status=404, method="GET", url="tag_list")

    def __getitem__(self, name: str) -> Tag:  # type: ignore[override]
        """Return the tag called ``name`` (``TagNotFound``, a ``KeyError``, if there is none)."""
        return self._by_name(name)

    def create(self, name: str) -> None:  # type: ignore[override]
        """Create a tag (admin only); an existing name is ignored."""
        (clean,) = _names((name,))
        self.client.request("POST", "tag_list", json={"name": clean})

    def delete(self, name: str) -> None:
        """Delete a tag everywhere (admin only).

        Raises:
            TagNotFound: No tag has that name (a ``KeyError``).

        """
        tag = self._by_name(name)
        self.client.request("DELETE", f"tag_list/{tag.id}")
        self.client.forget(self.model, tag._require_id())

    def rename(self, name: str, new_name: str) -> None:
        """Rename a tag (admin only); renaming onto an existing name merges the two.

        Raises:
            TagNotFound: No tag has the current name (a ``KeyError``).

        """
        (clean,) = _names((new_name,))
        tag = self._by_name(name)
        self.client.request("PUT", f"tag_list/{tag.id}", json={"name": clean})

    def search(self, term: str, **params: Any) -> list[str]:  # type: ignore[override]
        """Return the names of tags matching ``term`` (``/tag_search``)."""
        reply = self.client.request("GET", "tag_search", params={"term": term, **params})
        if not isinstance(reply, list):
            raise errors.DecodeError(f"unexpected reply of /tag_search: {reply!r}")
        return [str(item["value"]) for item in reply if isinstance(item, dict) and "value" in item]

    def by_ticket(self, tid: Model | int) -> list[str]:
        """Return the names of the tags of a ticket."""
        reply = self.client.request("GET", "tags", params={"object": "Ticket", "o_id": _tid(tid)})
        return [str(t) for t in (reply or {}).get("tags", [])]

    def add_to_ticket(self, tid: Model | int, *names: str) -> None:
        """Add tags to a ticket; tags it already has are ignored."""
        for name in _names(names):
            self.client.request(
                "POST", "tags/add", json={"item": name, "object": "Ticket", "o_id": _tid(tid)}
            )
        self._touch(tid)

    def remove_from_ticket(self, tid: Model | int, *names: str) -> None:
        """Remove tags from a ticket; tags it does not have are ignored."""
        for name in _names(names):
            self.client.request(
                "DELETE", "tags/remove", json={"item": name, "object": "Ticket", "o_id": _tid(tid)}
            )
        self._touch(tid)

    def _touch(self, tid: Model | int) -> None:
        """Revalidate the ticket at its next lookup: a tag write touched it (``updated_at``)."""
        self.client.mark_stale(registry["Ticket"], _tid(tid))


@model(
    endpoint="tag_list",
    collection="tags",
    # No GET tag_list/<id>. search is Tags.search, names from /tag_search; there is no tag_list/search.
    capabilities=("list", "create", "update", "delete", "search"),
    searchable=False,
    label="name",
    server_class="Tag::Item",
    manager=Tags,
)
class Tag(Model):
    """A tag as ``/tag_list`` lists it: name and how many objects carry it."""

    name: str | None = field()
    count: int | None = field(read_only=True)

    def delete(self) -> None:
        """Delete the tag everywhere (admin only)."""
        self.client.request("DELETE", f"tag_list/{self._require_id()}")
        self.client.forget(Tag, self._require_id())
