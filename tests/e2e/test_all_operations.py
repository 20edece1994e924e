"""Every operation of the spec, called through the real algoliasearch IngestionClientSync.

Each test declares with ``@covers`` the operationIds it calls; every call goes through the ``ops``
recorder, which derives the operationId from the client method's name (``create_task_v1`` ->
``createTaskV1``), refuses undeclared ones and, once the test has passed, checks that every declared
one was really called. ``test_every_spec_operation_is_covered`` then compares the union of the
declarations with the spec's operations, so dropping a call (or a test) makes it fail.

A successful call means the mock answered 2xx and the client deserialised the body into its model
without error; the assertions check the models' content on top of that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import pytest
from algoliasearch.http.exceptions import RequestException
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.models.on_demand_trigger import OnDemandTrigger
from algoliasearch.ingestion.models.schedule_trigger import ScheduleTrigger
from algoliasearch.ingestion.models.source_docker import SourceDocker
from algoliasearch.ingestion.models.source_json import SourceJSON

from mockserver.engine.validation import SchemaCheck
from mockserver.http.app import MockApp
from mockserver.ledger import load_ledger
from mockserver.spec import Spec, bundled_spec_path, load_spec
from tests.conftest import APP_ID
from tests.published import PUBLISHED_DIR, published_spec

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., None])

COVERS: dict[str, frozenset[str]] = {}

TRANSFORM_CODE = "async function transform(record) { record.x = 1; return record; }"
SAMPLE_RECORD: dict[str, Any] = {"objectID": "sku-1", "name": "Shoe", "price": 42}


def covers(*operation_ids: str) -> Callable[[F], F]:
    """Declare the operationIds a test calls (checked against what it really calls)."""

    def decorate(test: F) -> F:
        COVERS[test.__name__] = frozenset(operation_ids)
        return test

    return decorate


def operation_id_of(method_name: str) -> str:
    """``create_task_v1`` -> ``createTaskV1``: the clients name methods after operationIds."""
    first, *rest = method_name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


class Ops:
    """Calls client methods and records which operationIds were exercised."""

    def __init__(self, test_name: str, declared: frozenset[str]) -> None:
        self.test_name = test_name
        self.declared = declared
        self.called: set[str] = set()

    def __call__(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        operation_id = operation_id_of(method.__name__)
        assert operation_id in self.declared, (
            f"{self.test_name} calls {operation_id} without declaring it in @covers"
        )
        self.called.add(operation_id)
        return method(*args, **kwargs)


@pytest.fixture
def ops(request: pytest.FixtureRequest, ingestion: IngestionClientSync) -> Iterator[Ops]:
    name: str = request.function.__name__
    declared = COVERS.get(name)
    assert declared is not None, f"{name} uses ops but has no @covers declaration"
    failures_before = request.session.testsfailed
    recorder = Ops(name, declared)
    yield recorder
    # Only judge the declaration when the test itself passed (its call report is already logged).
    if request.session.testsfailed == failures_before:
        missing = declared - recorder.called
        assert not missing, f"{name} declares {sorted(missing)} in @covers but never calls them"


# ---------------------------------------------------------------------------------------------
# Every answer held to the spec Algolia publishes, apart from what the ledger names

# Where a 2xx answer may differ from the published schema, and the ledger entry that says why:
# (operationIds, the start of the published validator's message) -> ledger entry.
SOURCE_ANSWERS = frozenset({"getSource", "listSources", "searchSources"})
# Answers whose secrets are null (ledger secrets-null-in-answers, secret-values-map), where the
# published schemas type them as strings: checked with a stand-in string in their place.
AUTHENTICATION_ANSWERS = frozenset({"getAuthentication", "listAuthentications", "searchAuthentications"})
PUBLISHED_DEVIATIONS: dict[tuple[frozenset[str], str], str] = {
    (frozenset({"push", "pushTask"}), "response.data: None is not of type 'array'"): "watched-push-data-null",
    # The published SourceInput is a oneOf whose branches overlap (a json input fits SourceCSV too):
    # the bundled spec tells the branch by the source's type.
    (SOURCE_ANSWERS, "response"): "source-input-follows-type",
    (AUTHENTICATION_ANSWERS, "response"): "authentication-input-follows-type",
}
# The published input unions (oneOf) overlap: the bundled spec tells the branch by the type.
OVERLAPPING = "input: matches more than one of the allowed shapes"


def with_secrets_filled(body: Any) -> Any:
    """The answer with every null of an authentication's input replaced by a string."""
    if isinstance(body, list):
        return [with_secrets_filled(item) for item in body]
    if isinstance(body, dict):
        if isinstance(body.get("authentications"), list):
            return {**body, "authentications": with_secrets_filled(body["authentications"])}
        if isinstance(body.get("input"), dict):
            filled = {k: "secret" if v is None else v for k, v in body["input"].items()}
            return {**body, "input": filled}
    return body


@pytest.fixture(scope="module")
def published() -> Spec | None:
    """The published Ingestion spec, when it sits beside the repository; else None, and the check
    is left out (test_answers_are_held_to_the_published_spec says so), except under CI, which fails."""
    if (PUBLISHED_DIR / "ingestion.yml").is_file() or os.environ.get("CI"):
        return load_spec(published_spec())
    return None


def published_problems(spec: Spec, app: MockApp, since: int) -> list[str]:
    """The 2xx answers (journal calls after the first ``since``) the published schemas refuse and
    no ledger entry explains."""
    found: list[str] = []
    for call in app.journal.calls[since:]:
        if call.operation_id is None or not 200 <= call.status < 300:
            continue
        operation = spec.operations[call.operation_id]
        documented, schema = operation.response_schema(call.status)
        if not documented:
            found.append(
                f"{call.operation_id} answered {call.status}, which the published spec does not document"
            )
            continue
        if schema is None:
            continue
        answer = call.response
        if call.operation_id in AUTHENTICATION_ANSWERS:
            answer = with_secrets_filled(answer)
        message = SchemaCheck(schema).error(answer, "response")
        if message is None:
            continue
        explained = [
            entry
            for (operations, start), entry in PUBLISHED_DEVIATIONS.items()
            if call.operation_id in operations
            and message.startswith(start)
            and (not entry.endswith("-input-follows-type") or message.endswith(OVERLAPPING))
        ]
        if not explained:
            found.append(f"{call.operation_id} answered {call.status}: {message}")
    return found


@pytest.fixture(autouse=True)
def answers_fit_the_published_spec(
    request: pytest.FixtureRequest, published: Spec | None, live_app: MockApp
) -> Iterator[None]:
    """After each test of this module, every 2xx answer it got validates against the published
    spec, apart from the ledger's entries (PUBLISHED_DEVIATIONS)."""
    if published is None or "ops" not in request.fixturenames:
        yield
        return
    since = len(live_app.journal.calls)
    yield
    problems = published_problems(published, live_app, since)
    assert not problems, "answers the published spec refuses:\n" + "\n".join(problems)


def test_answers_are_held_to_the_published_spec() -> None:
    """Skips, saying why, where the published spec is absent (then no answer here is held to it)."""
    assert load_spec(published_spec()).operations


def test_the_published_deviations_are_ledger_entries() -> None:
    ids = load_ledger().ids()
    assert set(PUBLISHED_DEVIATIONS.values()) | {"secrets-null-in-answers", "secret-values-map"} <= ids


# ---------------------------------------------------------------------------------------------
# Small builders (every call still goes through ``ops``)


def _json_source(ops: Ops, ingestion: IngestionClientSync, name: str = "feed") -> str:
    body = {"type": "json", "name": name, "input": {"url": "https://example.com/feed.json"}}
    source_id: str = ops(ingestion.create_source, body).source_id
    return source_id


def _push_source(ops: Ops, ingestion: IngestionClientSync, name: str = "push") -> str:
    source_id: str = ops(ingestion.create_source, {"type": "push", "name": name}).source_id
    return source_id


def _destination(ops: Ops, ingestion: IngestionClientSync, index: str, name: str = "dest") -> str:
    body = {"type": "search", "name": name, "input": {"indexName": index}}
    destination_id: str = ops(ingestion.create_destination, body).destination_id
    return destination_id


def _task(ops: Ops, ingestion: IngestionClientSync, source_id: str, destination_id: str, **extra: Any) -> str:
    body = {"sourceID": source_id, "destinationID": destination_id, "action": "save", **extra}
    task_id: str = ops(ingestion.create_task, body).task_id
    return task_id


# ---------------------------------------------------------------------------------------------
# Authentications


@covers(
    "createAuthentication",
    "getAuthentication",
    "listAuthentications",
    "searchAuthentications",
    "updateAuthentication",
    "deleteAuthentication",
)
def test_authentications(ops: Ops, ingestion: IngestionClientSync) -> None:
    created = ops(
        ingestion.create_authentication,
        {"type": "algolia", "name": "algolia", "input": {"appID": "APP", "apiKey": "secret"}},
    )
    assert created.name == "algolia"
    assert created.created_at
    other = ops(
        ingestion.create_authentication,
        {"type": "basic", "name": "basic", "input": {"username": "ana", "password": "pw"}},
    )

    got = ops(ingestion.get_authentication, created.authentication_id)
    assert got.authentication_id == created.authentication_id
    assert got.type == "algolia"
    assert got.name == "algolia"
    assert got.created_at == created.created_at

    listed = ops(ingestion.list_authentications, items_per_page=1)
    assert listed.pagination.nb_items == 2
    assert listed.pagination.nb_pages == 2
    assert listed.pagination.items_per_page == 1
    assert [a.authentication_id for a in listed.authentications] == [other.authentication_id]
    by_type = ops(ingestion.list_authentications, type=["basic"])
    assert [a.name for a in by_type.authentications] == ["basic"]

    found = ops(
        ingestion.search_authentications,
        {"authenticationIDs": [created.authentication_id, "no-such-id"]},
    )
    assert [a.authentication_id for a in found] == [created.authentication_id]

    updated = ops(ingestion.update_authentication, created.authentication_id, {"name": "renamed"})
    assert updated.authentication_id == created.authentication_id
    assert updated.name == "renamed"
    assert updated.updated_at
    assert ops(ingestion.get_authentication, created.authentication_id).name == "renamed"

    deleted = ops(ingestion.delete_authentication, created.authentication_id)
    assert deleted.deleted_at
    with pytest.raises(RequestException) as missing:
        ops(ingestion.get_authentication, created.authentication_id)
    assert missing.value.status_code == 404


# ---------------------------------------------------------------------------------------------
# Destinations


@covers(
    "createDestination",
    "getDestination",
    "listDestinations",
    "searchDestinations",
    "updateDestination",
    "deleteDestination",
)
def test_destinations(ops: Ops, ingestion: IngestionClientSync) -> None:
    destination_id = _destination(ops, ingestion, "products", name="products")
    other_id = _destination(ops, ingestion, "articles", name="articles")

    got = ops(ingestion.get_destination, destination_id)
    assert got.destination_id == destination_id
    assert got.type == "search"
    assert got.input.index_name == "products"

    listed = ops(ingestion.list_destinations, sort="name", order="asc")
    assert [d.name for d in listed.destinations] == ["articles", "products"]
    assert listed.pagination.nb_items == 2

    found = ops(ingestion.search_destinations, {"destinationIDs": [other_id]})
    assert [d.destination_id for d in found] == [other_id]

    updated = ops(ingestion.update_destination, destination_id, {"input": {"indexName": "products_v2"}})
    assert updated.destination_id == destination_id
    assert updated.name == "products"
    assert ops(ingestion.get_destination, destination_id).input.index_name == "products_v2"

    assert ops(ingestion.delete_destination, destination_id).deleted_at
    assert [d.destination_id for d in ops(ingestion.list_destinations).destinations] == [other_id]


# ---------------------------------------------------------------------------------------------
# Sources


@covers(
    "createSource",
    "getSource",
    "listSources",
    "searchSources",
    "updateSource",
    "deleteSource",
)
def test_sources(ops: Ops, ingestion: IngestionClientSync) -> None:
    source_id = _json_source(ops, ingestion, "feed")
    push_id = _push_source(ops, ingestion, "push")

    got = ops(ingestion.get_source, source_id)
    assert got.source_id == source_id
    assert got.type == "json"
    assert got.name == "feed"
    assert got.input is not None
    assert isinstance(got.input.actual_instance, SourceJSON)
    assert got.input.actual_instance.url == "https://example.com/feed.json"
    assert ops(ingestion.get_source, push_id).input is None

    listed = ops(ingestion.list_sources, type=["push"])
    assert [s.source_id for s in listed.sources] == [push_id]
    everything = ops(ingestion.list_sources)
    assert [s.source_id for s in everything.sources] == [push_id, source_id]  # createdAt desc

    found = ops(ingestion.search_sources, {"sourceIDs": [source_id, push_id]})
    assert [s.source_id for s in found] == [source_id, push_id]

    updated = ops(
        ingestion.update_source, source_id, {"name": "feed 2", "input": {"url": "https://example.com/2.json"}}
    )
    assert updated.source_id == source_id
    assert updated.name == "feed 2"
    again = ops(ingestion.get_source, source_id)
    assert again.input is not None
    assert isinstance(again.input.actual_instance, SourceJSON)
    assert again.input.actual_instance.url == "https://example.com/2.json"

    assert ops(ingestion.delete_source, push_id).deleted_at
    assert [s.source_id for s in ops(ingestion.list_sources).sources] == [source_id]


@covers("createSource", "validateSource", "validateSourceBeforeUpdate")
def test_validate_sources(ops: Ops, ingestion: IngestionClientSync) -> None:
    body = {"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}}
    checked = ops(ingestion.validate_source, body)
    assert checked.run_id
    assert checked.message
    assert checked.events is not None
    assert [e.type for e in checked.events] == ["fetch"]

    with pytest.raises(RequestException) as invalid:
        ops(ingestion.validate_source, {**body, "input": {"url": "ftp://nowhere"}})
    assert invalid.value.status_code == 400  # valid by the schema; a source the service cannot use
    assert "ftp://nowhere" in str(invalid.value)

    source_id = _json_source(ops, ingestion)
    before_update = ops(
        ingestion.validate_source_before_update, source_id, {"input": {"url": "https://example.com/new"}}
    )
    assert before_update.run_id
    assert before_update.message


@covers("createSource", "triggerDockerSourceDiscover")
def test_trigger_docker_source_discover(ops: Ops, ingestion: IngestionClientSync) -> None:
    docker = ops(
        ingestion.create_source,
        {
            "type": "docker",
            "name": "airbyte",
            "input": {"image": "airbyte/source-faker", "configuration": {"count": 10}},
        },
    )
    discovered = ops(ingestion.trigger_docker_source_discover, docker.source_id)
    assert discovered.run_id
    assert discovered.message

    json_source = _json_source(ops, ingestion)
    with pytest.raises(RequestException) as not_docker:
        ops(ingestion.trigger_docker_source_discover, json_source)
    assert not_docker.value.status_code == 400


@covers("createSource", "getSource")
def test_docker_source_input_deserialises(ops: Ops, ingestion: IngestionClientSync) -> None:
    docker = ops(
        ingestion.create_source,
        {"type": "docker", "name": "d", "input": {"image": "airbyte/x", "configuration": {"a": 1}}},
    )
    got = ops(ingestion.get_source, docker.source_id)
    assert got.input is not None
    assert isinstance(got.input.actual_instance, SourceDocker)
    assert got.input.actual_instance.image == "airbyte/x"


@covers("createSource", "createDestination", "createTask", "runSource", "getRun")
def test_run_source(ops: Ops, ingestion: IngestionClientSync, live_app: MockApp) -> None:
    shop = {"type": "shopify", "name": "shop", "input": {"shopURL": "https://shop.example.com"}}
    source_id = ops(ingestion.create_source, shop).source_id
    products = _task(ops, ingestion, source_id, _destination(ops, ingestion, "products"))
    articles = _task(ops, ingestion, source_id, _destination(ops, ingestion, "articles"))
    live_app.store.account(APP_ID).source_records[source_id] = [{"objectID": "1", "name": "one"}]

    started = ops(ingestion.run_source, source_id, {"indexToInclude": ["products"]})
    assert set(started.task_with_run_id) == {products}
    assert started.created_at
    run = ops(ingestion.get_run, started.task_with_run_id[products])
    assert run.task_id == products
    assert run.status == "finished"

    everything = ops(ingestion.run_source, source_id)
    assert set(everything.task_with_run_id) == {products, articles}
    indexes = live_app.store.account(APP_ID).indexes
    assert indexes["articles"] == {"1": {"objectID": "1", "name": "one"}}


# ---------------------------------------------------------------------------------------------
# Tasks (v2)


@covers(
    "createSource",
    "createDestination",
    "createTask",
    "getTask",
    "listTasks",
    "searchTasks",
    "updateTask",
    "replaceTask",
    "enableTask",
    "disableTask",
    "deleteTask",
)
def test_tasks(ops: Ops, ingestion: IngestionClientSync) -> None:
    source_id = _json_source(ops, ingestion)
    destination_id = _destination(ops, ingestion, "products")
    other_destination = _destination(ops, ingestion, "articles")
    created = ops(
        ingestion.create_task,
        {"sourceID": source_id, "destinationID": destination_id, "action": "replace", "cron": "0 * * * *"},
    )
    assert created.task_id
    assert created.created_at
    on_demand = _task(ops, ingestion, source_id, other_destination)

    got = ops(ingestion.get_task, created.task_id)
    assert got.task_id == created.task_id
    assert got.source_id == source_id
    assert got.destination_id == destination_id
    assert got.action == "replace"
    assert got.cron == "0 * * * *"
    assert got.next_run
    assert got.enabled is True

    listed = ops(ingestion.list_tasks, destination_id=[destination_id])
    assert [t.task_id for t in listed.tasks] == [created.task_id]
    assert ops(ingestion.list_tasks, trigger_type=["onDemand"]).pagination.nb_items == 1

    found = ops(ingestion.search_tasks, {"taskIDs": [on_demand, created.task_id]})
    assert [t.task_id for t in found] == [on_demand, created.task_id]

    patched = ops(ingestion.update_task, created.task_id, {"failureThreshold": 10, "enabled": False})
    assert patched.task_id == created.task_id
    assert patched.updated_at
    after_patch = ops(ingestion.get_task, created.task_id)
    assert after_patch.failure_threshold == 10
    assert after_patch.enabled is False
    assert after_patch.cron == "0 * * * *"

    replaced = ops(
        ingestion.replace_task, created.task_id, {"destinationID": other_destination, "action": "save"}
    )
    assert replaced.task_id == created.task_id
    after_replace = ops(ingestion.get_task, created.task_id)
    assert after_replace.destination_id == other_destination
    assert after_replace.action == "save"
    assert after_replace.cron is None
    assert after_replace.failure_threshold == 0  # left out of the replacement: 0, as never set
    assert after_replace.enabled is True

    assert ops(ingestion.disable_task, created.task_id).task_id == created.task_id
    assert ops(ingestion.get_task, created.task_id).enabled is False
    assert ops(ingestion.enable_task, created.task_id).task_id == created.task_id
    assert ops(ingestion.get_task, created.task_id).enabled is True

    assert ops(ingestion.delete_task, created.task_id).deleted_at
    assert [t.task_id for t in ops(ingestion.list_tasks).tasks] == [on_demand]


@covers("createSource", "createDestination", "createTask", "runTask", "getRun")
def test_run_task(ops: Ops, ingestion: IngestionClientSync, live_app: MockApp) -> None:
    source_id = _json_source(ops, ingestion)
    task_id = _task(ops, ingestion, source_id, _destination(ops, ingestion, "products"))
    live_app.store.account(APP_ID).source_records[source_id] = [{"objectID": "a", "v": 1}]

    started = ops(ingestion.run_task, task_id, {"runMetadata": {"reason": "test"}})
    assert started.run_id
    assert started.created_at
    run = ops(ingestion.get_run, started.run_id)
    assert run.task_id == task_id
    assert run.type == "update"
    assert run.outcome == "success"
    assert live_app.store.account(APP_ID).indexes["products"] == {"a": {"objectID": "a", "v": 1}}
    assert ops(ingestion.run_task, task_id).run_id != started.run_id  # the payload is optional


@covers("createSource", "createDestination", "createTask", "pushTask")
def test_push_task(ops: Ops, ingestion: IngestionClientSync, live_app: MockApp) -> None:
    task_id = _task(ops, ingestion, _push_source(ops, ingestion), _destination(ops, ingestion, "products"))
    records = [{"objectID": "1", "name": "one"}, {"objectID": "2", "name": "two"}]

    watched = ops(ingestion.push_task, task_id, {"action": "addObject", "records": records}, watch=True)
    assert watched.run_id
    assert watched.event_id
    assert watched.events is not None
    assert [e.batch_size for e in watched.events] == [2]
    assert watched.data is None  # published: always null for a push

    unwatched = ops(ingestion.push_task, task_id, {"action": "deleteObject", "records": [{"objectID": "1"}]})
    assert unwatched.run_id
    assert unwatched.event_id
    assert live_app.store.account(APP_ID).indexes["products"] == {"2": {"objectID": "2", "name": "two"}}


# ---------------------------------------------------------------------------------------------
# Tasks (v1, deprecated)


@covers(
    "createSource",
    "createDestination",
    "createTaskV1",
    "getTaskV1",
    "listTasksV1",
    "searchTasksV1",
    "updateTaskV1",
    "enableTaskV1",
    "disableTaskV1",
    "runTaskV1",
    "deleteTaskV1",
)
@pytest.mark.filterwarnings(r"ignore:\S+ /1/tasks\S* is deprecated:DeprecationWarning")
def test_tasks_v1(ops: Ops, ingestion: IngestionClientSync) -> None:
    source_id = _json_source(ops, ingestion)
    destination_id = _destination(ops, ingestion, "products")
    created = ops(
        ingestion.create_task_v1,
        {
            "sourceID": source_id,
            "destinationID": destination_id,
            "trigger": {"type": "onDemand"},
            "action": "save",
        },
    )
    assert created.task_id
    assert created.created_at

    got = ops(ingestion.get_task_v1, created.task_id)
    assert got.task_id == created.task_id
    assert isinstance(got.trigger.actual_instance, OnDemandTrigger)
    assert got.trigger.actual_instance.type == "onDemand"

    listed = ops(ingestion.list_tasks_v1)
    assert [t.task_id for t in listed.tasks] == [created.task_id]
    found = ops(ingestion.search_tasks_v1, {"taskIDs": [created.task_id]})
    assert [t.task_id for t in found] == [created.task_id]

    updated = ops(ingestion.update_task_v1, created.task_id, {"trigger": {"cron": "0 0 * * *"}})
    assert updated.task_id == created.task_id
    scheduled = ops(ingestion.get_task_v1, created.task_id).trigger.actual_instance
    assert isinstance(scheduled, ScheduleTrigger)
    assert scheduled.cron == "0 0 * * *"
    assert scheduled.next_run

    assert ops(ingestion.disable_task_v1, created.task_id).task_id == created.task_id
    assert ops(ingestion.get_task_v1, created.task_id).enabled is False
    assert ops(ingestion.enable_task_v1, created.task_id).task_id == created.task_id
    assert ops(ingestion.get_task_v1, created.task_id).enabled is True

    run = ops(ingestion.run_task_v1, created.task_id)
    assert run.run_id
    assert run.created_at

    assert ops(ingestion.delete_task_v1, created.task_id).deleted_at
    assert ops(ingestion.list_tasks_v1).tasks == []


# ---------------------------------------------------------------------------------------------
# Transformations


@covers(
    "createTransformation",
    "getTransformation",
    "listTransformations",
    "searchTransformations",
    "updateTransformation",
    "deleteTransformation",
)
def test_transformations(ops: Ops, ingestion: IngestionClientSync) -> None:
    created = ops(
        ingestion.create_transformation,
        {"name": "add x", "code": TRANSFORM_CODE, "description": "sets x"},
    )
    assert created.transformation_id
    assert created.created_at
    no_code = ops(
        ingestion.create_transformation,
        {"name": "steps", "type": "noCode", "input": {"steps": [{"op": "noop"}]}},
    )

    got = ops(ingestion.get_transformation, created.transformation_id)
    assert got.transformation_id == created.transformation_id
    assert got.name == "add x"
    assert got.code == TRANSFORM_CODE
    assert got.description == "sets x"

    listed = ops(ingestion.list_transformations, type="noCode")
    assert [t.transformation_id for t in listed.transformations] == [no_code.transformation_id]

    found = ops(ingestion.search_transformations, {"transformationIDs": [created.transformation_id]})
    assert [t.name for t in found] == ["add x"]

    new_code = "async function transform(record) { return record; }"
    updated = ops(
        ingestion.update_transformation, created.transformation_id, {"name": "identity", "code": new_code}
    )
    assert updated.transformation_id == created.transformation_id
    assert updated.updated_at
    replaced = ops(ingestion.get_transformation, created.transformation_id)
    assert replaced.name == "identity"
    assert replaced.code == new_code
    assert replaced.description is None  # PUT: what the body leaves out is gone

    assert ops(ingestion.delete_transformation, created.transformation_id).deleted_at
    remaining = ops(ingestion.list_transformations).transformations
    assert [t.transformation_id for t in remaining] == [no_code.transformation_id]


def decoded(payloads: list[str]) -> list[Any]:
    """The records a tryTransformation answer carries (each payload is one JSON-encoded record)."""
    try:
        return [json.loads(p) for p in payloads]
    except ValueError:
        pytest.fail(f"the payloads are not JSON-encoded records: {payloads!r}")


@covers("tryTransformation")
def test_try_transformation(ops: Ops, ingestion: IngestionClientSync) -> None:
    tried = ops(ingestion.try_transformation, {"code": TRANSFORM_CODE, "sampleRecord": SAMPLE_RECORD})
    assert tried.error is None
    assert decoded(tried.payloads) == [{**SAMPLE_RECORD, "x": 1}]


@covers("createTransformation", "tryTransformationBeforeUpdate")
def test_try_transformation_before_update(ops: Ops, ingestion: IngestionClientSync) -> None:
    created = ops(
        ingestion.create_transformation,
        {"name": "identity", "code": "async function transform(record) { return record; }"},
    )
    tried = ops(
        ingestion.try_transformation_before_update,
        created.transformation_id,
        {"code": TRANSFORM_CODE, "sampleRecord": SAMPLE_RECORD},
    )
    assert tried.error is None
    assert decoded(tried.payloads) == [{**SAMPLE_RECORD, "x": 1}]


# ---------------------------------------------------------------------------------------------
# Push, runs and events


@covers(
    "createSource",
    "createDestination",
    "createTask",
    "push",
    "listRuns",
    "getRun",
    "listEvents",
    "getEvent",
)
def test_push_runs_and_events(ops: Ops, ingestion: IngestionClientSync, live_app: MockApp) -> None:
    task_id = _task(ops, ingestion, _push_source(ops, ingestion), _destination(ops, ingestion, "products"))
    records = [{"objectID": str(i), "n": i} for i in range(3)]

    pushed = ops(ingestion.push, "products", {"action": "addObject", "records": records})
    assert pushed.run_id
    assert pushed.event_id
    watched = ops(
        ingestion.push,
        "products",
        {"action": "partialUpdateObject", "records": [{"objectID": "0", "n": 100}]},
        watch=True,
    )
    assert watched.events is not None
    assert [e.status for e in watched.events] == ["succeeded"]
    assert live_app.store.account(APP_ID).indexes["products"]["0"] == {"objectID": "0", "n": 100}

    runs = ops(ingestion.list_runs, task_id=task_id, type=["push"], order="asc")
    assert [r.run_id for r in runs.runs] == [pushed.run_id, watched.run_id]
    assert runs.pagination.nb_items == 2
    assert runs.window.start_date < runs.window.end_date

    run = ops(ingestion.get_run, pushed.run_id)
    assert run.run_id == pushed.run_id
    assert run.app_id == APP_ID
    assert run.task_id == task_id
    assert run.type == "push"
    assert run.status == "finished"
    assert run.outcome == "success"
    assert run.progress is not None
    assert run.progress.expected_nb_of_events == run.progress.received_nb_of_events == 1

    events = ops(ingestion.list_events, pushed.run_id)
    assert [e.event_id for e in events.events] == [pushed.event_id]
    assert events.events[0].batch_size == 3
    assert events.pagination.nb_items == 1

    event = ops(ingestion.get_event, pushed.run_id, pushed.event_id)
    assert event.event_id == pushed.event_id
    assert event.run_id == pushed.run_id
    assert event.type == "record"
    assert event.status == "succeeded"
    assert event.published_at

    with pytest.raises(RequestException) as unknown:
        ops(ingestion.get_event, pushed.run_id, "no-such-event")
    assert unknown.value.status_code == 404  # what chunked_push's poller takes for "not yet"


# ---------------------------------------------------------------------------------------------
# Custom requests


@covers("customGet", "customPost", "customPut", "customDelete")
def test_custom_requests_to_unknown_paths_are_explained_404s(
    ops: Ops, ingestion: IngestionClientSync
) -> None:
    calls: list[tuple[str, Callable[[], object]]] = [
        ("GET", lambda: ops(ingestion.custom_get, "1/newFeature")),
        ("POST", lambda: ops(ingestion.custom_post, "1/newFeature", None, {"a": 1})),
        ("PUT", lambda: ops(ingestion.custom_put, "1/newFeature", None, {"a": 1})),
        ("DELETE", lambda: ops(ingestion.custom_delete, "1/newFeature")),
    ]
    for method, call in calls:
        with pytest.raises(RequestException) as error:
            call()
        assert error.value.status_code == 404, method
        message = str(error.value)
        assert f"No Ingestion or Search API operation serves {method} /1/newFeature" in message
        assert "/1/sources" in message  # it says which paths are known


@covers("customGet", "customPost", "customPut", "customDelete", "getSource", "getTask")
def test_custom_requests_to_known_paths_reach_the_named_operation(
    ops: Ops, ingestion: IngestionClientSync
) -> None:
    created = ops(
        ingestion.custom_post,
        "1/sources",
        None,
        {"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}},
    )
    assert isinstance(created, dict)
    source_id = created["sourceID"]
    assert created["name"] == "feed"
    assert ops(ingestion.get_source, source_id).name == "feed"  # createSource stored it

    listed = ops(ingestion.custom_get, "1/sources", {"type": "json"})
    assert isinstance(listed, dict)
    assert [s["sourceID"] for s in listed["sources"]] == [source_id]
    assert listed["pagination"]["nbItems"] == 1

    destination = ops(
        ingestion.custom_post,
        "1/destinations",
        None,
        {"type": "search", "name": "d", "input": {"indexName": "i"}},
    )
    assert isinstance(destination, dict)
    task = ops(
        ingestion.custom_post,
        "2/tasks",
        None,
        {"sourceID": source_id, "destinationID": destination["destinationID"], "action": "save"},
    )
    assert isinstance(task, dict)
    disabled = ops(ingestion.custom_put, f"2/tasks/{task['taskID']}/disable")
    assert isinstance(disabled, dict)
    assert disabled["taskID"] == task["taskID"]
    assert ops(ingestion.get_task, task["taskID"]).enabled is False  # disableTask ran

    with pytest.raises(RequestException) as in_use:
        ops(ingestion.custom_delete, f"1/sources/{source_id}")
    assert in_use.value.status_code == 400  # deleteSource's rule: a task still uses it
    task_deleted = ops(ingestion.custom_delete, f"2/tasks/{task['taskID']}")
    assert isinstance(task_deleted, dict)
    assert task_deleted["deletedAt"]
    deleted = ops(ingestion.custom_delete, f"1/sources/{source_id}")
    assert isinstance(deleted, dict)
    assert deleted["deletedAt"]
    with pytest.raises(RequestException) as gone:
        ops(ingestion.get_source, source_id)
    assert gone.value.status_code == 404


# ---------------------------------------------------------------------------------------------
# Meta-tests


def test_every_spec_operation_is_covered() -> None:
    spec_operations = set(load_spec(bundled_spec_path()).operations)  # the Ingestion API's (its client's)
    assert len(spec_operations) == 59
    declared = set().union(*COVERS.values())
    assert not spec_operations - declared, f"not exercised: {sorted(spec_operations - declared)}"
    assert not declared - spec_operations, f"not in the spec: {sorted(declared - spec_operations)}"


def test_every_declaration_is_a_test_of_this_module() -> None:
    module_tests = {name for name, value in globals().items() if name.startswith("test_") and callable(value)}
    assert set(COVERS) <= module_tests


def test_the_client_has_a_method_for_every_operation() -> None:
    methods = {operation_id_of(name) for name in dir(IngestionClientSync) if not name.startswith("_")}
    missing = set(load_spec(bundled_spec_path()).operations) - methods
    assert not missing, f"no client method for {sorted(missing)}"
