"""Create and check the DynamoDB sessions table: one implementation for the store, startup and the CLI.

The functions here are blocking (they call a boto3 client and sleep while a table is created):
:class:`~dynsession.DynamoDBStore` runs them in a worker thread, the ``dynsession`` command calls
them directly. Client errors other than the expected ones (a missing table, a missing TTL API)
propagate as botocore exceptions for the caller to translate.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from .explain import client_location
from .index import DEFAULT_USER_INDEX, USER_ATTRIBUTE, index_definition, index_findings, index_flags
from .report import (
    TTL_API_UNAVAILABLE,
    TableFinding,
    TableReport,
    blocking,
    missing_table,
    table_findings,
    ttl_findings,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["TTL_API_UNAVAILABLE", "TableFinding", "TableReport", "check_table", "create_table"]


def check_table(
    client: DynamoDBClient,
    table_name: str,
    *,
    partition_key: str = "id",
    ttl_attribute: str = "ttl",
    user_index: bool = False,
    user_index_name: str = DEFAULT_USER_INDEX,
) -> TableReport:
    """Describe the table and its TTL setting and report every problem found; changes nothing.
    With ``user_index`` the global secondary index ``user_index_name`` is checked too (see
    :mod:`dynsession.tables.index`).

    Raises botocore's exceptions for anything but a missing table or a missing TTL API.
    """
    description = _describe(client, table_name)
    if description is None:
        index = user_index_name if user_index else None
        return TableReport(table_name, (_missing(client, table_name, partition_key, ttl_attribute, index),))
    findings = table_findings(description, partition_key)
    if user_index and not blocking(findings):
        findings += _index_findings(client, description, user_index_name, ttl_attribute, partition_key)
    if not blocking(findings):
        findings += ttl_findings(_describe_ttl(client, table_name), ttl_attribute)
    return TableReport(table_name, tuple(findings))


def create_table(
    client: DynamoDBClient,
    table_name: str,
    *,
    partition_key: str = "id",
    ttl_attribute: str = "ttl",
    wait_timeout: float = 60.0,
    poll_interval: float = 1.0,
    user_index: bool = False,
    user_index_name: str = DEFAULT_USER_INDEX,
) -> TableReport:
    """Create the table (on-demand, String hash key ``partition_key``, and with ``user_index`` the
    user index ``user_index_name``) unless it exists, wait at most ``wait_timeout`` seconds for it
    to be ACTIVE, enable TTL on ``ttl_attribute`` if TTL is off, and report as :func:`check_table`
    does. An existing valid table is left as it is; an existing table of the wrong shape (or
    without the user index) is reported, never changed.

    Raises botocore's exceptions for anything but a missing table or a missing TTL API.
    """
    created = False
    description = _describe(client, table_name)
    if description is None:
        attributes = [partition_key, USER_ATTRIBUTE] if user_index else [partition_key]
        indexes: dict[str, Any] = {"GlobalSecondaryIndexes": [index_definition(user_index_name)]}
        try:
            client.create_table(
                TableName=table_name,
                AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in attributes],
                KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                **(indexes if user_index else {}),
            )
            created = True
        except botocore.exceptions.ClientError as exc:
            # Another process created it between our describe and create: wait for theirs.
            if _code(exc) != "ResourceInUseException":
                raise
    if description is None or description["TableStatus"] == "CREATING":
        description = _wait_active(client, table_name, wait_timeout, poll_interval)
    if description is None:
        missing = TableFinding("error", f"table not found {wait_timeout:g} s after CreateTable")
        if not created:
            missing = _missing(
                client, table_name, partition_key, ttl_attribute, user_index_name if user_index else None
            )
        return TableReport(table_name, (missing,), created=created)
    findings = table_findings(description, partition_key)
    if user_index and not blocking(findings):
        findings += _index_findings(client, description, user_index_name, ttl_attribute, partition_key)
    if description["TableStatus"] == "CREATING":
        findings = [
            TableFinding("error", f"table is still CREATING after waiting {wait_timeout:g} s for ACTIVE")
        ]
    ttl_enabled = False
    if not blocking(findings):
        ttl = _describe_ttl(client, table_name)
        if ttl is not None and ttl[0] == "DISABLED":
            outcome = _enable_ttl(client, table_name, ttl_attribute)
            ttl_enabled = outcome is True
            # dynalite describes TTL as DISABLED but has no UpdateTimeToLive.
            ttl = None if outcome is None else _describe_ttl(client, table_name)
        findings += ttl_findings(ttl, ttl_attribute)
    return TableReport(table_name, tuple(findings), created=created, ttl_enabled=ttl_enabled)


# -- the pieces ----------------------------------------------------------------------------------


def table_report(
    client: DynamoDBClient,
    table_name: str,
    *,
    create: bool,
    partition_key: str,
    ttl_attribute: str,
    wait_timeout: float,
    user_index: bool = False,
    user_index_name: str = DEFAULT_USER_INDEX,
) -> TableReport:
    """:func:`create_table` when ``create``, else :func:`check_table`, with the same settings."""
    if create:
        return create_table(
            client,
            table_name,
            partition_key=partition_key,
            ttl_attribute=ttl_attribute,
            wait_timeout=wait_timeout,
            user_index=user_index,
            user_index_name=user_index_name,
        )
    return check_table(
        client,
        table_name,
        partition_key=partition_key,
        ttl_attribute=ttl_attribute,
        user_index=user_index,
        user_index_name=user_index_name,
    )


def _missing(
    client: DynamoDBClient, table_name: str, partition_key: str, ttl_attribute: str, user_index: str | None
) -> TableFinding:
    region, endpoint_url = client_location(client)
    return missing_table(
        table_name,
        region=region,
        endpoint_url=endpoint_url,
        partition_key=partition_key,
        ttl_attribute=ttl_attribute,
        index_flags=() if user_index is None else index_flags(user_index),
    )


def _index_findings(
    client: DynamoDBClient, description: Any, name: str, ttl_attribute: str, partition_key: str
) -> list[TableFinding]:
    region, endpoint_url = client_location(client)
    return index_findings(
        description, name, ttl_attribute, partition_key, region=region, endpoint_url=endpoint_url
    )


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(client: DynamoDBClient, table_name: str) -> Any | None:
    try:
        answer = client.describe_table(TableName=table_name)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise
    if "Table" not in answer:
        # A 2xx without the description: some other HTTP server answered (a catch-all web app).
        # Raised as botocore raises other non-DynamoDB answers: an error named by its HTTP status.
        metadata: Any = answer.get("ResponseMetadata", {})
        status = str(metadata.get("HTTPStatusCode", "200"))
        response: Any = {
            "Error": {"Code": status, "Message": "no table description"},
            "ResponseMetadata": metadata,
        }
        raise botocore.exceptions.ClientError(response, "DescribeTable")
    return answer["Table"]


def _wait_active(client: DynamoDBClient, table_name: str, timeout: float, interval: float) -> Any | None:
    """Poll while the table is being created (or not visible yet), at most ``timeout`` seconds;
    return the last description."""
    deadline = time.monotonic() + timeout
    while True:
        description = _describe(client, table_name)
        remaining = deadline - time.monotonic()
        if (description is not None and description["TableStatus"] != "CREATING") or remaining <= 0:
            return description
        time.sleep(min(interval, remaining))


def _describe_ttl(client: DynamoDBClient, table_name: str) -> tuple[str, str | None] | None:
    """The TTL status and attribute, or ``None`` when the endpoint has no TTL API."""
    try:
        ttl = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    except botocore.exceptions.ClientError as exc:
        if _code(exc) == "UnknownOperationException":
            return None
        raise
    return ttl.get("TimeToLiveStatus", "DISABLED"), ttl.get("AttributeName")


def _enable_ttl(client: DynamoDBClient, table_name: str, ttl_attribute: str) -> bool | None:
    """True once enabled, False if someone else enabled TTL first, None without a TTL API."""
    try:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )
    except botocore.exceptions.ClientError as exc:
        # Enabled meanwhile by someone else: the report that follows says on which attribute.
        if _code(exc) == "ValidationException":
            return False
        if _code(exc) == "UnknownOperationException":
            return None
        raise
    return True
