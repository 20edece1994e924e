"""The ``mockserver`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_PORT = 8787


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="A contract-testing mock of the Algolia Ingestion API, driven by its OpenAPI spec.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="serve the mock over HTTP", description="Serve the mock over HTTP."
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--spec", default=None, help="OpenAPI document to serve (default: the bundled Ingestion API)"
    )
    serve.add_argument("--app-id", default=None, help="accept only this application ID (needs --api-key)")
    serve.add_argument("--api-key", default=None, help="accept only this API key (needs --app-id)")
    serve.add_argument("--seed", type=int, default=None, help="make generated IDs reproducible")
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    if (args.app_id is None) != (args.api_key is None):
        print("mockserver: --app-id and --api-key go together", file=sys.stderr)
        return 2
    try:
        app = create_app(args.spec, app_id=args.app_id, api_key=args.api_key, seed=args.seed)
    except (OSError, ValueError) as exc:
        print(f"mockserver: cannot load the spec: {exc}", file=sys.stderr)
        return 1
    url = f"http://{args.host}:{args.port}"
    print(f"mockserver: serving {app.spec.title} on {url}", file=sys.stderr)
    print(
        "  Python: config.hosts = HostsCollection([Host('%s', scheme='http', port=%d)])"
        % (args.host, args.port),
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
