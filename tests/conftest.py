"""Fixtures: a real DynamoDB wire protocol (moto's server, or DYNSESSION_TEST_ENDPOINT), stores, clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import botocore.exceptions
import pytest
from blockbuster import BlockBuster, blockbuster_ctx

from dynsession import DynamoDBStore, MemoryStore, SessionStore, UserSessionStore, tables
from dynsession.testing import local_dynamodb

from .faults import FaultProxy, fault_proxy
from .support import CountingStore, FakeClock, TransportName

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

EXTERNAL_ENDPOINT = os.environ.get("DYNSESSION_TEST_ENDPOINT")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``dynamodb`` every test that reaches DynamoDB: it requests ``dynamodb_endpoint``
    (directly or through another fixture), or ``indexed_store`` (which asks for the endpoint only
    when it builds a store), or runs with a ``"dynamodb"`` parameter. CI runs ``-m dynamodb`` again
    against a second DynamoDB implementation, and the other Pythons' subset ``-m "not dynamodb"``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        if {"dynamodb_endpoint", "indexed_store"} & set(getattr(item, "fixturenames", ())) or (
            "dynamodb" in params
        ):
            item.add_marker(pytest.mark.dynamodb)


@pytest.fixture(scope="session")
def ttl_api(dynamodb_client: DynamoDBClient) -> bool:
    """Whether the endpoint can enable TTL (dynalite answers UnknownOperationException)."""
    try:
        # A table that does not exist: DynamoDB and moto answer ResourceNotFoundException.
        dynamodb_client.update_time_to_live(
            TableName=f"dynsession-absent-{uuid.uuid4().hex[:8]}",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
        )
    except botocore.exceptions.ClientError as exc:
        return exc.response.get("Error", {}).get("Code") != "UnknownOperationException"
    return True


@pytest.fixture
def requires_ttl_api(ttl_api: bool) -> None:
    """Skip the test where the endpoint has no TTL API."""
    if not ttl_api:
        pytest.skip("this DynamoDB endpoint has no TTL API (dynalite): UnknownOperationException")


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Any blocking call that dynsession makes on the event loop fails the test."""
    with blockbuster_ctx("dynsession") as bb:
        yield bb


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """The URL of a DynamoDB-compatible server: DYNSESSION_TEST_ENDPOINT, or moto's on loopback."""
    if EXTERNAL_ENDPOINT:
        yield EXTERNAL_ENDPOINT
        return
    with local_dynamodb() as url:
        yield url


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_endpoint: str) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)


@pytest.fixture
def fresh_table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A table name nobody uses yet; the table is deleted after the test if it was created."""
    name = f"dynsession-fresh-{uuid.uuid4().hex[:10]}"
    yield name
    try:
        dynamodb_client.delete_table(TableName=name)
    except dynamodb_client.exceptions.ResourceNotFoundException:
        pass


def create_session_table(client: DynamoDBClient, name: str, partition_key: str = "id") -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


@pytest.fixture(scope="session")
def table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """One sessions table for the run; tests keep apart through their own key prefix."""
    name = f"dynsession-test-{uuid.uuid4().hex[:8]}"
    create_session_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def key_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture(params=["boto3", "native"])
def transport(request: pytest.FixtureRequest) -> TransportName:
    """Each DynamoDBStore transport, one test run each."""
    return cast(TransportName, request.param)


@pytest.fixture
def dynamodb_store(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> DynamoDBStore:
    return DynamoDBStore(
        table_name, endpoint_url=dynamodb_endpoint, key_prefix=key_prefix, clock=clock, transport=transport
    )


@pytest.fixture(scope="session")
def shared_fault_proxy(dynamodb_endpoint: str) -> Iterator[FaultProxy]:
    with fault_proxy(dynamodb_endpoint) as proxy:
        yield proxy


@pytest.fixture
def faults(shared_fault_proxy: FaultProxy) -> Iterator[FaultProxy]:
    """The fault-injecting proxy in front of the DynamoDB endpoint, without faults or counts."""
    shared_fault_proxy.reset()
    yield shared_fault_proxy
    shared_fault_proxy.reset()


@pytest.fixture
def proxied_store(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> DynamoDBStore:
    """A DynamoDBStore (each transport) whose requests pass through ``faults``."""
    return DynamoDBStore(
        table_name, endpoint_url=faults.url, key_prefix=key_prefix, clock=clock, transport=transport
    )


@pytest.fixture(
    params=[
        "memory",
        pytest.param("dynamodb-boto3", marks=pytest.mark.dynamodb),
        pytest.param("dynamodb-native", marks=pytest.mark.dynamodb),
    ]
)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, clock: FakeClock, request: pytest.FixtureRequest) -> SessionStore:
    """Every store implementation (DynamoDBStore once per transport), one test run each."""
    if store_kind == "memory":
        return MemoryStore(clock=clock)
    return DynamoDBStore(
        request.getfixturevalue("table_name"),
        endpoint_url=request.getfixturevalue("dynamodb_endpoint"),
        key_prefix=request.getfixturevalue("key_prefix"),
        clock=clock,
        transport=cast(TransportName, store_kind.removeprefix("dynamodb-")),
    )


@pytest.fixture(scope="session")
def user_table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """One sessions table with the user index for the run, made by dynsession's own create_table."""
    name = f"dynsession-users-{uuid.uuid4().hex[:8]}"
    tables.create_table(dynamodb_client, name, user_index=True, poll_interval=0.2).raise_for_errors()
    yield name
    dynamodb_client.delete_table(TableName=name)


IndexedStore = Callable[..., DynamoDBStore]


def indexed_store_builder(request: pytest.FixtureRequest, transport: TransportName) -> IndexedStore:
    """Builds DynamoDBStores with the user index on the run's indexed table, over ``transport``
    (this test's key prefix and clock unless ``options`` say otherwise)."""

    def build(**options: Any) -> DynamoDBStore:
        settings: dict[str, Any] = {
            "endpoint_url": request.getfixturevalue("dynamodb_endpoint"),
            "key_prefix": request.getfixturevalue("key_prefix"),
            "clock": request.getfixturevalue("clock"),
            "transport": transport,
        }
        settings.update(options)
        return DynamoDBStore(request.getfixturevalue("user_table_name"), user_index=True, **settings)

    return build


@pytest.fixture
def indexed_store(request: pytest.FixtureRequest, transport: TransportName) -> IndexedStore:
    """Builds DynamoDBStores with the user index, once per transport."""
    return indexed_store_builder(request, transport)


@pytest.fixture
def user_store(store_kind: str, clock: FakeClock, request: pytest.FixtureRequest) -> UserSessionStore:
    """Every store that finds sessions by user, one test run each (DynamoDB with the user index,
    once per transport)."""
    if store_kind == "memory":
        return MemoryStore(clock=clock)
    return indexed_store_builder(request, cast(TransportName, store_kind.removeprefix("dynamodb-")))()


@pytest.fixture
def counting(store: SessionStore) -> CountingStore:
    return CountingStore(store)
