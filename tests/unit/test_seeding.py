"""Seeding: the bundled data sets, files and inline data; deterministic, validated, all or nothing."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from mockserver.seeding import SeedError, bundled_names
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import ok

FAMILIES = ("authentications", "transformations", "sources", "destinations", "tasks")
EXPECTED_COUNTS = {
    "empty": {
        "authentications": 0,
        "transformations": 0,
        "sources": 0,
        "destinations": 0,
        "tasks": 0,
        "runs": 0,
    },
    "catalog": {
        "authentications": 4,
        "transformations": 1,
        "sources": 5,
        "destinations": 2,
        "tasks": 3,
        "runs": 0,
    },
    "run_history": {
        "authentications": 0,
        "transformations": 0,
        "sources": 2,
        "destinations": 2,
        "tasks": 2,
        "runs": 5,
    },
}
# Lists of everything that can hold seeded data, and the family each lists.
LISTINGS = {
    "authentications": "/1/authentications",
    "transformations": "/1/transformations",
    "sources": "/1/sources",
    "destinations": "/1/destinations",
    "tasks": "/2/tasks",
}
ID_FIELDS = {
    "authentications": "authenticationID",
    "transformations": "transformationID",
    "sources": "sourceID",
    "destinations": "destinationID",
    "tasks": "taskID",
}
SEEDED_SECRETS = ("seeded-algolia-key", "seeded-basic-password", "seeded-oauth-secret", "seeded-private-key")
# --- the bundled data sets ---------------------------------------------------------------------


def test_the_bundled_data_sets() -> None:
    assert bundled_names() == ["catalog", "empty", "run_history"]


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_each_bundled_data_set_loads_with_its_counts(app: MockApp, name: str) -> None:
    counts = app.control.seed(name, APP_ID)
    assert counts == EXPECTED_COUNTS[name]
    account = app.store.account(APP_ID)
    for family in FAMILIES:
        assert len(account.family(family)) == counts[family]
    assert len(account.runs) == counts["runs"]


def test_catalog_keeps_its_ids_and_references(app: MockApp) -> None:
    app.control.seed("catalog", APP_ID)
    account = app.store.account(APP_ID)
    feed = account.sources["0a1b2c3d-0000-4000-8000-000000000201"]
    assert feed["name"] == "Product feed (JSON)"
    assert feed["authenticationID"] == "0a1b2c3d-0000-4000-8000-000000000002"
    task = account.tasks["0a1b2c3d-0000-4000-8000-000000000401"]
    assert (task["sourceID"], task["destinationID"]) == (
        "0a1b2c3d-0000-4000-8000-000000000201",
        "0a1b2c3d-0000-4000-8000-000000000301",
    )
    products = account.destinations["0a1b2c3d-0000-4000-8000-000000000301"]
    assert products["transformationIDs"] == ["0a1b2c3d-0000-4000-8000-000000000101"]


def test_run_history_holds_runs_events_and_an_index(app: MockApp) -> None:
    app.control.seed("run_history", APP_ID)
    account = app.store.account(APP_ID)
    runs = list(account.runs.values())
    assert [r["status"] for r in runs] == ["finished"] * 5
    assert [r["outcome"] for r in runs] == ["success", "success", "failure", "success", "success"]
    assert runs[2]["reasonCode"] == "critical" and runs[2]["reason"] == "the feed answered 503"
    assert all(account.events[r["runID"]] for r in runs)
    assert [r["objectID"] for r in account.indexes["orders"].values()] == ["order-1", "order-2"]


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_seeded_state_passes_response_validation_when_read_back(
    app: MockApp, client: InProcessClient, name: str
) -> None:
    """``client``'s app checks every response against the spec: reading the seeded state must pass."""
    counts = app.control.seed(name, APP_ID)
    for family, path in LISTINGS.items():
        listed = ok(client.get(path, params={"itemsPerPage": 100}))[family]
        assert len(listed) == counts[family]
        for record in listed:
            ok(client.get(f"{path}/{record[ID_FIELDS[family]]}"))
    assert len(ok(client.get("/1/tasks", params={"itemsPerPage": 100}))["tasks"]) == counts["tasks"]
    # Seeded history ends just before the clock in force: inside listRuns' default window.
    runs = ok(client.get("/1/runs", params={"itemsPerPage": 100}))["runs"]
    assert len(runs) == counts["runs"]
    for run in runs:
        ok(client.get(f"/1/runs/{run['runID']}"))
        events = ok(client.get(f"/1/runs/{run['runID']}/events"))["events"]
        assert events
        for event in events:
            ok(client.get(f"/1/runs/{run['runID']}/events/{event['eventID']}"))
    answers = json.dumps([c.response for c in app.journal])
    assert not [secret for secret in SEEDED_SECRETS if secret in answers]


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["catalog", "run_history"])
def test_ids_and_timestamps_are_the_same_in_two_fresh_apps(name: str) -> None:
    first = create_app(clock="2026-03-01T12:00:00Z")
    second = create_app(seed=99, clock="2026-03-01T12:00:00Z")
    with InProcessClient(second, base_url="http://mock", headers=CREDENTIALS) as client:
        client.post("/1/sources", json={"type": "push", "name": "made before seeding"})
    second.control.reset(APP_ID)
    first.control.seed(name, APP_ID)
    second.control.seed(name, APP_ID)
    assert first.control.dump(APP_ID) == second.control.dump(APP_ID)
    dumped = first.control.dump(APP_ID)["applications"][APP_ID]
    stamps = [r["createdAt"] for family in FAMILIES for r in dumped[family]]
    stamps += [r["createdAt"] for r in dumped["runs"]]
    # The history ends a minute before the clock in force, one minute per record.
    assert stamps and all("2026-03-01T11:" in s for s in stamps)
    assert max(stamps) == "2026-03-01T11:59:00Z"


@pytest.mark.parametrize("clock", ["real", "2031-07-04T10:00:00Z"])
def test_seeded_runs_are_listed_under_any_clock(clock: str) -> None:
    """run_history's runs show in listRuns' default window, under the real clock or one a test set."""
    app = create_app(check_responses=True, clock=clock)
    app.control.seed("run_history", APP_ID)
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        runs = ok(client.get("/1/runs", params={"itemsPerPage": 100}))["runs"]
        failed = ok(client.get("/1/runs", params={"status": "finished"}))["runs"]
    assert len(runs) == 5
    assert any(r.get("outcome") == "failure" for r in failed)


def test_a_seeded_run_the_api_could_not_serve_is_refused(app: MockApp) -> None:
    """A reason code outside the spec's enum would make the real client fail far from the cause."""
    data = {
        "sources": [{"sourceID": "s1", "type": "push", "name": "s"}],
        "destinations": [{"destinationID": "d1", "type": "search", "name": "d", "input": {"indexName": "i"}}],
        "tasks": [{"taskID": "t1", "sourceID": "s1", "destinationID": "d1", "action": "save"}],
        "runs": [{"taskID": "t1", "outcome": "failure", "reasonCode": "error"}],
    }
    with pytest.raises(SeedError, match=r"inline data: runs\[0\]\.reasonCode: 'error' is not one of"):
        app.control.seed(data, APP_ID)
    assert APP_ID not in app.store.accounts


def test_records_are_stamped_a_minute_apart_from_base_time(app: MockApp) -> None:
    app.control.seed(
        {
            "baseTime": "2030-06-01T08:00:00Z",
            "sources": [{"type": "push", "name": "a"}, {"type": "push", "name": "b"}],
        },
        APP_ID,
    )
    stamps = [s["createdAt"] for s in app.store.account(APP_ID).sources.values()]
    assert stamps == ["2030-06-01T08:00:00Z", "2030-06-01T08:01:00Z"]


def test_generated_ids_depend_on_the_data_only(app: MockApp) -> None:
    data = {"sources": [{"type": "push", "name": "no id given"}]}
    app.control.seed(data, "APP1")
    other = create_app(seed=5)
    other.control.seed(data, "APP1")
    assert list(app.store.account("APP1").sources) == list(other.store.account("APP1").sources)


def test_seeding_leaves_the_apps_own_clock_and_id_sequence_alone(app: MockApp) -> None:
    ids, clock, policy = app.store.ids.state(), app.store.clock.state(), app.store.run_policy
    app.control.seed("run_history", APP_ID)
    assert app.store.ids.state() == ids
    assert app.store.clock.state() == clock
    assert app.store.run_policy == policy


# --- errors ------------------------------------------------------------------------------------


def test_an_unknown_name_lists_the_bundled_data_sets(app: MockApp) -> None:
    with pytest.raises(
        SeedError,
        match=re.escape(
            "no data set 'nope': not a file, nor one of the bundled ['catalog', 'empty', 'run_history']"
        ),
    ):
        app.control.seed("nope", APP_ID)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            {
                "sources": [
                    {"type": "push", "name": "Fine"},
                    {"type": "json", "name": "Broken", "input": {"url": 42}},
                ]
            },
            "inline data: sources[1] ('Broken'): body.input.url: 42 is not of type 'string'",
            id="wrong-type",
        ),
        pytest.param(
            {"sources": [{"type": "json", "name": "No URL", "input": {}}]},
            "inline data: sources[0] ('No URL'): body.input: 'url' is a required property",
            id="missing-field",
        ),
        pytest.param(
            {"authentications": [{"type": "basic", "input": {"username": "u", "password": "p"}}]},
            "inline data: authentications[0]: body: 'name' is a required property",
            id="missing-name",
        ),
        pytest.param(
            {"tasks": [{"sourceID": "nope", "destinationID": "x", "action": "replace"}]},
            "inline data: tasks[0]: body.sourceID: no source with ID 'nope' exists",
            id="dangling-reference",
        ),
        pytest.param(
            {
                "sources": [
                    {"sourceID": "s1", "type": "push", "name": "a"},
                    {"sourceID": "s1", "type": "push", "name": "b"},
                ]
            },
            "inline data: sources[1] ('b'): sourceID 's1' is used twice",
            id="duplicate-id",
        ),
        pytest.param(
            {"sources": {"type": "push"}},
            'inline data: sources: {"type":"push"} is not of type "array"; '
            "fix: sources is a list of mappings, each the body of createSource",
            id="not-a-list",
        ),
        pytest.param(
            {"sources": ["push"]},
            'inline data: sources[0]: "push" is not of type "object"; fix: each of sources is a mapping',
            id="not-a-mapping",
        ),
        pytest.param(
            {"indexes": {"products": [{"name": "no objectID"}]}},
            'inline data: indexes.products[0]: "objectID" is a required property; '
            "fix: a record of an index is a mapping with its objectID",
            id="index-record",
        ),
        pytest.param(
            {"source_records": {"ghost": [{"objectID": "1"}]}},
            "inline data: source_records.ghost: no source with that ID is seeded",
            id="source-records",
        ),
        pytest.param(
            {"runs": [{"taskID": "ghost"}]},
            "inline data: runs[0].taskID: no task with ID 'ghost' is seeded",
            id="run-task",
        ),
        # Issue 21: a baseTime the clock cannot hold was a 500 (OverflowError); IDs the API cannot
        # address in a path were seeded.
        pytest.param(
            {"baseTime": "9999-12-31T23:59:00Z", "sources": [{"type": "push", "name": "s"}]},
            "inline data: baseTime: the mock's clock must stay between 1970-01-01T00:00:00Z and 9000",
            id="base-time-out-of-range",
        ),
        pytest.param(
            {"baseTime": "8999-12-31T23:59:30Z", "sources": [{"type": "push", "name": "s"}]},
            "inline data: baseTime plus 2 minutes of records: the mock's clock must stay between",
            id="base-time-records-run-out-of-range",
        ),
        pytest.param(
            {
                "sources": [
                    {"sourceID": "s", "type": "push", "name": "s", "createdAt": "9999-01-01T00:00:00Z"}
                ]
            },
            "inline data: sources[0] ('s').createdAt: the mock's clock must stay between",
            id="dumped-stamp-out-of-range",
        ),
        pytest.param(
            {"sources": [{"sourceID": "a/b", "type": "push", "name": "s"}]},
            'inline data: sources[0].sourceID: "a/b" does not match',
            id="id-with-a-slash",
        ),
        pytest.param(
            {"sources": [{"sourceID": "..", "type": "push", "name": "s"}]},
            "inline data: sources[0].sourceID: ",
            id="id-dot-dot",
        ),
        pytest.param(
            {
                "destinations": [
                    {"destinationID": "", "type": "search", "name": "d", "input": {"indexName": "i"}}
                ]
            },
            'inline data: destinations[0].destinationID: "" is shorter than 1 character; fix: destinationID '
            "is an ID the API can address in a path",
            id="id-empty",
        ),
        pytest.param(
            {"events": {"r1": [{"eventID": 5}]}},
            "inline data: events.r1[0].eventID: 5 is not of type",
            id="event-id-a-number",
        ),
        pytest.param(
            {"baseTime": "yesterday"}, "inline data: baseTime: 'yesterday' is not an RFC 3339", id="base-time"
        ),
    ],
)
def test_a_bad_record_names_the_data_set_the_record_and_the_field(
    app: MockApp, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(SeedError, match=re.escape(message)):
        app.control.seed(data, APP_ID)


def test_a_bad_run_names_its_field(app: MockApp) -> None:
    base = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "run_history.yaml").read_text())
    tasks_only = {k: v for k, v in base.items() if k != "runs"}
    task_id = base["tasks"][0]["taskID"]
    for run, message in [
        (
            {"taskID": task_id, "outcome": "maybe"},
            'runs[0].outcome: "maybe" is not one of "success" or "failure"; '
            "fix: outcome is success or failure",
        ),
        ({"taskID": task_id, "type": "sometimes"}, 'runs[0].type: "sometimes" is not one of "reindex"'),
        (
            {"taskID": task_id, "startedAt": "x"},
            "runs[0]: unknown key 'startedAt'; "
            "fix: a run to make has taskID, outcome, type, reasonCode, reason and records "
            "(runs take their time from the clock)",
        ),
    ]:
        with pytest.raises(SeedError, match=re.escape(message)):
            app.control.seed({**tasks_only, "runs": [run]}, APP_ID)


def test_a_bad_record_in_a_file_names_the_file(app: MockApp, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("sources:\n  - {type: json, name: Broken feed, input: {url: 42}}\n", encoding="utf-8")
    with pytest.raises(SeedError, match=re.escape(f"{path}: sources[0] ('Broken feed'): body.input.url: 42")):
        app.control.seed(path, APP_ID)


def test_an_unknown_top_level_key(app: MockApp) -> None:
    with pytest.raises(
        SeedError,
        match=re.escape(
            "inline data: unknown key 'source' (did you mean sources?); fix: a data set is a mapping of "
            "resource families (authentications, transformations"
        ),
    ):
        app.control.seed({"source": []}, APP_ID)


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("list.yaml", "- a\n- b\n", "a data set is a mapping of resource families, not list"),
        ("broken.json", "{not json", "cannot be read as JSON"),
        ("broken.yaml", "sources: [unclosed\n", "cannot be read as YAML"),
    ],
)
def test_a_file_that_is_not_a_data_set(
    app: MockApp, tmp_path: Path, file_name: str, text: str, message: str
) -> None:
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError, match=re.escape(f"{path}: ")) as excinfo:
        app.control.seed(path, APP_ID)
    assert message in str(excinfo.value)


# --- all or nothing ----------------------------------------------------------------------------

FAILING_LATE = [
    pytest.param(
        {
            "sources": [
                {"type": "push", "name": "would be added"},
                {"type": "json", "name": "bad", "input": {}},
            ]
        },
        id="second-record",
    ),
    pytest.param(
        {
            "sources": [{"sourceID": "s-new", "type": "push", "name": "ok"}],
            "indexes": {"fine": [{"objectID": "1"}], "bad": [{"no": "objectID"}]},
        },
        id="in-indexes",
    ),
    pytest.param(
        {
            "sources": [{"sourceID": "s-new", "type": "push", "name": "ok"}],
            "destinations": [
                {"destinationID": "d-new", "type": "search", "name": "d", "input": {"indexName": "x"}}
            ],
            "tasks": [{"taskID": "t-new", "sourceID": "s-new", "destinationID": "d-new", "action": "save"}],
            "runs": [{"taskID": "t-new", "records": 3}, {"taskID": "t-new", "outcome": "maybe"}],
        },
        id="in-runs",
    ),
    pytest.param("catalog", id="same-ids-twice"),
]


@pytest.mark.parametrize("data", FAILING_LATE)
def test_a_failing_seed_changes_nothing(app: MockApp, data: Any) -> None:
    app.control.seed("catalog", APP_ID)
    app.control.seed({"sources": [{"type": "push", "name": "other app"}]}, "OTHERAPP")
    before = copy.deepcopy(app.store.accounts)
    ids, clock = app.store.ids.state(), app.store.clock.state()
    with pytest.raises(SeedError):
        app.control.seed(data, APP_ID)
    assert app.store.accounts == before
    assert app.store.ids.state() == ids and app.store.clock.state() == clock


def test_a_failing_seed_into_a_new_application_leaves_no_account(app: MockApp) -> None:
    with pytest.raises(SeedError):
        app.control.seed(
            {"sources": [{"type": "push", "name": "ok"}, {"type": "nope", "name": "bad"}]}, "NEWAPP"
        )
    assert app.store.accounts == {}


# --- files -------------------------------------------------------------------------------------

USER_DATA: dict[str, Any] = {
    "authentications": [
        {
            "authenticationID": "33333333-0000-4000-8000-000000000001",
            "type": "basic",
            "name": "Login",
            "input": {"username": "me", "password": "file-secret"},
        }
    ],
    "sources": [
        {
            "sourceID": "33333333-0000-4000-8000-000000000002",
            "type": "json",
            "name": "My feed",
            "authenticationID": "33333333-0000-4000-8000-000000000001",
            "input": {"url": "https://example.com/mine.json"},
        },
        {"type": "push", "name": "Generated ID"},
    ],
    "indexes": {"mine": [{"objectID": "a", "n": 1}]},
}


@pytest.mark.parametrize("as_path", [True, False], ids=["Path", "str"])
def test_a_users_yaml_and_json_files_load_alike(tmp_path: Path, as_path: bool) -> None:
    yaml_file = tmp_path / "mine.yaml"
    yaml_file.write_text(yaml.safe_dump(USER_DATA), encoding="utf-8")
    json_file = tmp_path / "mine.json"
    json_file.write_text(json.dumps(USER_DATA), encoding="utf-8")
    from_yaml, from_json = create_app(check_responses=True), create_app(check_responses=True)
    expected = {
        "authentications": 1,
        "transformations": 0,
        "sources": 2,
        "destinations": 0,
        "tasks": 0,
        "runs": 0,
    }
    assert from_yaml.control.seed(yaml_file if as_path else str(yaml_file), APP_ID) == expected
    assert from_json.control.seed(json_file if as_path else str(json_file), APP_ID) == expected
    assert from_yaml.control.dump(APP_ID) == from_json.control.dump(APP_ID)
    account = from_yaml.store.account(APP_ID)
    mine = account.sources["33333333-0000-4000-8000-000000000002"]
    assert mine["authenticationID"] == "33333333-0000-4000-8000-000000000001"
    assert from_yaml.control.index("mine", APP_ID) == [{"objectID": "a", "n": 1}]
    assert "file-secret" not in json.dumps(from_yaml.control.dump(APP_ID))


def test_source_records_are_what_a_run_fetches(app: MockApp) -> None:
    records = [{"objectID": "r1", "price": 3}, {"objectID": "r2", "price": 4}]
    app.control.seed(
        {
            "sources": [
                {"sourceID": "src", "type": "json", "name": "s", "input": {"url": "https://e.com/x"}}
            ],
            "source_records": {"src": records},
        },
        APP_ID,
    )
    assert app.store.account(APP_ID).source_records == {"src": records}


def test_an_empty_file_is_an_empty_data_set(app: MockApp, tmp_path: Path) -> None:
    path = tmp_path / "nothing.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert app.control.seed(path, APP_ID) == EXPECTED_COUNTS["empty"]


def test_a_data_set_name_is_never_a_pattern(app: MockApp) -> None:
    """Issue 21: ``fixtures: "*"`` must not act as a glob over the bundled data sets."""
    for name in ("*", "cat*", "?mpty", "[ce]*"):
        with pytest.raises(SeedError, match=re.escape(f"no data set {name!r}")):
            app.control.seed(name, APP_ID)
    assert app.store.accounts.get(APP_ID) is None or not app.store.accounts[APP_ID].sources
