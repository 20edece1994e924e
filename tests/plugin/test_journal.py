"""The journal through a real app: what each call records, its queries, and its assertions' messages."""

from __future__ import annotations

import gc
import gzip
import json
import re
import tracemalloc
import weakref
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.engine.journal import MASK, Call, Journal
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import make_source


@pytest.fixture
def journal(app: MockApp) -> Journal:
    return app.journal


# --- what is recorded --------------------------------------------------------------------------


def test_a_call_records_operation_path_params_query_body_status_response_and_app(
    client: InProcessClient, journal: Journal
) -> None:
    source_id = make_source(client, name="first")
    client.patch(f"/1/sources/{source_id}", json={"name": "renamed"})
    client.get("/1/sources", params={"type": ["json", "csv"], "itemsPerPage": "5"})

    created, updated, listed = journal.calls
    assert created.operation_id == "createSource"
    assert (created.method, created.path, created.app_id) == ("POST", "/1/sources", APP_ID)
    assert created.body == {
        "type": "json",
        "name": "first",
        "input": {"url": "https://example.com/feed.json"},
    }
    assert created.status == 200 and created.ok and not created.rejected
    assert created.response["sourceID"] == source_id

    assert updated.operation_id == "updateSource"
    assert updated.path_params == {"sourceID": source_id}
    assert updated.body == {"name": "renamed"}
    assert updated.response["name"] == "renamed"

    assert listed.operation_id == "listSources"
    assert listed.query == {"type": ["json", "csv"], "itemsPerPage": ["5"]}
    assert listed.body is None
    assert [s["name"] for s in listed.response["sources"]] == ["renamed"]
    assert journal.operations() == ["createSource", "updateSource", "listSources"]
    assert len(journal) == 3 and list(journal) == journal.calls


def test_a_rejected_call_records_status_and_message(client: InProcessClient, journal: Journal) -> None:
    client.get("/1/sources/00000000-0000-4000-8000-000000000000")
    call = journal.last()
    assert call.operation_id == "getSource"
    assert call.status == 404 and call.rejected and not call.ok
    assert call.message is not None and "00000000-0000-4000-8000-000000000000" in call.message
    assert call.describe() == (
        f"GET /1/sources/00000000-0000-4000-8000-000000000000 (getSource) -> 404: {call.message}"
    )
    assert journal.rejections() == [call]


def test_calls_without_credentials_are_recorded_without_an_app(app: MockApp, journal: Journal) -> None:
    with InProcessClient(app, base_url="http://mock") as bare:
        assert bare.get("/1/sources").status_code == 403
    call = journal.last()
    assert (call.operation_id, call.app_id, call.status) == ("listSources", None, 403)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/1/sources"), ("DELETE", "/1/runs"), ("TRACE", "/1/no/such/path")],
)
def test_unmatched_routes_are_recorded_with_no_operation(
    client: InProcessClient, journal: Journal, method: str, path: str
) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 405
    call = journal.last()
    assert call.operation_id is None
    assert (call.method, call.path, call.status, call.app_id) == (method, path, 405, None)
    assert call.message == answer.json()["message"]
    assert call.describe().startswith(f"{method} {path} (no operation) -> 405: ")
    assert journal.operations() == []  # left out of the operation list
    assert journal.filter(method=method.lower()) == [call]


def test_an_unknown_path_answers_through_the_custom_request_operation(
    client: InProcessClient, journal: Journal
) -> None:
    assert client.get("/1/no/such/path").status_code == 404
    call = journal.last()
    assert (call.operation_id, call.path_params) == ("customGet", {"path": "1/no/such/path"})
    assert (
        call.message is not None
        and "No Ingestion or Search API operation serves GET /1/no/such/path" in call.message
    )


def test_to_json_is_json_ready(client: InProcessClient, journal: Journal) -> None:
    make_source(client, name="feed")
    dumped = journal.last().to_json()
    assert json.loads(json.dumps(dumped)) == dumped
    assert set(dumped) == {
        "operation_id",
        "method",
        "path",
        "app_id",
        "path_params",
        "query",
        "body",
        "status",
        "response",
        "stubbed",
        "stub_id",
    }


# --- secrets -----------------------------------------------------------------------------------

SECRET_AUTHENTICATIONS = [
    pytest.param("basic", {"username": "feeds", "password": "pw-secret-1"}, {"password"}, id="basic"),
    pytest.param("algolia", {"appID": "APPX", "apiKey": "key-secret-2"}, {"apiKey"}, id="algolia"),
    pytest.param(
        "oauth",
        {"url": "https://auth.example.com/token", "client_id": "cid", "client_secret": "oauth-secret-3"},
        {"client_secret"},
        id="oauth",
    ),
    pytest.param(
        "googleServiceAccount",
        {"clientEmail": "reader@example.iam.gserviceaccount.com", "privateKey": "pk-secret-4"},
        {"privateKey"},
        id="googleServiceAccount",
    ),
]


@pytest.mark.parametrize(("auth_type", "secret_input", "secret_keys"), SECRET_AUTHENTICATIONS)
def test_create_authentication_secrets_are_masked(
    client: InProcessClient,
    journal: Journal,
    auth_type: str,
    secret_input: dict[str, str],
    secret_keys: set[str],
) -> None:
    answer = client.post(
        "/1/authentications", json={"type": auth_type, "name": "auth", "input": secret_input}
    )
    assert answer.status_code == 200, answer.text
    call = journal.last("createAuthentication")
    expected = {k: (MASK if k in secret_keys else v) for k, v in secret_input.items()}
    assert call.body["input"] == expected
    assert call.body["type"] == auth_type and call.body["name"] == "auth"
    recorded = json.dumps([c.to_json() for c in journal])
    for key in secret_keys:
        assert secret_input[key] not in recorded


def test_update_authentication_masks_the_write_only_fields_of_the_stored_type(
    client: InProcessClient, journal: Journal
) -> None:
    """The update's body does not say the type: the stored authentication's type decides what is secret."""
    created = client.post(
        "/1/authentications",
        json={"type": "basic", "name": "auth", "input": {"username": "u", "password": "old-secret"}},
    ).json()
    answer = client.patch(
        f"/1/authentications/{created['authenticationID']}",
        json={"name": "renamed", "input": {"username": "new-user", "password": "new-secret"}},
    )
    assert answer.status_code == 200, answer.text
    call = journal.last("updateAuthentication")
    assert call.body == {"name": "renamed", "input": {"username": "new-user", "password": MASK}}
    assert "new-secret" not in json.dumps(call.to_json())


def test_a_rotation_test_can_see_which_application_an_update_targets(
    client: InProcessClient, journal: Journal
) -> None:
    created = client.post(
        "/1/authentications",
        json={"type": "algolia", "name": "a", "input": {"appID": "OLDAPP", "apiKey": "old-key"}},
    ).json()
    answer = client.patch(
        f"/1/authentications/{created['authenticationID']}",
        json={"input": {"appID": "NEWAPP", "apiKey": "new"}},
    )
    assert answer.status_code == 200, answer.text
    assert journal.last("updateAuthentication").body == {"input": {"appID": "NEWAPP", "apiKey": MASK}}
    assert journal.last("createAuthentication").body["input"] == {"appID": "OLDAPP", "apiKey": MASK}


def test_every_value_of_a_secrets_authentication_is_masked(client: InProcessClient, journal: Journal) -> None:
    created = client.post(
        "/1/authentications", json={"type": "secrets", "name": "s", "input": {"appID": "looks-public"}}
    ).json()
    client.patch(f"/1/authentications/{created['authenticationID']}", json={"input": {"username": "x"}})
    assert journal.last("createAuthentication").body["input"] == {"appID": MASK}
    assert journal.last("updateAuthentication").body["input"] == {"username": MASK}


def test_secrets_of_a_rejected_authentication_are_masked_too(
    client: InProcessClient, journal: Journal
) -> None:
    answer = client.post(
        "/1/authentications",
        json={"type": "basic", "input": {"username": "u", "password": "rejected-secret"}},
    )
    assert answer.status_code == 400
    call = journal.last("createAuthentication")
    assert call.rejected
    assert call.body["input"]["password"] == MASK
    assert "rejected-secret" not in json.dumps([c.to_json() for c in journal])


# --- queries -----------------------------------------------------------------------------------


def test_filter_called_call_count_and_last(app: MockApp, client: InProcessClient, journal: Journal) -> None:
    first = make_source(client, name="a")
    second = make_source(client, name="b")
    client.get(f"/1/sources/{first}")
    client.get("/1/sources", headers={"x-algolia-application-id": "OTHERAPP"})

    assert [c.path for c in journal.filter("createSource")] == ["/1/sources", "/1/sources"]
    assert [c.operation_id for c in journal.filter(method="get")] == ["getSource", "listSources"]
    assert [c.operation_id for c in journal.filter(path=f"/1/sources/{first}")] == ["getSource"]
    assert len(journal.filter(status=200)) == 4
    assert [c.operation_id for c in journal.filter(app_id="OTHERAPP")] == ["listSources"]
    assert journal.filter("createSource", app_id="OTHERAPP") == []
    assert journal.called("getSource") and not journal.called("deleteSource")
    assert journal.call_count("createSource") == 2 and journal.call_count("deleteSource") == 0
    assert journal.last("createSource").response["sourceID"] == second
    assert journal.last().operation_id == "listSources"
    with pytest.raises(AssertionError, match="no call to deleteSource was recorded"):
        journal.last("deleteSource")


def test_last_on_an_empty_journal(journal: Journal) -> None:
    with pytest.raises(AssertionError, match=r"^no call was recorded$"):
        journal.last()


def test_reset_clears_the_journal_but_resetting_one_application_does_not(
    app: MockApp, client: InProcessClient, journal: Journal
) -> None:
    make_source(client, name="feed")
    app.control.reset(APP_ID)
    assert journal.operations() == ["createSource"]
    app.control.reset()
    assert len(journal) == 0


# --- assertions that pass ----------------------------------------------------------------------


def test_assertions_that_pass(client: InProcessClient, journal: Journal) -> None:
    source_id = make_source(client, name="a", input={"url": "https://example.com/a.json"})
    make_source(client, name="b")
    client.get("/1/sources", params={"type": ["json", "csv"]})
    client.get(f"/1/sources/{source_id}")

    journal.assert_called("createSource", times=2)
    call = journal.assert_called("createSource", times=1, body={"name": "a"})
    assert call is not None and call.response["sourceID"] == source_id
    assert (
        journal.assert_called("createSource", body={"input": {"url": "https://example.com/a.json"}}) == call
    )
    assert journal.assert_called("createSource").body["name"] == "b"  # the last matching call
    journal.assert_called("listSources", query={"type": ["json", "csv"]})
    journal.assert_called("listSources", query={"type": "json,csv"})
    journal.assert_called("getSource", times=1, path_params={"sourceID": source_id})
    journal.assert_not_called("deleteSource")
    journal.assert_order(["createSource", "getSource"])
    journal.assert_order(["createSource", "createSource", "listSources", "getSource"])
    journal.assert_order([])
    journal.assert_no_rejections()


def test_a_comma_separated_query_matches_a_list(client: InProcessClient, journal: Journal) -> None:
    client.get("/1/sources", params={"type": "json,csv"})
    journal.assert_called("listSources", query={"type": ["json", "csv"]})


# --- assertions that fail, and what they say ---------------------------------------------------


def test_assert_called_when_never_called(journal: Journal, client: InProcessClient) -> None:
    with pytest.raises(AssertionError, match=r"^listSources was never called\nno calls were recorded$"):
        journal.assert_called("listSources")
    client.get("/1/sources")
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("createSource")
    assert str(excinfo.value) == (
        "createSource was never called\ncalls were:\n  GET /1/sources (listSources) -> 200"
    )


def test_assert_called_the_wrong_number_of_times(journal: Journal, client: InProcessClient) -> None:
    make_source(client, name="feed")
    with pytest.raises(AssertionError, match=r"^createSource was called 1 times, expected 2\ncalls were:\n"):
        journal.assert_called("createSource", times=2)
    with pytest.raises(AssertionError, match="deleteSource was called 0 times, expected 1"):
        journal.assert_called("deleteSource", times=1)


def test_assert_called_with_other_arguments_shows_expected_and_actual(
    journal: Journal, client: InProcessClient
) -> None:
    make_source(client, name="actual-name")
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("createSource", body={"name": "expected-name"})
    message = str(excinfo.value)
    assert message.splitlines() == [
        "createSource was called 1 times, never with the expected arguments",
        "closest call (0 of 1 expected values match):",
        "  POST /1/sources (createSource) -> 200",
        '  body.name: expected "expected-name", got "actual-name"',
        '  body expected: {"name": "expected-name"}',
        '  body actual:   {"input": {"url": "https://example.com/feed.json"}, '
        '"name": "actual-name", "type": "json"}',
    ]


def test_assert_called_with_other_query_or_path_params(journal: Journal, client: InProcessClient) -> None:
    client.get("/1/sources", params={"type": "push"})
    with pytest.raises(AssertionError, match=re.escape('query expected: {"type": "json"}')) as excinfo:
        journal.assert_called("listSources", query={"type": "json"})
    assert 'query actual:   {"type": ["push"]}' in str(excinfo.value)
    source_id = make_source(client, name="feed")
    client.get(f"/1/sources/{source_id}")
    with pytest.raises(AssertionError, match=re.escape('path_params expected: {"sourceID": "other"}')):
        journal.assert_called("getSource", path_params={"sourceID": "other"})


def test_assert_not_called_fails_with_the_calls(journal: Journal, client: InProcessClient) -> None:
    make_source(client, name="feed")
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_not_called("createSource")
    assert str(excinfo.value) == (
        "createSource was called 1 times, expected never\n  POST /1/sources (createSource) -> 200"
    )


def test_assert_order_fails_with_the_calls(journal: Journal, client: InProcessClient) -> None:
    source_id = make_source(client, name="feed")
    client.get(f"/1/sources/{source_id}")
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_order(["getSource", "createSource"])
    assert str(excinfo.value) == (
        "expected ['getSource', 'createSource'] in this order; createSource not found after position 2\n"
        "calls were: ['createSource', 'getSource']"
    )
    with pytest.raises(AssertionError, match="deleteSource not found after position 0"):
        journal.assert_order(["deleteSource"])


def test_assert_no_rejections_fails_with_the_messages(journal: Journal, client: InProcessClient) -> None:
    client.get("/1/sources")
    client.post("/1/sources", json={"type": "json", "name": "x", "input": {}})
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_no_rejections()
    assert str(excinfo.value) == (
        "the mock rejected requests:\n"
        "  POST /1/sources (createSource) -> 400: "
        "body.input: 'url' is a required property (rule for type 'json')"
    )


# --- bounds ------------------------------------------------------------------------------------


def test_the_journal_keeps_only_the_newest_calls() -> None:
    small = create_app(check_responses=True, journal_size=3)
    with InProcessClient(small, base_url="http://mock", headers=CREDENTIALS) as client:
        names = [f"s{i}" for i in range(5)]
        for name in names:
            make_source(client, name=name)
    assert len(small.journal) == 3
    assert [c.body["name"] for c in small.journal] == names[-3:]


def test_the_journal_keeps_exactly_journal_size_calls_then_drops_the_oldest() -> None:
    small = create_app(journal_size=3)
    with InProcessClient(small, base_url="http://mock", headers=CREDENTIALS) as client:
        for name in ("s0", "s1", "s2"):
            make_source(client, name=name)
        assert [c.body["name"] for c in small.journal] == ["s0", "s1", "s2"]
        make_source(client, name="s3")
    assert [c.body["name"] for c in small.journal] == ["s1", "s2", "s3"]


def test_journal_bytes_drops_the_oldest_calls_first() -> None:
    budget = 40_000  # a few of the calls below: each holds a body of 2 kB (4 times that, estimated)
    small = create_app(journal_bytes=budget)
    names = [f"{i:02d}" + "x" * 2000 for i in range(12)]
    with InProcessClient(small, base_url="http://mock", headers=CREDENTIALS) as client:
        for name in names:
            make_source(client, name=name)
    kept = [c.body["name"] for c in small.journal]
    assert 1 < len(kept) < len(names), len(kept)
    assert kept == names[-len(kept) :]  # the newest, in order
    assert small.journal.bytes <= budget


def test_a_refused_gzip_body_is_kept_as_its_size_like_any_large_refused_body() -> None:
    """What counts is the body inflated: 9 MB of JSON gzip-compresses to a few kB."""
    app = create_app(journal_bytes=1_000_000)
    text = json.dumps({"type": "json", "name": "n", "input": {"url": "https://x/y"}, "pad": "a" * 900_000})
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        for _ in range(3):
            refused = client.post(
                "/1/sources",
                content=gzip.compress(text.encode()),
                headers={"content-encoding": "gzip", "content-type": "application/json"},
            )
            assert refused.status_code == 400, refused.text
    bodies = [c.body for c in app.journal]
    assert bodies == [{"truncated": True, "bytes": len(text), "kept": 0}] * 3
    assert app.journal.bytes < 10_000


def test_the_budget_counts_what_the_journal_really_keeps_of_answers_given_in_process() -> None:
    """An answer with no JSON text yet (the Python API, a dropped connection) is measured as kept,
    not estimated from a part of it (a browse of 2,000 records once counted a tenth of its size)."""
    app = create_app()
    index = app.store.account(APP_ID).indexes
    from mockserver.engine import indexes

    records: list[dict[str, Any]] = [{"objectID": f"b{i}", "text": "x" * 50_000} for i in range(20)]
    records += [{"objectID": f"s{i}", **{f"f{k}": k for k in range(12)}} for i in range(2000)]
    indexes.apply(index, "big", "addObject", records)
    engine = app.engine
    browse = engine.request("browse", APP_ID, {"indexName": "big"}, body={"hitsPerPage": 1000})
    assert engine.execute(browse, record=False).status == 200  # (what the index builds once, built)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        assert engine.execute(browse).status == 200
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # (what the mock's own code allocated and still holds: another thread of this worker is not counted)
    mine = [tracemalloc.Filter(True, "*/mockserver/*")]
    grown = after.filter_traces(mine).compare_to(before.filter_traces(mine), "filename")
    kept = sum(diff.size_diff for diff in grown)
    assert len(app.journal.calls) == 1 and kept > 1_000_000
    assert app.journal.bytes >= kept * 0.9, f"the journal counts {app.journal.bytes} bytes and holds {kept}"


def test_a_tenants_flood_pushes_out_its_own_calls_not_anothers() -> None:
    """On a shared mock, one application's many or large calls must not empty another's journal."""
    bounds: list[dict[str, Any]] = [{"journal_size": 50}, {"journal_bytes": 200_000}]
    for bound in bounds:
        app = create_app(**bound)
        quiet = {**CREDENTIALS, "x-algolia-application-id": "QUIET"}
        loud = {**CREDENTIALS, "x-algolia-application-id": "LOUD"}
        with InProcessClient(app, base_url="http://mock") as client:
            assert client.get("/1/sources", headers=quiet).status_code == 200
            for i in range(120):
                body = {"type": "push", "name": f"n{i}", "pad": "x" * 4_000}  # refused: 400, kept whole
                assert client.post("/1/sources", json=body, headers=loud).status_code == 400
            assert client.get("/1/sources", headers=quiet).status_code == 200
        kept = app.journal.calls
        assert [c.app_id for c in kept].count("QUIET") == 2, bound
        assert kept[-1].app_id == "QUIET" and kept[-2].app_id == "LOUD", bound  # still in order
        assert 1 < [c.app_id for c in kept].count("LOUD") < 120, bound
        if "journal_bytes" in bound:
            assert app.journal.bytes <= 200_000


def test_a_quiet_tenants_old_call_does_not_make_the_journal_hold_what_it_pushed_out() -> None:
    """The quiet application's call stays at the front while a flood goes through behind it: what
    the flood pushed out must not pile up behind it."""
    journal = Journal(maxlen=100)
    journal.record(Call("listSources", "GET", "/1/sources", "QUIET"), size=600)
    tracemalloc.start()
    try:
        for i in range(20_000):
            journal.record(Call("listSources", "GET", f"/{i}", "LOUD"), size=600)
        ours = [tracemalloc.Filter(True, "*/mockserver/*"), tracemalloc.Filter(True, __file__)]
        held = sum(
            stat.size for stat in tracemalloc.take_snapshot().filter_traces(ours).statistics("filename")
        )
    finally:
        tracemalloc.stop()
    assert len(journal) == 100 and journal.calls[0].app_id == "QUIET"
    assert [seq for seq, _ in journal.numbered()][-2:] == [19_999, 20_000]
    assert held < 150_000, f"{held} bytes held for 100 calls"


def test_the_newest_call_is_kept_past_journal_bytes_whoever_holds_the_rest() -> None:
    journal = Journal(maxlen=None, max_bytes=1000)
    for i in range(3):
        journal.record(Call("listSources", "GET", f"/{i}", "A"), size=300)
    journal.record(Call("createSource", "POST", "/1/sources", "C"), size=5000)
    assert [(c.app_id, c.operation_id) for c in journal.calls] == [("C", "createSource")]
    assert journal.bytes == 5000


def test_the_newest_call_is_kept_even_past_journal_bytes() -> None:
    tiny = create_app(journal_bytes=1)
    with InProcessClient(tiny, base_url="http://mock", headers=CREDENTIALS) as client:
        make_source(client, name="first")
        assert [c.body["name"] for c in tiny.journal] == ["first"]
        make_source(client, name="second")
    assert [c.body["name"] for c in tiny.journal] == ["second"]


def test_a_journal_exactly_at_its_byte_budget_keeps_every_call() -> None:
    journal = Journal(maxlen=None, max_bytes=900)
    for i in range(3):
        journal.record(Call(f"op{i}", "GET", "/", APP_ID), size=300)
    assert [c.operation_id for c in journal.calls] == ["op0", "op1", "op2"]
    journal.record(Call("op3", "GET", "/", APP_ID), size=300)
    assert [c.operation_id for c in journal.calls] == ["op1", "op2", "op3"]
    assert journal.bytes == 900


def test_an_unbounded_journal() -> None:
    journal = Journal(maxlen=None)
    for i in range(5):
        journal.record(Call(operation_id="listSources", method="GET", path=f"/{i}", app_id=APP_ID))
    assert len(journal) == 5
    journal.clear()
    assert journal.calls == []


# --- matchers: times, assert_not_called, call_count and filter count only matching calls -------

TASK_A = "0a1b2c3d-0000-4000-8000-00000000000a"
TASK_B = "0a1b2c3d-0000-4000-8000-00000000000b"


def run_task_call(task_id: str, status: int = 200) -> Call:
    return Call(
        operation_id="runTask",
        method="POST",
        path=f"/2/tasks/{task_id}/run",
        app_id=APP_ID,
        path_params={"taskID": task_id},
        status=status,
    )


def source_call(body: Any, query: dict[str, list[str]] | None = None) -> Call:
    return Call(
        operation_id="createSource",
        method="POST",
        path="/1/sources",
        app_id=APP_ID,
        body=body,
        query=query or {},
    )


def journal_of(*calls: Call) -> Journal:
    journal = Journal()
    for call in calls:
        journal.record(call)
    return journal


def test_times_counts_only_the_calls_matching_every_matcher() -> None:
    journal = journal_of(run_task_call(TASK_A), run_task_call(TASK_B))
    call = journal.assert_called("runTask", times=1, path_params={"taskID": TASK_A})
    assert call is not None and call.path_params == {"taskID": TASK_A}
    journal.assert_called("runTask", times=2)
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("runTask", times=2, path_params={"taskID": TASK_A})
    assert str(excinfo.value).splitlines()[0] == (
        "runTask was called 1 times with the expected arguments (2 times in all), expected 2"
    )


def test_times_zero_passes_when_no_call_matches_and_returns_none() -> None:
    assert Journal().assert_called("runTask", times=0) is None
    journal = journal_of(run_task_call(TASK_B))
    assert journal.assert_called("runTask", times=0, path_params={"taskID": TASK_A}) is None
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("runTask", times=0, path_params={"taskID": TASK_B})
    assert str(excinfo.value).splitlines() == [
        "runTask was called 1 times with the expected arguments (1 times in all), expected 0",
        "matching calls:",
        f"  POST /2/tasks/{TASK_B}/run (runTask) -> 200",
    ]
    with pytest.raises(AssertionError, match=r"^runTask was called 1 times, expected 0\ncalls were:"):
        journal.assert_called("runTask", times=0)


def test_assert_not_called_takes_the_same_matchers() -> None:
    journal = journal_of(
        run_task_call(TASK_B),
        source_call({"type": "json", "name": "a", "input": {"url": "https://example.com/a.json"}}),
        Call(
            operation_id="listRuns", method="GET", path="/1/runs", app_id=APP_ID, query={"status": ["failed"]}
        ),
    )
    journal.assert_not_called("runTask", path_params={"taskID": TASK_A})
    journal.assert_not_called("createSource", body={"input": {"url": "https://example.com/b.json"}})
    journal.assert_not_called("listRuns", query={"status": "finished"})
    journal.assert_not_called("deleteSource")
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_not_called("createSource", body={"input": {"url": "https://example.com/a.json"}})
    assert str(excinfo.value).splitlines() == [
        "createSource was called 1 times with the expected arguments (1 times in all), expected never",
        "  POST /1/sources (createSource) -> 200",
    ]
    with pytest.raises(AssertionError, match=r"^listRuns was called 1 times with the expected arguments"):
        journal.assert_not_called("listRuns", query={"status": ["failed"]})


def test_call_count_called_and_filter_take_the_same_matchers() -> None:
    journal = journal_of(
        run_task_call(TASK_A),
        run_task_call(TASK_B),
        run_task_call(TASK_A, status=404),
        source_call({"name": "a"}),
    )
    assert journal.call_count("runTask") == 3
    assert journal.call_count("runTask", path_params={"taskID": TASK_A}) == 2
    assert journal.call_count("runTask", path_params={"taskID": "other"}) == 0
    assert journal.called("runTask", path_params={"taskID": TASK_B})
    assert not journal.called("createSource", body={"name": "b"})
    assert journal.filter("runTask", path_params={"taskID": TASK_A}, status=404) == [journal.calls[2]]
    assert journal.filter(body={"name": "a"}) == [journal.calls[3]]
    assert journal.filter(query={"status": "finished"}) == []


def test_the_closest_call_is_the_most_similar_one_not_the_last() -> None:
    journal = journal_of(
        source_call({"type": "json", "name": "a", "input": {"url": "https://example.com/a.json"}}),
        source_call({"type": "push", "name": "b"}),
    )
    expected = {"type": "json", "name": "a", "input": {"url": "https://example.com/other.json"}}
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("createSource", body=expected)
    lines = str(excinfo.value).splitlines()
    assert lines[:3] == [
        "createSource was called 2 times, never with the expected arguments",
        "closest call (2 of 3 expected values match):",
        "  POST /1/sources (createSource) -> 200",
    ]
    assert (
        '  body.input.url: expected "https://example.com/other.json", got "https://example.com/a.json"'
    ) in lines
    assert not any(line.startswith("  body.name:") or line.startswith("  body.type:") for line in lines)


def test_the_closest_call_counts_nested_keys_and_every_matcher() -> None:
    journal = journal_of(
        Call(
            operation_id="listRuns",
            method="GET",
            path="/1/runs",
            app_id=APP_ID,
            query={"status": ["finished"], "type": ["reindex"]},
        ),
        Call(
            operation_id="listRuns", method="GET", path="/1/runs", app_id=APP_ID, query={"status": ["failed"]}
        ),
    )
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("listRuns", query={"status": "finished", "type": "update", "order": "asc"})
    lines = str(excinfo.value).splitlines()
    assert lines[1] == "closest call (1 of 3 expected values match):"
    assert '  query.type: expected ["update"], got ["reindex"]' in lines
    assert '  query.order: expected ["asc"], missing' in lines


def test_the_diff_names_missing_and_mismatched_keys_with_a_times_mismatch() -> None:
    journal = journal_of(run_task_call(TASK_B), source_call({"name": "a", "input": "not an object"}))
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("runTask", times=1, path_params={"taskID": TASK_A})
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "runTask was called 0 times with the expected arguments (1 times in all), expected 1"
    assert lines[1] == "closest call (0 of 1 expected values match):"
    assert f'  path_params.taskID: expected "{TASK_A}", got "{TASK_B}"' in lines
    with pytest.raises(AssertionError) as excinfo:
        Journal().assert_called("runTask", times=1, path_params={"taskID": TASK_A})
    assert str(excinfo.value).splitlines() == [
        "runTask was called 0 times with the expected arguments (0 times in all), expected 1",
        "no calls were recorded",
    ]
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("createSource", body={"input": {"url": "u"}, "type": "json"})
    lines = str(excinfo.value).splitlines()
    assert '  body.input: expected {"url": "u"}, got "not an object"' in lines
    assert '  body.type: expected "json", missing' in lines


def test_a_non_mapping_body_is_matched_whole() -> None:
    journal = journal_of(source_call([{"objectID": "1"}]))
    journal.assert_called("createSource", body=[{"objectID": "1"}])
    journal.assert_called("createSource", times=0, body=[{"objectID": "2"}])
    assert journal.call_count("createSource", body=None) == 0


# --- one matcher set for every method; unknown operations are named with the likely one ----------


def other_app_call(task_id: str) -> Call:
    return Call(
        operation_id="runTask",
        method="POST",
        path=f"/2/tasks/{task_id}/run",
        app_id="OTHER",
        path_params={"taskID": task_id},
    )


def test_every_method_takes_status_rejected_stubbed_and_app_id() -> None:
    stubbed = Call(
        operation_id="runTask",
        method="POST",
        path=f"/2/tasks/{TASK_B}/run",
        app_id=APP_ID,
        path_params={"taskID": TASK_B},
        status=503,
        stub_id="stub-1",
    )
    journal = journal_of(
        run_task_call(TASK_A), run_task_call(TASK_A, status=404), stubbed, other_app_call(TASK_A)
    )
    assert journal.call_count("runTask", status=404) == 1
    assert journal.call_count("runTask", rejected=True) == 2
    assert journal.call_count("runTask", rejected=False) == 2
    assert journal.call_count("runTask", stubbed=True) == 1
    assert journal.call_count("runTask", app_id="OTHER") == 1
    assert journal.called("runTask", status=503, stubbed=True)
    assert not journal.called("runTask", status=503, stubbed=False)
    assert journal.assert_called("runTask", times=1, status=200, app_id=APP_ID) is journal.calls[0]
    journal.assert_called(rejected=True, path_params={"taskID": TASK_B})  # any operation
    journal.assert_not_called("runTask", status=500)
    assert journal.last("runTask", rejected=False) is journal.calls[3]
    assert journal.filter(stubbed=True) == [stubbed]
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_called("runTask", status=201)
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "runTask was called 4 times, never with the expected arguments"
    assert "  status: expected 201, got 200" in lines
    with pytest.raises(AssertionError) as excinfo:
        journal.assert_not_called("runTask", rejected=True, app_id=APP_ID)
    assert str(excinfo.value).splitlines()[0] == (
        "runTask was called 2 times with the expected arguments (4 times in all), expected never"
    )
    with pytest.raises(AssertionError, match=r"^no call to runTask with status=201 was recorded$"):
        journal.last("runTask", status=201)


def test_matchers_of_the_wrong_kind_are_refused_by_name() -> None:
    journal: Any = journal_of(run_task_call(TASK_A))  # (Any: the mistakes a type checker would catch)
    with pytest.raises(TypeError, match=r"status='200' is not an HTTP status"):
        journal.call_count("runTask", status="200")
    with pytest.raises(TypeError, match=r"rejected='yes' is not True or False"):
        journal.assert_called("runTask", rejected="yes")
    with pytest.raises(TypeError, match=r"unknown matcher 'staus'; did you mean status\?"):
        journal.filter("runTask", staus=200)
    with pytest.raises(TypeError, match=r"path_params=.* is not a mapping of names to strings"):
        journal.called("runTask", path_params={"taskID": 1})
    with pytest.raises(TypeError, match=r"times=-1 is not a count"):
        journal.assert_called("runTask", times=-1)


OPERATIONS = ("createSource", "runTask", "listRuns")


@pytest.mark.parametrize(
    "use",
    [
        lambda j: j.assert_called("createSources"),
        lambda j: j.assert_called("createSources", times=0),
        lambda j: j.assert_not_called("createSources"),
        lambda j: j.call_count("createSources"),
        lambda j: j.called("createSources"),
        lambda j: j.filter("createSources"),
        lambda j: j.last("createSources"),
        lambda j: j.assert_order(["runTask", "createSources"]),
    ],
    ids=["assert_called", "times=0", "assert_not_called", "call_count", "called", "filter", "last", "order"],
)
def test_an_unknown_operation_is_refused_with_the_likely_one(use: Any) -> None:
    journal = Journal(operations=OPERATIONS)
    with pytest.raises(
        ValueError, match=r"'createSources' is not an operation of the spec; did you mean createSource\?"
    ):
        use(journal)


def test_an_app_journal_knows_the_specs_operations(app: MockApp) -> None:
    with pytest.raises(ValueError, match=r"did you mean createSource\?"):
        app.journal.assert_called("createSources")
    app.journal.assert_not_called("createSource")  # a real operation never called is fine


def test_the_control_plane_journal_takes_the_same_matchers(app: MockApp, client: InProcessClient) -> None:
    first = make_source(client, name="first")
    make_source(client, name="second")
    client.patch(f"/1/sources/{first}", json={"name": "renamed"})
    client.get("/1/sources", params={"type": "json"})
    client.get("/1/sources/nope")

    def journal(**params: Any) -> dict[str, Any]:
        answer = client.get("/__mock__/journal", params=params)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def statuses(**params: Any) -> list[tuple[str, int]]:
        return [(c["operation_id"], c["status"]) for c in journal(**params)["calls"]]

    assert statuses(body=json.dumps({"name": "second"})) == [("createSource", 200)]
    assert statuses(pathParams=json.dumps({"sourceID": first})) == [("updateSource", 200)]
    assert statuses(query=json.dumps({"type": "json"})) == [("listSources", 200)]
    assert statuses(query=json.dumps({"type": ["json"]}), appID=APP_ID) == [("listSources", 200)]
    assert statuses(rejected="true") == [("getSource", 404)]
    assert len(statuses(rejected="false")) == 4
    assert statuses(stubbed="true") == []
    assert statuses(
        operationId="createSource", body=json.dumps({"input": {"url": "https://example.com/feed.json"}})
    ) == [
        ("createSource", 200),
        ("createSource", 200),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"operationId": "createSources"},
            "query.operationId: 'createSources' is not an operation of the spec; did you mean createSource?",
        ),
        ({"body": "{nope"}, "query.body: not JSON (invalid JSON at line 1 column 2"),
        ({"query": "[1]"}, "query.query: a JSON object of strings or lists of strings"),
        ({"pathParams": '{"sourceID": 1}'}, "query.pathParams: a JSON object of strings"),
        ({"stubbed": "maybe"}, "query.stubbed: 'maybe' is not a boolean (true or false)"),
    ],
)
def test_the_control_plane_journal_refuses_bad_matchers(
    client: InProcessClient, params: dict[str, str], message: str
) -> None:
    answer = client.get("/__mock__/journal", params=params)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith(message)
    assert answer.json()["error"]["code"] == "invalid_payload"


# --- a call is a value: equal fields, equal calls; its fields cannot be changed ---------------


def test_a_calls_answer_is_a_fresh_copy_on_every_read(client: InProcessClient, journal: Journal) -> None:
    make_source(client, name="first")
    listed = client.get("/1/sources").json()
    call = journal.calls[-1]
    seen = call.response
    assert seen == listed
    seen["sources"].clear()  # what a test does with what it read does not change the journal
    assert journal.calls[-1].response == listed == call.to_json()["response"]


def test_the_journal_keeps_each_answer_packed_not_as_python_objects(
    client: InProcessClient, journal: Journal
) -> None:
    """A served journal holds up to 100,000 calls: a listing kept as dicts would be dozens of
    objects per call for the garbage collector to walk."""
    for i in range(10):
        make_source(client, name=f"s{i}")
    for _ in range(20):
        assert client.get("/1/sources").status_code == 200
    listings = [c for c in journal.calls if c.operation_id == "listSources"]
    per_call = sum(_tracked_objects_held(call) for call in listings) / len(listings)
    assert per_call < 6, f"{per_call:.1f} objects the collector tracks are held per call"
    assert listings[-1].response["pagination"]["nbItems"] == 10


def _tracked_objects_held(root: object) -> int:
    """How many objects the garbage collector tracks are reachable from ``root`` (itself included)."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        item = pending.pop()
        if id(item) in seen or not gc.is_tracked(item) or isinstance(item, type):
            continue  # (a call's class is shared, not held by it)
        seen.add(id(item))
        pending.extend(gc.get_referents(item))
    return len(seen)


def test_calls_with_the_same_fields_are_equal_whether_the_body_came_as_text_or_as_a_value() -> None:
    body = {"type": "json", "name": "feed"}
    text = json.dumps(body).encode()
    as_text = Call("createSource", "POST", "/1/sources", APP_ID, body=body, body_json=text)
    assert as_text == Call("createSource", "POST", "/1/sources", APP_ID, body=body, body_json=text)
    other = Call("createSource", "POST", "/1/sources", APP_ID, body={"type": "json"}, body_json=b"{}")
    assert as_text != other
    packed = Call("createSource", "POST", "/1/sources", APP_ID, body=body)
    assert packed == Call("createSource", "POST", "/1/sources", APP_ID, body=dict(body))
    assert packed == as_text  # equal fields, however each was kept
    answered = Call("createSource", "POST", "/1/sources", APP_ID, response={"sourceID": "s"})
    sent = Call("createSource", "POST", "/1/sources", APP_ID, response_json=b'{"sourceID":"s"}')
    assert answered == sent and answered.response == sent.response == {"sourceID": "s"}
    assert answered != Call("createSource", "POST", "/1/sources", APP_ID, response={"sourceID": "t"})
    # as JSON values: true is not 1, and 1.0 is not 1
    assert Call("x", "GET", "/", APP_ID, body={"a": True}) != Call("x", "GET", "/", APP_ID, body={"a": 1})
    assert Call("x", "GET", "/", APP_ID, response=[1.0]) != Call("x", "GET", "/", APP_ID, response=[1])
    assert packed.body == as_text.body == body
    with pytest.raises(AttributeError):
        packed.status = 500  # type: ignore[misc]


def test_a_call_holding_what_cannot_be_packed_still_gives_fresh_copies() -> None:
    # beyond 64 bits: MessagePack cannot carry it, the value is kept
    huge: dict[str, Any] = {"n": 2**80, "list": [1]}
    call = Call("x", "POST", "/", APP_ID, body=huge, response=huge)
    call.body["list"].append(2)
    call.response["list"].append(2)
    huge["list"].append(3)  # nor does the caller's own value reach into the journal
    assert call.body == call.response == {"n": 2**80, "list": [1]}
    assert weakref.ref(call)() is call  # (a call can be watched by weak reference)
    # kept unpacked, each counts against the journal's byte budget at several times its JSON size
    small = Call("x", "POST", "/", APP_ID, body={"n": 1, "list": [1]}, response={"n": 1, "list": [1]})
    assert call.kept_bytes() > small.kept_bytes() + 2 * len(json.dumps(huge))


# --- calls kept packed until read (journal.kept_call) --------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        ("listSources", "GET", "/1/sources", "A", {}, {"page": ["2"]}, None, None, 200, {"s": []}, None),
        ("createSource", "POST", "/1/sources", "A", {}, {}, {"n": 1}, b'{"n": 1}', 400, None, b'{"m":"x"}'),
        ("getSource", "GET", "/1/sources/s", None, {"sourceID": "s"}, {}, [2**70], None, 404, [2**70], None),
    ],
)
def test_a_call_kept_packed_reads_as_the_call_it_stands_for(fields: tuple[Any, ...]) -> None:
    from mockserver.engine.journal import kept_call

    op, method, path, app_id, params, query, body, body_json, status, response, response_json = fields
    expected = Call(
        op, method, path, app_id, params, query, body, status, response,
        body_json=body_json, response_json=response_json, stub_id="stub-1",
    )  # fmt: skip
    packed = (op, method, path, app_id, params, query, body, body_json, status, response, response_json)
    kept, size = kept_call(*packed, False, "stub-1")
    assert size == expected.kept_bytes()
    journal = Journal(maxlen=2)
    journal.record_kept(kept, size)
    read = journal.calls[0]
    assert read == expected and repr(read) == repr(expected) and read.to_json() == expected.to_json()
    assert journal.calls[0] is read  # made once, on the first read
    assert journal.numbered() == [(0, read)] and journal.bytes == size
    # Pushed out like any call, unread: the newest call, over the byte budget on its own, stays
    # and the oldest of all (the packed one) goes.
    unread = Journal(maxlen=None, max_bytes=size + 100)
    unread.record_kept(kept, size)
    unread.record(Call("listSources", "GET", "/big", "B"), size=size + 200)
    assert [c.app_id for c in unread.calls] == ["B"] and unread.bytes == size + 200


def test_a_served_call_reaches_the_listeners_and_reads_back_the_same() -> None:
    app = create_app()
    heard: list[Call] = []
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        make_source(client, name="quiet")  # no listener: kept packed
        app.listeners.append(lambda call, millis: heard.append(call))
        make_source(client, name="heard")
    first, second = app.journal.calls
    assert first.body["name"] == "quiet" and first.status == 200
    assert heard == [second] and heard[0] is second and second.body["name"] == "heard"


def test_a_kept_call_counts_its_texts_bytes_and_a_fixed_overhead() -> None:
    from mockserver.engine.journal import CALL_OVERHEAD, kept_call

    body, answer = b'{"name": "feed"}', b'{"sourceID":"s"}'
    _, size = kept_call("createSource", "POST", "/1/sources", "A", {}, {}, {"name": "feed"}, body,
                        200, {"sourceID": "s"}, answer, False, None)  # fmt: skip
    assert size == CALL_OVERHEAD + len(body) + len(answer)
    empty: tuple[Any, ...] = (
        "listSources",
        "GET",
        "/1/sources",
        "A",
        {},
        {},
        None,
        None,
        204,
        None,
        None,
        False,
        None,
    )
    _, unsent = kept_call(*empty)
    assert unsent == CALL_OVERHEAD
