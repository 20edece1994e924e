"""The control-plane endpoints the inspector reads: /__mock__/apps and the journal's paging."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import MockApp
from mockserver.engine.journal import Call
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID
from tests.helpers import ok
from tests.helpers import refused as error
from tests.http.test_control_plane import ControlPlane, control  # noqa: F401 (fixture)


def calls(client: InProcessClient, n: int, app_id: str = APP_ID) -> None:
    for _ in range(n):
        client.get("/1/sources", headers={"x-algolia-application-id": app_id})


def test_apps_lists_each_application_with_its_counts(client: InProcessClient, control: ControlPlane) -> None:  # noqa: F811
    assert ok(control.get("/apps")) == {"applications": []}
    control.post("/seed", json={"fixtures": "catalog", "appID": "CATALOG"})
    client.post("/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": "x"}})
    listed = ok(control.get("/apps"))["applications"]
    assert [a["appID"] for a in listed] == ["CATALOG", APP_ID]
    catalog = listed[0]["counts"]
    assert (catalog["authentications"], catalog["sources"], catalog["transformations"]) == (4, 5, 1)
    assert listed[1]["counts"] == {
        "authentications": 0,
        "destinations": 1,
        "sources": 0,
        "tasks": 0,
        "transformations": 0,
        "runs": 0,
        "indexes": 0,
        "synonyms": 0,
        "rules": 0,
    }


def test_journal_without_new_parameters_answers_as_it_always_did(
    app: MockApp,
    client: InProcessClient,
    control: ControlPlane,  # noqa: F811
) -> None:
    calls(client, 3)
    assert ok(control.get("/journal", params={"appID": APP_ID})) == {
        "calls": [c.to_json() for c in app.journal]
    }
    paged = ok(control.get("/journal", params={"order": "asc"}))
    assert [c["seq"] for c in paged["calls"]] == [0, 1, 2]
    assert paged["total"] == 3


def test_journal_newest_first_in_pages(client: InProcessClient, control: ControlPlane) -> None:  # noqa: F811
    calls(client, 7)
    first = ok(control.get("/journal", params={"order": "desc", "limit": 3}))
    assert ([c["seq"] for c in first["calls"]], first["total"]) == ([6, 5, 4], 7)
    second = ok(control.get("/journal", params={"order": "desc", "limit": 3, "offset": 3}))
    assert [c["seq"] for c in second["calls"]] == [3, 2, 1]
    # "before" keeps a reader's place however many calls arrive meanwhile.
    calls(client, 2)
    kept = ok(control.get("/journal", params={"order": "desc", "limit": 3, "offset": 3, "before": 7}))
    assert ([c["seq"] for c in kept["calls"]], kept["total"]) == ([3, 2, 1], 7)
    since = ok(control.get("/journal", params={"after": 6}))
    assert since["total"] == 2
    assert [c["seq"] for c in since["calls"]] == [7, 8]


def test_journal_status_and_rejected_filters(client: InProcessClient, control: ControlPlane) -> None:  # noqa: F811
    calls(client, 2)
    client.get("/1/sources/nope")
    client.post("/1/sources", json={"type": "json", "name": "bad", "input": {"url": 42}})
    rejected = ok(control.get("/journal", params={"rejected": "true", "order": "desc"}))
    assert [(c["seq"], c["status"]) for c in rejected["calls"]] == [(3, 400), (2, 404)]
    assert rejected["total"] == 2
    only_400 = ok(control.get("/journal", params={"status": 400}))["calls"]
    assert [c["response"]["message"][:16] for c in only_400] == ["body.input.url: "]
    # rejected=false selects the accepted calls (as journal.filter(rejected=False) does)
    accepted = ok(control.get("/journal", params={"rejected": "false"}))
    assert (accepted["total"], {c["status"] for c in accepted["calls"]}) == (2, {200})
    assert len(ok(control.get("/journal"))["calls"]) == 4


def test_journal_numbers_go_on_after_a_clear(
    app: MockApp,
    client: InProcessClient,
    control: ControlPlane,  # noqa: F811
) -> None:
    calls(client, 2)
    control.delete("/journal")
    calls(client, 1)
    assert [c["seq"] for c in ok(control.get("/journal", params={"order": "asc"}))["calls"]] == [2]


def test_journal_numbers_of_a_full_journal_stay_with_their_calls() -> None:
    from mockserver import create_app

    small = create_app(check_responses=True, journal_size=3)
    with (
        InProcessClient(small, headers={"x-algolia-application-id": APP_ID}) as client,
        InProcessClient(small) as bare,
    ):
        calls(client, 5)
        answer = ok(ControlPlane(bare).get("/journal", params={"order": "desc"}))
    assert [c["seq"] for c in answer["calls"]] == [4, 3, 2]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "query.limit: 0 is less than the minimum of 1"),
        ({"limit": "1001"}, "query.limit: 1001 is greater than the maximum of 1000"),
        ({"limit": "ten"}, "query.limit: 'ten' is not an integer"),
        ({"offset": "-1"}, "query.offset: -1 is less than the minimum of 0"),
        ({"status": "99"}, "query.status: 99 is less than the minimum of 100"),
        ({"before": "1e3"}, "query.before: '1e3' is not an integer"),
        ({"after": "--5"}, "query.after: '--5' is not an integer"),
        ({"order": "newest"}, "query.order: 'newest' is not one of ['asc', 'desc']"),
        ({"rejected": "yes"}, "query.rejected: 'yes' is not a boolean (true or false)"),
        ({"offset": "9" * 19}, "query.offset: '9999999999999999999' is not an integer"),
    ],
)
def test_journal_bad_parameters_are_refused(
    control: ControlPlane,  # noqa: F811
    params: dict[str, str],
    message: str,
) -> None:
    assert error(control.get("/journal", params=params)) == message


# --- the unpaged journal's bound -----------------------------------------------------------------

UNPAGED = 1000  # the calls one journal answer holds at most (written out: not read from the code)


def fill(app: MockApp, n: int, app_id: str = APP_ID) -> None:
    """Record ``n`` calls, numbered in their query (``?n=0`` first), straight into the journal."""
    for i in range(n):
        app.journal.record(Call("listSources", "GET", "/1/sources", app_id, query={"n": [str(i)]}))


def numbers(answer: dict[str, Any]) -> list[int]:
    return [int(c["query"]["n"][0]) for c in answer["calls"]]


def test_the_unpaged_journal_answers_every_call_up_to_its_bound(
    app: MockApp,
    control: ControlPlane,  # noqa: F811
) -> None:
    fill(app, UNPAGED)
    answer = ok(control.get("/journal"))
    assert set(answer) == {"calls"}  # all of them: nothing says it was cut
    assert numbers(answer) == list(range(UNPAGED))


def test_one_call_past_the_bound_the_unpaged_journal_keeps_the_newest_and_says_it_was_cut(
    app: MockApp,
    control: ControlPlane,  # noqa: F811
) -> None:
    fill(app, UNPAGED + 1)
    answer = ok(control.get("/journal"))
    assert numbers(answer) == list(range(1, UNPAGED + 1))  # the oldest left out; oldest first still
    assert answer["truncated"] == {"total": UNPAGED + 1, "kept": UNPAGED}


def test_the_unpaged_bound_counts_the_calls_its_filter_keeps(
    app: MockApp,
    control: ControlPlane,  # noqa: F811
) -> None:
    fill(app, UNPAGED, "OTHERAPP")
    fill(app, UNPAGED)
    answer = ok(control.get("/journal", params={"appID": APP_ID}))
    assert set(answer) == {"calls"}
    assert numbers(answer) == list(range(UNPAGED))


def test_a_page_holds_at_most_the_bound(
    app: MockApp,
    control: ControlPlane,  # noqa: F811
) -> None:
    fill(app, UNPAGED + 1)
    first = ok(control.get("/journal", params={"order": "asc"}))  # paged, no limit given
    assert ([c["seq"] for c in first["calls"]], first["total"]) == (list(range(UNPAGED)), UNPAGED + 1)
    newest = ok(control.get("/journal", params={"order": "desc", "limit": UNPAGED}))
    assert [c["seq"] for c in newest["calls"]] == list(range(UNPAGED, 0, -1))
    rest = ok(control.get("/journal", params={"order": "asc", "offset": UNPAGED}))
    assert [c["seq"] for c in rest["calls"]] == [UNPAGED]
