"""Faults on purpose, through the real process: CLI flags and the ``/__mock__/faults`` control plane."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig

from .conftest import API_KEY, APP_ID, Served, ServeFactory

TRIES = 20  # calls per "never" / "always" check


def timed_get(client: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def statuses(client: httpx.Client, path: str, count: int = TRIES) -> list[int]:
    return [client.get(path).status_code for _ in range(count)]


def add_fault(server: Served, body: dict[str, Any]) -> dict[str, Any]:
    with server.control() as control:
        response = control.post("/__mock__/faults", json=body)
        assert response.status_code == 200, response.text
        described: dict[str, Any] = response.json()
        return described


def raw_exchange(server: Served, path: str, timeout: float = 30.0) -> bytes:
    """Send one GET over a bare socket and return every byte the server sent before closing."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"x-algolia-application-id: {APP_ID}\r\nx-algolia-api-key: {API_KEY}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return received


def assert_dropped(server: Served, path: str) -> None:
    """The answer starts (status line) and then the connection is cut before the promised body."""
    with server.client() as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(path)
    received = raw_exchange(server, path)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), received
    headers = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    promised = int(headers[b"content-length"].strip())
    assert len(body) < promised, received


# --- through the control plane (one server for the module, reset around each test) ---------------


def test_fixed_latency_delays_every_answer(server: Served) -> None:
    add_fault(server, {"latency": 0.5})
    with server.client() as client:
        for path in ("/1/sources", "/1/destinations"):
            response, elapsed = timed_get(client, path)
            assert response.status_code == 200
            assert elapsed >= 0.5


def test_ranged_latency_is_at_least_the_minimum(server: Served) -> None:
    described = add_fault(server, {"operation": "listSources", "latency": [0.3, 0.6]})
    assert described["rules"][0]["latency"] == [0.3, 0.6]
    with server.client() as client:
        for _ in range(3):
            response, elapsed = timed_get(client, "/1/sources")
            assert response.status_code == 200
            assert elapsed >= 0.3


def test_latency_applies_only_to_the_named_operation(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "latency": 0.5})
    with server.client() as client:
        response, elapsed = timed_get(client, "/1/sources")
        assert response.status_code == 200
        assert elapsed >= 0.5
        assert client.get("/1/destinations").status_code == 200


def test_error_for_the_chosen_operation_only(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 503})
    with server.client() as client:
        assert statuses(client, "/1/sources") == [503] * TRIES
        response = client.get("/1/sources")
        assert response.json() == {
            "error": {"code": "service_unavailable"},
            "message": "Injected fault",
            "status": 503,
        }
        assert statuses(client, "/1/destinations") == [200] * TRIES


def test_error_message_is_configurable(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 500, "message": "the database is on fire"})
    with server.client() as client:
        response = client.get("/1/sources")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error"},
        "message": "the database is on fire",
        "status": 500,
    }


def test_error_for_every_operation(server: Served) -> None:
    add_fault(server, {"status": 502})
    with server.client() as client:
        assert client.get("/1/sources").status_code == 502
        assert client.post("/1/sources", json={"type": "push", "name": "x"}).status_code == 502
    # The control plane is never faulted.
    with server.control() as control:
        assert control.get("/__mock__/health").status_code == 200


def test_rate_zero_never_fires_and_rate_one_always_does(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 500, "rate": 0})
    add_fault(server, {"operation": "listDestinations", "status": 500, "rate": 1})
    with server.client() as client:
        assert statuses(client, "/1/sources") == [200] * TRIES
        assert statuses(client, "/1/destinations") == [500] * TRIES


def test_partial_rate_fires_sometimes(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 500, "rate": 0.5})
    with server.client() as client:
        seen = set(statuses(client, "/1/sources", 200))
    assert seen == {200, 500}  # both outcomes, with a chance of 2**-199 of a false failure


def test_next_n_calls_fail_then_the_rule_retires(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 503, "times": 2})
    with server.client() as client:
        assert statuses(client, "/1/sources", 4) == [503, 503, 200, 200]
    with server.control() as control:
        assert control.get("/__mock__/faults").json()["rules"] == []


def test_dropped_connection_cuts_the_answer_after_the_status_line(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "drop": True})
    assert_dropped(server, "/1/sources")
    # Other operations, and the server itself, are unaffected.
    with server.client() as client:
        assert client.get("/1/destinations").status_code == 200
    with server.control() as control:
        assert control.get("/__mock__/health").status_code == 200
        journal = control.get("/__mock__/journal", params={"operationId": "listSources"}).json()["calls"]
    assert journal, "dropped calls are journaled"


def test_rate_limit_answers_429_with_headers(server: Served) -> None:
    described = add_fault(server, {"rateLimit": {"limit": 3, "window": 60}})
    assert described["rateLimit"]["limit"] == 3
    with server.client() as client:
        assert statuses(client, "/1/sources", 3) == [200, 200, 200]
        limited = client.get("/1/destinations")
    assert limited.status_code == 429
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert limited.json()["status"] == 429
    assert "3" in limited.json()["message"]


def test_rate_limit_can_be_turned_off(server: Served) -> None:
    add_fault(server, {"rateLimit": {"limit": 1, "window": 60}})
    with server.client() as client:
        assert statuses(client, "/1/sources", 2) == [200, 429]
        add_fault(server, {"rateLimit": False})
        assert statuses(client, "/1/sources", 5) == [200] * 5


def test_injected_429_carries_retry_after(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 429, "retry_after": 7, "times": 1})
    with server.client() as client:
        response = client.get("/1/sources")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_delete_clears_every_fault(server: Served) -> None:
    add_fault(server, {"operation": "listSources", "status": 503})
    add_fault(server, {"operation": "listDestinations", "drop": True})
    add_fault(server, {"rateLimit": {"limit": 1, "window": 60}})
    with server.control() as control:
        listed = control.get("/__mock__/faults").json()
        assert len(listed["rules"]) == 2
        assert listed["rateLimit"] is not None
        cleared = control.delete("/__mock__/faults")
        assert cleared.status_code == 200
        assert cleared.json() == {"rules": [], "rateLimit": None}
    with server.client() as client:
        assert statuses(client, "/1/sources", 5) == [200] * 5
        assert statuses(client, "/1/destinations", 5) == [200] * 5


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"operation": "listSources", "status": 200}, id="not-an-error-status"),
        pytest.param({"operation": "listSources", "status": 500, "rate": 1.5}, id="rate-above-one"),
        pytest.param({"operation": "listSources", "status": 500, "times": 0}, id="times-zero"),
        pytest.param({"operation": "listSources"}, id="no-effect"),
        pytest.param({"latency": [2, 1]}, id="inverted-range"),
        pytest.param({"status": 500, "colour": "red"}, id="unknown-field"),
    ],
)
def test_bad_fault_rules_are_rejected_with_a_message(server: Served, body: dict[str, Any]) -> None:
    with server.control() as control:
        response = control.post("/__mock__/faults", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["message"]
        assert control.get("/__mock__/faults").json()["rules"] == []


# --- the real Python client against injected faults ---------------------------------------------


@pytest.fixture
def python_client(server: Served) -> Iterator[IngestionClientSync]:
    """IngestionClientSync with two Host entries for the same server, so it has a host to retry on."""
    config = IngestionConfig(APP_ID, API_KEY, "us")
    config.hosts = HostsCollection(
        [
            Host("127.0.0.1", scheme="http", port=server.port),
            Host("localhost", scheme="http", port=server.port),
        ]
    )
    client = IngestionClientSync.create_with_config(config)
    yield client
    client.close()


def journal_statuses(server: Served, operation_id: str) -> list[int]:
    with server.control() as control:
        calls = control.get("/__mock__/journal", params={"operationId": operation_id}).json()["calls"]
    return [int(call["status"]) for call in calls]


def test_python_client_retries_a_5xx_on_the_next_host(
    server: Served, python_client: IngestionClientSync
) -> None:
    with server.client() as client:
        assert client.post("/1/sources", json={"type": "push", "name": "feed"}).status_code == 200
    with server.control() as control:
        control.delete("/__mock__/journal").raise_for_status()
    add_fault(server, {"operation": "listSources", "status": 503, "times": 1})
    listed = python_client.list_sources()
    assert [s.name for s in listed.sources] == ["feed"]
    assert journal_statuses(server, "listSources") == [503, 200]


def test_python_client_waits_for_retry_after_on_429(
    server: Served, python_client: IngestionClientSync
) -> None:
    add_fault(server, {"operation": "listSources", "status": 429, "retry_after": 1, "times": 1})
    started = time.monotonic()
    listed = python_client.list_sources()
    elapsed = time.monotonic() - started
    assert listed.sources == []
    assert journal_statuses(server, "listSources") == [429, 200]
    assert elapsed >= 0.9  # it honoured Retry-After: 1


def test_python_client_fails_fast_on_a_4xx_fault(server: Served, python_client: IngestionClientSync) -> None:
    from algoliasearch.http.exceptions import RequestException

    add_fault(server, {"operation": "listSources", "status": 400, "message": "bad on purpose", "times": 1})
    with pytest.raises(RequestException) as raised:
        python_client.list_sources()
    assert raised.value.status_code == 400
    assert "bad on purpose" in str(raised.value)
    assert journal_statuses(server, "listSources") == [400]


# --- through the command line (a process per combination) ----------------------------------------


def test_cli_fixed_latency(serve: ServeFactory) -> None:
    server = serve("--latency", "0.4")
    with server.client() as client:
        for path in ("/1/sources", "/1/destinations"):
            response, elapsed = timed_get(client, path)
            assert response.status_code == 200
            assert elapsed >= 0.4


def test_cli_ranged_latency(serve: ServeFactory) -> None:
    server = serve("--latency", "0.2-0.5")
    with server.control() as control:
        assert control.get("/__mock__/faults").json()["rules"][0]["latency"] == [0.2, 0.5]
    with server.client() as client:
        for _ in range(3):
            response, elapsed = timed_get(client, "/1/sources")
            assert response.status_code == 200
            assert elapsed >= 0.2


def test_cli_errors_next_n_and_drops(serve: ServeFactory) -> None:
    server = serve(
        "--fail",
        "listSources:503",
        "--fail",
        "listAuthentications:502:1",
        "--fail-next",
        "listTransformations:504:2",
        "--drop",
        "listRuns",
    )  # fmt: skip  (a rate of 0 is refused: such a rule would never fire)
    with server.client() as client:
        assert statuses(client, "/1/sources") == [503] * TRIES
        assert client.get("/1/sources").json() == {
            "error": {"code": "service_unavailable"},
            "message": "Injected fault",
            "status": 503,
        }
        assert statuses(client, "/1/destinations") == [200] * TRIES
        assert statuses(client, "/1/authentications") == [502] * TRIES
        assert statuses(client, "/1/transformations", 4) == [504, 504, 200, 200]
        assert statuses(client, "/2/tasks", 5) == [200] * 5
    assert_dropped(server, "/1/runs")
    with server.client() as client:
        assert client.get("/1/destinations").status_code == 200


def test_cli_fail_for_every_operation(serve: ServeFactory) -> None:
    server = serve("--fail", "*:500")
    with server.client() as client:
        assert client.get("/1/sources").status_code == 500
        assert client.get("/1/destinations").status_code == 500
    with server.control() as control:
        assert control.get("/__mock__/health").status_code == 200
        # The control plane can lift CLI faults.
        control.delete("/__mock__/faults").raise_for_status()
    with server.client() as client:
        assert client.get("/1/sources").status_code == 200


def test_cli_rate_limit_enforces_the_documented_limit(serve: ServeFactory) -> None:
    server = serve("--rate-limit", "--access-log", "off")
    with server.client() as client:
        answered = statuses(client, "/1/sources", 200)
        assert answered == [200] * 200
        limited = client.get("/1/destinations")
        assert limited.status_code == 429
        assert limited.headers["X-RateLimit-Limit"] == "200"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert int(limited.headers["Retry-After"]) >= 1
        # Observability endpoints (runs, events) have their own budget.
        assert client.get("/1/runs").status_code == 200
