"""The ``dynsession`` command: create or check the sessions table.

Exit status: 0 when the table can hold sessions, 1 when it cannot or DynamoDB cannot be asked,
2 for a usage error. Warnings (such as TTL being off) fail only with ``--strict``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import botocore.exceptions

from . import __version__, cli_sessions, tables
from .exceptions import StoreError
from .stores.dynamodb import DynamoDBStore, translate_errors
from .table_index import DEFAULT_USER_INDEX

_CREDENTIAL_HINT = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dynsession`` command."""
    parser = argparse.ArgumentParser(
        prog="dynsession",
        description="Create or check the DynamoDB table that dynsession keeps sessions in.",
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
        sub.add_argument("--table", required=True, metavar="NAME", help="the table name")
        sub.add_argument("--partition-key", default="id", metavar="NAME", help="hash key name (default: id)")
        sub.add_argument(
            "--ttl-attribute", default="ttl", metavar="NAME", help="TTL attribute (default: ttl)"
        )
        sub.add_argument(
            "--endpoint-url", metavar="URL", help="a DynamoDB-compatible endpoint (default: AWS)"
        )
        sub.add_argument("--region", metavar="REGION", help="the AWS region (default: from the environment)")
        sub.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    create.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for a new table to become ACTIVE (default: 60)",
    )
    for sub in (create, check):
        sub.add_argument(
            "--user-index", action="store_true", help="with the user index that lists a user's sessions"
        )
        sub.add_argument(
            "--user-index-name",
            default=DEFAULT_USER_INDEX,
            metavar="NAME",
            help=f"the user index's name (default: {DEFAULT_USER_INDEX})",
        )
    cli_sessions.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Never raises for DynamoDB or credential problems: they are printed as one line on stderr.
    """
    args = build_parser().parse_args(argv)
    if args.command == "sessions":
        return cli_sessions.run(args)
    store = DynamoDBStore(
        args.table,
        partition_key=args.partition_key,
        ttl_attribute=args.ttl_attribute,
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        table_wait_timeout=getattr(args, "wait", 60.0),
        user_index=args.user_index,
        user_index_name=args.user_index_name,
    )
    try:
        with translate_errors(args.command, args.table):
            report = store.table_report(create=args.command == "create-table")
    except StoreError as exc:
        print(f"dynsession: error: {_explain(exc)}", file=sys.stderr)
        return 1
    return _print_report(report, strict=args.strict)


def _explain(exc: StoreError) -> str:
    original = exc.original
    if isinstance(original, botocore.exceptions.NoCredentialsError):
        return f"no AWS credentials found ({_CREDENTIAL_HINT})"
    if isinstance(original, botocore.exceptions.NoRegionError):
        return "no AWS region configured (pass --region or set AWS_DEFAULT_REGION)"
    if isinstance(original, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach the DynamoDB endpoint {original.kwargs.get('endpoint_url', '')}".rstrip()
    text = str(original) if original is not None else str(exc)
    return " ".join(text.split())


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
