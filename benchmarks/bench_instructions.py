"""Instructions per request, counted by valgrind's callgrind: the mock's in-process cost next to a
bare Starlette endpoint answering the same JSON, with no noise from the machine.

Run: ``python -m benchmarks.bench_instructions [--requests N] [--cases get,list,create,push]``

Timing on a shared machine moves by 10-20 % from run to run (see README.md); an instruction count
moves by less than 0.1 %. Each case runs in its own process under callgrind with its
instrumentation switched off while the app is built and warmed up (20 requests), then on for
exactly ``N`` requests (a push: ``N // 10``) through the ASGI face of ``bench_inprocess``, and off
again: the count is those requests' alone, the harness's scope, receive and send included (the
same for both apps). ``PYTHONHASHSEED=0`` makes the runs repeatable.

The count is not the time: a request that executes the same number of instructions but touches
more code and data misses more in the caches and branch predictors (the mock does, next to the
bare app). Use it to tell whether a change to the hot path removed work, before measuring its
time with ``bench_inprocess`` and ``bench_serve``. Needs ``valgrind`` (``apt-get install -y
valgrind``); about 15 s a case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

CASES = ("get", "list", "create", "push")
WARM_UP = 20  # requests before counting starts
PUSH_SHARE = 10  # a push counts requests // PUSH_SHARE of them
_COLLECTED = re.compile(r"Collected : (\d+)")


async def _run_child(case: str, requests: int, bare: bool) -> None:
    """In the process callgrind runs: build the app, warm it up, say "ready", count ``requests``
    calls once the parent has switched the instrumentation on, say "done"."""
    from benchmarks import bench_inprocess as inproc
    from mockserver.http.app import create_app
    from mockserver.http.process_memory import collect_less_often

    mock, ids = inproc.seeded_mock()
    creating = create_app(seed=2)
    pushing = await inproc.push_ready_mock()
    source_path = f"/1/sources/{ids[-1]}"
    calls: dict[str, Callable[[Any], Awaitable[tuple[int, bytes]]]] = {
        "get": lambda app: inproc.asgi_call(app, "GET", source_path),
        "list": lambda app: inproc.asgi_call(app, "GET", "/1/sources", query="itemsPerPage=10"),
        "create": lambda app: inproc.asgi_call(app, "POST", "/1/sources", inproc.SOURCE_BODY),
        "push": lambda app: inproc.asgi_call(app, "POST", "/1/push/products", inproc.PUSH_BODY),
    }
    apps = {"get": mock, "list": mock, "create": creating, "push": pushing}
    app: Any = apps[case]
    if bare:
        answers = {}
        for name in CASES:
            status, body = await calls[name](apps[name])
            assert status == 200, (name, status, body[:200])
            answers[name] = json.loads(body)
        app = inproc.bare_app(answers["get"], answers["list"], answers["create"], answers["push"])
    call = calls[case]
    for _ in range(WARM_UP):
        status, body = await call(app)
        assert status == 200, (case, status, body[:200])
    collect_less_often()  # as mockserver serve tunes its process
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(requests):
        await call(app)
    print("done", flush=True)
    sys.stdin.readline()


def count(case: str, requests: int, bare: bool) -> float:
    """Instructions per request of ``case`` (on the bare app with ``bare``)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={Path(folder) / 'callgrind.out'}",
            sys.executable,
            "-m",
            "benchmarks.bench_instructions",
            "--child",
            case,
            str(requests),
            "bare" if bare else "mock",
        ]
        env = dict(os.environ, PYTHONHASHSEED="0")
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"{case}: the measured process did not start:\n{process.communicate()[1]}")
            _control(process.pid, "on")
            process.stdin.write("\n")
            process.stdin.flush()
            if process.stdout.readline().strip() != "done":
                raise RuntimeError(f"{case}: the measured process failed:\n{process.communicate()[1]}")
            _control(process.pid, "off")
            process.stdin.write("\n")
            process.stdin.flush()
            _, errors = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    found = _COLLECTED.search(errors)
    if found is None:
        raise RuntimeError(f"{case}: callgrind reported no count:\n{errors[-2000:]}")
    return int(found.group(1)) / requests


def _control(pid: int, state: str) -> None:
    subprocess.run(["callgrind_control", "--instr=" + state, str(pid)], check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="requests counted per case (default 200)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "N", "APP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, requests, which = args.child
        asyncio.run(_run_child(case, int(requests), which == "bare"))
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {unknown[0]!r}; the cases are {', '.join(CASES)}")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench_instructions needs valgrind (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    print("| case | mock (k instructions / request) | bare Starlette | mock / bare |")
    print("| --- | ---: | ---: | ---: |")
    for case in cases:
        requests = max(1, args.requests // PUSH_SHARE) if case == "push" else args.requests
        mock, bare = count(case, requests, bare=False), count(case, requests, bare=True)
        print(f"| {case} | {mock / 1000:.1f} | {bare / 1000:.1f} | {mock / bare:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
