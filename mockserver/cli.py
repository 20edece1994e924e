"""The ``mockserver`` command: ``serve`` a mock, ``check`` a server against the spec."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import logging
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from mockserver.conformance import DEFAULT_MIN_COVERAGE
from mockserver.flags import (
    USAGE,
    CliError,
    check_serve_options,
    did_you_mean,
    faults_from_flags,
    http_url,
    port_number,
    positive_int,
    seconds,
    share,
    whole_number,
)

if TYPE_CHECKING:
    from mockserver.conformance import Progress
    from mockserver.engine.journal import Call
    from mockserver.http.app import MockApp
    from mockserver.settings import MockSettings
    from mockserver.spec import Spec

DEFAULT_PORT = 8787
DEFAULT_RUN_SECONDS = 1.0

__all__ = ["CliError", "build_parser", "main", "parse_arguments"]

_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<word>[^']*)' \(choose from (?P<choices>.*)\)")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (a CliError, exit status 2), with a hint."""

    def error(self, message: str) -> NoReturn:
        choice = _INVALID_CHOICE.search(message)
        if choice:
            message += did_you_mean(choice["word"], re.findall(r"'([^']*)'", choice["choices"]))
        if message.startswith("the following arguments are required: COMMAND"):
            names = next(a.choices for a in self._actions if isinstance(a, argparse._SubParsersAction))
            message = f"no command given: use {', '.join(names)} ({self.format_usage().strip()})"
        where = self.prog.removeprefix("mockserver").strip()
        raise CliError(
            f"{where + ': ' if where else ''}{message} ('{self.prog} --help' tells more)", status=USAGE
        )


def parse_arguments(
    argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None
) -> argparse.Namespace:
    """Parse the command line; an unknown option is a CliError that suggests the closest one."""
    parser = parser or build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        command = _subcommand(parser, getattr(args, "command", None))
        raise CliError(unrecognized_message(extras, command or parser), status=USAGE)
    return args


def unrecognized_message(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """What to say about arguments the (sub)command does not know: the closest option, if any."""
    options = [o for action in parser._actions for o in action.option_strings]
    where = parser.prog.removeprefix("mockserver").strip()
    prefix = f"{where}: " if where else ""
    unknown = [e for e in extras if e.startswith("-")]
    if not unknown:
        return f"{prefix}unexpected argument {extras[0]!r} ('{parser.prog} --help' tells more)"
    word = unknown[0].split("=", 1)[0]
    hint = did_you_mean(word, options) if word.startswith("--") else ""
    return f"{prefix}unknown option {word}{hint} ('{parser.prog} --help' lists the options)"


def _subcommand(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            chosen: argparse.ArgumentParser = action.choices[name]
            return chosen
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="mockserver",
        description=(
            "A contract-testing mock of the Algolia Ingestion and Search APIs, driven by their OpenAPI specs."
        ),
        epilog="Run 'mockserver COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description=(
            "Serve the Ingestion API mock over HTTP until interrupted (Ctrl-C or SIGTERM stop it cleanly). "
            "State is kept per x-algolia-application-id; steer it under /__mock__/. Once it accepts "
            "connections it prints one line on stdout, 'mockserver ready URL' (nothing else goes "
            "there): wait for it. Exit status: 0 after a clean stop, 1 when it cannot start, 2 on a "
            "usage error (a --spec that cannot be loaded included)."
        ),
        epilog=(
            "Sharing a server: with --app-id/--api-key the control plane needs those credentials too "
            "(or --admin-key, sent as x-mockserver-admin-key) and acts on the caller's application; "
            "clock, runs, faults and snapshots are per application unless scope=all is asked. "
            "Connections: a request body must arrive within --body-timeout seconds (408 after); a "
            "connection with no request under way is closed after --keep-alive-timeout seconds; beyond "
            "--max-connections requests are answered 503; SIGTERM waits --shutdown-timeout seconds for "
            "open requests; running out of file descriptors is logged at most once a second. "
            "Transformations of one request take at most --transform-budget seconds in all."
        ),
    )
    add_serve_options(serve)

    check = commands.add_parser(
        "check",
        help="check a running server against the spec (contract conformance)",
        description=(
            "Run the spec's contract against a server that claims to implement it, and report. "
            "By default it runs stateless cases for every operation (positive and negative, up to "
            "--max-examples each) and then linked sequences along the spec's links (stateful); "
            "--no-stateful runs the stateless cases only. It exits 0 only when every check passed "
            "and at least --min-coverage of the operations got a 2xx answer; it exits 1 when a "
            "check failed, when the server could not be reached, when it refused the credentials, "
            "or when the coverage was lower; 2 on a usage error (a --spec that cannot be loaded "
            "included). While it runs it tells its progress on stderr, at most once a second."
        ),
    )
    check.add_argument(
        "--url",
        required=True,
        type=http_url,
        help="base URL of the server under test, e.g. http://127.0.0.1:8787",
    )
    check.add_argument(
        "--spec", default=None, help="OpenAPI document to check against (default: the bundled one)"
    )
    check.add_argument(
        "--app-id", default="conformance", help="application ID to send (default: %(default)s)"
    )
    check.add_argument("--api-key", default="conformance-key", help="API key to send (default: %(default)s)")
    check.add_argument(
        "--max-examples",
        type=positive_int,
        default=20,
        help="stateless examples per operation and mode (default: %(default)s)",
    )
    check.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        help="random seed, for reproducible runs (default: %(default)s)",
    )
    check.add_argument(
        "--stateful",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the stateless cases, follow the spec's links through sequences of calls (default: on)",
    )
    check.add_argument(
        "--min-coverage",
        type=share,
        default=DEFAULT_MIN_COVERAGE,
        metavar="SHARE",
        help=(
            "fail unless at least this share of the operations got a 2xx answer, 0-1 or a percentage "
            "(default: %(default)s; the generated cases reach a 2xx on about a third of the operations "
            "of a correct server today)"
        ),
    )
    add_spec_diff_command(commands)
    spec_path = commands.add_parser(
        "spec-path",
        help="print the path of the OpenAPI spec this installation serves (for other tools)",
        description=(
            "Print the path of the Ingestion API's OpenAPI document as installed with the package "
            "(--search: the Search API's; mockserver serve and check use both, joined into one), for "
            'tools that take a spec file: schemathesis run "$(mockserver spec-path)" --url '
            "http://127.0.0.1:8787 ..."
        ),
    )
    which = spec_path.add_mutually_exclusive_group()
    which.add_argument(
        "--search",
        action="store_true",
        help="the Search API's document instead of the Ingestion API's",
    )
    which.add_argument(
        "--control",
        action="store_true",
        help="the control plane's document (/__mock__/) instead of the Ingestion API's",
    )
    which.add_argument(
        "--schemathesis-config",
        action="store_true",
        help=(
            "schemathesis's configuration for the Ingestion API (schemathesis --config-file FILE run "
            "...): 400, which the API documents everywhere, is an expected answer to valid data"
        ),
    )
    return parser


def add_spec_diff_command(commands: argparse._SubParsersAction[Parser]) -> None:
    """``mockserver spec-diff OLD NEW``: what changed between two Ingestion specs."""
    spec_diff = commands.add_parser(
        "spec-diff",
        help="what changed between two Ingestion API specs",
        description=(
            "Compare two OpenAPI documents of the Ingestion API and print what changed, grouped by "
            "operation: operations, parameters, request and response schemas (types, required fields, "
            "enums, bounds, patterns, formats, nullability), statuses, x-acl. Prose (descriptions, "
            "examples) and the arrangement of unions are not compared. Exit status: 0 when nothing "
            "differs, 1 when something does, 2 on a usage error (a file that cannot be read)."
        ),
        epilog=(
            "To see what moved in the published spec since the bundled one: "
            "'mockserver spec-diff --ledger spec/ingestion.yaml published.yml'. With --ledger the "
            "differences the deviation ledger explains are counted, not listed, and the exit status is 1 "
            "only when a difference is left unexplained or a ledger pattern matches nothing (either way, "
            "the published spec moved)."
        ),
    )
    spec_diff.add_argument("old", metavar="OLD", help="the earlier spec (YAML or JSON)")
    spec_diff.add_argument("new", metavar="NEW", help="the later spec (YAML or JSON)")
    spec_diff.add_argument(
        "--ledger",
        action="store_true",
        help="hold the differences to the deviation ledger shipped with the package (OLD should be the "
        "bundled spec): list only what it does not explain, and ledger patterns that match nothing",
    )
    spec_diff.add_argument(
        "--keys",
        action="store_true",
        help="print each difference's key and direction (what ledger patterns match), one a line, "
        "instead of the report",
    )


# How each settings field offered as a ``serve`` flag is parsed (the flag, help and metavar come
# from MockSettings itself). Fields with no entry here take one string.
_FLAG_PARSING: dict[str, dict[str, Any]] = {
    "seed": {"type": whole_number},
    "max_body_bytes": {"type": positive_int},
    "max_depth": {"type": positive_int},
    "journal_size": {"type": positive_int},
    "journal_bytes": {"type": positive_int},
    "max_applications": {"type": positive_int},
    "max_resources": {"type": positive_int},
    "max_connections": {"type": positive_int},
    "transform_budget": {"type": seconds},
    "body_timeout": {"type": seconds},
    "keep_alive_timeout": {"type": seconds},
    "shutdown_timeout": {"type": seconds},
    "rate_limit": {"action": "store_true", "default": False},
    "assumed_rules": {"action": "store_false"},
    "keys": {"action": "append", "default": []},
    "allowed_hosts": {"action": "append", "default": []},
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
    from mockserver.settings import offers

    net = serve.add_argument_group("listening")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    net.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port to listen on, 0 for a free one (default: %(default)s)",
    )
    net.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    net.add_argument(
        "--spec",
        default=None,
        help="OpenAPI document to serve (default: the bundled Ingestion and Search APIs)",
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
        type=seconds,
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
        help="cut the connection before acting on OP (or *) with probability RATE; nothing is applied; "
        "repeatable",
    )
    faults.add_argument(
        "--drop-after",
        action="append",
        default=[],
        metavar="OP[:RATE]",
        help="apply OP (or *), then cut the connection: the write happened but its answer is lost; "
        "repeatable",
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_arguments(argv)
        if args.command == "serve":
            return serve(args)
        if args.command == "check":
            return check(args)
        if args.command == "spec-diff":
            return spec_diff(args)
        if args.command == "spec-path":
            return spec_path(args)
    except CliError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    return 2


def spec_path(args: argparse.Namespace) -> int:
    """Print the installed spec's path (the Search API's with ``--search``, the control plane's with
    ``--control``, schemathesis's configuration with ``--schemathesis-config``)."""
    from mockserver.data import control_spec, ingestion_spec, schemathesis_config, search_spec

    try:
        if args.schemathesis_config:
            path = schemathesis_config()
        elif args.search:
            path = search_spec()
        else:
            path = control_spec() if args.control else ingestion_spec()
    except FileNotFoundError as exc:
        raise CliError(_one_line(exc)) from None
    print(path)
    return 0


def keys_from_flags(values: Sequence[str]) -> tuple[dict[str, Any], ...]:
    """``--key KEY:ACL1,ACL2`` (or ``APP:KEY:ACL1,ACL2``) as key settings."""
    from mockserver.settings import parse_key

    try:
        return tuple(parse_key(value) for value in values)
    except ValueError as exc:
        raise CliError(f"--{exc}", status=2) from None


def settings_from_args(args: argparse.Namespace, operations: Collection[str]) -> MockSettings:
    """The MockSettings that ``serve``'s flags spell; a combination that cannot work is a CliError.

    ``operations`` are the served spec's operationIds, which fault flags must name.
    """
    from mockserver.settings import MockSettings, from_options, serve_flags

    check_serve_options(
        app_id=args.app_id,
        api_key=args.api_key,
        runs=args.runs_mode or "immediate",
        run_seconds=args.run_seconds,
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
            runs["finish_after"] = args.run_seconds if args.run_seconds is not None else DEFAULT_RUN_SECONDS
        options["runs"] = runs
    rules = faults_from_flags(
        fail=args.fail,
        fail_next=args.fail_next,
        drop=args.drop,
        drop_after=args.drop_after,
        latency=args.latency,
        operations=operations,
    )
    options["faults"] = tuple(dataclasses.asdict(rule) for rule in rules)
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


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening: from now on a client's connection is queued
    (and served once uvicorn runs), never refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        reason = "the address is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


WILDCARD_HOSTS = ("0.0.0.0", "::", "")
BACKLOG = 2048  # uvicorn's default listen backlog
READY = "mockserver ready"  # the ready signal: this, a space and the URL, one line on stdout


def _reach(host: str) -> str:
    """The address a client on this machine uses for a server listening on ``host``."""
    return "127.0.0.1" if host in WILDCARD_HOSTS else host


def served_url(host: str, port: int) -> str:
    """The URL clients on this machine reach a server listening on ``host:port`` at."""
    reach = _reach(host)
    return f"http://{reach}:{port}" if ":" not in reach else f"http://[{reach}]:{port}"


def ready_line(url: str) -> str:
    """The ready signal's line (without its newline): ``mockserver ready http://127.0.0.1:8787``."""
    return f"{READY} {url}"


def announce_ready(url: str) -> None:
    """Print the ready signal on stdout, flushed. Called once the socket accepts connections.

    A reader that went away (a closed pipe, stdout closed) is no reason to stop serving.
    """
    stream = sys.stdout
    if stream is None:  # started with stdout closed: nobody to tell
        return
    try:
        stream.write(ready_line(url) + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def banner(app: MockApp, host: str, port: int) -> str:
    """What the server prints at start: where clients reach it, and how to point the clients at it."""
    reach = _reach(host)
    url = served_url(host, port)
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
    lines.append(f"  ready signal:  '{ready_line(url)}' on stdout once connections are accepted")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    from mockserver.durability.log import StateFileError
    from mockserver.http.app import create_app
    from mockserver.seeding import SeedError

    spec = _load_spec(args.spec)
    settings = settings_from_args(
        args, spec.operations
    )  # before loading data: a mistyped flag is told at once
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
        # Listening before the banner: a client that waits for the banner is queued, not refused.
        sock = _listen(args.host, args.port, BACKLOG)
        port = sock.getsockname()[1]  # the real one, with --port 0
        print(banner(app, args.host, port), file=sys.stderr, flush=True)
        url = served_url(args.host, port)
        serve_asgi(app, sock, settings, args.log_level, on_ready=lambda: announce_ready(url))
    finally:
        app.engine.close()
    return 0


def serve_asgi(
    app: Any,
    sock: socket.socket,
    settings: MockSettings,
    log_level: str,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve the ASGI ``app`` on ``sock`` until told to stop, as ``mockserver serve`` does: this
    process tuned for serving, one uvicorn worker, the connection settings of ``settings``;
    ``on_ready`` is called once connections are served.

    (The benchmarks serve their baseline apps through this very function, so that a comparison with
    the mock measures the apps, not two ways of serving them.)
    """
    import uvicorn

    from mockserver.http.connections import limit_resource_logs, raise_fd_limit, uvicorn_options
    from mockserver.http.head_limit import HeaderSizeLimit
    from mockserver.http.live_server import quiet_dropped_connections
    from mockserver.http.process_memory import tune_served_process

    quiet_dropped_connections()
    limit_resource_logs()
    raise_fd_limit()
    tune_served_process()
    # loop/http "auto": uvloop and httptools when installed (the speed extra); the head-size
    # limit h11 enforces, with either parser.
    config = uvicorn.Config(
        HeaderSizeLimit(app),
        log_level=log_level,
        lifespan="off",
        access_log=False,
        **uvicorn_options(settings),
    )
    _stoppable_server_class()(config, on_ready=on_ready).run(sockets=[sock])


def _load_spec(path: str | None) -> Spec:
    """The spec to serve or check; a file that cannot be read or is no OpenAPI document is a usage
    error (exit status 2), in one line: ``--spec`` names the wrong file."""
    from mockserver.spec import load_spec

    try:
        return load_spec(path)
    except FileNotFoundError as exc:
        raise CliError(f"--spec: no such file: {exc.filename}", status=USAGE) from None
    except Exception as exc:  # unreadable, a broken YAML document, a malformed spec: not a traceback
        raise CliError(
            f"--spec: cannot load the spec: {type(exc).__name__}: {_one_line(exc)}", status=USAGE
        ) from None


def _stoppable_server_class() -> Any:
    """Made on demand so that ``mockserver --help`` does not import uvicorn."""
    import signal

    import uvicorn

    from mockserver.http.prompt_stop import PromptServer

    class StoppableServer(PromptServer):
        """SIGTERM/SIGINT ask for a graceful stop (at once: see PromptServer), and a stop that went
        well exits 0.

        (uvicorn's own handler raises the signal again once it has shut down, so the process
        would end by that signal instead.) A second SIGINT still forces the exit.

        ``on_ready`` is called once uvicorn's startup is done (it serves the sockets), unless a
        stop was asked for meanwhile.
        """

        def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None = None) -> None:
            super().__init__(config)
            self.on_ready = on_ready

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit and self.on_ready is not None:
                self.on_ready()

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True
            self.wake()

    return StoppableServer


PROGRESS_INTERVAL = 1.0  # seconds: at most one progress line a second (and the last one)
_PHASES = {"stateless": "stateless cases", "stateful": "linked sequences", "done": "done"}


class ProgressLine:
    """``mockserver check``'s progress on stderr, one line at a time, at most once per
    ``interval`` seconds, and always the line that says the run is done.

    ``clock`` (seconds, monotonic) is injectable so the throttling can be tested without waiting.
    """

    def __init__(
        self,
        stream: TextIO | None,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.last: float | None = None

    def __call__(self, progress: Progress) -> None:
        now = self.clock()
        if progress.phase != "done" and self.last is not None and now - self.last < self.interval:
            return
        self.last = now
        if self.stream is None:
            return
        try:
            self.stream.write(progress_line(progress) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # stderr gone: the report still goes to stdout
            self.stream = None


def progress_line(progress: Progress) -> str:
    """``mockserver check: 12/59 operations, 236 requests, 0 failures, 14 s elapsed (stateless cases)``."""
    failures = f"{progress.failures} failure{'' if progress.failures == 1 else 's'}"
    return (
        f"mockserver check: {progress.operations_done}/{progress.operations} operations, "
        f"{progress.requests} requests, {failures}, {progress.elapsed:.0f} s elapsed "
        f"({_PHASES.get(progress.phase, progress.phase)})"
    )


def check(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError:
        raise CliError(
            "mockserver check needs schemathesis and hypothesis: "
            "pip install 'ingestion-mockserver[strategies]'"
        ) from None
    from mockserver.conformance import UnusableSpec, run_conformance

    spec = _load_spec(args.spec)
    try:
        report = run_conformance(
            args.url,
            spec=spec,
            app_id=args.app_id,
            api_key=args.api_key,
            max_examples=args.max_examples,
            seed=args.seed,
            stateful=args.stateful,
            min_coverage=args.min_coverage,
            progress=ProgressLine(sys.stderr),
        )
    except UnusableSpec as exc:
        raise CliError(f"--spec: {exc}", status=USAGE) from None
    report.credential_options = "--app-id and --api-key"
    report.coverage_option = "--min-coverage"
    if report.unreachable is not None or report.credentials_refused:
        raise CliError(report.failures[0])
    print(report.render())
    return 0 if report.ok else 1


def spec_diff(args: argparse.Namespace) -> int:
    """Print what changed from OLD to NEW; 0 when nothing did (nothing unexplained, with --ledger)."""
    from mockserver.ledger import LedgerError, load_ledger
    from mockserver.spec_diff import SpecDiffError, compare_files, render

    try:
        differences = compare_files(args.old, args.new)
        ledger = load_ledger() if args.ledger else None
        api = _api_of(args.old, args.new) if ledger is not None else "ingestion"
    except (SpecDiffError, LedgerError) as exc:
        raise CliError(str(exc), status=USAGE) from None
    if ledger is None:
        _print(
            "\n".join(d.signature for d in differences)
            if args.keys
            else render(differences, args.old, args.new)
        )
        return 1 if differences else 0
    checked = ledger.check(differences, api)
    _print(
        "\n".join(d.signature for d in checked.unnamed) if args.keys else checked.report(args.old, args.new)
    )
    return 0 if checked.ok else 1


def _api_of(*paths: str) -> str:
    """Which API's ledger entries hold two specs: the Search API's when either is titled so."""
    from mockserver.spec_diff import SpecDocument

    titles = [str(SpecDocument.read(p).document.get("info", {}).get("title", "")) for p in paths]
    return "search" if any(t.startswith("Search") for t in titles) else "ingestion"


def _print(text: str) -> None:
    """Print a report that may be piped into ``head``: a reader that stops early is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit


if __name__ == "__main__":
    raise SystemExit(main())
