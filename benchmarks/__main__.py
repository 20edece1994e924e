"""Every benchmark of issues 8 and 15 in one run, printed as one table: ``python -m benchmarks``.

Options: ``--quick`` (a short run, ~2 minutes), ``--only SECTION`` (repeatable, or
comma-separated: serve, inprocess, client, startup, scale, strategies, memory, shared, sandbox).

Each row is one measure; where a bare Starlette equivalent (or another reference measured in the
same run) exists, it is the baseline and ``ratio`` is value / baseline. ``met?`` checks the
issue's targets. Progress goes to stderr, the table to stdout. A section that fails prints an
``error`` row and the run goes on (exit status 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from mockserver.engine.store import FAMILIES
from mockserver.http.app import create_app
from mockserver.http.connections import auto_stack

from . import (
    bench_client,
    bench_inprocess,
    bench_plugin,
    bench_sandbox,
    bench_scale,
    bench_serve,
    bench_shared,
)

SECTIONS = ("serve", "inprocess", "client", "startup", "scale", "strategies", "memory", "shared", "sandbox")
PRISM_RSS_MB = 170.0


@dataclass(frozen=True)
class Target:
    on: Literal["value", "ratio"]
    op: Literal["<", "<=", ">="]
    limit: float
    label: str
    below_baseline: bool = False  # also: the value must be below the baseline (ratio < 1)

    def met(self, value: float, ratio: float | None) -> bool | None:
        measured = value if self.on == "value" else ratio
        if measured is None or (self.below_baseline and ratio is None):
            return None
        if self.below_baseline and ratio is not None and ratio >= 1:
            return False
        if self.op == "<":
            return measured < self.limit
        if self.op == "<=":
            return measured <= self.limit
        return measured >= self.limit


@dataclass
class Measure:
    section: str
    name: str
    value: float
    unit: str  # req/s, µs, ms, s, MB, /s, x; "error" for a section that failed
    baseline: float | None = None
    baseline_name: str = ""
    target: Target | None = None
    note: str = ""  # appended to the value, e.g. failed requests
    failed: bool = False  # the measurement itself is suspect (failed requests): never "met"
    # The ratio when it is not value / baseline: the median of alternating rounds' ratios.
    median_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.median_ratio is not None:
            return self.median_ratio
        return self.value / self.baseline if self.baseline else None

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.failed:
            return False
        return self.target.met(self.value, self.ratio)


@dataclass
class Run:
    quick: bool
    measures: list[Measure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # printed under the table

    def add(self, measure: Measure) -> None:
        self.measures.append(measure)


def progress(message: str) -> None:
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


def fmt(value: float, unit: str) -> str:
    if unit in ("req/s", "/s"):
        return f"{value:,.0f} {unit}"
    if unit == "ms" and value < 1:
        return f"{value:.3f} ms"
    if unit in ("µs", "ms"):
        return f"{value:,.1f} {unit}" if value < 10_000 else f"{value:,.0f} {unit}"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "MB":
        return f"{value:,.1f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "error":
        return "failed"
    return f"{value:g} {unit}"


# --- sections ------------------------------------------------------------------------------------


SERVE_ROUNDS = 7  # alternating rounds per case (--quick: 5), 1 s of load per server each


def section_serve(run: Run) -> None:
    machine = bench_serve.Machine()
    results = bench_serve.run_throughput(
        rounds=5 if run.quick else SERVE_ROUNDS,
        round_seconds=1.0,
        connections=32,
        threads=1,
        warmup=0.0 if run.quick else 1.0,
        log=lambda m: progress(f"serve: {m}"),
        machine=machine,
    )
    for result in results:
        mock = result.total(bench_serve.MOCK)
        for baseline in bench_serve.BASELINES:
            base = result.total(baseline)
            target = None
            if baseline == bench_serve.BARE:
                target = (
                    Target("ratio", ">=", 0.8, ">= 0.80x bare")
                    if result.case.name == "push"
                    else Target("ratio", ">=", 0.75, ">= 0.75x bare")
                )
            failures = mock.failures + base.failures
            run.add(
                Measure(
                    "serve",
                    f"{result.case.name}: {result.case.label}"
                    + ("" if target else f" (vs the {baseline} floor)"),
                    result.per_second(bench_serve.MOCK),
                    "req/s",
                    result.per_second(baseline),
                    f"{baseline}; {base.cpu_ms_per_request:.2f} ms CPU/req",
                    target,
                    note=f" ({mock.cpu_ms_per_request:.2f} ms CPU/req, "
                    f"{result.cpu_ratio(baseline):.2f}x by CPU)"
                    + (f" ({failures} failed)" if failures else ""),
                    failed=failures > 0,
                    median_ratio=result.ratio(baseline),
                )
            )
    run.notes.append(
        "serve: req/s are the medians of the rounds; each ratio is the median of the rounds' ratios:"
    )
    run.notes += [f"  {line}" for line in bench_serve.ratio_lines(results)]
    run.notes.append(f"serve: {machine.line()}")


def section_inprocess(run: Run) -> None:
    requests, repeats = (150, 3) if run.quick else (500, 7)
    rows = asyncio.run(bench_inprocess.inprocess_rows(requests, repeats, time.process_time))
    by_name = {row.operation: row for row in rows}
    targeted = ("getSource", "listSources (10 of 25)", "createSource")
    for row in rows:
        if row.bare is None:
            continue
        base = by_name[row.bare]
        target = Target("ratio", "<=", 2.0, "<= 2x bare") if row.operation in targeted else None
        if row.operation.startswith("searchSingleIndex"):  # issue 23: a median under 5 ms
            limit = bench_inprocess.SEARCH_TARGET_MS * 1000
            target = Target("value", "<", limit, f"< {bench_inprocess.SEARCH_TARGET_MS:g} ms")
        run.add(Measure("inprocess", row.operation, row.micros, "µs", base.micros, base.operation, target))


def section_client(run: Run) -> None:
    requests, repeats = (100, 3) if run.quick else (300, 7)
    costs = {cost.path: cost for cost in bench_client.client_costs(requests, repeats)}
    socket = costs[bench_client.SOCKET]
    socket_name = f"httpx over a socket, {socket.wall_ms:.2f} ms wall"
    for path, cost in costs.items():
        if path == bench_client.SOCKET:
            continue
        target = (
            Target("value", "<=", 0.2, "<= 0.2 ms, below the socket", below_baseline=True)
            if path == bench_client.INPROCESS
            else None
        )
        run.add(
            Measure(
                "client",
                f"one getSource through {path} (CPU time)",
                cost.cpu_ms,
                "ms",
                socket.cpu_ms,
                socket_name,
                target,
                note=f" ({cost.wall_ms:.2f} ms wall)",
            )
        )


IMPORT_AND_SPEC = """
import time
t0 = time.perf_counter()
import mockserver
t1 = time.perf_counter()
mockserver.load_spec()
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, t2 - t0)
"""

IMPORT_STARLETTE = """
import time
t = time.perf_counter()
import starlette.applications, starlette.responses, starlette.routing
print(time.perf_counter() - t)
"""

SESSION_MOCK = """
import time
t = time.perf_counter()
import mockserver
server = mockserver.LiveServer(mockserver.create_app()).start()
took = time.perf_counter() - t
server.stop()
print(took)
"""

SESSION_BARE = """
import time
t = time.perf_counter()
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from mockserver.http.live_server import LiveServer

async def endpoint(request):
    return JSONResponse({"ok": True})

server = LiveServer(Starlette(routes=[Route("/{p:path}", endpoint)])).start()
took = time.perf_counter() - t
server.stop()
print(took)
"""


def section_startup(run: Run) -> None:
    runs = 2 if run.quick else 5
    progress("startup: per-test reset")
    template = bench_plugin.populated_accounts()
    resources = sum(len(account.family(name)) for account in template.values() for name in FAMILIES)
    app = create_app()
    reset_us = bench_plugin.bench_reset(app, template, 50 if run.quick else 200)
    run.add(
        Measure(
            "startup",
            f"per-test reset: control.reset() of {resources:,} resources",
            reset_us,
            "µs",
            target=Target("value", "<", 1000.0, "< 1 ms"),
        )
    )
    progress("startup: pytest session with ingestion_mock tests")
    gaps = bench_plugin.bench_per_test(200 if run.quick else 1000, 5 if run.quick else 20)
    run.add(
        Measure(
            "startup",
            "per-test cost in pytest: test using ingestion_mock (reset x2 + set-up)",
            gaps["mock"],
            "µs",
            gaps["plain"],
            "a test with no fixture",
            Target("value", "<", gaps["plain"] + 1000.0, "< +1 ms over baseline"),
        )
    )
    progress("startup: import and spec load, fresh interpreters")
    imported, spec, both = bench_inprocess.fresh_process_values(IMPORT_AND_SPEC, runs)
    starlette = bench_inprocess.fresh_process_seconds(IMPORT_STARLETTE, runs)
    run.add(
        Measure("startup", "import mockserver", imported * 1e3, "ms", starlette * 1e3, "import starlette")
    )
    run.add(Measure("startup", "spec load: mockserver.load_spec(), first call", spec * 1e3, "ms"))
    run.add(
        Measure(
            "startup",
            "import mockserver + load_spec()",
            both,
            "s",
            target=Target("value", "<", 0.1, "< 0.1 s"),
        )
    )
    progress("startup: session start-up, fresh interpreters")
    session = bench_inprocess.fresh_process_seconds(SESSION_MOCK, runs)
    bare_session = bench_inprocess.fresh_process_seconds(SESSION_BARE, runs)
    run.add(
        Measure(
            "startup",
            "session start-up: import + create_app() + LiveServer serving",
            session,
            "s",
            bare_session,
            "bare Starlette on LiveServer",
        )
    )


def section_scale(run: Run) -> None:
    requests, repeats = (100, 3) if run.quick else (300, 7)
    progress("scale: get/list/paginate at 100, 10,000, 100,000 stored sources")
    costs = bench_scale.scale_costs(bench_scale.SIZES[1:], bench_scale.SIZES[0], requests, repeats)
    for cost in costs:
        run.add(
            Measure(
                "scale",
                f"{cost.operation}, {cost.stored:,} sources stored",
                cost.micros,
                "µs",
                cost.baseline_micros,
                f"{cost.baseline_stored} stored, alternated",
                Target("ratio", "<=", 1.25, f"flat: <= 1.25x at {cost.baseline_stored}"),
            )
        )
    progress("scale: push of 100,000 records")
    pushed = bench_scale.push_many(100_000, 1000)
    run.add(
        Measure(
            "scale",
            f"push {pushed.records:,} records ({pushed.pushes} x 1,000, in-process)",
            pushed.mock_seconds,
            "s",
            pushed.bare_seconds,
            "bare POST, same bodies",
        )
    )
    run.add(
        Measure(
            "scale",
            "push: second 50 pushes (index 50,000 -> 100,000) vs first 50",
            pushed.second_half_seconds,
            "s",
            pushed.first_half_seconds,
            "first 50, from empty",
        )
    )


def section_strategies(run: Run) -> None:
    from hypothesis import strategies as st

    from . import bench_strategies

    draws = 200 if run.quick else 1000
    named = bench_strategies.NAMED
    rates: dict[str, float] = {}
    build_seconds = 0.0
    for name, make in named.items():
        progress(f"strategies: {name}")
        started = time.perf_counter()
        strategy = make()
        bench_strategies.draw_many(strategy, 1)
        build_seconds += time.perf_counter() - started
        rates[name] = draws / bench_strategies.draw_many(strategy, draws)
    run.add(Measure("strategies", f"build (first draw), all {len(named)} strategies", build_seconds, "s"))
    for name in ("createSource", "push"):
        if name in rates:
            run.add(Measure("strategies", f"{name}: examples drawn", rates[name], "/s"))
    slowest = min(rates, key=rates.__getitem__)
    run.add(Measure("strategies", f"slowest ({slowest}): examples drawn", rates[slowest], "/s"))
    if "createSource" in named:
        progress("strategies: @given runs")
        floor = draws / bench_strategies.given_many(st.integers(), draws)
        through_given = draws / bench_strategies.given_many(named["createSource"](), draws)
        run.add(
            Measure(
                "strategies",
                "createSource: examples through @given",
                through_given,
                "/s",
                floor,
                "@given st.integers()",
            )
        )


def section_memory(run: Run) -> None:
    records = 100_000 if run.quick else 1_000_000
    progress(f"memory: idle RSS, then {records:,} records pushed over HTTP")
    memory = bench_scale.memory(records, 1000)
    run.add(
        Measure(
            "memory",
            "RSS idle: mockserver serve",
            memory.idle_kib / 1024,
            "MB",
            memory.bare_idle_kib / 1024,
            "bare Starlette, plain uvicorn",
            Target("value", "<", PRISM_RSS_MB, f"< {PRISM_RSS_MB:.0f} MB (Prism)"),
        )
    )
    per_record = (memory.loaded_kib - memory.idle_kib) * 1024 / memory.records
    run.add(
        Measure(
            "memory",
            f"RSS after {memory.records:,} records pushed over HTTP (index + journal)",
            memory.loaded_kib / 1024,
            "MB",
            memory.idle_kib / 1024,
            "idle",
            note=f" ({per_record:,.0f} B/record)",
        )
    )
    run.add(
        Measure(
            "memory",
            "  the same, after DELETE /__mock__/journal",
            memory.journal_cleared_kib / 1024,
            "MB",
            memory.idle_kib / 1024,
            "idle",
        )
    )
    run.add(
        Measure(
            "memory",
            f"time to push the {memory.records:,} records (1,000 per POST, 2 in flight)",
            memory.fill_seconds,
            "s",
        )
    )


def section_shared(run: Run) -> None:
    progress("shared: other clients' latency, memory after rejected bodies, start-up with history")
    for row in bench_shared.rows(run.quick):
        target = row.target.strip()
        op: Literal["<", "<=", ">="] = (
            ">=" if target.startswith(">=") else "<=" if target.startswith("<=") else "<"
        )
        run.add(
            Measure(
                "shared", row.name, row.value, row.unit, target=Target("value", op, row.limit, row.target)
            )
        )


def section_sandbox(run: Run) -> None:
    progress("sandbox: other clients' latency while tries spin, memory after many big tries")
    for row in bench_sandbox.rows(run.quick):
        op: Literal["<", "<="] = "<=" if row.target.strip().startswith("<=") else "<"
        run.add(
            Measure(
                "sandbox", row.name, row.value, row.unit, target=Target("value", op, row.limit, row.target)
            )
        )


RUNNERS: dict[str, Callable[[Run], None]] = {
    "serve": section_serve,
    "inprocess": section_inprocess,
    "client": section_client,
    "startup": section_startup,
    "scale": section_scale,
    "strategies": section_strategies,
    "memory": section_memory,
    "shared": section_shared,
    "sandbox": section_sandbox,
}


# --- output --------------------------------------------------------------------------------------


def table(measures: list[Measure]) -> list[str]:
    header = ("section", "measure", "value", "baseline (same run)", "ratio", "target", "met?")
    lines: list[tuple[str, ...]] = []
    for m in measures:
        baseline = f"{fmt(m.baseline, m.unit)} ({m.baseline_name})" if m.baseline is not None else "-"
        ratio = f"{m.ratio:.2f}x" if m.ratio is not None else "-"
        met = "-" if m.met is None else ("yes" if m.met else "no")
        lines.append(
            (
                m.section,
                m.name,
                fmt(m.value, m.unit) + m.note,
                baseline,
                ratio,
                m.target.label if m.target else "-",
                met,
            )
        )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    right = {2, 4}

    def render(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = (
        "| " + " | ".join("-" * (w - 1) + (":" if i in right else "-") for i, w in enumerate(widths)) + " |"
    )
    return [render(header), rule, *(render(line) for line in lines)]


def serving_stack() -> str:
    """What uvicorn's loop="auto"/http="auto" pick in this environment (the speed extra or not)."""
    loop, http = auto_stack()
    return f"{loop} + {http}"


def parse_sections(values: list[str] | None) -> list[str]:
    if not values:
        return list(SECTIONS)
    chosen: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name not in SECTIONS:
                raise argparse.ArgumentTypeError(
                    f"unknown section {name!r}; choose from {', '.join(SECTIONS)}"
                )
            if name not in chosen:
                chosen.append(name)
    return [name for name in SECTIONS if name in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run (~2 minutes): fewer repeats and rounds"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="SECTION",
        help=f"run only these sections (repeatable or comma-separated): {', '.join(SECTIONS)}",
    )
    args = parser.parse_args(argv)
    try:
        sections = parse_sections(args.only)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))

    run = Run(quick=args.quick)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for name in sections:
        section_started = time.perf_counter()
        try:
            RUNNERS[name](run)
        except Exception as error:  # one broken section must not lose the others' numbers
            traceback.print_exc(file=sys.stderr)
            first_line = (str(error).splitlines() or [""])[0][:80]
            run.errors.append(f"{name}: {type(error).__name__}: {first_line}")
            run.add(Measure(name, f"error: {type(error).__name__}: {first_line}", 0.0, "error"))
        progress(f"{name}: {time.perf_counter() - section_started:.1f} s")
    elapsed = time.perf_counter() - started

    tool = bench_serve.pick_tool("auto") if "serve" in sections else "-"
    load_after = os.getloadavg()[0]
    print(
        f"mockserver benchmarks{' (--quick)' if args.quick else ''}: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} at the start and "
        f"{load_after:.1f} at the end, {elapsed:.0f} s"
    )
    if load_before >= (os.cpu_count() or 1) / 2:
        print(
            f"WARNING: the machine was busy at the start (load average {load_before:.1f}): absolute "
            "numbers are unsteady; read the ratios measured in the same run"
        )
    if "serve" in sections:
        print(f"serve: uvicorn on {serving_stack()} (loop/http 'auto', the same for all three servers)")
        print(
            "serve: loopback, "
            + bench_serve.setup_line(
                5 if args.quick else SERVE_ROUNDS, 1.0, 32, 1, tool, 0.0 if args.quick else 1.0
            )
        )
    print()
    for line in table(run.measures):
        print(line)
    if run.notes:
        print()
        print("\n".join(run.notes))
    met = [m for m in run.measures if m.met is not None]
    print()
    print(f"targets met: {sum(1 for m in met if m.met)} of {len(met)}")
    if run.errors:
        print("errors: " + "; ".join(run.errors))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
