"""Transformations through the ASGI app: create, PUT (full replace), delete, listing and search."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.engine.assumptions import note
from mockserver.http.inprocess import InProcessClient
from tests.helpers import OMIT, listed_ids, make_authentication, make_transformation, ok
from tests.helpers import refused as error

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CODE = "async function transform(record) { return record; }"


# A transformation and an authentication as the tests here make them: fields given replace these
# (OMIT: leave the field out).
create = partial(make_transformation, name="t", code=CODE)
make_auth = partial(make_authentication, type="apiKey", name="a", input={"key": "transformation-secret"})
list_ids = partial(listed_ids, path="/1/transformations")


def test_create_with_code_and_get(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    created = ok(client.post("/1/transformations", json={"name": "t", "code": CODE, "description": "d"}))
    transformation_id = created["transformationID"]
    assert str(uuid.UUID(transformation_id)) == transformation_id
    assert created == {"transformationID": transformation_id, "createdAt": "2026-01-01T00:00:00Z"}
    got = ok(client.get(f"/1/transformations/{transformation_id}"))
    assert got["transformationID"] == transformation_id
    assert got["name"] == "t"
    assert got["code"] == CODE
    assert got["description"] == "d"
    assert got.get("type", "code") == "code"
    assert got["createdAt"] == got["updatedAt"] == "2026-01-01T00:00:00Z"


def test_create_with_input_code(client: InProcessClient) -> None:
    transformation_id = ok(
        client.post("/1/transformations", json={"name": "t", "type": "code", "input": {"code": CODE}})
    )["transformationID"]
    got = ok(client.get(f"/1/transformations/{transformation_id}"))
    assert got["code"] == CODE
    assert got["input"] == {"code": CODE}


def test_create_no_code(client: InProcessClient) -> None:
    steps = [{"kind": "rename", "from": "a", "to": "b"}]
    transformation_id = create(client, type="noCode", input={"steps": steps}, code=OMIT)
    got = ok(client.get(f"/1/transformations/{transformation_id}"))
    assert got["type"] == "noCode"
    assert got["input"] == {"steps": steps}


def test_code_transformation_needs_code(client: InProcessClient) -> None:
    message = error(client.post("/1/transformations", json={"name": "t"}), 400)
    assert message == "body: needs 'input' or 'code' " + note("transformation-input-follows-type")


def test_no_code_transformation_needs_steps(client: InProcessClient) -> None:
    message = error(client.post("/1/transformations", json={"name": "t", "type": "noCode"}), 400)
    assert message == (
        "body: 'input' is a required property (rule for type 'noCode') "
        + note("transformation-input-follows-type")
    )


def test_code_type_with_steps_input_is_400(client: InProcessClient) -> None:
    message = error(
        client.post("/1/transformations", json={"name": "t", "type": "code", "input": {"steps": []}}),
        400,
    )
    assert message.startswith("body.input")


def test_put_replaces_everything(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    auth_id = make_auth(client)
    transformation_id = create(client, description="to be dropped", authenticationIDs=[auth_id])
    app.store.clock.advance(5)
    updated = ok(
        client.put(f"/1/transformations/{transformation_id}", json={"name": "new name", "code": "x"})
    )
    assert updated == {"transformationID": transformation_id, "updatedAt": "2026-01-01T00:00:05Z"}
    got = ok(client.get(f"/1/transformations/{transformation_id}"))
    assert got["name"] == "new name"
    assert got["code"] == "x"
    assert "description" not in got
    assert "authenticationIDs" not in got
    assert got["createdAt"] == "2026-01-01T00:00:00Z"
    assert got["updatedAt"] == "2026-01-01T00:00:05Z"
    # The authentication is no longer used, so it can go.
    ok(client.delete(f"/1/authentications/{auth_id}"))


def test_put_can_switch_to_no_code(client: InProcessClient) -> None:
    transformation_id = create(client)
    ok(
        client.put(
            f"/1/transformations/{transformation_id}",
            json={"name": "t", "type": "noCode", "input": {"steps": [{"op": "x"}]}},
        )
    )
    got = ok(client.get(f"/1/transformations/{transformation_id}"))
    assert got["type"] == "noCode"
    assert got["input"] == {"steps": [{"op": "x"}]}


def test_put_needs_the_required_fields(client: InProcessClient) -> None:
    transformation_id = create(client, description="kept")
    message = error(client.put(f"/1/transformations/{transformation_id}", json={"code": "x"}), 400)
    assert "'name' is a required property" in message
    assert ok(client.get(f"/1/transformations/{transformation_id}"))["description"] == "kept"


def test_patch_is_not_allowed(client: InProcessClient) -> None:
    transformation_id = create(client)
    error(client.patch(f"/1/transformations/{transformation_id}", json={"name": "x"}), 405)


def test_unknown_authentication_ids_are_400(client: InProcessClient) -> None:
    auth_id = make_auth(client)
    message = error(
        client.post(
            "/1/transformations", json={"name": "t", "code": CODE, "authenticationIDs": [auth_id, "ghost"]}
        ),
        400,
    )
    assert message.startswith("body.authenticationIDs")
    assert "ghost" in message
    assert list_ids(client) == []
    transformation_id = create(client)
    message = error(
        client.put(
            f"/1/transformations/{transformation_id}",
            json={"name": "t", "code": CODE, "authenticationIDs": ["ghost"]},
        ),
        400,
    )
    assert message.startswith("body.authenticationIDs")


def test_delete_then_get_is_404(client: InProcessClient) -> None:
    transformation_id = create(client)
    assert RFC3339.fullmatch(ok(client.delete(f"/1/transformations/{transformation_id}"))["deletedAt"])
    assert transformation_id in error(client.get(f"/1/transformations/{transformation_id}"), 404)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_id_is_404(client: InProcessClient, method: str) -> None:
    kwargs: dict[str, Any] = {"json": {"name": "x", "code": CODE}} if method == "PUT" else {}
    assert "nope" in error(client.request(method, "/1/transformations/nope", **kwargs), 404)


def test_secrets_of_linked_authentications_do_not_leak(client: InProcessClient) -> None:
    auth_id = make_auth(client)
    transformation_id = create(client, authenticationIDs=[auth_id])
    for response in (
        client.get(f"/1/transformations/{transformation_id}"),
        client.get("/1/transformations"),
        client.post("/1/transformations/search", json={"transformationIDs": [transformation_id]}),
    ):
        ok(response)
        assert "transformation-secret" not in response.text


# --- listing ----------------------------------------------------------------------------------


def test_empty_list_has_one_page(client: InProcessClient) -> None:
    assert ok(client.get("/1/transformations")) == {
        "transformations": [],
        "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10},
    }


def test_pagination(client: InProcessClient) -> None:
    ids = [create(client, name=f"t{i}") for i in range(25)][::-1]
    for page, expected in [(1, ids[0:10]), (2, ids[10:20]), (3, ids[20:]), (4, [])]:
        result = ok(client.get("/1/transformations", params={"page": page}))
        assert [t["transformationID"] for t in result["transformations"]] == expected
        assert result["pagination"] == {"nbPages": 3, "page": page, "nbItems": 25, "itemsPerPage": 10}


def test_filter_by_type(client: InProcessClient) -> None:
    code = create(client)
    no_code = create(client, type="noCode", input={"steps": []}, code=OMIT)
    assert list_ids(client, type="code") == [code]
    assert list_ids(client, type="noCode") == [no_code]
    assert error(client.get("/1/transformations", params={"type": "python"}), 400).startswith("query.type")


def test_sort_keys_and_order(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    b = create(client, name="bravo")
    app.store.clock.advance(1)
    a = create(client, name="alpha")
    app.store.clock.advance(1)
    c = create(client, name="charlie")
    app.store.clock.advance(1)
    ok(client.put(f"/1/transformations/{b}", json={"name": "bravo", "code": CODE}))
    assert list_ids(client) == [c, a, b]
    assert list_ids(client, order="asc") == [b, a, c]
    assert list_ids(client, sort="name", order="asc") == [a, b, c]
    assert list_ids(client, sort="name", order="desc") == [c, b, a]
    assert list_ids(client, sort="updatedAt", order="asc") == [a, c, b]
    assert list_ids(client, sort="updatedAt", order="desc") == [b, c, a]
    assert error(client.get("/1/transformations", params={"sort": "type"}), 400).startswith("query.sort")


# --- search -----------------------------------------------------------------------------------


def test_search_by_ids(client: InProcessClient) -> None:
    a, b = create(client, name="a"), create(client, name="b")
    found = ok(client.post("/1/transformations/search", json={"transformationIDs": [a, "nope"]}))
    assert found == [ok(client.get(f"/1/transformations/{a}"))]
    assert b not in {t["transformationID"] for t in found}


def test_a_try_runs_its_code_outside_the_stores_lock(app: MockApp) -> None:
    """Issue 21: a spinning try held the store-wide lock, so every other application waited."""
    engine = app.engine
    spin = {"code": "async function transform(r) { while (true) {} }", "sampleRecord": {"objectID": "1"}}
    answers: list[Any] = []
    thread = threading.Thread(
        target=lambda: answers.append(engine.execute(engine.request("tryTransformation", "SPIN", body=spin)))
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not engine.store.app_busy("SPIN"):  # the try holds its application's lock once begun
            assert time.monotonic() < deadline, "the try never started"
            time.sleep(0.01)
        time.sleep(0.1)  # its code is spinning now (1 s of CPU before it is stopped)
        got = engine.store.lock.acquire(timeout=0.3)
        if got:
            engine.store.lock.release()
        assert got, "the store's lock was held while the try's code ran"
    finally:
        thread.join(timeout=60)
    assert answers[0].status == 200
    assert answers[0].body["error"]["code"] == 408
