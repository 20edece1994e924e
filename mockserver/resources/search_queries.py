"""The Search API's reading operations over the fake indexes: searchSingleIndex, search (several
queries), browse, searchForFacetValues, and deleteBy (records matching filters removed).

The semantics are :mod:`mockserver.engine.search`'s; these handlers find the index and its
settings, and answer. An index that does not exist is a 404 (published: IndexNotFound on each of
these operations; the wording is the mock's, ledger: search-missing-index).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from mockserver.engine import search
from mockserver.engine.errors import BadRequest, NotFound
from mockserver.engine.store import Record
from mockserver.resources.context import Context, Handler
from mockserver.resources.search_records import all_settled
from mockserver.resources.search_tasks import new_task

MISSING_INDEX = "Index does not exist"


def _index(ctx: Context, name: str, where: str) -> MutableMapping[str, Record]:
    found = ctx.account.indexes.get(name)
    if found is None:
        known = sorted(ctx.account.indexes)
        shown = ", ".join(repr(n) for n in known[:10]) + (" ..." if len(known) > 10 else "")
        raise NotFound(
            MISSING_INDEX,
            detail=(
                f"{where}: application {ctx.account.app_id!r} has no index {name!r} "
                f"(its indexes: {shown or 'none'}); an index exists once a record, a setting or a "
                "push wrote to it"
            ),
            apart=True,
        )
    return found


def _settings(ctx: Context, name: str) -> Mapping[str, Any]:
    return ctx.account.index_settings.get(name, {})


def _body(ctx: Context) -> dict[str, Any] | None:
    body = ctx.body
    return body if isinstance(body, dict) else None


def search_single_index(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/query."""
    name = ctx.request.path["indexName"]
    return search.search(_index(ctx, name, "path.indexName"), _settings(ctx, name), _body(ctx), name)


_REQUEST_ONLY = ("indexName", "type", "facet", "facetQuery", "maxFacetHits")


def _one_query(ctx: Context, request: Mapping[str, Any], where: str) -> dict[str, Any]:
    name = request.get("indexName")
    if not isinstance(name, str):
        raise BadRequest(f"{where}.indexName: required, a string")
    index = _index(ctx, name, f"{where}.indexName")
    settings = _settings(ctx, name)
    if request.get("type", "default") == "facet":
        facet = request.get("facet")
        if not isinstance(facet, str):
            raise BadRequest(f"{where}.facet: a query of type facet needs the facet to search, a string")
        body = {k: v for k, v in request.items() if k not in ("indexName", "type", "facet")}
        return search.facet_values(index, settings, facet, body, where)
    body = {k: v for k, v in request.items() if k not in _REQUEST_ONLY}
    return search.search(index, settings, body, name, where)


def _skipped(request: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A query stopIfEnoughMatches did not run: an empty result marked so (its parameters read all
    the same, so a mistake in them is still a 400)."""
    params = search.read_params({k: v for k, v in request.items() if k not in _REQUEST_ONLY}, where)
    hits_per_page = params.get("hitsPerPage", 20)
    return {
        "hits": [],
        "nbHits": 0,
        "page": 0,
        "nbPages": 0,
        "hitsPerPage": hits_per_page if isinstance(hits_per_page, int) else 20,
        "processingTimeMS": 0,
        "index": request.get("indexName"),
        "processed": False,
    }


def search_many(ctx: Context) -> Any:
    """POST /1/indexes/*/queries: the results in the requests' order. ``stopIfEnoughMatches`` runs
    them one by one and stops after the first whose hits fill its page (nbHits >= hitsPerPage); the
    ones after it answer an empty result marked ``processed: false`` (ledger: search-strategy-skip)."""
    body = _body(ctx) or {}
    requests = body.get("requests") or []
    if isinstance(requests, list) and len(requests) > search.MAX_QUERIES:
        raise BadRequest(
            f"body.requests: {len(requests)} queries; a multi-query holds at most {search.MAX_QUERIES} "
            "(an assumption of the mock, ledger search-request-bounds)"
        )
    strategy = body.get("strategy", "none")
    results: list[dict[str, Any]] = []
    enough = False
    for i, request in enumerate(requests):
        where = f"requests[{i}]"
        if not isinstance(request, dict):
            raise BadRequest(f"{where}: expected an object")
        if enough:
            _index(ctx, str(request.get("indexName")), f"{where}.indexName")
            results.append(_skipped(request, where))
            continue
        result = _one_query(ctx, request, where)
        results.append(result)
        if (
            strategy == "stopIfEnoughMatches"
            and "hits" in result
            and result["nbHits"] >= result["hitsPerPage"]
        ):
            enough = True
    return {"results": results}


def browse(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/browse."""
    name = ctx.request.path["indexName"]
    return search.browse(_index(ctx, name, "path.indexName"), _settings(ctx, name), _body(ctx), name)


def search_for_facet_values(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/facets/{facetName}/query."""
    name = ctx.request.path["indexName"]
    index = _index(ctx, name, "path.indexName")
    return search.facet_values(index, _settings(ctx, name), ctx.request.path["facetName"], _body(ctx))


def delete_by(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/deleteByQuery: the records the filters keep are removed; one task."""
    name = ctx.request.path["indexName"]
    index = _index(ctx, name, "path.indexName")
    for object_id in search.matching_ids(
        index, _settings(ctx, name), _body(ctx), assumed_rules=ctx.assumed_rules
    ):
        del index[object_id]
    return {**new_task(ctx, name), "updatedAt": ctx.now()}


# Each after the application's runs are settled: a finished Ingestion run's records are searchable.
HANDLERS: dict[str, Handler] = all_settled(
    {
        "searchSingleIndex": search_single_index,
        "search": search_many,
        "browse": browse,
        "searchForFacetValues": search_for_facet_values,
        "deleteBy": delete_by,
    }
)
