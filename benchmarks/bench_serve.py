"""Throughput of the standalone server: ``mockserver serve`` next to a bare Starlette app and a
raw ASGI floor, all three served alike.

Run: ``python -m benchmarks.bench_serve [--rounds R] [--round-seconds S] [--connections C] [--threads T]``

The three servers are separate processes on 127.0.0.1, each served by the very function
``mockserver serve`` uses (:func:`mockserver.cli.serve_asgi`: one uvicorn worker on a socket bound
with IPPROTO_TCP, the same uvicorn config, loop and parser, the same process tuning, head-size
limit and log filters, log level warning, no access log), so a ratio between them measures the
apps, not two ways of serving them:

- ``mockserver serve``;
- ``bare Starlette``: a Starlette app whose endpoints answer the JSON the mock answered (the POSTs
  parse their body first) -- the baseline the targets are set against;
- ``raw ASGI``: a plain ASGI callable answering the same JSON, encoded per request with msgspec
  (the POSTs decode their body with msgspec) -- the floor: what any app costs on this server.

The cases, each loaded with ``C`` concurrent keep-alive connections:

- ``listSources``: ``GET /1/sources?itemsPerPage=10`` with 51 sources stored;
- ``getSource``: ``GET /1/sources/{sourceID}``;
- ``push``: ``POST /1/push/products`` of 1,000 records (the same 1,000 objectIDs every time),
  through the one push task that targets the index;
- ``createSource``: ``POST /1/sources`` (last: it grows the mock's store).

Each case is measured in ``R`` rounds after a warm-up; a round loads each server for ``S`` seconds,
one after the other (the order rotates from round to round), so whatever else the machine does
meanwhile hits all three alike. A round gives one ratio per pair (mock / bare Starlette, mock /
raw ASGI, in req/s); the result is the **median of the rounds' ratios**, every round's ratio shown
beside it. Between cases the mock's journal is emptied (``DELETE /__mock__/journal``, untimed).

The load comes from ``wrk`` when it is installed, else from a Python asyncio + httpx generator
(slower than the servers, so its numbers are a floor). The load generator runs on the same machine:
compare the ratios, not the absolute numbers, across runs. Also shown: the CPU time each server
process used per request (from /proc), the load average at the start and at the end, and how much
CPU the machine's other processes used meanwhile (/proc/stat, less this benchmark's own processes);
a warning says when either shows a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
ROUNDS = 7  # the default; at least 5 (python -m benchmarks --quick runs 5)
ROUND_SECONDS = 1.0  # one server's load in one round (wrk counts whole seconds)
_URL = re.compile(r"(http://127\.0\.0\.1:\d+)")

MOCK = "mockserver serve"
BARE = "bare Starlette"
FLOOR = "raw ASGI"
SERVERS = (BARE, FLOOR, MOCK)  # the first round's order; each round starts one further on
BASELINES = (BARE, FLOOR)  # what the mock is compared with: the target's baseline, then the floor


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


# --- the baseline servers (each run in its own process with --serve-baseline) --------------------


def starlette_app(answers: dict[str, Any]) -> Any:
    """Plain Starlette endpoints answering ``answers`` (keys: the operation names of CASES)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

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

    return Starlette(
        routes=[
            Route("/1/sources", list_sources, methods=["GET"]),
            Route("/1/sources", create_source, methods=["POST"]),
            Route("/1/sources/{sourceID}", get_source, methods=["GET"]),
            Route("/1/push/{indexName}", push, methods=["POST"]),
            Route("/__mock__/health", health, methods=["GET"]),
        ]
    )


def raw_asgi_app(answers: dict[str, Any]) -> Any:
    """The floor: a plain ASGI callable answering ``answers``, JSON encoded per request (and POST
    bodies decoded) with msgspec; no framework, no routing table, no validation."""
    import msgspec

    encode = msgspec.json.encode
    decode = msgspec.json.decode
    not_found = {"message": "not found", "status": 404}

    async def read_body(receive: Any) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        status = 200
        if method == "GET" and path == "/1/sources":
            answer = answers["listSources"]
        elif method == "GET" and path.startswith("/1/sources/"):
            answer = answers["getSource"]
        elif method == "POST" and path == "/1/sources":
            decode(await read_body(receive))
            answer = answers["createSource"]
        elif method == "POST" and path.startswith("/1/push/"):
            decode(await read_body(receive))
            answer = answers["push"]
        elif path == "/__mock__/health":
            answer = {"status": "ok"}
        else:
            status, answer = 404, not_found
        body = encode(answer)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


BASELINE_APPS: dict[str, Callable[[dict[str, Any]], Any]] = {BARE: starlette_app, FLOOR: raw_asgi_app}


def serve_baseline(name: str, answers_file: str, plain: bool = False) -> int:
    """Serve the baseline app ``name`` exactly as ``mockserver serve`` serves the mock
    (:func:`mockserver.cli.serve_asgi`, default connection settings).

    ``plain``: on a bare ``uvicorn.Server`` instead, importing nothing of mockserver (whose serving
    code brings the whole package along, ~10 MB): the idle-memory baseline of ``bench_scale``.
    """
    answers: dict[str, Any] = json.loads(Path(answers_file).read_text(encoding="utf-8"))
    app = BASELINE_APPS[name](answers)
    # IPPROTO_TCP, as mockserver binds: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    print(f"{name} on http://{HOST}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    if plain:
        import uvicorn

        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        uvicorn.Server(config).run(sockets=[sock])
        return 0
    from mockserver.cli import serve_asgi
    from mockserver.settings import MockSettings

    serve_asgi(app, sock, MockSettings(), "warning")
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


def baseline_command(answers_file: Path, name: str = BARE, plain: bool = False) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.bench_serve", "--serve-baseline", name, str(answers_file)]
    return [*command, "--plain"] if plain else command


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


# --- how busy the machine is ------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU seconds all the machine's CPUs have spent busy since boot (/proc/stat: everything but
    idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [
            int(v) for v in stat.readline().split()[1:9]
        ]  # user nice system idle iowait irq softirq steal
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds this process and its reaped children (the wrk runs) have used."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Machine:
    """The machine around a run: load averages, and the CPU its other processes used meanwhile."""

    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    load_start: float = field(default_factory=lambda: os.getloadavg()[0])
    load_end: float = 0.0
    others_cpu: float = 0.0  # CPU seconds used by processes other than the benchmark's, while loading
    loaded_seconds: float = 0.0  # wall seconds of load those were measured over

    @property
    def others_share(self) -> float:
        """The other processes' average use while loading, in CPUs (1.0: one CPU kept busy)."""
        return self.others_cpu / self.loaded_seconds if self.loaded_seconds else 0.0

    def busy(self) -> list[str]:
        """Why the numbers of this run are suspect (empty: a quiet machine).

        At the start nothing of the benchmark runs yet: a load average of half the CPUs means
        others keep that much busy. At the end the benchmark itself accounts for about two
        runnable processes (the load generator and a server)."""
        reasons = []
        if self.load_start >= self.cpus / 2:
            reasons.append(f"load average {self.load_start:.1f} at the start on {self.cpus} CPUs")
        if self.load_end >= 2 + self.cpus / 2:
            reasons.append(f"load average {self.load_end:.1f} at the end (the run itself makes about 2)")
        if self.others_share >= 0.25:
            reasons.append(f"other processes used {self.others_share:.2f} CPUs meanwhile")
        return reasons

    def line(self) -> str:
        text = (
            f"{self.cpus} CPUs, load average {self.load_start:.1f} at the start and {self.load_end:.1f} "
            f"at the end; other processes used {self.others_share:.2f} CPUs on average while loading"
        )
        reasons = self.busy()
        if reasons:
            text += (
                "\nWARNING: the machine is busy ("
                + "; ".join(reasons)
                + "): the req/s are unsteady; read the ratios of the alternating rounds, not the req/s"
            )
        return text


# --- the run -------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    """One case: every round's load of every server (round by round, in SERVERS' names)."""

    case: Case
    rounds: list[dict[str, Load]] = field(default_factory=list)
    others: list[float] = field(default_factory=list)  # CPUs other processes used, round by round

    def ratios(self, baseline: str) -> list[float]:
        """The mock's req/s over ``baseline``'s, round by round."""
        return [
            r[MOCK].per_second / r[baseline].per_second if r[baseline].per_second else 0.0
            for r in self.rounds
        ]

    def ratio(self, baseline: str) -> float:
        """The median of the rounds' ratios."""
        return statistics.median(self.ratios(baseline))

    def cpu_ratios(self, baseline: str) -> list[float]:
        """``baseline``'s server CPU per request over the mock's, round by round: the req/s ratio
        the two would have with a CPU each to themselves (steadier than req/s on a busy machine)."""
        return [
            r[baseline].cpu_ms_per_request / r[MOCK].cpu_ms_per_request if r[MOCK].cpu_ms_per_request else 0.0
            for r in self.rounds
        ]

    def cpu_ratio(self, baseline: str) -> float:
        return statistics.median(self.cpu_ratios(baseline))

    def per_second(self, server: str) -> float:
        """The median of the server's rounds, req/s."""
        return statistics.median(r[server].per_second for r in self.rounds)

    def total(self, server: str) -> Load:
        """All the server's rounds together (requests, failures, CPU)."""
        loads = [r[server] for r in self.rounds]
        return Load(
            sum(x.requests for x in loads),
            sum(x.seconds for x in loads),
            sum(x.failures for x in loads),
            sum(x.server_cpu for x in loads),
        )


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
    rounds: int = ROUNDS,
    round_seconds: float = ROUND_SECONDS,
    connections: int = 32,
    threads: int = 1,
    tool: str = "auto",
    warmup: float = WARMUP_SECONDS,
    log: Callable[[str], None] | None = None,
    machine: Machine | None = None,
) -> list[CaseResult]:
    """Start the three servers, load each with every case in ``rounds`` rounds of ``round_seconds``
    (servers alternating within a round) after a warm-up (``warmup`` seconds of load per server, or
    50 requests when it is 0); stop them. ``machine`` is filled in as the run goes."""
    tool = pick_tool(tool)
    machine = machine if machine is not None else Machine()

    def load(url: str, case: Case, path: str, duration: float) -> Load:
        if tool == "wrk":
            return wrk_load(url, case.method, path, case.body, duration, connections, threads)
        return python_load(url, case.method, path, case.body, duration, connections)

    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        folder = Path(tmp)
        servers: dict[str, Server] = {}
        try:
            mock = servers[MOCK] = start(MOCK, mockserver_command(), folder)
            answers, source_id = prepare_mock(mock.url)
            (folder / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
            for name in BASELINES:
                servers[name] = start(name, baseline_command(folder / "answers.json", name), folder)
            for case in CASES:
                path = case.path.replace("{sourceID}", source_id)
                if log is not None:
                    log(f"{case.name}: warm-up, then {rounds} rounds alternating the servers")
                for server in servers.values():
                    if warmup > 0:
                        load(server.url, case, path, warmup)
                    else:
                        quick_warmup(server.url, case, path)
                result = CaseResult(case)
                for number in range(rounds):
                    order = SERVERS[number % len(SERVERS) :] + SERVERS[: number % len(SERVERS)]
                    measured: dict[str, Load] = {}
                    others_before, loaded_before = machine.others_cpu, machine.loaded_seconds
                    for name in order:
                        server = servers[name]
                        cpu_before = [s.cpu_seconds() for s in servers.values()]
                        own_before, busy_before = own_seconds(), machine_busy_seconds()
                        measured[name] = load(server.url, case, path, round_seconds)
                        cpu_used = [
                            s.cpu_seconds() - b for s, b in zip(servers.values(), cpu_before, strict=True)
                        ]
                        measured[name].server_cpu = cpu_used[list(servers).index(name)]
                        ours = sum(cpu_used) + own_seconds() - own_before
                        machine.others_cpu += max(0.0, machine_busy_seconds() - busy_before - ours)
                        machine.loaded_seconds += measured[name].seconds
                    result.rounds.append(measured)
                    loaded = machine.loaded_seconds - loaded_before
                    result.others.append((machine.others_cpu - others_before) / loaded if loaded else 0.0)
                results.append(result)
                if log is not None:
                    log(
                        f"{case.name}: mock / {BARE} "
                        + " ".join(f"{r:.2f}" for r in result.ratios(BARE))
                        + f", median {result.ratio(BARE):.2f}"
                    )
                httpx.delete(f"{mock.url}/__mock__/journal", timeout=30).raise_for_status()
        finally:
            for server in servers.values():
                server.stop()
    machine.load_end = os.getloadavg()[0]
    return results


def ratio_lines(results: list[CaseResult]) -> list[str]:
    """Every round's ratio and their median, one line per case and baseline: in req/s, and in
    server CPU per request (the baseline's over the mock's)."""
    lines = []
    for result in results:
        busy = " ".join(f"{cpus:.2f}" for cpus in result.others)
        lines.append(f"{result.case.name}: CPUs other processes used, round by round: {busy}")
        for baseline in BASELINES:
            rounds = " ".join(f"{r:.2f}" for r in result.ratios(baseline))
            cpu = " ".join(f"{r:.2f}" for r in result.cpu_ratios(baseline))
            lines.append(
                f"{result.case.name}: mock / {baseline}, req/s round by round: {rounds}; "
                f"median {result.ratio(baseline):.2f}x"
            )
            lines.append(
                f"{result.case.name}: mock / {baseline}, by CPU per request: {cpu}; "
                f"median {result.cpu_ratio(baseline):.2f}x"
            )
    return lines


def setup_line(
    rounds: int,
    round_seconds: float,
    connections: int,
    threads: int,
    tool: str,
    warmup: float = WARMUP_SECONDS,
) -> str:
    generator = (
        f"wrk, {threads} thread{'s' if threads != 1 else ''}"
        if tool == "wrk"
        else "Python asyncio + httpx (a floor, not a ceiling)"
    )
    from mockserver.http.connections import auto_stack

    loop, http = auto_stack()
    return (
        f"{connections} connections; per case, {f'{warmup:g} s of' if warmup > 0 else '50 requests of'} "
        f"warm-up per server, then {rounds} rounds of {round_seconds:g} s per server, the servers "
        f"alternating (order rotated each round); each served by mockserver.cli.serve_asgi, one "
        f"uvicorn worker ({http}, {loop} loop); load: {generator}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"alternating rounds per case (default {ROUNDS})"
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=ROUND_SECONDS,
        help=f"seconds of load per server in a round (default {ROUND_SECONDS:g}; wrk counts whole seconds)",
    )
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--serve-baseline", nargs=2, metavar=("NAME", "ANSWERS"), help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        name, answers_file = args.serve_baseline
        return serve_baseline(name, answers_file, plain=args.plain)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        tool = pick_tool(args.tool)
    except RuntimeError as error:
        parser.error(str(error))

    machine = Machine()
    results = run_throughput(
        args.rounds,
        args.round_seconds,
        args.connections,
        args.threads,
        tool,
        log=lambda m: print(f"[bench_serve] {m}", file=sys.stderr, flush=True),
        machine=machine,
    )
    setup = setup_line(args.rounds, args.round_seconds, args.connections, args.threads, tool)
    print(f"Standalone server over loopback: {setup}")
    print(machine.line())
    print()
    print(
        f"| {'case':<44} | {'server':<16} | {'median req/s':>12} | {'requests':>8} | {'failed':>6} "
        f"| {'server CPU ms/req':>17} |"
    )
    print(f"| {'-' * 44} | {'-' * 16} | {'-' * 11}:| {'-' * 7}:| {'-' * 5}:| {'-' * 16}:|")
    for result in results:
        case = f"{result.case.name}: {result.case.label}"
        for name in SERVERS:
            total = result.total(name)
            print(
                f"| {case:<44} | {name:<16} | {result.per_second(name):>12,.0f} | {total.requests:>8} | "
                f"{total.failures:>6} | {total.cpu_ms_per_request:>17.3f} |"
            )
    print()
    print("\n".join(ratio_lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
