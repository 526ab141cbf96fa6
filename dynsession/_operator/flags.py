"""The flags every ``dynsession`` command that reaches a table takes: which table, its layout, where."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from ..stores.dynamodb import DynamoDBStore
from ..tables.index import DEFAULT_USER_INDEX


def add_table_flags(parser: argparse.ArgumentParser) -> None:
    """``--table``, ``--partition-key``, ``--ttl-attribute``, ``--user-index-name``,
    ``--endpoint-url`` and ``--region``."""
    parser.add_argument("--table", required=True, metavar="NAME", help="the table name")
    parser.add_argument("--partition-key", default="id", metavar="NAME", help="hash key name (default: id)")
    parser.add_argument("--ttl-attribute", default="ttl", metavar="NAME", help="TTL attribute (default: ttl)")
    parser.add_argument(
        "--user-index-name",
        default=DEFAULT_USER_INDEX,
        metavar="NAME",
        help=f"the user index's name (default: {DEFAULT_USER_INDEX})",
    )
    parser.add_argument("--endpoint-url", metavar="URL", help="a DynamoDB-compatible endpoint (default: AWS)")
    parser.add_argument("--region", metavar="REGION", help="the AWS region (default: from the environment)")


def table_store(args: argparse.Namespace, **options: Any) -> DynamoDBStore:
    """A DynamoDBStore on the table the flags name, where they say; ``options`` add the rest."""
    return DynamoDBStore(
        args.table,
        partition_key=args.partition_key,
        ttl_attribute=args.ttl_attribute,
        endpoint_url=args.endpoint_url,
        region_name=args.region,
        user_index_name=args.user_index_name,
        **options,
    )


def command_line(command: str, args: argparse.Namespace, *extra: str) -> str:
    """``dynsession COMMAND`` with every table flag ``args`` holds that differs from its default, so
    a suggested command looks at the same table, in the same region, at the same endpoint."""
    words = ["dynsession", command, "--table", args.table, *extra]
    defaults = (
        ("--partition-key", "partition_key", "id"),
        ("--ttl-attribute", "ttl_attribute", "ttl"),
        ("--user-index-name", "user_index_name", DEFAULT_USER_INDEX),
        ("--region", "region", None),
        ("--endpoint-url", "endpoint_url", None),
    )
    for flag, name, default in defaults:
        value = getattr(args, name, default)
        if value != default:
            words += [flag, value]
    return shlex.join(words)
