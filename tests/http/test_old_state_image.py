"""A state file compacted by an earlier version still loads, and the API shows what it showed then.

``tests/data/state_image_v1.json`` was written by mockserver at commit ada7e14, when the engine kept
its bookkeeping inside the records as ``_`` keys (``_startAt``, ``_finishAt``, ``_outcome``,
``_pending``, ``_publishAt``, ``_firstPolled``, ``_triggerType``, ``_blocked``, ``_criticalStreak``...):
its ``image`` entry (IMAGE_VERSION 1), and what the API and the control plane showed of that state
at the time, and later on the mock's clock. The scenario: a push task, a v1 scheduled task on a JSON
feed, a v1 streaming task, a task blocked by ``policies.criticalThreshold`` (2 critical failures,
then a skipped run), another one failed once (streak 1 of 3); a whole-mock snapshot; then, under a
deferred run policy, a push and, a second later, a run whose index writes wait for their end (they
do not finish together: that version settled such runs in no set order), and one event polled
while the clock was frozen before it was published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.durability.log import StateLog
from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok

FIXTURE = Path(__file__).parent.parent / "data" / "state_image_v1.json"


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert found["image"]["version"] == 1
    return found


def as_recorded(state: dict[str, Any]) -> dict[str, Any]:
    """The control plane's state in the shape the fixture recorded: dumps have since gained what a
    data set needs to seed them back (a source's registered records and URL contents, a streaming or
    subscription task's v1 trigger); those are left out here, the rest must be as recorded."""
    for account in state["applications"].values():
        account.pop("source_records", None)
        account.pop("url_contents", None)
        for search_state in ("index_settings", "synonyms", "rules"):  # (the Search API's, since)
            account.pop(search_state, None)
        for task in account["tasks"]:
            task.pop("trigger", None)
    return state


def observe(client: InProcessClient) -> dict[str, Any]:
    """What the generator of the fixture recorded, asked again the same way."""
    runs = ok(client.get("/1/runs", params={"itemsPerPage": 100}))
    return {
        "state": as_recorded(ok(client.get("/__mock__/state"))),
        "GET /1/tasks": ok(client.get("/1/tasks", params={"itemsPerPage": 100})),
        "GET /2/tasks?triggerType=schedule,streaming": ok(
            client.get("/2/tasks", params={"triggerType": "schedule,streaming"})
        ),
        "GET /2/tasks?sort=triggerType": ok(
            client.get("/2/tasks", params={"sort": "triggerType", "order": "asc"})
        ),
        "GET /1/runs": runs,
        "events": {
            r["runID"]: ok(
                client.get(
                    f"/1/runs/{r['runID']}/events", params={"itemsPerPage": 100, "sort": "publishedAt"}
                )
            )
            for r in runs["runs"]
        },
    }


def underscore_keys(account: Any) -> list[str]:
    """Every ``_`` key held in the records of an account (the engine's bookkeeping belongs elsewhere)."""
    records = [
        r
        for name in ("sources", "destinations", "tasks", "authentications")
        for r in account.family(name).values()
    ]
    records += list(account.runs.values())
    records += [e for events in account.events.values() for e in events.values()]
    return sorted({key for record in records for key in record if key.startswith("_")})


@pytest.fixture
def loaded(tmp_path: Path, recorded: dict[str, Any]) -> Iterator[tuple[MockApp, InProcessClient]]:
    """A mock started on a state file holding only the old image."""
    path = tmp_path / "state.db"
    log = StateLog(path)
    log.rewrite([recorded["image"]])
    log.close()
    app = create_app(state_file=str(path), check_responses=True)
    assert app.control.replay_warnings == []
    headers = {"x-algolia-application-id": recorded["ids"]["app"], "x-algolia-api-key": "k"}
    with InProcessClient(app, base_url="http://mock", headers=headers) as client:
        yield app, client
    app.engine.close()


def test_an_old_image_loads_and_shows_what_it_showed(
    loaded: tuple[MockApp, InProcessClient], recorded: dict[str, Any]
) -> None:
    app, client = loaded
    app_id = recorded["ids"]["app"]
    assert underscore_keys(app.store.accounts[app_id]) == []  # converted on load
    assert observe(client) == recorded["at_image"]
    # The deferred runs start, then finish on the mock's clock, and their waiting writes land.
    app.store.clock.advance(15)
    assert observe(client)["GET /1/runs"] == recorded["started"]["GET /1/runs"]
    app.store.clock.advance(60)
    assert observe(client) == recorded["finished"]
    assert app.control.index("products", app_id) == recorded["index"]
    assert app.store.accounts[app_id].notifications == recorded["notifications"]


def test_an_old_images_task_policies_go_on(
    loaded: tuple[MockApp, InProcessClient], recorded: dict[str, Any]
) -> None:
    app, client = loaded
    ids = recorded["ids"]
    app.store.run_policy.mode = "immediate"
    run_id = ok(client.post(f"/2/tasks/{ids['fragile']}/run"))["runID"]
    skipped = ok(client.get(f"/1/runs/{run_id}"))
    assert (skipped["status"], skipped["reasonCode"]) == ("skipped", "blocking")
    assert "blocked after 2 critical failures" in skipped["reason"]
    # The other fragile task failed once before the image: two more failures reach its threshold of 3.
    ok(client.post(f"/2/tasks/{ids['fragile2']}/run"))
    assert ok(client.get(f"/2/tasks/{ids['fragile2']}"))["enabled"] is True
    ok(client.post(f"/2/tasks/{ids['fragile2']}/run"))
    assert ok(client.get(f"/2/tasks/{ids['fragile2']}"))["enabled"] is False
    assert app.store.accounts[ids["app"]].notifications[-1]["criticalFailures"] == 3


def test_an_old_images_snapshot_restores(
    loaded: tuple[MockApp, InProcessClient], recorded: dict[str, Any]
) -> None:
    app, client = loaded
    app.control.restore(recorded["ids"]["snapshot"])
    assert underscore_keys(app.store.accounts[recorded["ids"]["app"]]) == []
    assert as_recorded(ok(client.get("/__mock__/state"))) == recorded["at_snapshot"]["state"]


def test_an_old_image_compacts_to_the_current_version(
    loaded: tuple[MockApp, InProcessClient], recorded: dict[str, Any], tmp_path: Path
) -> None:
    app, _ = loaded
    image = app.control.image()
    text = json.dumps(image)
    assert image["version"] > 1
    assert not any(
        f'"_{name}"' in text for name in ("startAt", "finishAt", "outcome", "triggerType", "blocked")
    )
    path = tmp_path / "again.db"
    log = StateLog(path)
    log.rewrite([json.loads(text)])
    log.close()
    again = create_app(state_file=str(path), check_responses=True)
    headers = {"x-algolia-application-id": recorded["ids"]["app"], "x-algolia-api-key": "k"}
    with InProcessClient(again, base_url="http://mock", headers=headers) as client_again:
        assert observe(client_again) == recorded["at_image"]
        again.store.clock.advance(75)
        assert observe(client_again) == recorded["finished"]
    again.engine.close()
