"""``mockserver`` as a user meets it: help, banner, errors in one line, signals, logs, options."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import TLS

from .conftest import API_KEY, APP_ID, ServeFactory, credentials, mockserver_command

SERVE_OPTIONS = (
    "--host",
    "--port",
    "--spec",
    "--fixtures",
    "--state-file",
    "--seed",
    "--max-body-bytes",
    "--app-id",
    "--api-key",
    "--runs",
    "--run-seconds",
    "--latency",
    "--fail",
    "--fail-next",
    "--drop",
    "--rate-limit",
    "--log-level",
    "--access-log",
)
COMMAND_TIMEOUT = 240.0  # `mockserver check` takes ~30 s alone on 2 cores, far more beside 3 busy workers


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``mockserver ARGS`` to completion (for commands that are expected to end by themselves)."""
    return subprocess.run(
        [*mockserver_command(), *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


PROGRESS = re.compile(
    r"^mockserver check: \d+/\d+ operations, \d+ requests, \d+ failures?, \d+ s elapsed "
    r"\((stateless cases|linked sequences|done)\)$"
)


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> str:
    """The command failed with ``status`` and said why on exactly one line, with no traceback
    (``mockserver check``'s progress lines before it aside)."""
    output = result.stderr + result.stdout
    assert result.returncode == status, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.strip() and not PROGRESS.match(line)]
    assert len(lines) == 1, f"expected a one-line error, got:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("mockserver: "), line
    for fragment in fragments:
        assert fragment in line, line
    return line


# --- help ---------------------------------------------------------------------------------------


def test_top_level_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mockserver")
    assert "serve" in result.stdout
    assert "check" in result.stdout
    assert "spec-path" in result.stdout
    assert "Algolia Ingestion and Search APIs" in result.stdout
    assert result.stderr == ""


def test_spec_path_prints_the_installed_specs() -> None:
    from mockserver.data import control_spec, ingestion_spec, search_spec

    ingestion = run_cli("spec-path")
    assert (ingestion.returncode, ingestion.stderr, ingestion.stdout) == (0, "", f"{ingestion_spec()}\n")
    search = run_cli("spec-path", "--search")
    assert (search.returncode, search.stderr, search.stdout) == (0, "", f"{search_spec()}\n")
    control = run_cli("spec-path", "--control")
    assert (control.returncode, control.stderr, control.stdout) == (0, "", f"{control_spec()}\n")
    assert Path(ingestion.stdout.strip()).is_file() and Path(control.stdout.strip()).is_file()
    assert "--control" in run_cli("spec-path", "--help").stdout


def test_spec_path_prints_schemathesis_s_configuration_expecting_400_for_valid_data() -> None:
    import tomllib

    from mockserver.data import schemathesis_config

    printed = run_cli("spec-path", "--schemathesis-config")
    assert (printed.returncode, printed.stderr, printed.stdout) == (0, "", f"{schemathesis_config()}\n")
    config = tomllib.loads(Path(printed.stdout.strip()).read_text(encoding="utf-8"))
    statuses = config["checks"]["positive_data_acceptance"]["expected-statuses"]
    assert "400" in statuses and "409" not in statuses, statuses
    both = run_cli("spec-path", "--control", "--schemathesis-config")
    assert both.returncode == 2 and "not allowed with" in both.stderr, both.stderr


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--contorl",), ("unknown option --contorl", "did you mean --control?")),
        (("ingestion.yaml",), ("unexpected argument 'ingestion.yaml'",)),
    ],
)
def test_spec_path_takes_no_other_argument(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_one_line_error(run_cli("spec-path", *args), 2, "spec-path: ", *fragments)


def test_serve_help_describes_every_option() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("usage: mockserver serve")
    for option in SERVE_OPTIONS:
        assert option in text, f"{option} is missing from 'mockserver serve --help'"
    # The defaults and the forms of the fault options are spelled out.
    for fragment in ("8787", "127.0.0.1", "OP:STATUS[:RATE]", "OP:STATUS:N", "off", "json", "SIGTERM"):
        assert fragment in text, f"{fragment!r} is missing from 'mockserver serve --help'"


def test_no_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage: mockserver" in result.stderr


# --- banner -------------------------------------------------------------------------------------


def test_banner_tells_the_url_and_how_to_point_both_clients(serve: ServeFactory) -> None:
    server = serve()
    banner = server.stderr()
    host, port = "127.0.0.1", server.port
    assert f"http://{host}:{port}" in banner
    assert "serving Ingestion and Search APIs" in banner
    assert f"HostsCollection([Host('{host}', scheme='http', port={port})])" in banner
    assert f"ingestionClient(appId, apiKey, 'us', {{ hosts: [{{ url: '{host}:{port}'" in banner
    assert "protocol: 'http'" in banner
    assert f"http://{host}:{port}/__mock__/" in banner
    assert "any non-empty app ID and API key" in banner


# --- one-line errors ----------------------------------------------------------------------------


def test_busy_port_is_a_one_line_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert_one_line_error(result, 1, f"127.0.0.1:{port}", "already in use")


# A --spec that cannot be used is a usage error (README: 2) for both commands, told before anything
# else happens: check does not contact the server (a closed port would make it exit 1).
SPEC_COMMANDS = {
    "serve": ("serve", "--port", "0"),
    "check": ("check", "--url", "http://127.0.0.1:1", "--max-examples", "1"),
}
UNUSABLE_SPECS = {
    "broken-yaml": ("openapi: 3.1.0\npaths: {/pets: [unclosed\n", "spec"),
    "not-openapi": ("just: a mapping\n", "not an OpenAPI document"),
    "a-list": ("- a\n- list\n", "not an OpenAPI document"),
    "binary": ("\x00\x01\x02", "cannot load the spec"),
    "dangling-ref": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n"
        "      responses: {'200': {$ref: '#/components/responses/Nope'}}\n",
        "$ref '#/components/responses/Nope' points to nothing: there is no 'components'",
    ),
}


@pytest.mark.parametrize("command", SPEC_COMMANDS)
def test_a_missing_spec_file_is_a_usage_error(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = run_cli(*SPEC_COMMANDS[command], "--spec", str(missing))
    assert_one_line_error(result, 2, "--spec: no such file", "nowhere.yaml")


@pytest.mark.parametrize("command", SPEC_COMMANDS)
def test_an_unreadable_spec_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = run_cli(*SPEC_COMMANDS[command], "--spec", str(tmp_path))  # a folder: cannot be read
    assert_one_line_error(result, 2, "--spec: cannot load the spec", "Is a directory")


@pytest.mark.parametrize("command", SPEC_COMMANDS)
@pytest.mark.parametrize("name", UNUSABLE_SPECS)
def test_a_spec_that_is_no_openapi_document_is_a_usage_error(tmp_path: Path, command: str, name: str) -> None:
    content, fragment = UNUSABLE_SPECS[name]
    spec = tmp_path / "bad-spec.yaml"
    spec.write_text(content, encoding="utf-8")
    result = run_cli(*SPEC_COMMANDS[command], "--spec", str(spec))
    assert_one_line_error(result, 2, "--spec: ", fragment)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        pytest.param(
            "paths:\n  /x:\n    get:\n      responses: {'200': {description: ok}}\n",
            ("schemathesis cannot load it", "Open API version"),
            id="no-openapi-version",
        ),
        pytest.param(
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
            ("it has no operation to check",),
            id="no-operation",
        ),
    ],
)
def test_a_spec_check_cannot_check_against_is_a_usage_error(
    tmp_path: Path, content: str, fragments: tuple[str, ...]
) -> None:
    spec = tmp_path / "thin-spec.yaml"
    spec.write_text(content, encoding="utf-8")
    result = run_cli(*SPEC_COMMANDS["check"], "--spec", str(spec))
    assert_one_line_error(result, 2, "--spec: ", str(spec), *fragments)


def test_missing_fixture_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "0", "--fixtures", str(tmp_path / "absent.yaml"))
    assert_one_line_error(result, 1, "absent.yaml")


def test_unknown_fixture_name_is_a_one_line_error() -> None:
    result = run_cli("serve", "--port", "0", "--fixtures", "no_such_data_set")
    assert_one_line_error(result, 1, "no_such_data_set")


def test_invalid_fixture_record_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    fixture = tmp_path / "broken.yaml"
    fixture.write_text(
        "sources:\n  - type: json\n    name: feed without its input\n    input: {url: 42}\n", encoding="utf-8"
    )
    line = assert_one_line_error(run_cli("serve", "--port", "0", "--fixtures", str(fixture)), 1)
    assert "broken.yaml" in line
    assert "fixtures" in line


def test_unparseable_fixture_file_is_a_one_line_error(tmp_path: Path) -> None:
    fixture = tmp_path / "garbled.yaml"
    fixture.write_text("sources: [unclosed\n", encoding="utf-8")
    line = assert_one_line_error(run_cli("serve", "--port", "0", "--fixtures", str(fixture)), 1)
    assert "garbled.yaml" in line


def test_app_id_without_api_key_is_a_usage_error() -> None:
    result = run_cli("serve", "--port", "0", "--app-id", "ONLYAPP")
    assert_one_line_error(result, 2, "--app-id", "--api-key")


def test_api_key_without_app_id_is_a_usage_error() -> None:
    result = run_cli("serve", "--port", "0", "--api-key", "only-key")
    assert_one_line_error(result, 2, "--app-id", "--api-key")


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--fail", "noSuchOperation:500", "noSuchOperation"),
        ("--fail", "listSources:200", "200"),
        ("--fail", "listSources:500:2", "rate"),
        ("--fail-next", "listSources:503", "OP:STATUS:N"),
        ("--drop", "listSources:often", "often"),
        ("--latency", "slow", "slow"),
    ],
)
def test_bad_fault_option_is_a_usage_error(option: str, value: str, fragment: str) -> None:
    result = run_cli("serve", "--port", "0", option, value)
    assert_one_line_error(result, 2, fragment)


# --- signals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_server_cleanly(serve: ServeFactory, sig: signal.Signals) -> None:
    server = serve()
    with server.client() as client:
        assert client.get("/1/sources").status_code == 200
    server.process.send_signal(sig)
    try:
        status = server.process.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{sig.name} did not stop the server within 30 s: {server.describe()}")
    stderr = server.stderr()
    assert "Traceback" not in stderr, stderr
    assert status == 0, f"{sig.name}: exit status {status}, expected 0; stderr:\n{stderr}"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/__mock__/health", timeout=5.0)


# --- access log ---------------------------------------------------------------------------------


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_for_json_lines(read: Any, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = json_lines(read())
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def test_json_access_log_is_one_object_per_request_without_secrets(serve: ServeFactory) -> None:
    server = serve("--access-log", "json")
    password = "pa55-w0rd-never-logged"
    with server.client() as client:
        created = client.post(
            "/1/authentications",
            json={
                "type": "basic",
                "name": "feed login",
                "input": {"username": "feeds", "password": password},
            },
        )
        assert created.status_code == 200, created.text
        auth_id = created.json()["authenticationID"]
        assert client.get(f"/1/authentications/{auth_id}").status_code == 200
        assert client.get("/1/sources", params={"itemsPerPage": 5}).status_code == 200
        assert client.get("/1/sources", params={"itemsPerPage": 0}).status_code == 400
    lines = wait_for_json_lines(server.stderr, 4)
    assert len(lines) == 4, server.stderr()
    for entry in lines:
        assert {"method", "path", "operationId", "status", "durationMs", "appID"} <= set(entry)
        assert entry["appID"] == APP_ID
        assert isinstance(entry["durationMs"], (int, float))
    assert [(e["method"], e["operationId"], e["status"]) for e in lines] == [
        ("POST", "createAuthentication", 200),
        ("GET", "getAuthentication", 200),
        ("GET", "listSources", 200),
        ("GET", "listSources", 400),
    ]
    assert lines[1]["path"] == f"/1/authentications/{auth_id}"
    assert lines[2]["query"] == {"itemsPerPage": ["5"]}
    stderr = server.stderr()
    assert password not in stderr
    assert API_KEY not in stderr


def test_text_access_log_is_the_default(serve: ServeFactory) -> None:
    server = serve()
    with server.client() as client:
        assert client.get("/1/sources").status_code == 200
    deadline = time.monotonic() + 30
    while "listSources" not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.01)
    line = next(line for line in server.stderr().splitlines() if "listSources" in line)
    assert line.startswith("GET /1/sources listSources 200 ")
    assert f"app={APP_ID}" in line


def test_access_log_off_logs_no_requests(serve: ServeFactory) -> None:
    server = serve("--access-log", "off")
    with server.client() as client:
        assert client.get("/1/sources").status_code == 200
        assert client.get("/1/destinations").status_code == 200
    assert server.stop() == 0  # all it wrote is in the file once it has exited
    stderr = server.stderr()
    assert "listSources" not in stderr
    assert "/1/destinations" not in stderr


# --- data and credentials -----------------------------------------------------------------------


def test_catalog_fixtures_are_seen_by_every_application(serve: ServeFactory) -> None:
    server = serve("--fixtures", "catalog")
    seen: dict[str, set[str]] = {}
    for app_id in ("FIRSTAPP", "SECONDAPP", "THIRDAPP"):
        with server.client(app_id=app_id) as client:
            response = client.get("/1/sources", params={"itemsPerPage": 100})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["pagination"]["nbItems"] == 5
            seen[app_id] = {s["sourceID"] for s in body["sources"]}
            assert len({s["type"] for s in body["sources"]}) == 5
    assert seen["FIRSTAPP"] == seen["SECONDAPP"] == seen["THIRDAPP"]
    # Each application owns its copy: a change in one is not seen by another.
    with server.client(app_id="FIRSTAPP") as first, server.client(app_id="SECONDAPP") as second:
        created = first.post("/1/sources", json={"type": "push", "name": "only in the first app"})
        assert created.status_code == 200, created.text
        assert first.get("/1/sources").json()["pagination"]["nbItems"] == 6
        assert second.get("/1/sources").json()["pagination"]["nbItems"] == 5
        assert second.get(f"/1/sources/{created.json()['sourceID']}").status_code == 404


def created_ids(server_url: str) -> list[str]:
    with httpx.Client(base_url=server_url, headers=credentials(), timeout=30.0, verify=TLS) as client:
        ids = []
        for i in range(3):
            response = client.post("/1/sources", json={"type": "push", "name": f"feed {i}"})
            assert response.status_code == 200, response.text
            ids.append(response.json()["sourceID"])
        response = client.post(
            "/1/destinations", json={"type": "search", "name": "products", "input": {"indexName": "products"}}
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["destinationID"])
    return ids


def test_seed_makes_ids_deterministic_across_runs(serve: ServeFactory) -> None:
    first = serve("--seed", "42")
    ids_first = created_ids(first.url)
    first.stop()
    second = serve("--seed", "42")
    ids_second = created_ids(second.url)
    assert ids_first == ids_second
    assert len(set(ids_first)) == len(ids_first)
    other = serve("--seed", "43")
    assert created_ids(other.url) != ids_first


def test_without_seed_ids_differ_across_runs(serve: ServeFactory) -> None:
    first, second = serve(), serve()
    assert created_ids(first.url) != created_ids(second.url)


def test_strict_credentials_accept_only_the_configured_pair(serve: ServeFactory) -> None:
    server = serve("--app-id", "STRICTAPP", "--api-key", "strict-key")
    assert "only the configured app ID and API key" in server.stderr()
    with server.client(app_id="STRICTAPP", api_key="strict-key") as client:
        assert client.get("/1/sources").status_code == 200
    for app_id, api_key in [("STRICTAPP", "wrong-key"), ("OTHERAPP", "strict-key"), ("OTHERAPP", "wrong")]:
        with server.client(app_id=app_id, api_key=api_key) as client:
            response = client.get("/1/sources")
            assert response.status_code == 403, (app_id, api_key, response.text)
            body = response.json()
            assert (body["message"], body["status"]) == ("Invalid Application-Id or API-Key", 403)
            assert body["error"]["code"] in ("forbidden", "invalid_credentials")
    with server.control() as anonymous:
        assert anonymous.get("/1/sources").status_code == 403
    assert "strict-key" not in server.stderr()  # the banner and the access log never show the key


def test_default_credentials_accept_any_non_empty_pair(serve: ServeFactory) -> None:
    server = serve()
    with server.client(app_id="ANY", api_key="thing") as client:
        assert client.get("/1/sources").status_code == 200
    with server.client(app_id="", api_key="thing") as client:
        assert client.get("/1/sources").status_code == 403


def test_max_body_bytes_rejects_larger_bodies(serve: ServeFactory) -> None:
    server = serve("--max-body-bytes", "200")
    with server.client() as client:
        small = client.post("/1/sources", json={"type": "push", "name": "small"})
        assert small.status_code == 200, small.text
        big = client.post("/1/sources", json={"type": "push", "name": "x" * 500})
        assert big.status_code == 413, big.text
        assert "200" in big.json()["message"]


def test_deferred_runs_take_the_configured_time(serve: ServeFactory) -> None:
    server = serve("--runs", "deferred", "--run-seconds", "3600")
    with server.client() as client:
        source = client.post("/1/sources", json={"type": "push", "name": "feed"}).json()["sourceID"]
        destination = client.post(
            "/1/destinations", json={"type": "search", "name": "dest", "input": {"indexName": "products"}}
        ).json()["destinationID"]
        task = client.post(
            "/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "replace"}
        )
        assert task.status_code == 200, task.text
        run = client.post(f"/2/tasks/{task.json()['taskID']}/run")
        assert run.status_code == 200, run.text
        fetched = client.get(f"/1/runs/{run.json()['runID']}")
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["status"] != "finished"


def test_api_key_is_never_printed(serve: ServeFactory) -> None:
    server = serve("--app-id", APP_ID, "--api-key", API_KEY)
    assert API_KEY not in server.stderr()


# --- usage errors: one line, exit 2, the flag named, a suggestion when one is close ----------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            ("serve", "--prot", "8000"), ("unknown option --prot", "did you mean --port?"), id="serve"
        ),
        pytest.param(
            ("serve", "--port", "0", "--fixturs=catalog"), ("did you mean --fixtures?",), id="with-equals"
        ),
        pytest.param(
            ("check", "--url", "http://127.0.0.1:1", "--max-exmaples", "2"),
            ("did you mean --max-examples?",),
            id="check",
        ),
        pytest.param(("serv",), ("did you mean serve?",), id="command"),
        pytest.param(("serve", "--runs", "deferd"), ("--runs", "did you mean deferred?"), id="choice"),
    ],
)
def test_a_mistyped_name_gets_a_suggestion(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_one_line_error(run_cli(*args), 2, *fragments)


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("createSorce:503", "createSource"),
        ("listsources:500:0.5", "listSources"),
        ("pushTaks:503", "pushTask"),
    ],
)
def test_a_mistyped_operation_in_a_fault_flag_gets_a_suggestion(value: str, suggestion: str) -> None:
    line = assert_one_line_error(run_cli("serve", "--port", "0", "--fail", value), 2, f"--fail {value}")
    assert f"did you mean {suggestion}?" in line


@pytest.mark.parametrize(
    ("option", "value", "fragments"),
    [
        ("--fail", "createSource:abc", ("STATUS 'abc' is not an HTTP status code", "OP:STATUS[:RATE]")),
        ("--fail", "createSource:503:often", ("'often'", "between 0 and 1", "OP:STATUS[:RATE]")),
        ("--fail", ":503", ("OP is empty",)),
        ("--fail-next", "createSource:503:x", ("N 'x'", "OP:STATUS:N")),
        ("--fail-next", "createSource:abc:2", ("STATUS 'abc'", "OP:STATUS:N")),
        ("--drop", "push:often", ("'often'", "OP[:RATE]")),
        ("--drop", "push:0", ("never fires", "OP[:RATE]")),
        ("--latency", "1-x", ("--latency", "MIN-MAX")),
        ("--latency", "0.5-0.1", ("--latency", "MIN must be at most MAX")),
    ],
)
def test_a_malformed_fault_value_names_the_flag_and_the_form(
    option: str, value: str, fragments: tuple[str, ...]
) -> None:
    line = assert_one_line_error(run_cli("serve", "--port", "0", option, value), 2, option, *fragments)
    assert "invalid literal" not in line


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--port", "99999"), ("--port", "0-65535")),
        (("--port", "http"), ("--port", "not a port number")),
        (("--max-body-bytes", "0"), ("--max-body-bytes", "at least 1")),
        (("--run-seconds", "-1", "--runs", "deferred"), ("--run-seconds", "positive number of seconds")),
        (("--seed", "x"), ("--seed", "whole number")),
    ],
)
def test_a_malformed_serve_value_names_the_flag_and_the_form(
    args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(run_cli("serve", *args), 2, *fragments)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--run-seconds", "5"), ("--run-seconds", "--runs deferred")),
        (("--runs", "immediate", "--run-seconds", "5"), ("--run-seconds", "--runs deferred")),
        (("--app-id", "ONLY"), ("--app-id without --api-key",)),
        (("--app-id", "", "--api-key", "k"), ("must not be empty",)),
    ],
)
def test_options_that_would_do_nothing_are_refused_with_the_reason(
    args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(run_cli("serve", "--port", "0", *args), 2, *fragments)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--url", "localhost:8787"), ("--url", "http://")),
        (("--url", "http://127.0.0.1:1", "--max-examples", "0"), ("--max-examples", "at least 1")),
        (("--url", "http://127.0.0.1:1", "--min-coverage", "2"), ("--min-coverage", "between 0 and 1")),
        ((), ("--url",)),
    ],
)
def test_a_malformed_check_value_is_a_one_line_usage_error(
    args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(run_cli("check", *args), 2, *fragments)


def test_check_help_says_what_it_runs_and_when_it_fails() -> None:
    result = run_cli("check", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "By default it runs stateless cases for every operation" in text
    assert "and then linked sequences along the spec's links (stateful)" in text
    assert "--no-stateful runs the stateless cases only" in text
    assert "--min-coverage" in text and "(default: 0.2;" in text
    assert "refused the credentials" in text


def test_faults_from_flags_returns_the_rules() -> None:
    from mockserver.engine.faults import FaultRule
    from mockserver.flags import CliError, faults_from_flags

    operations = {"createSource", "push"}
    rules = faults_from_flags(
        fail=["createSource:503:0.5"],
        fail_next=["*:500:2"],
        drop=["push"],
        latency="0.1-0.2",
        operations=operations,
    )
    assert rules == [
        FaultRule(latency=(0.1, 0.2)),
        FaultRule(operation="createSource", status=503, rate=0.5),
        FaultRule(operation=None, status=500, times=2),
        FaultRule(operation="push", drop=True),
    ]
    with pytest.raises(CliError, match="did you mean push") as raised:
        faults_from_flags(drop=["puhs"], operations=operations)
    assert raised.value.status == 2
