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
    from .http.app import MockApp
    from .journal import Call
    from .settings import MockSettings

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
    add_serve_options(serve)

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


# How each settings field offered as a ``serve`` flag is parsed (the flag, help and metavar come
# from MockSettings itself). Fields with no entry here take one string.
_FLAG_PARSING: dict[str, dict[str, Any]] = {
    "seed": {"type": int},
    "max_body_bytes": {"type": int},
    "max_depth": {"type": int},
    "journal_size": {"type": int},
    "journal_bytes": {"type": int},
    "max_applications": {"type": int},
    "max_resources": {"type": int},
    "rate_limit": {"action": "store_true", "default": False},
    "keys": {"action": "append", "default": []},
    "fixtures": {"action": "append", "default": []},
    "access_log": {"choices": ["off", "text", "json"], "default": "text"},
    "clock": {"default": "real"},
}

# Flags that are not settings fields of their own but spell one (the settings field they build).
COMPOSED_FLAGS = {
    "--runs": "runs",
    "--run-seconds": "runs",
    "--latency": "faults",
    "--fail": "faults",
    "--fail-next": "faults",
    "--drop": "faults",
    "--drop-after": "faults",
}
# Flags about where and how the process serves, not about the mock's behaviour.
SERVER_FLAGS = ("--host", "--port", "--spec", "--log-level")


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    from .settings import offers

    net = serve.add_argument_group("listening")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    net.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on (default: %(default)s)"
    )
    net.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    net.add_argument(
        "--spec", default=None, help="OpenAPI document to serve (default: the bundled Ingestion API)"
    )
    mock = serve.add_argument_group("the mock (see MockSettings; every flag is a setting)")
    for name, offer in offers():
        if offer.flag is None:
            continue
        kwargs: dict[str, Any] = {"default": None, **_FLAG_PARSING.get(name, {})}
        if offer.metavar is not None and kwargs.get("action") != "store_true":
            kwargs["metavar"] = offer.metavar
        mock.add_argument(offer.flag, dest=name, help=offer.help, **kwargs)
    runs = serve.add_argument_group("runs")
    runs.add_argument(
        "--runs",
        dest="runs_mode",
        choices=["immediate", "deferred"],
        default=None,
        help="runs finish at once (default), or take --run-seconds on the mock's clock",
    )
    runs.add_argument(
        "--run-seconds",
        type=float,
        default=None,
        help="how long a deferred run takes (default: 1, with --runs deferred)",
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
        help="cut the connection before acting on OP (or *) with probability RATE; nothing is applied; repeatable",
    )
    faults.add_argument(
        "--drop-after",
        action="append",
        default=[],
        metavar="OP[:RATE]",
        help="apply OP (or *), then cut the connection: the write happened but its answer is lost; repeatable",
    )


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


def faults_from_flags(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The fault rules the fault flags spell (checked later, with the rest of the settings)."""
    rules: list[dict[str, Any]] = []
    if args.latency:
        low, _, high = args.latency.partition("-")
        latency: Any = (
            [_number(low, "--latency"), _number(high, "--latency")] if high else _number(low, "--latency")
        )
        rules.append({"latency": latency})
    for spec in args.fail:
        op, *rest = _split(spec, 3, "--fail", "OP:STATUS[:RATE]")
        if not rest:
            raise CliError(f"--fail {spec!r}: expected OP:STATUS[:RATE]", status=2)
        status = _whole(rest[0], "--fail", "OP:STATUS[:RATE]")
        rate = _number(rest[1], "--fail") if len(rest) > 1 else 1.0
        rules.append({"operation": _operation(op), "status": status, "rate": rate})
    for spec in args.fail_next:
        pieces = _split(spec, 3, "--fail-next", "OP:STATUS:N")
        if len(pieces) != 3:
            raise CliError(f"--fail-next {spec!r}: expected OP:STATUS:N", status=2)
        rules.append(
            {
                "operation": _operation(pieces[0]),
                "status": _whole(pieces[1], "--fail-next", "OP:STATUS:N"),
                "times": _whole(pieces[2], "--fail-next", "OP:STATUS:N"),
            }
        )
    for flag, key, specs in (("--drop", "drop", args.drop), ("--drop-after", "drop_after", args.drop_after)):
        for spec in specs:
            op, *rate = _split(spec, 2, flag, "OP[:RATE]")
            rules.append(
                {"operation": _operation(op), key: True, "rate": _number(rate[0], flag) if rate else 1.0}
            )
    return rules


def _whole(text: str, option: str, form: str) -> int:
    if not text.strip().isdigit():
        raise CliError(f"{option}: {text!r} is not a whole number (expected {form})", status=2)
    return int(text)


def keys_from_flags(values: Sequence[str]) -> tuple[dict[str, Any], ...]:
    """``--key KEY:ACL1,ACL2`` (or ``APP:KEY:ACL1,ACL2``) as key settings."""
    keys = []
    for value in values:
        parts = value.split(":")
        if len(parts) not in (2, 3) or not all(parts[:-1]):
            raise CliError(f"--key {value!r}: expected KEY:ACL1,ACL2 or APP:KEY:ACL1,ACL2", status=2)
        acl = [a for a in parts[-1].split(",") if a]
        key: dict[str, Any] = {"apiKey": parts[-2], "acl": acl}
        if len(parts) == 3:
            key["appID"] = parts[0]
        keys.append(key)
    return tuple(keys)


def settings_from_args(args: argparse.Namespace) -> MockSettings:
    """The MockSettings that ``serve``'s flags spell; a combination that cannot work is a CliError."""
    from .settings import MockSettings, from_options, serve_flags

    if (args.app_id is None) != (args.api_key is None):
        raise CliError("--app-id and --api-key go together", status=2)
    if args.run_seconds is not None and args.runs_mode != "deferred":
        raise CliError(
            "--run-seconds only applies with --runs deferred (runs finish at once otherwise)", status=2
        )
    options: dict[str, Any] = {}
    for name in serve_flags().values():
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    options["fixtures"] = tuple(args.fixtures) if len(args.fixtures) != 1 else args.fixtures[0]
    if not args.fixtures:
        options.pop("fixtures")
    options["keys"] = keys_from_flags(args.keys)
    if args.runs_mode is not None:
        runs: dict[str, Any] = {"mode": args.runs_mode}
        if args.runs_mode == "deferred":
            runs["finish_after"] = args.run_seconds if args.run_seconds is not None else 1.0
        options["runs"] = runs
    options["faults"] = tuple(faults_from_flags(args))
    try:
        return from_options(options, MockSettings())
    except (TypeError, ValueError) as exc:
        raise CliError(f"bad option: {exc}", status=2) from None


def _access_logger(kind: str) -> Any:
    log = logging.getLogger("mockserver.access")
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.propagate = False

    def text(call: Call, ms: float) -> None:
        op = call.operation_id or "-"
        app_id = _printable(call.app_id or "-")
        log.info("%s %s %s %d %.1fms app=%s", call.method, _printable(call.path), op, call.status, ms, app_id)

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


def _printable(text: str) -> str:
    """Control characters escaped, so a request cannot forge or break log lines."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


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


WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def banner(app: MockApp, host: str, port: int) -> str:
    """What the server prints at start: where clients reach it, and how to point the clients at it."""
    reach = "127.0.0.1" if host in WILDCARD_HOSTS else host
    url = f"http://{reach}:{port}" if ":" not in reach else f"http://[{reach}]:{port}"
    engine = app.engine
    lines = [f"mockserver: serving {engine.spec.title} on {url} ({len(engine.spec.operations)} operations)"]
    if host not in ("127.0.0.1", "localhost", "::1"):
        lines.append(
            f"  warning: listening on {host or 'every address'}: the mock and its control plane "
            "(/__mock__/) are reachable from the network"
            + (
                ""
                if engine.settings.strict_credentials
                else "; start it with --app-id/--api-key to require credentials"
            )
        )
    if engine.algolia_credentials:
        creds = (
            "only the configured app ID and API key"
            if engine.settings.strict_credentials
            else "any non-empty app ID and API key"
        )
        lines += [
            f"  credentials: {creds}; state is kept per application ID",
            f"  Python:     config.hosts = HostsCollection([Host({reach!r}, scheme='http', port={port})])",
            "  JavaScript: ingestionClient(appId, apiKey, 'us', "
            f"{{ hosts: [{{ url: '{reach}:{port}', accept: 'readWrite', protocol: 'http' }}] }})",
        ]
    lines.append(f"  control plane: {url}/__mock__/ (health: {url}/__mock__/health)")
    lines.append(f"  inspector:     {url}/__mock__/ui")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .http.app import create_app
    from .persistence import StateFileError
    from .seeding import SeedError
    from .server import quiet_dropped_connections
    from .spec import load_spec

    settings = settings_from_args(args)
    try:
        spec = load_spec(args.spec)
    except FileNotFoundError as exc:
        raise CliError(f"no such file: {exc.filename}") from None
    except Exception as exc:  # a broken YAML document, a malformed spec: one line, not a traceback
        raise CliError(f"cannot load the spec: {type(exc).__name__}: {_one_line(exc)}") from None
    try:
        app = create_app(spec, settings=settings)
    except SeedError as exc:
        raise CliError(f"cannot load --fixtures: {_one_line(exc)}") from None
    except StateFileError as exc:
        raise CliError(f"--state-file {_one_line(exc)}") from None
    except (TypeError, ValueError) as exc:
        raise CliError(f"bad option: {_one_line(exc)}", status=2) from None
    except Exception as exc:  # a spec that loads but cannot be served: one line, not a traceback
        raise CliError(f"cannot serve the spec: {type(exc).__name__}: {_one_line(exc)}") from None
    try:
        if settings.access_log != "off":
            app.listeners.append(_access_logger(settings.access_log))
        sock = _bind(args.host, args.port)
        print(banner(app, args.host, sock.getsockname()[1]), file=sys.stderr, flush=True)
        quiet_dropped_connections()
        config = uvicorn.Config(app, log_level=args.log_level, lifespan="off", access_log=False)
        _stoppable_server_class()(config).run(sockets=[sock])
    finally:
        app.engine.close()
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
