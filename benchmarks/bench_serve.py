"""Throughput of the standalone server: ``mockserver serve`` next to a bare Starlette app on uvicorn.

Run: ``python -m benchmarks.bench_serve [--seconds S] [--connections C] [--tool auto|wrk|python]``

Both servers are separate processes on 127.0.0.1, one uvicorn worker each, started the same way
(a socket bound by the process, ``uvicorn.Server(...).run(sockets=[...])``, no access log). Each is
loaded with ``C`` concurrent keep-alive connections for ``S`` seconds per case, after a short
warm-up: a read (``GET /1/sources?itemsPerPage=10`` with 50 sources seeded) and a write
(``POST /1/sources``). The bare endpoints answer the same JSON the mock answered. The load comes
from ``wrk`` when it is installed, else from a Python asyncio + httpx generator (which is slower
than the servers, so its numbers are a floor). On a small machine the load generator competes with
the server for the CPU: compare the ratios, not the absolute numbers, across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
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
READ_PATH = "/1/sources?itemsPerPage=10"
WRITE_PATH = "/1/sources"
WRITE_BODY = json.dumps({"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}})
START_TIMEOUT = 60.0
WARMUP_SECONDS = 1.0
_URL = re.compile(r"(http://127\.0\.0\.1:\d+)")


# --- the bare server (run in its own process with --serve-bare) ----------------------------------


def serve_bare(listing_file: str, created_file: str) -> int:
    """A bare Starlette app on uvicorn, served exactly as ``mockserver serve`` serves the mock."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    listing = json.loads(Path(listing_file).read_text(encoding="utf-8"))
    created = json.loads(Path(created_file).read_text(encoding="utf-8"))

    async def list_sources(request: Request) -> Response:
        return JSONResponse(listing)

    async def create_source(request: Request) -> Response:
        await request.json()
        return JSONResponse(created)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/1/sources", list_sources, methods=["GET"]),
            Route("/1/sources", create_source, methods=["POST"]),
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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


def start(name: str, command: list[str], folder: Path) -> Server:
    stderr_path = folder / f"{name}.stderr"
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


# --- load generators -----------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    failures: int  # non-2xx answers and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_load(url: str, method: str, path: str, seconds: float, connections: int, threads: int) -> Load:
    script = ["wrk.method = " + json.dumps(method)]
    for key, value in HEADERS.items():
        script.append(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}")
    if method == "POST":
        script.append('wrk.headers["Content-Type"] = "application/json"')
        script.append(f"wrk.body = {json.dumps(WRITE_BODY)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write("\n".join(script) + "\n")
    try:
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
                lua.name,
                f"{url}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    finally:
        os.unlink(lua.name)
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


async def _python_load(url: str, method: str, path: str, seconds: float, connections: int) -> Load:
    """``connections`` workers, each with its own keep-alive connection (one client per worker:
    httpx's shared pool gets slower, not faster, with 32 connections contending for it)."""
    headers = dict(HEADERS)
    content = WRITE_BODY.encode() if method == "POST" else None
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


def python_load(url: str, method: str, path: str, seconds: float, connections: int) -> Load:
    return asyncio.run(_python_load(url, method, path, seconds, connections))


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    server: str
    load: Load


def prepare_mock(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seed the mock with 50 sources; return its listing and a createSource answer, for the bare app."""
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        created: dict[str, Any] = {}
        for i in range(SEEDED_SOURCES):
            response = client.post(
                WRITE_PATH,
                json={"type": "json", "name": f"feed {i}", "input": {"url": f"https://example.com/{i}.json"}},
            )
            response.raise_for_status()
            created = response.json()
        listing = client.get(READ_PATH)
        listing.raise_for_status()
        body: dict[str, Any] = listing.json()
        assert body["pagination"]["nbItems"] == SEEDED_SOURCES, body["pagination"]
        return body, created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0, help="load per case, seconds (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--serve-bare", nargs=2, metavar=("LISTING", "CREATED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        return serve_bare(*args.serve_bare)

    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    if tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install -y wrk), or use --tool python")

    def load(url: str, method: str, path: str, seconds: float) -> Load:
        if tool == "wrk":
            return wrk_load(url, method, path, seconds, args.connections, args.threads)
        return python_load(url, method, path, seconds, args.connections)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        folder = Path(tmp)
        servers: list[Server] = []
        try:
            mock = start("mockserver serve", mockserver_command(), folder)
            servers.append(mock)
            listing, created = prepare_mock(mock.url)
            (folder / "listing.json").write_text(json.dumps(listing), encoding="utf-8")
            (folder / "created.json").write_text(json.dumps(created), encoding="utf-8")
            bare_command = [
                sys.executable,
                "-m",
                "benchmarks.bench_serve",
                "--serve-bare",
                str(folder / "listing.json"),
                str(folder / "created.json"),
            ]
            bare = start("bare Starlette", bare_command, folder)
            servers.append(bare)
            # Reads first: the writes grow the mock's store.
            cases = [
                ("read: GET /1/sources?itemsPerPage=10", "GET", READ_PATH),
                ("write: POST /1/sources", "POST", WRITE_PATH),
            ]
            for case, method, path in cases:
                for server in (bare, mock):
                    load(server.url, method, path, WARMUP_SECONDS)
                    rows.append(Row(case, server.name, load(server.url, method, path, args.seconds)))
        finally:
            for server in servers:
                server.stop()

    generator = (
        f"wrk, {args.threads} threads" if tool == "wrk" else "Python asyncio + httpx (a floor, not a ceiling)"
    )
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    print(
        f"Standalone server over loopback: {args.connections} connections, {args.seconds:g} s per case "
        f"after {WARMUP_SECONDS:g} s of warm-up, one uvicorn worker each ({http}, {loop} loop); "
        f"load: {generator}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end"
    )
    print()
    print(
        f"| {'case':<38} | {'server':<16} | {'req/s':>9} | {'requests':>8} | {'failed':>6} | {'vs bare':>7} |"
    )
    print(f"| {'-' * 38} | {'-' * 16} | {'-' * 8}:| {'-' * 7}:| {'-' * 5}:| {'-' * 6}:|")
    bare_rate = {row.case: row.load.per_second for row in rows if row.server == "bare Starlette"}
    for row in rows:
        base = bare_rate.get(row.case) or 0.0
        ratio = f"{row.load.per_second / base:.2f}x" if base else "-"
        print(
            f"| {row.case:<38} | {row.server:<16} | {row.load.per_second:>9,.0f} | "
            f"{row.load.requests:>8} | {row.load.failures:>6} | {ratio:>7} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
