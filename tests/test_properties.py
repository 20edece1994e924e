"""Properties of the mock, driven by mockserver.strategies.

* every valid request (of every operation a state allows) is accepted, and its response fits the
  spec (the app checks each response it sends: ``check_responses=True``);
* every request that breaks one rule is refused with a 4xx and changes nothing;
* a state machine drives create/update/delete/list/run/push against the mock and a tiny model of
  it, and after every step the two agree.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mockserver import MockApp, create_app, load_spec
from mockserver import strategies as ms
from mockserver.http.inprocess import InProcessClient
from mockserver.spec import bundled_spec_path

APP_ID = "PROPERTIES"
HEADERS = {"x-algolia-application-id": APP_ID, "x-algolia-api-key": "properties-key"}
SPEC = load_spec()
# The Ingestion API's operations: the strategies know its resources and how they refer to each other.
OPERATIONS = sorted(op for op in load_spec(bundled_spec_path()).operations if not op.startswith("custom"))
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class World:
    app: MockApp
    client: InProcessClient
    snapshot: str
    state: ms.State

    def reset(self) -> None:
        self.app.control.restore(self.snapshot)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """The catalog data set plus a docker source, a shopify source and a finished run, snapshotted."""
    app = create_app(check_responses=True, seed=2024, fixtures="catalog")
    with InProcessClient(app, base_url="http://mock", headers=HEADERS) as client:
        docker = {"type": "docker", "name": "Docker", "input": {"image": "airbyte/x", "configuration": {}}}
        assert client.post("/1/sources", json=docker).status_code == 200
        shop = {"type": "shopify", "name": "Shop", "input": {"shopURL": "https://shop.example.com"}}
        assert client.post("/1/sources", json=shop).status_code == 200  # runSource runs only shop sources
        spare = {
            "/1/authentications": {"type": "apiKey", "name": "Spare key", "input": {"key": "k"}},
            "/1/transformations": {"name": "Spare", "type": "code", "input": {"code": "x => x"}},
            "/1/destinations": {"type": "search", "name": "Spare", "input": {"indexName": "spare"}},
        }
        for path, body in spare.items():  # nothing refers to these, so they can be deleted
            assert client.post(path, json=body).status_code == 200
        state = ms.State.from_app(app, APP_ID)
        assert client.post(f"/2/tasks/{state.ids('tasks')[0]}/run").status_code == 200
        yield World(app, client, app.control.snapshot(), ms.State.from_app(app, APP_ID))


def test_every_operation_is_feasible_in_the_world(world: World) -> None:
    assert set(OPERATIONS) <= set(ms.feasible(world.state))


@pytest.mark.parametrize("operation_id", OPERATIONS)
@EXAMPLES
@given(data=st.data())
def test_valid_requests_are_accepted(world: World, operation_id: str, data: st.DataObject) -> None:
    world.reset()
    request = data.draw(ms.request(operation_id, world.state), label="request")
    response = request.send(world.client)
    assert response.status_code == 200, f"{request.describe()} -> {response.status_code} {response.text}"


@pytest.mark.parametrize("operation_id", OPERATIONS)
@EXAMPLES
@given(data=st.data())
def test_invalid_requests_are_refused_and_change_nothing(
    world: World, operation_id: str, data: st.DataObject
) -> None:
    world.reset()
    invalid = data.draw(ms.invalid_request(operation_id, world.state), label="invalid")
    before = copy.deepcopy(world.app.store.accounts)
    response = invalid.value.send(world.client)
    assert 400 <= response.status_code < 500, f"{invalid}: {invalid.value.describe()} -> {response.text}"
    if invalid.rule == "missing-resource":
        assert response.status_code == 404
    assert world.app.store.accounts == before, f"{invalid} changed the state"


def test_replace_task_refuses_a_bad_cron_on_a_streaming_task(world: World) -> None:
    world.reset()
    meta = world.app.store.account(APP_ID).meta
    task = next(t for t in world.state.tasks if meta.trigger_type(t["taskID"]) == "streaming")
    body = {"destinationID": task["destinationID"], "action": "save", "cron": "* * *"}
    assert world.client.put(f"/2/tasks/{task['taskID']}", json=body).status_code == 400


# --- the state machine --------------------------------------------------------------------------------


@dataclass
class Model:
    """What the mock should hold, as far as these rules can tell."""

    records: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {f: {} for f in ("authentications", "sources", "destinations", "tasks")}
    )
    runs: dict[str, int] = field(default_factory=dict)  # taskID -> runs started
    indexes: dict[str, set[str]] = field(default_factory=dict)  # index name -> objectIDs

    def state(self) -> ms.State:
        return ms.State(
            authentications=list(self.records["authentications"].values()),
            sources=list(self.records["sources"].values()),
            destinations=list(self.records["destinations"].values()),
            tasks=list(self.records["tasks"].values()),
        )


ID_FIELDS = {
    "authentications": "authenticationID",
    "sources": "sourceID",
    "destinations": "destinationID",
    "tasks": "taskID",
}


class IngestionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = create_app(check_responses=True, seed=7)
        self.client = InProcessClient(self.app, base_url="http://mock", headers=HEADERS)
        self.model = Model()

    def _create(self, family: str, path: str, body: dict[str, Any]) -> None:
        response = self.client.post(path, json=body)
        assert response.status_code == 200, response.text
        new_id = response.json()[ID_FIELDS[family]]
        self.model.records[family][new_id] = {ID_FIELDS[family]: new_id, **body}

    @rule(data=st.data())
    def create_authentication(self, data: st.DataObject) -> None:
        self._create("authentications", "/1/authentications", data.draw(ms.authentication_create()))

    @rule(data=st.data())
    def create_source(self, data: st.DataObject) -> None:
        body = data.draw(
            ms.source_create(self.model.state(), type=st.sampled_from(["json", "push", "docker"]))
        )
        self._create("sources", "/1/sources", body)

    @rule(data=st.data())
    def create_destination(self, data: st.DataObject) -> None:
        index = st.sampled_from(["products", "stock", "articles"])
        body = data.draw(
            ms.destination_create(self.model.state(), transformationIDs=ms.OMIT),
            label="destination",
        )
        body["input"]["indexName"] = data.draw(index)
        self._create("destinations", "/1/destinations", body)

    @precondition(lambda self: self.model.records["sources"] and self.model.records["destinations"])
    @rule(data=st.data())
    def create_task(self, data: st.DataObject) -> None:
        self._create("tasks", "/2/tasks", data.draw(ms.task_create(self.model.state())))

    @precondition(lambda self: self.model.records["sources"])
    @rule(data=st.data())
    def rename_source(self, data: st.DataObject) -> None:
        source_id = data.draw(st.sampled_from(sorted(self.model.records["sources"])))
        name = data.draw(st.text(min_size=1, max_size=10))
        response = self.client.patch(f"/1/sources/{source_id}", json={"name": name})
        assert response.status_code == 200, response.text
        self.model.records["sources"][source_id]["name"] = name

    @precondition(lambda self: any(self.model.records.values()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        family = data.draw(st.sampled_from(sorted(f for f, r in self.model.records.items() if r)))
        record_id = data.draw(st.sampled_from(sorted(self.model.records[family])))
        in_use = record_id in self.model.state().referenced()
        response = self.client.delete(f"/{'2' if family == 'tasks' else '1'}/{family}/{record_id}")
        if in_use:
            assert response.status_code == 400, response.text  # in use: refused (resource_in_use)
        else:
            assert response.status_code == 200, response.text
            del self.model.records[family][record_id]

    @precondition(lambda self: self.model.records["tasks"])
    @rule(data=st.data())
    def run_task(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.model.records["tasks"])))
        response = self.client.post(f"/2/tasks/{task_id}/run")
        assert response.status_code == 200, response.text
        self.model.runs[task_id] = self.model.runs.get(task_id, 0) + 1

    @precondition(lambda self: self.model.records["tasks"])
    @rule(data=st.data())
    def push(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(sorted(self.model.records["tasks"])))
        body = data.draw(ms.push_payload(action=st.sampled_from(["addObject", "updateObject"])))
        response = self.client.post(f"/2/tasks/{task_id}/push", json=body)
        assert response.status_code == 200, response.text
        self.model.runs[task_id] = self.model.runs.get(task_id, 0)
        task = self.model.records["tasks"][task_id]
        index = self.model.records["destinations"][task["destinationID"]]["input"]["indexName"]
        self.model.indexes.setdefault(index, set()).update(str(r["objectID"]) for r in body["records"])

    @invariant()
    def mock_and_model_agree(self) -> None:
        for family, records in self.model.records.items():
            prefix = "/2" if family == "tasks" else "/1"
            listed = self.client.get(f"{prefix}/{family}", params={"itemsPerPage": 100}).json()[family]
            assert {r[ID_FIELDS[family]] for r in listed} == set(records), family
            for record in listed:
                expected = records[record[ID_FIELDS[family]]]
                for key in ("name", "type", "sourceID", "destinationID", "authenticationID"):
                    assert record.get(key) == expected.get(key), (family, key)
        runs = self.client.get("/1/runs", params={"itemsPerPage": 100}).json()["runs"]
        started = {task_id: 0 for task_id in self.model.records["tasks"]}
        for run in runs:
            if run["type"] != "push" and run["taskID"] in started:
                started[run["taskID"]] += 1
        assert started == {t: self.model.runs.get(t, 0) for t in started}
        for index, object_ids in self.model.indexes.items():
            held = self.app.control.index(index, APP_ID) or []
            assert object_ids <= {str(r["objectID"]) for r in held}, index

    def teardown(self) -> None:
        self.client.close()


IngestionMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestIngestionMachine = IngestionMachine.TestCase
