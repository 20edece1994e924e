"""mockserver.strategies: valid by schema and by domain rule, overridable, and reproducible."""

from __future__ import annotations

from typing import Any

import pytest
from croniter import croniter
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from mockserver import load_spec
from mockserver import strategies as ms
from mockserver.engine.validation import compile_schema
from mockserver.strategies._pools import prepare
from mockserver.strategies._variants import task_input_name, variants_of

SPEC = load_spec()
BODY_OPS = sorted(op_id for op_id, op in SPEC.operations.items() if op.body_schema is not None)
# Strategies given to @given below are wrapped in st.deferred: built at import, they would draw their
# pools (seconds) whenever this module is collected, even when its tests are deselected.
FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

CATALOG = ms.State(
    authentications=[{"authenticationID": "a-basic", "type": "basic"}],
    sources=[
        {"sourceID": "s-json", "type": "json"},
        {"sourceID": "s-docker", "type": "docker"},
        {"sourceID": "s-push", "type": "push", "authenticationID": "a-basic"},
    ],
    destinations=[{"destinationID": "d-1", "input": {"indexName": "products"}}],
    transformations=[{"transformationID": "t-1"}],
    tasks=[{"taskID": "k-1", "sourceID": "s-push", "destinationID": "d-1"}],
    runs=[{"runID": "r-1"}],
    events={"r-1": ["e-1"]},
)


def _input_schema(owner: str, kind: str) -> Any:
    name = SPEC.schema(owner)["x-input-schema-by-type"][kind]
    return None if name is None else SPEC.schema(name)


@pytest.mark.parametrize("operation_id", BODY_OPS)
@FAST
@given(data=st.data())
def test_every_body_is_schema_valid(operation_id: str, data: st.DataObject) -> None:
    op = SPEC.operations[operation_id]
    drawn = data.draw(ms.body(operation_id))
    assert op.body_schema is not None
    if drawn is None:
        assert not op.body_required
    else:
        errors = list(compile_schema(op.body_schema).iter_errors(drawn))
        assert not errors, errors[0].message


@pytest.mark.parametrize("operation_id", sorted(SPEC.operations))
@FAST
@given(data=st.data())
def test_every_operation_has_valid_parameters(operation_id: str, data: st.DataObject) -> None:
    op = SPEC.operations[operation_id]
    path, query = data.draw(ms.parameters(operation_id))
    for p in op.parameters:
        if p.location == "path":
            assert path[p.name] and "/" not in path[p.name]
        elif p.name in query:
            assert compile_schema(p.schema).is_valid(query[p.name]), (p.name, query[p.name])
    if "startDate" in query and "endDate" in query:
        assert query["startDate"] <= query["endDate"]


@FAST
@given(body=st.deferred(lambda: ms.source_create()))
def test_a_source_input_fits_its_type(body: dict[str, Any]) -> None:
    schema = _input_schema("SourceCreate", body["type"])
    if schema is None:
        assert "input" not in body  # push sources take none
    else:
        assert compile_schema(schema).is_valid(body["input"])
    for key in ("url", "shopURL"):
        if key in body.get("input", {}):
            assert body["input"][key].startswith(("http://", "https://"))


@FAST
@given(body=st.deferred(lambda: ms.authentication_create()))
def test_an_authentication_input_fits_its_type(body: dict[str, Any]) -> None:
    assert compile_schema(_input_schema("AuthenticationCreate", body["type"])).is_valid(body["input"])


def test_every_source_type_has_a_variant() -> None:
    variants = variants_of(None).variants("SourceCreate")
    assert set(variants) == set(SPEC.schema("SourceType")["enum"])


@FAST
@given(body=st.deferred(lambda: ms.transformation_create()))
def test_a_transformation_input_fits_its_type(body: dict[str, Any]) -> None:
    assert ("code" in body["input"]) == (body["type"] == "code")
    assert ("steps" in body["input"]) == (body["type"] == "noCode")


@FAST
@given(
    task=st.deferred(lambda: ms.task_create(CATALOG)),
    v1=st.deferred(lambda: ms.task_create_v1(CATALOG)),
    update=st.deferred(lambda: ms.task_update(CATALOG, source_type="docker")),
)
def test_tasks_reference_what_exists_and_their_cron_parses(
    task: dict[str, Any], v1: dict[str, Any], update: dict[str, Any]
) -> None:
    for body in (task, v1):
        assert body["sourceID"] in CATALOG.ids("sources")
        assert body["destinationID"] in CATALOG.ids("destinations")
        if "input" in body:
            kind = CATALOG.type_of("sources", body["sourceID"])
            name = task_input_name(SPEC, kind)
            assert compile_schema(SPEC.schema(name)).is_valid(body["input"])
    for cron in (task.get("cron"), v1["trigger"].get("cron"), update.get("cron")):
        if cron is not None:
            assert len(cron.split()) == 5 and croniter.is_valid(cron)
    if "input" in update:
        assert "streams" in update["input"]


@FAST
@given(body=st.deferred(lambda: ms.source_create(type="json", name=st.just("x"), authenticationID=ms.OMIT)))
def test_overrides_take_values_strategies_and_omit(body: dict[str, Any]) -> None:
    assert body["type"] == "json" and body["name"] == "x"
    assert "authenticationID" not in body
    assert compile_schema(SPEC.schema("SourceJSON")).is_valid(body["input"])


@FAST
@given(body=st.deferred(lambda: ms.source_create(type=st.sampled_from(["csv", "docker"]))))
def test_the_type_override_may_be_a_strategy(body: dict[str, Any]) -> None:
    assert body["type"] in ("csv", "docker")


def test_an_unknown_type_override_is_refused() -> None:
    with pytest.raises(ValueError, match="no valid body has type 'nope'"):
        ms.source_create(type="nope")


@FAST
@given(
    body=st.deferred(lambda: ms.destination_create(CATALOG)),
    none=st.deferred(lambda: ms.destination_create()),
)
def test_optional_references_come_from_the_state_or_are_left_out(
    body: dict[str, Any], none: dict[str, Any]
) -> None:
    assert body.get("authenticationID", "a-basic") == "a-basic"
    assert set(body.get("transformationIDs", ())) <= {"t-1"}
    assert "authenticationID" not in none and "transformationIDs" not in none


@FAST
@given(data=st.data())
def test_path_ids_name_resources_the_operation_can_act_on(data: st.DataObject) -> None:
    discover = data.draw(ms.request("triggerDockerSourceDiscover", CATALOG))
    assert discover.path == "/1/sources/s-docker/discover"
    delete = data.draw(ms.request("deleteSource", CATALOG))
    assert delete.path_params["sourceID"] in ("s-json", "s-docker")  # s-push has a task
    event = data.draw(ms.request("getEvent", CATALOG))
    assert event.path == "/1/runs/r-1/events/e-1"
    push = data.draw(ms.request("push", CATALOG))
    assert push.path == "/1/push/products"


def test_infeasible_operations_are_listed_out() -> None:
    empty = ms.State()
    feasible = ms.feasible(empty)
    assert "createSource" in feasible and "listRuns" in feasible
    assert "getSource" not in feasible and "createTask" not in feasible
    assert "customGet" not in feasible
    assert "listIndices" in feasible and "getObject" not in feasible  # (no index yet)
    assert "listApiKeys" not in ms.feasible(None)  # an operation the mock does not serve


@pytest.mark.parametrize(
    "make",
    [
        ms.invalid_source_create,
        ms.invalid_authentication_create,
        ms.invalid_transformation_create,
        ms.invalid_destination_create,
        ms.invalid_task_create,
        ms.invalid_task_create_v1,
        ms.invalid_task_update_v1,
    ],
)
@FAST
@given(data=st.data())
def test_invalid_bodies_break_exactly_one_rule(make: Any, data: st.DataObject) -> None:
    invalid = data.draw(make(CATALOG))
    assert invalid.rule in ms.RULES
    op_id = make.__name__.removeprefix("invalid_")
    schema = SPEC.operations[op_id].body_schema or {}
    valid_by_schema = compile_schema(schema).is_valid(invalid.value)
    if invalid.rule in ("required", "unknown-field", "schema"):
        assert not valid_by_schema, invalid
    elif invalid.rule in ("cron", "reference"):
        assert valid_by_schema, invalid
    assert invalid.where.startswith("body.")
    assert str(invalid).startswith(invalid.rule)


@FAST
@given(data=st.data())
def test_invalid_update_input_is_schema_valid_but_wrong_for_the_type(data: st.DataObject) -> None:
    invalid = data.draw(
        ms.invalid_body("updateSource", CATALOG, path_params={"sourceID": "s-json"}).filter(
            lambda i: i.rule == "input-type"
        )
    )
    assert compile_schema(SPEC.operations["updateSource"].body_schema or {}).is_valid(invalid.value)
    assert not compile_schema(SPEC.schema("SourceJSON")).is_valid(invalid.value["input"])


def _draws(strategy: st.SearchStrategy[Any], run_seed: int) -> list[Any]:
    seen: list[Any] = []

    @seed(run_seed)
    @settings(max_examples=15, database=None, deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        seen.append(value)

    collect()
    return seen


def test_draws_are_reproducible_under_the_seed() -> None:
    strategy = ms.requests(CATALOG)
    first = _draws(strategy, 1234)
    assert first == _draws(strategy, 1234)
    assert first != _draws(strategy, 99)


def test_requests_spell_their_query_as_the_spec_says() -> None:
    request = ms.Request(
        "listSources",
        "GET",
        "/1/sources",
        {},
        {"type": ["json", "csv"], "page": 2, "enabled": True},
        None,
        frozenset(),
    )
    assert request.query_params() == [("type", "json,csv"), ("page", "2"), ("enabled", "true")]
    assert request.describe() == "GET /1/sources?type=json,csv&page=2&enabled=true"


def test_from_schema_draws_from_any_schema() -> None:
    values = ms.pool(prepare({"type": "integer", "minimum": 3, "maximum": 5}))
    assert set(values) == {3, 4, 5}
    assert ms.pool({"allOf": [{"type": "string"}, {"type": "integer"}]}) == ()


def test_crons_fit_the_spec_pattern_and_fire() -> None:
    """The spec's cron pattern admits crons that never fire (30 February): none is drawn."""
    import re
    from datetime import datetime

    pattern = re.compile(SPEC.schema("Cron")["pattern"])
    prepared = prepare({"type": "object", "properties": {"cron": SPEC.schema("Cron")}})
    crons = ms.pool(prepared["properties"]["cron"])
    assert crons
    for cron in crons:
        assert pattern.search(cron), cron
        croniter(cron, datetime(2026, 1, 1)).get_next(datetime)  # raises for a cron that never fires
