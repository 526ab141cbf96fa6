"""The ``dynsession`` command: create or check the sessions table, or run a local DynamoDB.

Exit status: 0 when the table can hold sessions, 1 when it cannot or DynamoDB cannot be asked,
2 for a usage error. Warnings (such as TTL being off) fail only with ``--strict``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from .. import tables
from .._version import __version__
from ..exceptions import StoreError
from ..stores.dynamodb import translate_errors
from ..tables.explain import CLI, explain
from . import local
from . import sessions as cli_sessions
from .flags import add_table_flags, table_store


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dynsession`` command."""
    parser = argparse.ArgumentParser(
        prog="dynsession",
        description="Create or check the DynamoDB table that dynsession keeps sessions in, or run a "
        "local DynamoDB-compatible server with that table.",
        epilog="Credentials and region come from the usual AWS sources (environment, AWS_PROFILE, "
        "~/.aws/config, an instance role).",
    )
    parser.add_argument("--version", action="version", version=f"dynsession {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    create = commands.add_parser(
        "create-table",
        help="create the table (on-demand, TTL enabled) unless it exists, then check it",
        description="Create the sessions table unless it exists: on-demand billing, one String hash "
        "key, TTL enabled on the TTL attribute. An existing table is checked, never changed.",
    )
    check = commands.add_parser(
        "check-table",
        help="check that the table exists and has the layout dynsession needs",
        description="Check the sessions table: key schema, status and TTL. Changes nothing.",
    )
    for sub in (create, check):
        add_table_flags(sub)
        sub.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
        sub.add_argument(
            "--user-index", action="store_true", help="with the user index that lists a user's sessions"
        )
    create.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for a new table to become ACTIVE (default: 60)",
    )
    serve = commands.add_parser(
        "local",
        help="run moto's DynamoDB server on loopback with the table, until Ctrl-C",
        description="Run moto's DynamoDB-compatible server on 127.0.0.1, create the table in it and "
        "print the export lines that point boto3 at it. Needs: pip install 'dynsession[local]'.",
    )
    serve.add_argument("--table", required=True, metavar="NAME", help="the table name")
    serve.add_argument(
        "--port",
        type=int,
        default=local.DEFAULT_PORT,
        metavar="PORT",
        help=f"the port on 127.0.0.1 (default: {local.DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--region", default=local.DEFAULT_REGION, metavar="REGION", help="default: %(default)s"
    )
    serve.add_argument("--partition-key", default="id", metavar="NAME", help="hash key name (default: id)")
    serve.add_argument("--ttl-attribute", default="ttl", metavar="NAME", help="TTL attribute (default: ttl)")
    cli_sessions.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Never raises for DynamoDB or credential problems: they are printed as one line on stderr.
    """
    args = build_parser().parse_args(argv)
    problem = _invalid_option(args)
    if problem is not None:
        print(f"dynsession: error: {problem}", file=sys.stderr)
        return 2
    if args.command == "local":
        return local.run(
            args.table,
            port=args.port,
            region=args.region,
            partition_key=args.partition_key,
            ttl_attribute=args.ttl_attribute,
        )
    if args.command == "sessions":
        return cli_sessions.run(args)
    store = table_store(args, table_wait_timeout=getattr(args, "wait", 60.0), user_index=args.user_index)
    try:
        with translate_errors(args.command, args.table):
            report = store.table_report(create=args.command == "create-table")
    except StoreError as exc:
        print(
            f"dynsession: error: {explain(exc, spelling=CLI, endpoint_option=args.endpoint_url)}",
            file=sys.stderr,
        )
        return 1
    return _print_report(report, strict=args.strict)


def _invalid_option(args: argparse.Namespace) -> str | None:
    """What is wrong with an option value argparse accepted, naming the option and what is allowed."""
    wait = getattr(args, "wait", None)
    if wait is not None and not (math.isfinite(wait) and wait >= 0):
        return f"--wait must be a number of seconds, 0 or more (got {wait:g})"
    endpoint = getattr(args, "endpoint_url", None)
    if endpoint is not None and not _is_http_url(endpoint):
        return f"--endpoint-url must be an http:// or https:// URL with a host (got {endpoint!r})"
    port = getattr(args, "port", None)
    if port is not None and not 0 <= port <= 65535:
        return f"--port must be between 1 and 65535, or 0 for a free one (got {port})"
    return None


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # such as an unclosed "[" or a port out of range
        return False


def _print_report(report: tables.TableReport, *, strict: bool) -> int:
    name = report.table_name
    if report.created:
        print(f"created table {name!r} (on-demand)")
    if report.ttl_enabled:
        print(f"enabled TTL on table {name!r}")
    for finding in report.findings:
        print(finding)
    if not report.healthy:
        count = len(report.errors)
        print(f"table {name!r} cannot hold dynsession sessions ({count} error{'s' if count > 1 else ''})")
        return 1
    print(f"table {name!r} is ready for dynsession")
    return 1 if strict and report.warnings else 0
