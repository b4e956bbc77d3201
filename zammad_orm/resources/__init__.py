"""One small module per Zammad resource: the attrs model, its endpoint, relations and extra methods."""

from __future__ import annotations

from zammad_orm.resources.article import Attachment, TicketArticle
from zammad_orm.resources.article_meta import ArticleSender, ArticleType
from zammad_orm.resources.group import Group
from zammad_orm.resources.link import Link
from zammad_orm.resources.mention import Mention
from zammad_orm.resources.notification import OnlineNotification
from zammad_orm.resources.object_attribute import ObjectAttribute
from zammad_orm.resources.organization import Organization
from zammad_orm.resources.priority import TicketPriority
from zammad_orm.resources.role import Role
from zammad_orm.resources.state import StateType, TicketState
from zammad_orm.resources.tag import Tag, Tags
from zammad_orm.resources.ticket import Ticket
from zammad_orm.resources.time_accounting import TimeAccounting, TimeAccountingType
from zammad_orm.resources.user import User

__all__ = [
    "ArticleSender",
    "ArticleType",
    "Attachment",
    "Group",
    "Link",
    "Mention",
    "ObjectAttribute",
    "OnlineNotification",
    "Organization",
    "Role",
    "StateType",
    "Tag",
    "Tags",
    "Ticket",
    "TicketArticle",
    "TicketPriority",
    "TicketState",
    "TimeAccounting",
    "TimeAccountingType",
    "User",
]
