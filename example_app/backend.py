"""Where the example keeps its sessions: an embedded moto server, or a DynamoDB you point it at."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from dynsession import DynamoDBStore
from dynsession.testing import local_dynamodb


@dataclass
class Backend:
    """A ready store, a one-line description of where it lives, how to shut it down, and what the
    table check warned about."""

    store: DynamoDBStore
    description: str
    close: Callable[[], None]
    warnings: list[str] = field(default_factory=list)


def embedded(table_name: str) -> Backend:
    """Start moto's DynamoDB server on a free loopback port and create the table in it.

    Raises TableConfigError if the table cannot be created.
    """
    stack = contextlib.ExitStack()
    url = stack.enter_context(local_dynamodb())
    try:
        # moto accepts any credentials; fixed ones keep a developer's real AWS profile out of it.
        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="example",
            aws_secret_access_key="example",
        )
        store = _store(table_name, client=client)
        warnings = prepare_table(store, create=True)
    except BaseException:
        stack.close()
        raise
    return Backend(store, f"embedded moto server at {url}, table {table_name!r}", stack.close, warnings)


def external(table_name: str, *, endpoint_url: str | None, region_name: str | None, create: bool) -> Backend:
    """Use the DynamoDB at ``endpoint_url`` (None: boto3's own resolution, which honours
    AWS_ENDPOINT_URL_DYNAMODB) and check the table there, creating it first if ``create``.

    Raises TableConfigError when the table is missing or unusable, and botocore's errors
    (no region, no credentials, endpoint unreachable) as they come.
    """
    store = _store(table_name, endpoint_url=endpoint_url, region_name=region_name)
    warnings = prepare_table(store, create=create)
    url = store.client.meta.endpoint_url
    return Backend(store, f"DynamoDB at {url}, table {table_name!r}", lambda: None, warnings)


def prepare_table(store: DynamoDBStore, *, create: bool) -> list[str]:
    """Check the store's table, creating it first (with TTL on) if ``create``; return the warnings.

    Blocking: call it before the server starts. Raises TableConfigError when the table is missing
    or cannot hold sessions, and botocore's errors when DynamoDB cannot be asked.
    """
    report = store.table_report(create=create)
    report.raise_for_errors()
    return [finding.message for finding in report.warnings]


def _store(table_name: str, **options: Any) -> DynamoDBStore:
    # The table is checked here, before the server starts, so errors end the command with one line
    # instead of failing the server's startup.
    return DynamoDBStore(table_name, validate_on_startup=False, user_index=True, **options)
