"""``python -m example_app``: the example shop on 127.0.0.1, with an embedded DynamoDB by default."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import botocore.exceptions
import uvicorn

from dynsession import DynSessionError

from .app import create_app
from .backend import Backend, embedded, external
from .settings import Settings

HOST = "127.0.0.1"
ENDPOINT_VAR = "AWS_ENDPOINT_URL_DYNAMODB"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m example_app",
        description="Run dynsession's example shop on 127.0.0.1. Sessions go to an embedded moto "
        f"DynamoDB server unless --endpoint-url or {ENDPOINT_VAR} names another DynamoDB.",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    parser.add_argument(
        "--endpoint-url", help=f"DynamoDB endpoint to use instead of the embedded server (or {ENDPOINT_VAR})"
    )
    parser.add_argument(
        "--create-table", action="store_true", help="create the table on that endpoint if it is missing"
    )
    parser.add_argument("--table", default="dynsession-example", help="table name (default %(default)s)")
    parser.add_argument("--region", help="AWS region for --endpoint-url (default: boto3's configuration)")
    return parser.parse_args(argv)


def open_backend(args: argparse.Namespace) -> Backend:
    """The embedded server, or the endpoint from --endpoint-url / AWS_ENDPOINT_URL_DYNAMODB."""
    if args.endpoint_url or os.environ.get(ENDPOINT_VAR):
        # endpoint_url None lets boto3 read AWS_ENDPOINT_URL_DYNAMODB itself.
        return external(
            args.table, endpoint_url=args.endpoint_url, region_name=args.region, create=args.create_table
        )
    return embedded(args.table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example until Ctrl-C; return the exit status (1 when DynamoDB is not usable)."""
    args = parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ValueError as exc:
        print(f"example_app: {exc}", file=sys.stderr)
        return 2
    try:
        backend = open_backend(args)
    except (DynSessionError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        hint = "" if args.create_table else " (--create-table creates a missing table)"
        print(f"example_app: cannot use DynamoDB: {exc}{hint}", file=sys.stderr)
        return 1
    for warning in backend.warnings:
        print(f"example_app: warning: {warning}", file=sys.stderr)
    try:
        app = create_app(backend.store, settings)
        print(f"dynsession example: sessions in {backend.description}; open http://{HOST}:{args.port}/")
        sys.stdout.flush()
        uvicorn.run(app, host=HOST, port=args.port, log_level="warning")
    except KeyboardInterrupt:
        pass
    finally:
        backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
