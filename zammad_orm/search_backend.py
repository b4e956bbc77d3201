"""Which endpoint answers a query: the search index, or the index endpoint filtered client-side.

Zammad without Elasticsearch answers ``/search`` from SQL: it looks for the whole query string in titles,
numbers and articles, so a compiled field query finds nothing. The backend of each model is a fact of the
client (:meth:`~zammad_orm.facts.ServerFacts.backend`): configured with :func:`configure_search`, or
decided by the first compiled search's reply (rows found: an index answered; nothing found: a probe
decides). Without an index, queries are evaluated client-side and a
:class:`~zammad_orm.facts.SearchIndexUnavailableWarning` says so once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .facts import Backend, BackendSetting, SearchIndexUnavailableWarning
from .replies import has_rows

if TYPE_CHECKING:
    from .interface import ClientAPI

__all__ = [
    "Answerer",
    "SearchIndexUnavailableWarning",
    "answered_by_search",
    "backend_settled",
    "choose_backend",
    "configure_search",
]

#: What answers a query: the search endpoint, or the index endpoint filtered by the client.
Answerer = Literal["search", "client"]


def configure_search(client: ClientAPI, backend: BackendSetting, *, model: type[Any] | None = None) -> None:
    """Tell the QuerySets of ``client`` whether the server has a search index.

    Args:
        client: The client.
        backend: ``"elasticsearch"`` (search endpoint), ``"database"`` (no index: filter client-side)
            or ``"auto"`` (the default: the first search's reply decides, probing when it is empty).
        model: Only for this model (default: every model).

    Raises:
        QueryError: ``backend`` is none of the three.

    """
    client.facts.configure_backend(backend, None if model is None else model._meta.name)


def choose_backend(client: ClientAPI, model: Any, *, raw: bool = False) -> Answerer:
    """Return ``"search"`` or ``"client"`` (filter the index endpoint client-side) for ``model``.

    Models without a search endpoint are always filtered client-side. For the others the known backend
    decides; while it is not known, the search is tried (:func:`answered_by_search` then settles it).
    ``raw`` queries always go to the search endpoint as written.
    """
    meta = model._meta
    if not meta.searchable or meta.endpoint is None:
        return "client"
    if raw or client.facts.backend(meta.name) != "database":
        return "search"
    client.facts.warn_no_index(meta.name, str(meta.endpoint))
    return "client"


def backend_settled(client: ClientAPI, model: Any) -> bool:
    """Return whether it is known if ``model``'s searches reach a search index on this client."""
    meta = model._meta
    return not meta.searchable or meta.endpoint is None or client.facts.backend(meta.name) is not None


def answered_by_search(client: ClientAPI, model: Any, *, found: bool, raw: bool = False) -> bool:
    """After a search ran: return whether its reply is the answer (else filter client-side).

    A raw query is always its own answer. While the backend is not known, the reply decides: a compiled
    query is a field query, which Zammad's database fallback cannot parse, so rows found mean the search
    index answered (``found``). An empty reply is ambiguous, so a probe decides: ``id:>0`` finds nothing
    although the index endpoint lists objects → no search index.
    """
    if raw:
        return True
    if not backend_settled(client, model):
        backend = "elasticsearch" if found else _probe(client, model)
        if backend is None:  # nothing anywhere: either way the answer is "nothing"
            return True
        client.facts.learn_backend(model._meta.name, backend)
    return choose_backend(client, model) == "search"


def _probe(client: ClientAPI, model: Any) -> Backend | None:
    """Ask whether a field query works; without an index Zammad searches it as plain text."""
    meta = model._meta
    found = client.request(
        "GET", f"{meta.endpoint}/search", params={"query": "id:>0", "per_page": 1, "full": "true"}
    )
    if has_rows(found):
        return "elasticsearch"
    listed = client.request("GET", str(meta.endpoint), params={"page": 1, "per_page": 1})
    return "database" if has_rows(listed) else None
