"""RouteTable: static before templated, most specific template first, the custom fallback, 405 vs 404."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import Spec, load_spec
from mockserver.engine.errors import MethodNotAllowed, NotFound
from mockserver.engine.routing import RouteTable


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(load_spec())


def routed(table: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]]:
    match = table.match(method, path)
    return match.operation.operation_id, match.path_params


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "params"),
    [
        ("GET", "/1/sources", "listSources", {}),
        ("POST", "/1/sources", "createSource", {}),
        ("POST", "/1/sources/search", "searchSources", {}),
        ("POST", "/1/sources/validate", "validateSource", {}),
        ("GET", "/1/sources/abc", "getSource", {"sourceID": "abc"}),
        ("PATCH", "/1/sources/abc", "updateSource", {"sourceID": "abc"}),
        ("DELETE", "/1/sources/abc", "deleteSource", {"sourceID": "abc"}),
        ("POST", "/1/sources/abc/validate", "validateSourceBeforeUpdate", {"sourceID": "abc"}),
        ("POST", "/1/sources/abc/discover", "triggerDockerSourceDiscover", {"sourceID": "abc"}),
        ("POST", "/1/sources/abc/run", "runSource", {"sourceID": "abc"}),
        ("POST", "/1/authentications/search", "searchAuthentications", {}),
        ("POST", "/1/destinations/search", "searchDestinations", {}),
        ("POST", "/1/transformations/search", "searchTransformations", {}),
        ("POST", "/1/transformations/try", "tryTransformation", {}),
        ("POST", "/1/transformations/t1/try", "tryTransformationBeforeUpdate", {"transformationID": "t1"}),
        ("PUT", "/1/transformations/t1", "updateTransformation", {"transformationID": "t1"}),
        ("POST", "/2/tasks/search", "searchTasks", {}),
        ("POST", "/1/tasks/search", "searchTasksV1", {}),
        ("GET", "/2/tasks/t1", "getTask", {"taskID": "t1"}),
        ("GET", "/1/tasks/t1", "getTaskV1", {"taskID": "t1"}),
        ("PUT", "/2/tasks/t1/enable", "enableTask", {"taskID": "t1"}),
        ("POST", "/2/tasks/t1/push", "pushTask", {"taskID": "t1"}),
        ("POST", "/1/push/my-index", "push", {"indexName": "my-index"}),
        ("GET", "/1/runs", "listRuns", {}),
        ("GET", "/1/runs/r1", "getRun", {"runID": "r1"}),
        ("GET", "/1/runs/r1/events", "listEvents", {"runID": "r1"}),
        ("GET", "/1/runs/r1/events/e1", "getEvent", {"runID": "r1", "eventID": "e1"}),
    ],
)
def test_named_operations(
    table: RouteTable, method: str, path: str, operation_id: str, params: dict[str, str]
) -> None:
    assert routed(table, method, path) == (operation_id, params)


def test_search_is_not_taken_for_an_id(table: RouteTable) -> None:
    for family, singular in [
        ("sources", "Source"),
        ("authentications", "Authentication"),
        ("destinations", "Destination"),
        ("transformations", "Transformation"),
    ]:
        assert routed(table, "POST", f"/1/{family}/search")[0] == f"search{family[:1].upper()}{family[1:]}"
        assert routed(table, "GET", f"/1/{family}/search-me")[0] == f"get{singular}"


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "custom_path"),
    [
        ("GET", "/foo", "customGet", "foo"),
        ("GET", "/1/sources/abc/extra/deep", "customGet", "1/sources/abc/extra/deep"),
        ("POST", "/1/unknown", "customPost", "1/unknown"),
        ("PUT", "/a/b/c", "customPut", "a/b/c"),
        ("DELETE", "/x", "customDelete", "x"),
        ("GET", "/", "customGet", ""),
    ],
)
def test_custom_fallback_takes_paths_no_operation_serves(
    table: RouteTable, method: str, path: str, operation_id: str, custom_path: str
) -> None:
    assert routed(table, method, path) == (operation_id, {"path": custom_path})


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/1/sources", "GET, POST"),
        ("DELETE", "/1/sources", "GET, POST"),
        ("PUT", "/1/sources/abc", "DELETE, GET, PATCH"),
        ("PATCH", "/1/transformations/abc", "DELETE, GET, PUT"),
        ("GET", "/2/tasks/abc/run", "POST"),
    ],
)
def test_known_path_with_another_method_is_405(
    table: RouteTable, method: str, path: str, allowed: str
) -> None:
    with pytest.raises(MethodNotAllowed) as raised:
        table.match(method, path)
    assert raised.value.status == 405
    assert raised.value.message.endswith(f"allowed: {allowed}")


def test_method_the_fallback_lacks_is_405(table: RouteTable) -> None:
    with pytest.raises(MethodNotAllowed) as raised:
        table.match("PATCH", "/nothing/here")
    assert "PATCH" in raised.value.message


def mini_spec(paths: dict[str, Any]) -> Spec:
    return Spec({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths})


def op(operation_id: str) -> dict[str, Any]:
    return {"operationId": operation_id, "responses": {"200": {"description": "ok"}}}


def test_without_a_fallback_an_unknown_path_is_404() -> None:
    table = RouteTable(mini_spec({"/things": {"get": op("listThings")}}))
    assert table.match("GET", "/things").operation.operation_id == "listThings"
    with pytest.raises(NotFound) as raised:
        table.match("GET", "/other")
    assert raised.value.status == 404
    assert "GET /other" in raised.value.message
    with pytest.raises(MethodNotAllowed):
        table.match("POST", "/things")


def test_more_literal_templates_win() -> None:
    table = RouteTable(
        mini_spec(
            {
                "/a/{x}/{y}": {"get": op("two")},
                "/a/{x}/c": {"get": op("literal")},
                "/a/b/{y}": {"get": op("literalFirst")},
                "/a/{x}": {"get": op("one")},
            }
        )
    )
    assert table.match("GET", "/a/q/c").operation.operation_id == "literal"
    assert table.match("GET", "/a/b/z").operation.operation_id == "literalFirst"
    assert table.match("GET", "/a/q/z").operation.operation_id == "two"
    assert table.match("GET", "/a/q").operation.operation_id == "one"
    assert table.match("GET", "/a/q/z").path_params == {"x": "q", "y": "z"}


def test_parameters_do_not_span_slashes() -> None:
    table = RouteTable(mini_spec({"/a/{x}": {"get": op("one")}}))
    with pytest.raises(NotFound):
        table.match("GET", "/a/b/c")


def test_an_empty_parameter_still_names_its_operation() -> None:
    """``/a/`` is ``/a/{x}`` with x empty: the operation answers (a 404: a URL cannot name an empty ID), not
    a 405 the operation does not document."""
    table = RouteTable(mini_spec({"/a/{x}": {"get": op("one")}}))
    assert table.match("GET", "/a/").path_params == {"x": ""}


def test_literal_parts_are_not_regular_expressions() -> None:
    table = RouteTable(mini_spec({"/v1.0/{x}": {"get": op("dotted")}}))
    assert table.match("GET", "/v1.0/q").operation.operation_id == "dotted"
    with pytest.raises(NotFound):
        table.match("GET", "/v1x0/q")


def test_custom_fallback_named_by_the_spec() -> None:
    table = RouteTable(mini_spec({"/{anything}": {"get": op("fallback")}, "/known": {"get": op("known")}}))
    assert table.match("GET", "/known").operation.operation_id == "known"
    match = table.match("GET", "/some/where")
    assert match.operation.operation_id == "fallback"
    assert match.path_params == {"anything": "some/where"}


# --- the Search API's paths, beside the Ingestion API's -----------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "params"),
    [
        ("POST", "/1/indexes/*/queries", "search", {}),
        ("POST", "/1/indexes/*/objects", "getObjects", {}),
        ("POST", "/1/indexes/*/batch", "multipleBatch", {}),
        ("POST", "/1/indexes/products/query", "searchSingleIndex", {"indexName": "products"}),
        ("POST", "/1/indexes/products/batch", "batch", {"indexName": "products"}),
        ("POST", "/1/indexes/products/browse", "browse", {"indexName": "products"}),
        ("GET", "/1/indexes/products/settings", "getSettings", {"indexName": "products"}),
        ("GET", "/1/indexes/products/p1", "getObject", {"indexName": "products", "objectID": "p1"}),
        ("PUT", "/1/indexes/products/p1", "addOrUpdateObject", {"indexName": "products", "objectID": "p1"}),
        (
            "POST",
            "/1/indexes/products/p1/partial",
            "partialUpdateObject",
            {"indexName": "products", "objectID": "p1"},
        ),
        ("POST", "/1/indexes/products/rules/search", "searchRules", {"indexName": "products"}),
        ("GET", "/1/indexes/products/rules/r1", "getRule", {"indexName": "products", "objectID": "r1"}),
        (
            "POST",
            "/1/indexes/products/facets/brand/query",
            "searchForFacetValues",
            {"indexName": "products", "facetName": "brand"},
        ),
        ("GET", "/1/indexes/products/task/12", "getIndexTask", {"indexName": "products", "taskID": "12"}),
        ("GET", "/1/task/12", "getAppTask", {"taskID": "12"}),
        ("GET", "/2/tasks/12", "getTask", {"taskID": "12"}),  # the Ingestion API's keeps its name
        ("DELETE", "/1/security/sources/10.0.0.0%2F8", "deleteSecuritySource", {"source": "10.0.0.0%2F8"}),
        ("DELETE", "/1/sources/s1", "deleteSource", {"sourceID": "s1"}),
        ("GET", "/1/indexes", "listIndices", {}),
        ("POST", "/1/push/products", "push", {"indexName": "products"}),
    ],
)
def test_search_operations_route_beside_the_ingestion_ones(
    table: RouteTable, method: str, path: str, operation_id: str, params: dict[str, str]
) -> None:
    assert routed(table, method, path) == (operation_id, params)


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "params"),
    [
        # A record whose objectID is a word another route of other methods uses: the method decides
        # (no published route but getObject takes GET /1/indexes/{indexName}/query).
        ("GET", "/1/indexes/products/query", "getObject", {"indexName": "products", "objectID": "query"}),
        (
            "DELETE",
            "/1/indexes/products/batch",
            "deleteObject",
            {"indexName": "products", "objectID": "batch"},
        ),
        (
            "PUT",
            "/1/indexes/products/browse",
            "addOrUpdateObject",
            {"indexName": "products", "objectID": "browse"},
        ),
        (
            "DELETE",
            "/1/indexes/products/settings",
            "deleteObject",
            {"indexName": "products", "objectID": "settings"},
        ),
        (
            "POST",
            "/1/indexes/products/settings/partial",
            "partialUpdateObject",
            {"indexName": "products", "objectID": "settings"},
        ),
    ],
)
def test_a_route_without_the_method_leaves_the_request_to_the_next_template(
    table: RouteTable, method: str, path: str, operation_id: str, params: dict[str, str]
) -> None:
    assert routed(table, method, path) == (operation_id, params)


def test_405_names_the_methods_of_every_template_the_path_matches(table: RouteTable) -> None:
    with pytest.raises(MethodNotAllowed) as raised:
        table.match("PATCH", "/1/indexes/products/query")
    assert raised.value.message.endswith("allowed: DELETE, GET, POST, PUT")
    assert raised.value.headers == {"Allow": "DELETE, GET, POST, PUT"}


def test_a_path_without_parameters_is_its_routes_alone(table: RouteTable) -> None:
    """A static path with another method is 405, not an ID of the template beside it."""
    for method, path, allowed in [
        ("GET", "/1/authentications/search", "POST"),
        ("GET", "/1/indexes/*/queries", "POST"),
        ("DELETE", "/1/indexes/*/batch", "POST"),
    ]:
        with pytest.raises(MethodNotAllowed) as raised:
            table.match(method, path)
        assert raised.value.message.endswith(f"allowed: {allowed}")


# --- remembered matches -------------------------------------------------------------------------


def test_a_remembered_match_answers_as_a_fresh_one_and_hands_out_its_own_parameters() -> None:
    table = RouteTable(load_spec())
    first = table.match("GET", "/1/sources/abc")
    first.path_params["sourceID"] = "changed by a caller"
    again = table.match("GET", "/1/sources/abc")  # from the table's memory
    assert again.operation is first.operation
    assert again.path_params == {"sourceID": "abc"}
    assert again.path_params is not table.match("GET", "/1/sources/abc").path_params
    assert type(again) is type(first) and again._fields == ("operation", "path_params")
    assert table.match("DELETE", "/1/sources/abc").operation.operation_id == "deleteSource"


def test_a_refused_method_is_refused_every_time_and_not_remembered() -> None:
    table = RouteTable(load_spec())
    for _ in range(2):
        with pytest.raises(MethodNotAllowed):
            table.match("PUT", "/1/sources")
    assert not table._matches


def test_the_memory_of_matches_is_bounded() -> None:
    from mockserver.engine import routing

    table = RouteTable(load_spec())
    for n in range(routing.MATCHES_KEPT + 10):
        assert table.match("GET", f"/1/sources/id-{n}").path_params == {"sourceID": f"id-{n}"}
    assert len(table._matches) <= routing.MATCHES_KEPT
    long_id = "x" * routing.LONGEST_KEPT
    assert table.match("GET", f"/1/sources/{long_id}").path_params == {"sourceID": long_id}
    assert ("GET", f"/1/sources/{long_id}") not in table._matches
