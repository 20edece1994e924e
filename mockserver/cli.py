"""The ``mockserver`` command: ``serve`` a mock, ``check`` a server against the spec."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import MockApp
    from .journal import Call

DEFAULT_PORT = 8787


class CliError(Exception):
    """A problem to tell the user in one line (no traceback); exit status 1 (2 for usage)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="A contract-testing mock of the Algolia Ingestion API, driven by its OpenAPI spec.",
        epilog="Run 'mockserver COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description=(
            "Serve the Ingestion API mock over HTTP until interrupted (Ctrl-C or SIGTERM stop it cleanly). "
            "State is kept per x-algolia-application-id; steer it under /__mock__/."
        ),
    )
    net = serve.add_argument_group("listening")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    net.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on (default: %(default)s)"
    )
    data = serve.add_argument_group("spec and data")
    data.add_argument(
        "--spec", default=None, help="OpenAPI document to serve (default: the bundled Ingestion API)"
    )
    data.add_argument(
        "--fixtures",
        default=None,
        metavar="NAME|PATH",
        help="data set every application starts with: empty, catalog, run_history, or a YAML/JSON file",
    )
    data.add_argument(
        "--state-file", default=None, metavar="PATH", help="keep state in this SQLite file across restarts"
    )
    data.add_argument("--seed", type=int, default=None, help="make generated IDs reproducible")
    data.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        metavar="N",
        help="largest request body accepted (default: 10 MiB)",
    )
    auth = serve.add_argument_group("credentials (default: any non-empty pair is accepted)")
    auth.add_argument("--app-id", default=None, help="accept only this application ID (with --api-key)")
    auth.add_argument("--api-key", default=None, help="accept only this API key (with --app-id)")
    runs = serve.add_argument_group("runs")
    runs.add_argument(
        "--runs",
        choices=["immediate", "deferred"],
        default="immediate",
        help="runs finish at once, or take --run-seconds on the mock's clock (default: %(default)s)",
    )
    runs.add_argument(
        "--run-seconds", type=float, default=1.0, help="how long a deferred run takes (default: %(default)s)"
    )
    faults = serve.add_argument_group("faults on purpose (all off by default)")
    faults.add_argument(
        "--latency", default=None, metavar="S|MIN-MAX", help="delay every answer by seconds, fixed or ranged"
    )
    faults.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="OP:STATUS[:RATE]",
        help="answer STATUS to operation OP (or * for all) with probability RATE (default 1); repeatable",
    )
    faults.add_argument(
        "--fail-next",
        action="append",
        default=[],
        metavar="OP:STATUS:N",
        help="answer STATUS to the next N calls of OP (or *); repeatable",
    )
    faults.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="OP[:RATE]",
        help="cut the connection mid-answer for OP (or *) with probability RATE; repeatable",
    )
    faults.add_argument(
        "--rate-limit", action="store_true", help="enforce the documented per-IP rate limits (429)"
    )
    logs = serve.add_argument_group("logging")
    logs.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    logs.add_argument(
        "--access-log",
        default="text",
        choices=["off", "text", "json"],
        help="one line per request: plain text, a JSON object, or nothing (default: %(default)s)",
    )

    check = commands.add_parser(
        "check",
        help="check a running server against the spec (contract conformance)",
        description="Run the spec's contract against a server that claims to implement it, and report.",
    )
    check.add_argument(
        "--url", required=True, help="base URL of the server under test, e.g. http://127.0.0.1:8787"
    )
    check.add_argument(
        "--spec", default=None, help="OpenAPI document to check against (default: the bundled one)"
    )
    check.add_argument(
        "--app-id", default="conformance", help="application ID to send (default: %(default)s)"
    )
    check.add_argument("--api-key", default="conformance-key", help="API key to send (default: %(default)s)")
    check.add_argument(
        "--max-examples", type=int, default=20, help="examples per operation (default: %(default)s)"
    )
    check.add_argument(
        "--seed", type=int, default=0, help="random seed, for reproducible runs (default: %(default)s)"
    )
    check.add_argument(
        "--stateful", action="store_true", help="also follow the spec's links through sequences of calls"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "check":
            return check(args)
    except CliError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    return 2


def _split(value: str, parts: int, option: str, form: str) -> list[str]:
    pieces = value.split(":")
    if not 1 <= len(pieces) <= parts:
        raise CliError(f"{option} {value!r}: expected {form}", status=2)
    return pieces


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CliError(f"{option}: {text!r} is not a number", status=2) from None


def _operation(name: str) -> str | None:
    return None if name in ("*", "") else name


def _install_faults(app: MockApp, args: argparse.Namespace) -> None:
    control = app.control
    try:
        if args.latency:
            low, _, high = args.latency.partition("-")
            latency: Any = (
                (_number(low, "--latency"), _number(high, "--latency")) if high else _number(low, "--latency")
            )
            control.add_fault(latency=latency)
        for spec in args.fail:
            op, status, *rate = _split(spec, 3, "--fail", "OP:STATUS[:RATE]")
            control.add_fault(
                operation=_operation(op), status=int(status), rate=_number(rate[0], "--fail") if rate else 1.0
            )
        for spec in args.fail_next:
            pieces = _split(spec, 3, "--fail-next", "OP:STATUS:N")
            if len(pieces) != 3:
                raise CliError(f"--fail-next {spec!r}: expected OP:STATUS:N", status=2)
            control.add_fault(operation=_operation(pieces[0]), status=int(pieces[1]), times=int(pieces[2]))
        for spec in args.drop:
            op, *rate = _split(spec, 2, "--drop", "OP[:RATE]")
            control.add_fault(
                operation=_operation(op), drop=True, rate=_number(rate[0], "--drop") if rate else 1.0
            )
        if args.rate_limit:
            control.rate_limit(True)
    except ValueError as exc:
        raise CliError(f"bad fault option: {exc}", status=2) from None
    unknown = {r.operation for r in app.faults.rules if r.operation is not None} - set(app.spec.operations)
    if unknown:
        raise CliError(f"faults name unknown operations: {sorted(unknown)}", status=2)


def _access_logger(kind: str) -> Any:
    log = logging.getLogger("mockserver.access")
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.propagate = False

    def text(call: Call, ms: float) -> None:
        op = call.operation_id or "-"
        log.info("%s %s %s %d %.1fms app=%s", call.method, call.path, op, call.status, ms, call.app_id or "-")

    def as_json(call: Call, ms: float) -> None:
        log.info(
            json.dumps(
                {
                    "method": call.method,
                    "path": call.path,
                    "operationId": call.operation_id,
                    "status": call.status,
                    "durationMs": round(ms, 2),
                    "appID": call.app_id,
                    "query": call.query,
                },
                separators=(",", ":"),
            )
        )

    return as_json if kind == "json" else text


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "the address is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def banner(app: MockApp, host: str, port: int) -> str:
    url = f"http://{host}:{port}"
    lines = [f"mockserver: serving {app.spec.title} on {url} ({len(app.spec.operations)} operations)"]
    if app.algolia_credentials:
        creds = (
            "only the configured app ID and API key"
            if app.config.strict_credentials
            else "any non-empty app ID and API key"
        )
        lines += [
            f"  credentials: {creds}; state is kept per application ID",
            f"  Python:     config.hosts = HostsCollection([Host({host!r}, scheme='http', port={port})])",
            "  JavaScript: ingestionClient(appId, apiKey, 'us', "
            f"{{ hosts: [{{ url: '{host}:{port}', accept: 'readWrite', protocol: 'http' }}] }})",
        ]
    lines.append(f"  control plane: {url}/__mock__/ (health: {url}/__mock__/health)")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import DEFAULT_MAX_BODY_BYTES, create_app
    from .headerlimit import HeaderSizeLimit
    from .seeding import SeedError
    from .server import quiet_dropped_connections

    if (args.app_id is None) != (args.api_key is None):
        raise CliError("--app-id and --api-key go together", status=2)
    try:
        app = create_app(
            args.spec,
            app_id=args.app_id,
            api_key=args.api_key,
            seed=args.seed,
            fixtures=args.fixtures,
            state_file=args.state_file,
            max_body_bytes=args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
        )
    except SeedError as exc:
        raise CliError(f"cannot load --fixtures: {_one_line(exc)}") from None
    except FileNotFoundError as exc:
        raise CliError(f"no such file: {exc.filename}") from None
    except (OSError, ValueError, KeyError) as exc:
        what = "--state-file" if args.state_file and "state" in str(exc).lower() else "the spec"
        raise CliError(f"cannot load {what}: {_one_line(exc)}") from None
    except Exception as exc:  # a broken YAML document, a malformed spec: one line, not a traceback
        raise CliError(f"cannot load the spec: {type(exc).__name__}: {_one_line(exc)}") from None
    if args.runs == "deferred":
        app.control.run_policy(mode="deferred", finish_after=args.run_seconds)
    _install_faults(app, args)
    if args.access_log != "off":
        app.listeners.append(_access_logger(args.access_log))
    sock = _bind(args.host, args.port)
    print(banner(app, args.host, sock.getsockname()[1]), file=sys.stderr, flush=True)
    quiet_dropped_connections()
    # loop/http "auto": uvloop and httptools when installed (the speed extra); the head-size limit
    # h11 enforces, with either parser.
    config = uvicorn.Config(HeaderSizeLimit(app), log_level=args.log_level, lifespan="off", access_log=False)
    try:
        _stoppable_server_class()(config).run(sockets=[sock])
    finally:
        if app.state_log is not None:
            app.state_log.close()
    return 0


def _stoppable_server_class() -> Any:
    """Made on demand so that ``mockserver --help`` does not import uvicorn."""
    import signal

    import uvicorn

    class StoppableServer(uvicorn.Server):
        """SIGTERM/SIGINT ask for a graceful stop, and a stop that went well exits 0.

        (uvicorn's own handler raises the signal again once it has shut down, so the process
        would end by that signal instead.) A second SIGINT still forces the exit.
        """

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

    return StoppableServer


def check(args: argparse.Namespace) -> int:
    from .conformance import run_conformance

    report = run_conformance(
        args.url,
        spec=args.spec,
        app_id=args.app_id,
        api_key=args.api_key,
        max_examples=args.max_examples,
        seed=args.seed,
        stateful=args.stateful,
    )
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
