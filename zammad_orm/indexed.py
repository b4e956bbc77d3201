"""What Zammad's search index holds, per searchable model (spec §4.4, and the emulator's documents).

A ticket's index document holds the ticket's columns, its tags, and its state, group, priority, owner,
customer, ... as nested objects with *their* columns (``state.name``, ``customer.email``) but nothing of
theirs (no ``customer.organization``, only ``customer.organization_id``), and its articles with a few
fields each. :mod:`zammad_orm.resolver` keeps filters to this and refuses, or matches on a reference
table, what it lacks. Models without a search endpoint are filtered client-side and have no such limits.
"""

from __future__ import annotations

__all__ = ["INDEX_IGNORED", "INDEX_LISTS", "INDEX_NESTED", "INDEX_NESTED_FIELDS", "INDEX_ONLY"]

#: Search-index fields that are not model attributes, by model name.
INDEX_ONLY: dict[str, dict[str, type]] = {
    "Ticket": {"tags": str, "mention_user_ids": int},
    "User": {"permissions": str},
}
#: The relations an index document nests as objects (their own columns searchable: ``state.name``).
# fmt: off
INDEX_NESTED: dict[str, frozenset[str]] = {
    "Ticket": frozenset({
        "group", "state", "priority", "organization", "owner", "customer", "created_by", "updated_by",
        "create_article_type", "create_article_sender", "articles",
    }),
    "User": frozenset({"organization"}),
    "Organization": frozenset({"members"}),
}
# fmt: on
#: List fields an index document holds (other id lists, such as ``article_ids``, are not columns).
INDEX_LISTS: dict[str, frozenset[str]] = {"User": frozenset({"role_ids"})}
#: Columns Zammad leaves out of index documents (``search_index_attributes_ignored``).
INDEX_IGNORED: dict[str, frozenset[str]] = {
    "User": frozenset({"password", "image", "image_source", "source", "login_failed", "preferences"}),
}
#: Nested objects that hold fewer fields than their columns: a ticket's articles.
# fmt: off
INDEX_NESTED_FIELDS: dict[str, frozenset[str]] = {
    "TicketArticle": frozenset({
        "id", "ticket_id", "type_id", "sender_id", "from", "to", "cc", "subject", "body", "internal",
        "content_type", "created_by_id", "created_at", "updated_at",
    }),
}
# fmt: on
