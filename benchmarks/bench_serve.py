"""Throughput of the standalone server: ``mockserver serve`` next to a bare Starlette app on uvicorn.

Run: ``python -m benchmarks.bench_serve [--seconds S] [--rounds R] [--connections C] [--threads T]``

Both servers are separate processes on 127.0.0.1, one uvicorn worker each, started the same way
(a socket bound by the process with IPPROTO_TCP so asyncio sets TCP_NODELAY,
``uvicorn.Server(...).run(sockets=[...])``, log level warning, no access log). Each is loaded with
``C`` concurrent keep-alive connections for ``S`` seconds per case, after a short warm-up, the
seconds split into ``R`` rounds that alternate between the two servers (so that whatever else the
machine does meanwhile hits both alike):

- ``listSources``: ``GET /1/sources?itemsPerPage=10`` with 51 sources stored;
- ``getSource``: ``GET /1/sources/{sourceID}``;
- ``push``: ``POST /1/push/products`` of 1,000 records (the same 1,000 objectIDs every time),
  through the one push task that targets the index;
- ``createSource``: ``POST /1/sources`` (last: it grows the mock's store).

The bare endpoints answer the same JSON the mock answered (the POSTs parse their body first).
Between cases the mock's journal is emptied (``DELETE /__mock__/journal``, untimed), so the push
bodies it keeps do not pile up. The load comes from ``wrk`` when it is installed, else from a
Python asyncio + httpx generator (slower than the servers, so its numbers are a floor). On a small
machine the load generator (and anything else running) competes with the server for the CPU:
compare the ratios, not the absolute numbers, across machines. The last column, the CPU time the
server process used per request (from /proc), does not depend on that competition.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only
APP_ID = "BENCHAPP"
API_KEY = "bench-key"
HEADERS = {"x-algolia-application-id": APP_ID, "x-algolia-api-key": API_KEY}
SEEDED_SOURCES = 50
INDEX = "products"
SOURCE_BODY = json.dumps({"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}})
PUSH_BODY = json.dumps(
    {
        "action": "addObject",
        "records": [{"objectID": f"sku-{i}", "name": f"Product {i}", "price": i} for i in range(1000)],
    }
)
START_TIMEOUT = 60.0
WARMUP_SECONDS = 1.0
_URL = re.compile(r"(http://127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class Case:
    name: str  # the operation: listSources, getSource, push, createSource
    label: str  # the request, for the table
    method: str
    path: str  # "{sourceID}" is replaced by a seeded source's ID
    body: str | None = None


CASES = (
    Case("listSources", "GET /1/sources?itemsPerPage=10", "GET", "/1/sources?itemsPerPage=10"),
    Case("getSource", "GET /1/sources/{sourceID}", "GET", "/1/sources/{sourceID}"),
    Case("push", f"POST /1/push/{INDEX} (1,000 records)", "POST", f"/1/push/{INDEX}", PUSH_BODY),
    Case("createSource", "POST /1/sources", "POST", "/1/sources", SOURCE_BODY),
)


# --- the bare server (run in its own process with --serve-bare) ----------------------------------


def serve_bare(answers_file: str) -> int:
    """A bare Starlette app on uvicorn, served exactly as ``mockserver serve`` serves the mock.

    ``answers_file`` holds the JSON each endpoint answers (keys: the operation names of CASES).
    """
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    answers: dict[str, Any] = json.loads(Path(answers_file).read_text(encoding="utf-8"))

    async def list_sources(request: Request) -> Response:
        return JSONResponse(answers["listSources"])

    async def get_source(request: Request) -> Response:
        return JSONResponse(answers["getSource"])

    async def create_source(request: Request) -> Response:
        await request.json()
        return JSONResponse(answers["createSource"])

    async def push(request: Request) -> Response:
        await request.json()
        return JSONResponse(answers["push"])

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/1/sources", list_sources, methods=["GET"]),
            Route("/1/sources", create_source, methods=["POST"]),
            Route("/1/sources/{sourceID}", get_source, methods=["GET"]),
            Route("/1/push/{indexName}", push, methods=["POST"]),
            Route("/__mock__/health", health, methods=["GET"]),
        ]
    )
    # IPPROTO_TCP, as mockserver binds: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    print(f"bare Starlette on http://{HOST}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    stderr_path: Path
    url: str = ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def rss_kib(self) -> int:
        """The process's resident set size (VmRSS), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no VmRSS for {self.name} (pid {self.process.pid})")
        return int(match.group(1))

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


def start(name: str, command: list[str], folder: Path) -> Server:
    stderr_path = folder / f"{name.replace(' ', '-')}.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )
    server = Server(name, process, stderr_path)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not server.url:
            match = _URL.search(server.stderr())
            if match:
                server.url = match.group(1)
            elif process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{server.stderr()}")
            else:
                time.sleep(0.05)
        while True:
            try:
                if httpx.get(f"{server.url}/__mock__/health", timeout=5).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} is not healthy:\n{server.stderr()}")
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise


def mockserver_command() -> list[str]:
    script = Path(sys.executable).with_name("mockserver")
    found = str(script) if script.exists() else shutil.which("mockserver")
    base = [found] if found else [sys.executable, "-m", "mockserver.cli"]
    return [*base, "serve", "--host", HOST, "--port", "0", "--access-log", "off", "--log-level", "warning"]


def bare_command(answers_file: Path) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_serve", "--serve-bare", str(answers_file)]


# --- load generators -----------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    failures: int  # non-2xx answers and socket errors
    server_cpu: float = 0.0  # CPU seconds the server process used meanwhile (when measured)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per request: the throughput ceiling (1 / this) if it had a whole CPU to itself."""
        return self.server_cpu / self.requests * 1e3 if self.requests else 0.0


def wrk_load(
    url: str, method: str, path: str, body: str | None, seconds: float, connections: int, threads: int
) -> Load:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        folder = Path(tmp)
        script = ["wrk.method = " + json.dumps(method)]
        for key, value in HEADERS.items():
            script.append(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}")
        if body is not None:
            (folder / "body.json").write_text(body, encoding="utf-8")
            script.append('wrk.headers["Content-Type"] = "application/json"')
            script.append(f'local f = assert(io.open({json.dumps(str(folder / "body.json"))}, "rb"))')
            script.append('wrk.body = f:read("*a")')
            script.append("f:close()")
        (folder / "script.lua").write_text("\n".join(script) + "\n", encoding="utf-8")
        duration = max(1, round(seconds))
        result = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                str(folder / "script.lua"),
                f"{url}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
    out = result.stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s|m)\b", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    unit = {"s": 1.0, "ms": 0.001, "m": 60.0}[total.group(3)]
    failures = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        failures += int(non_2xx.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        failures += sum(int(n) for n in errors.groups())
    return Load(int(total.group(1)), float(total.group(2)) * unit, failures)


async def _python_load(
    url: str, method: str, path: str, body: str | None, seconds: float, connections: int
) -> Load:
    """``connections`` workers, each with its own keep-alive connection (one client per worker:
    httpx's shared pool gets slower, not faster, with 32 connections contending for it)."""
    headers = dict(HEADERS)
    content = body.encode() if body is not None else None
    if content is not None:
        headers["content-type"] = "application/json"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=10.0)
        for _ in range(connections)
    ]
    done = 0
    failures = 0
    try:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal done, failures
            while time.perf_counter() < deadline:
                try:
                    response = await client.request(method, path, content=content)
                    if 200 <= response.status_code < 300:
                        done += 1
                    else:
                        failures += 1
                except httpx.HTTPError:
                    failures += 1

        await asyncio.gather(*(worker(client) for client in clients))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return Load(done + failures, elapsed, failures)


def python_load(url: str, method: str, path: str, body: str | None, seconds: float, connections: int) -> Load:
    return asyncio.run(_python_load(url, method, path, body, seconds, connections))


def pick_tool(tool: str) -> str:
    """``auto`` -> wrk when it is installed, else python."""
    if tool == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if tool == "wrk" and not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install -y wrk), or use --tool python")
    return tool


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    server: str  # "bare Starlette" or "mockserver serve"
    load: Load


Post = Callable[[str, object], dict[str, Any]]


def poster(client: httpx.Client) -> Post:
    """POST a JSON body, fail on any error status, answer the JSON."""

    def post(path: str, body: object) -> dict[str, Any]:
        response = client.post(path, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    return post


def make_push_pipeline(post: Post, index: str) -> None:
    """A push source, a destination on ``index`` and the task linking them, so /1/push/{index} works."""
    source = post("/1/sources", {"type": "push", "name": "push"})
    destination = post("/1/destinations", {"type": "search", "name": index, "input": {"indexName": index}})
    post(
        "/2/tasks",
        {"sourceID": source["sourceID"], "destinationID": destination["destinationID"], "action": "save"},
    )


def prepare_mock(url: str) -> tuple[dict[str, Any], str]:
    """Give the mock a push task on INDEX and 50 json sources; return what each case answered
    (for the bare app) and the ID of a source to get."""
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        post = poster(client)
        make_push_pipeline(post, INDEX)
        created: dict[str, Any] = {}
        for i in range(SEEDED_SOURCES):
            created = post(
                "/1/sources",
                {"type": "json", "name": f"feed {i}", "input": {"url": f"https://example.com/{i}.json"}},
            )
        source_id = str(created["sourceID"])
        answers: dict[str, Any] = {"createSource": created}
        for case in CASES:
            if case.method == "GET":
                response = client.get(case.path.replace("{sourceID}", source_id))
                response.raise_for_status()
                answers[case.name] = response.json()
        assert answers["listSources"]["pagination"]["nbItems"] == SEEDED_SOURCES + 1
        answers["push"] = post(f"/1/push/{INDEX}", json.loads(PUSH_BODY))
        return answers, source_id


def quick_warmup(url: str, case: Case, path: str, requests: int = 50) -> None:
    """A few requests of ``case`` (instead of a timed warm-up load)."""
    headers = {**HEADERS, "content-type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for _ in range(requests):
            client.request(case.method, path, content=case.body).raise_for_status()


def run_throughput(
    seconds: float = 5.0,
    connections: int = 32,
    threads: int = 1,
    tool: str = "auto",
    warmup: float = WARMUP_SECONDS,
    log: Callable[[str], None] | None = None,
    rounds: int = 5,
) -> list[Row]:
    """Start both servers, load each with every case, ``seconds`` each in ``rounds`` alternating
    rounds (bare, mock, bare, ...) after a warm-up (``warmup`` seconds of load, or 50 requests when
    it is 0); stop them."""
    tool = pick_tool(tool)

    def load(url: str, case: Case, path: str, duration: float) -> Load:
        if tool == "wrk":
            return wrk_load(url, case.method, path, case.body, duration, connections, threads)
        return python_load(url, case.method, path, case.body, duration, connections)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        folder = Path(tmp)
        servers: list[Server] = []
        try:
            mock = start("mockserver serve", mockserver_command(), folder)
            servers.append(mock)
            answers, source_id = prepare_mock(mock.url)
            (folder / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
            bare = start("bare Starlette", bare_command(folder / "answers.json"), folder)
            servers.append(bare)
            for case in CASES:
                path = case.path.replace("{sourceID}", source_id)
                if log is not None:
                    log(f"{case.name}: warm-up, then {rounds} alternating rounds")
                for server in (bare, mock):
                    if warmup > 0:
                        load(server.url, case, path, warmup)
                    else:
                        quick_warmup(server.url, case, path)
                # Alternate the two servers in rounds, so that whatever else the machine does
                # meanwhile hits both alike; each row sums its rounds.
                totals = {server.name: Load(0, 0.0, 0) for server in (bare, mock)}
                for _ in range(rounds):
                    for server in (bare, mock):
                        cpu_before = server.cpu_seconds()
                        measured = load(server.url, case, path, seconds / rounds)
                        total = totals[server.name]
                        total.server_cpu += server.cpu_seconds() - cpu_before
                        total.requests += measured.requests
                        total.seconds += measured.seconds
                        total.failures += measured.failures
                rows += [Row(case, name, total) for name, total in totals.items()]
                httpx.delete(f"{mock.url}/__mock__/journal", timeout=30).raise_for_status()
        finally:
            for server in servers:
                server.stop()
    return rows


def setup_line(
    seconds: float, connections: int, threads: int, tool: str, rounds: int = 5, warmup: float = WARMUP_SECONDS
) -> str:
    generator = (
        f"wrk, {threads} thread{'s' if threads != 1 else ''}"
        if tool == "wrk"
        else "Python asyncio + httpx (a floor, not a ceiling)"
    )
    from mockserver.http.connections import auto_stack

    loop, http = auto_stack()
    return (
        f"{connections} connections, {seconds:g} s per case and server "
        f"({rounds} alternating round{'s' if rounds != 1 else ''}) "
        f"after {f'{warmup:g} s of' if warmup > 0 else '50 requests of'} warm-up, "
        f"one uvicorn worker each ({http}, {loop} loop), load: {generator}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="load per case, seconds (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating rounds the seconds are split into (default 5)"
    )
    parser.add_argument("--serve-bare", metavar="ANSWERS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        return serve_bare(args.serve_bare)
    try:
        tool = pick_tool(args.tool)
    except RuntimeError as error:
        parser.error(str(error))

    rows = run_throughput(args.seconds, args.connections, args.threads, tool, rounds=args.rounds)
    setup = setup_line(args.seconds, args.connections, args.threads, tool, args.rounds)
    print(
        f"Standalone server over loopback: {setup}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print()
    print(
        f"| {'case':<44} | {'server':<16} | {'req/s':>9} | {'requests':>8} | {'failed':>6} | {'vs bare':>7} "
        f"| {'server CPU ms/req':>17} |"
    )
    print(f"| {'-' * 44} | {'-' * 16} | {'-' * 8}:| {'-' * 7}:| {'-' * 5}:| {'-' * 6}:| {'-' * 16}:|")
    bare_rate = {row.case.name: row.load.per_second for row in rows if row.server == "bare Starlette"}
    for row in rows:
        base = bare_rate.get(row.case.name) or 0.0
        ratio = f"{row.load.per_second / base:.2f}x" if base else "-"
        case = f"{row.case.name}: {row.case.label}"
        print(
            f"| {case:<44} | {row.server:<16} | {row.load.per_second:>9,.0f} | "
            f"{row.load.requests:>8} | {row.load.failures:>6} | {ratio:>7} | "
            f"{row.load.cpu_ms_per_request:>17.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
