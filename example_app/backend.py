"""Where the example keeps its sessions: an embedded moto server, or a DynamoDB you point it at."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import botocore.exceptions

from dynsession import DynamoDBStore, TableConfigError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY = "id"
TTL_ATTRIBUTE = "ttl"


@dataclass
class Backend:
    """A ready store, a one-line description of where it lives, and how to shut it down."""

    store: DynamoDBStore
    description: str
    close: Callable[[], None]


def embedded(table_name: str) -> Backend:
    """Start moto's DynamoDB server on a free loopback port and create the table in it.

    Raises TableConfigError if the table cannot be created.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        # moto accepts any credentials; fixed ones keep a developer's real AWS profile out of it.
        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="example",
            aws_secret_access_key="example",
        )
        store = DynamoDBStore(table_name, client=client)
        prepare_table(store, create=True)
    except BaseException:
        server.stop()
        raise
    return Backend(store, f"embedded moto server at {url}, table {table_name!r}", server.stop)


def external(table_name: str, *, endpoint_url: str | None, region_name: str | None, create: bool) -> Backend:
    """Use the DynamoDB at ``endpoint_url`` (None: boto3's own resolution, which honours
    AWS_ENDPOINT_URL_DYNAMODB) and check the table there, creating it first if ``create``.

    Raises TableConfigError when the table is missing or unusable, and botocore's errors
    (no region, no credentials, endpoint unreachable) as they come.
    """
    store = DynamoDBStore(table_name, endpoint_url=endpoint_url, region_name=region_name)
    prepare_table(store, create=create)
    url = store.client.meta.endpoint_url
    return Backend(store, f"DynamoDB at {url}, table {table_name!r}", lambda: None)


def prepare_table(store: DynamoDBStore, *, create: bool) -> None:
    """Check that the store's table exists with a String hash key; create it first if ``create``.

    Blocking: call it before the server starts. Raises TableConfigError on a missing or
    wrongly shaped table.
    """
    client = store.client
    try:
        table = client.describe_table(TableName=store.table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        if not create:
            raise TableConfigError(
                f"table {store.table_name!r} does not exist; run with --create-table to create it"
            ) from None
        _create(client, store.table_name)
        return
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    if keys != {store.partition_key: "HASH"} or types.get(store.partition_key) != "S":
        raise TableConfigError(
            f"table {store.table_name!r} must have exactly one String hash key named {store.partition_key!r}"
        )


def _create(client: DynamoDBClient, table_name: str) -> None:
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    try:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    except botocore.exceptions.ClientError as exc:
        # Some local servers lack the TTL API; sessions still expire because dynsession checks on read.
        logging.getLogger(__name__).warning("could not enable TTL on %r: %s", table_name, exc)
