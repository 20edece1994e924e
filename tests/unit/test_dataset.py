"""The data-set format: a dump seeds back to the same state, the shipped JSON Schema states the
format and explains a mistake with the file, the path and the fix, and source records are
identified as a run reads them (objectID, else the source's uniqueIDColumn)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mockserver import MockApp, create_app
from mockserver.data import dataset_schema
from mockserver.http.inprocess import InProcessClient
from mockserver.seeding import SECRET_PLACEHOLDER, SeedError, bundled_names, load_data_set
from tests.helpers import make_destination, make_task, ok

APP = "DUMPAPP"
HEADERS = {"x-algolia-application-id": APP, "x-algolia-api-key": "key"}
CATALOG_JSON_SOURCE = "0a1b2c3d-0000-4000-8000-000000000201"  # uniqueIDColumn: sku
BASIC_AUTH = "0a1b2c3d-0000-4000-8000-000000000002"


def lived_in_state() -> tuple[MockApp, dict[str, Any]]:
    """A mock with a history: both bundled data sets, pushes (a watched one), a task run, a run
    still in progress, a disabled task, a source's records and a URL's content; and its dump."""
    app = create_app(seed=1, clock="2026-03-01T00:00:00Z", check_responses=True)
    app.control.seed("catalog", APP)
    app.control.seed("run_history", APP)
    with InProcessClient(app, base_url="http://mock", headers=HEADERS) as client:
        source = ok(client.post("/1/sources", json={"type": "push", "name": "orders push"}))["sourceID"]
        task = make_task(client, source, make_destination(client, "products"))
        records = {"action": "addObject", "records": [{"objectID": "1", "name": "shoe"}]}
        ok(client.post("/1/push/products", params={"watch": "true"}, json=records))
        ok(client.post("/2/tasks/0a1b2c3d-0000-4000-8000-000000000401/run"))
        app.control.run_policy(mode="deferred", finish_after=60)
        ok(client.post("/1/push/products", json={**records, "records": [{"objectID": "2"}]}))
        ok(client.put(f"/2/tasks/{task}/disable"))
        ok(client.put("/1/indexes/products/settings", json={"searchableAttributes": ["name"]}))
        synonym = {"objectID": "s1", "type": "synonym", "synonyms": ["shoe", "sneaker"]}
        ok(client.put("/1/indexes/products/synonyms/s1", json=synonym))
        ok(client.put("/1/indexes/products/rules/r1", json={"objectID": "r1", "consequence": {}}))
    app.control.source_records(CATALOG_JSON_SOURCE, [{"sku": "sku-1", "price": 3}], APP)
    app.store.account(APP).url_contents["https://feeds.example.com/stock.csv"] = "sku;stock\nsku-1;4\n"
    return app, app.control.dump(APP)


def as_json(value: Any) -> Any:
    """What a dump becomes once saved to a file and read back."""
    return json.loads(json.dumps(value))


def test_a_dump_seeds_back_to_the_same_dump_ids_and_timestamps_too() -> None:
    _, dumped = lived_in_state()
    part = dumped["applications"][APP]
    assert {len(part[k]) > 0 for k in part} == {True}  # every kind of state is in it
    assert {r["status"] for r in part["runs"]} == {"finished", "started"}
    fresh = create_app(seed=99, clock="2027-01-01T00:00:00Z", check_responses=True)
    fresh.control.seed(as_json(dumped), APP)
    assert fresh.control.dump(APP) == dumped


def test_a_dump_seeds_into_another_application() -> None:
    _, dumped = lived_in_state()
    fresh = create_app(check_responses=True)
    fresh.control.seed(as_json(dumped), "OTHERAPP")
    again = fresh.control.dump("OTHERAPP")["applications"]["OTHERAPP"]
    original = dumped["applications"][APP]
    assert {r["appID"] for r in again["runs"]} == {"OTHERAPP"}  # runs belong to where they are seeded
    assert again == {**original, "runs": [{**r, "appID": "OTHERAPP"} for r in original["runs"]]}


def test_a_seeded_dump_serves_as_the_original_did() -> None:
    app, dumped = lived_in_state()
    # (before the run in progress would finish: a dump does not hold when that would be)
    fresh = create_app(seed=5, clock="2026-03-01T00:00:30Z", check_responses=True)
    fresh.control.seed(as_json(dumped), APP)
    app.store.clock.freeze(fresh.store.clock.now())
    paths = ["/1/runs", "/2/tasks", "/1/tasks/0a1b2c3d-0000-4000-8000-000000000403", "/1/authentications"]
    with (
        InProcessClient(app, base_url="http://mock", headers=HEADERS) as before,
        InProcessClient(fresh, base_url="http://mock", headers=HEADERS) as after,
    ):
        for path in paths:
            assert ok(after.get(path)) == ok(before.get(path)), path
        run_id = ok(before.get("/1/runs"))["runs"][0]["runID"]
        assert ok(after.get(f"/1/runs/{run_id}/events")) == ok(before.get(f"/1/runs/{run_id}/events"))


def test_a_dumped_authentication_without_its_secret_seeds_with_a_placeholder() -> None:
    _, dumped = lived_in_state()
    basic = next(a for a in dumped["applications"][APP]["authentications"] if a["type"] == "basic")
    assert basic["input"] == {"username": "feeds", "password": None}  # dumps hold no secret
    fresh = create_app(check_responses=True)
    fresh.control.seed({"authentications": [basic]}, APP)
    stored = fresh.store.account(APP).authentications[BASIC_AUTH]
    assert stored["input"] == {"username": "feeds", "password": SECRET_PLACEHOLDER}
    with InProcessClient(fresh, base_url="http://mock", headers=HEADERS) as client:
        assert ok(client.get(f"/1/authentications/{BASIC_AUTH}"))["input"]["password"] is None
        changed = {"input": {"username": "feeds", "password": "the-real-one"}}
        ok(client.patch(f"/1/authentications/{BASIC_AUTH}", json=changed))
    assert fresh.store.account(APP).authentications[BASIC_AUTH]["input"]["password"] == "the-real-one"


def test_get_state_seeds_back_through_post_seed() -> None:
    app, _ = lived_in_state()
    fresh = create_app(check_responses=True)
    with (
        InProcessClient(app, base_url="http://mock", headers=HEADERS) as old,
        InProcessClient(fresh, base_url="http://mock", headers=HEADERS) as new,
    ):
        state = ok(old.get("/__mock__/state"))
        assert ok(new.post("/__mock__/seed", json={"data": state, "appID": APP}))["seeded"]["tasks"] == 6
        assert ok(new.get("/__mock__/state")) == state


def test_read_only_fields_are_checked_against_what_the_api_serves(app: MockApp) -> None:
    source = {"type": "push", "name": "p", "createdAt": "last tuesday"}
    with pytest.raises(
        SeedError,
        match=re.escape("inline data: sources[0] ('p').createdAt: 'last tuesday' is not an RFC 3339"),
    ):
        app.control.seed({"sources": [source]}, APP)
    assert APP not in app.store.accounts


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"applications": {"A": {}, "B": {}}},
            'inline data: applications: {"A":{},"B":{}} has more than 1 property; fix: applications (a dump) '
            "holds one application's data",
        ),
        (
            {"applications": {"A": {}}, "sources": []},
            "inline data: applications (a dump) comes alone: move ['sources'] into the application's part",
        ),
        (
            {"applications": {"A": {"runs": [{"taskID": "t", "outcome": "sucess"}]}}},
            'inline data: applications.A.runs[0].outcome: "sucess" is not one of "success" or "failure"',
        ),
        (
            {"runs": [{"runID": "r-1", "taskID": "t"}]},
            'inline data: runs[0]: "status" is a required property; fix: a run as a dump holds it has runID, '
            "taskID, status, type and createdAt",
        ),
        (
            {"events": {"r-1": [{"eventID": "e"}]}},
            "inline data: events.r-1: no run with that ID is seeded; fix: give the run in runs",
        ),
        (
            {"url_contents": {"https://x": 1}},
            'inline data: url_contents.https://x: 1 is not of type "string"; fix: what a URL serves is text',
        ),
        (
            {"sources": [{"type": "push", "name": {1, 2}}]},
            "inline data: sources[0].name: not a JSON value (set)",
        ),
    ],
)
def test_a_data_set_that_does_not_fit_its_schema(app: MockApp, data: dict[str, Any], message: str) -> None:
    with pytest.raises(SeedError) as excinfo:
        app.control.seed(data, APP)
    assert str(excinfo.value).startswith(message)
    assert APP not in app.store.accounts


def test_a_mistake_in_a_file_names_the_file_the_path_and_the_fix(app: MockApp, tmp_path: Path) -> None:
    path = tmp_path / "history.yaml"
    path.write_text(
        "tasks: []\nruns:\n  - {taskID: t, records: -3}\n",
        encoding="utf-8",
    )
    with pytest.raises(SeedError) as excinfo:
        app.control.seed(path, APP)
    assert str(excinfo.value) == (
        f"{path}: runs[0].records: -3 is less than the minimum of 0; "
        "fix: records is a count of records (0 or more)"
    )


def test_yaml_dates_stay_the_text_they_are(app: MockApp, tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(
        "baseTime: 2026-01-01T00:00:00Z\n"
        "sources:\n  - {type: push, name: p, createdAt: 2025-12-31T00:00:00Z}\n",
        encoding="utf-8",
    )
    assert load_data_set(path).data["baseTime"] == "2026-01-01T00:00:00Z"
    app.control.seed(path, APP)
    (source,) = app.store.account(APP).sources.values()
    assert (source["createdAt"], source["updatedAt"]) == ("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z")


# --- source records: objectID, else the source's uniqueIDColumn ---------------------------------


def test_source_records_may_be_identified_by_the_sources_unique_id_column(app: MockApp) -> None:
    app.control.seed("catalog", APP)
    records = [{"sku": "sku-1", "price": 3}, {"objectID": "o-2", "price": 4}]
    app.control.seed({"source_records": {CATALOG_JSON_SOURCE: records}}, APP)
    assert app.store.account(APP).source_records[CATALOG_JSON_SOURCE] == records
    push_source = "0a1b2c3d-0000-4000-8000-000000000205"
    with pytest.raises(SeedError) as excinfo:
        app.control.seed({"source_records": {CATALOG_JSON_SOURCE: [{"price": 3}]}}, APP)
    assert str(excinfo.value) == (
        f"inline data: source_records.{CATALOG_JSON_SOURCE}[0]: a record the source holds has no ID; "
        "fix: give it an objectID or a 'sku' (the source's uniqueIDColumn)"
    )
    with pytest.raises(
        SeedError, match=re.escape("fix: give it an objectID (the source has no uniqueIDColumn)")
    ):
        app.control.seed({"source_records": {push_source: [{"sku": "1"}]}}, APP)


# --- the schema itself ----------------------------------------------------------------------------


def test_the_shipped_schema_is_a_json_schema_every_bundled_data_set_and_dump_fits() -> None:
    schema = json.loads(dataset_schema().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in bundled_names():
        assert list(validator.iter_errors(dict(load_data_set(name).data))) == [], name
    _, dumped = lived_in_state()
    assert list(validator.iter_errors(as_json(dumped))) == []
    known = set(schema["$defs"]["dataSet"]["properties"])
    assert known == {
        *("authentications", "transformations", "sources", "destinations", "tasks"),
        *("runs", "events", "indexes", "source_records", "url_contents", "baseTime", "applications"),
        *("index_settings", "synonyms", "rules"),
    }


def test_a_data_set_name_is_matched_as_written_with_a_suggestion() -> None:
    from mockserver import seeding

    with pytest.raises(seeding.SeedError, match=r"no data set 'catalgo'.*; did you mean catalog\?"):
        seeding.load_data_set("catalgo")
    for pattern in ("*", "cat*", "run_h?story"):
        with pytest.raises(seeding.SeedError, match="no data set"):
            seeding.load_data_set(pattern)


def test_expect_rejection_refuses_an_operation_the_spec_does_not_have() -> None:
    from mockserver.pytest_plugin.mock_handle import IngestionMock

    handle = IngestionMock(create_app(), "APP", "KEY")
    with pytest.raises(
        ValueError, match=r"'createSorce' is not an operation of the spec; did you mean createSource\?"
    ):
        handle.expect_rejection("createSorce", 400)
    assert handle.expected_rejections == []
    handle.expect_rejection("createSource", 400)
    assert len(handle.expected_rejections) == 1
