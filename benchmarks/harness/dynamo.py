"""A DynamoDB endpoint for the call-count sections: moto's server on loopback, or a given URL.

Calls are counted on the wire (a botocore event hook on the client the store uses), together with
their capacity units by DynamoDB's published size rules, so they can be set beside what the
server itself reports through ``ReturnConsumedCapacity``.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config

from dynsession import DynamoDBStore
from dynsession.clock import Clock
from dynsession.stores.dynamodb import item_size
from dynsession.tables.index import USER_ATTRIBUTE, index_definition
from dynsession.testing import local_dynamodb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")


def read_units(size: int, consistent: bool = True) -> float:
    """RCUs of one GetItem by DynamoDB's rules: 4 KB steps, half for eventually consistent reads."""
    units = float(max(1, math.ceil(size / 4096)))
    return units if consistent else units / 2


def write_units(size: int) -> float:
    """WCUs of one write by DynamoDB's rules: 1 KB steps of the larger item image, at least one."""
    return float(max(1, math.ceil(size / 1024)))


@dataclass
class WireCount:
    """Calls seen on the wire and their capacity by DynamoDB's size rules, including the writes
    the user index (KEYS_ONLY on ``uid``) takes: one per item entering it, one per item leaving
    it, none for changes to attributes it does not project (the data, the TTL)."""

    calls: Counter[str] = field(default_factory=Counter)
    rule_read_units: float = 0.0
    rule_write_units: float = 0.0
    index_write_units: float = 0.0
    index_units_by_operation: Counter[str] = field(default_factory=Counter)
    sizes: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.rule_read_units = self.rule_write_units = self.index_write_units = 0.0
            self.index_units_by_operation.clear()

    def observe(self, operation: str, params: Mapping[str, Any]) -> None:
        with self.lock:
            self.calls[operation] += 1
            if operation == "PutItem":
                key = _key(params["Item"])
                size = item_size(params["Item"])
                self.rule_write_units += write_units(max(size, self.sizes.get(key, 0)))
                self.sizes[key] = size
                user = params["Item"].get(USER_ATTRIBUTE, {}).get("S")
                self._index(operation, key, user)
                return
            key = _key(params["Key"])
            size = self.sizes.get(key, 0)
            if operation == "GetItem":
                self.rule_read_units += read_units(size, bool(params.get("ConsistentRead")))
            elif operation in ("UpdateItem", "DeleteItem"):
                self.rule_write_units += write_units(size)
                if operation == "DeleteItem":
                    self.sizes.pop(key, None)
                    self._index(operation, key, None)

    def _index(self, operation: str, key: str, user: str | None) -> None:
        old = self.users.pop(key, None)
        if user is not None:
            self.users[key] = user
        if old == user:
            return
        # An index entry (table key + uid) is far below 1 KB: one unit per entry written or removed.
        units = (old is not None) + (user is not None)
        self.index_write_units += units
        self.index_units_by_operation[operation] += units


def _key(item: Mapping[str, Any]) -> str:
    value = item.get("id", {})
    return str(value.get("S", ""))


@contextmanager
def endpoint(url: str | None) -> Iterator[str]:
    """Yield ``url``, or start moto's DynamoDB server on 127.0.0.1 (a free port) and stop it after."""
    if url is None or urllib.parse.urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1"):
        # Local servers accept any credentials; real AWS keeps whatever the environment provides.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    if url is not None:
        yield url
        return
    with local_dynamodb() as local:
        yield local


def make_client(url: str, pool: int = 16) -> DynamoDBClient:
    config = botocore.config.Config(max_pool_connections=pool, retries={"mode": "standard"})
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.session.Session().client("dynamodb", endpoint_url=url, region_name=region, config=config)


@contextmanager
def session_table(client: DynamoDBClient) -> Iterator[str]:
    """Create a throwaway on-demand sessions table with the user index, deleted afterwards."""
    name = f"dynsession-bench-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": USER_ATTRIBUTE, "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[index_definition("user-sessions")],  # type: ignore[list-item]
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    with contextlib.suppress(client.exceptions.ClientError):  # dynalite has no TTL API
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
    try:
        yield name
    finally:
        client.delete_table(TableName=name)


@dataclass
class CountedStore:
    store: DynamoDBStore
    wire: WireCount

    def reset(self) -> None:
        self.wire.reset()
        assert self.store.consumed_capacity is not None
        self.store.consumed_capacity.reset()

    def reported_units(self) -> tuple[float, float]:
        assert self.store.consumed_capacity is not None
        totals = self.store.consumed_capacity.snapshot()
        return totals.read_units, totals.write_units


def counted_store(client: DynamoDBClient, table: str, clock: Clock) -> CountedStore:
    """A DynamoDBStore asking for consumed capacity, with its wire calls counted."""
    wire = WireCount()

    def hook(model: Any, params: Mapping[str, Any], **_: Any) -> None:
        if model.name in OPERATIONS:
            wire.observe(model.name, params)

    client.meta.events.register("before-parameter-build.dynamodb", hook)
    store = DynamoDBStore(
        table,
        client=client,
        key_prefix=f"b{uuid.uuid4().hex[:6]}:",
        clock=clock,
        return_consumed_capacity=True,
        # session_table made the table; every app built on this store would check it again.
        validate_on_startup=False,
    )
    return CountedStore(store, wire)
