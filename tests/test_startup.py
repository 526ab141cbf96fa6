"""The store's table check runs once: at lifespan startup, or on the first request without one."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

import anyio
import boto3
import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message

from dynsession import DynamoDBStore, MemoryStore, SessionMiddleware, StoreUnavailable, TableConfigError

from .clients import WrappingClient, client_error, free_port, make_table
from .support import SECRET, FakeClock, session_app

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BASE_URL = "https://testserver"


def counted_store(
    endpoint: str, table: str, key_prefix: str, clock: FakeClock, **options: Any
) -> tuple[DynamoDBStore, WrappingClient]:
    client = WrappingClient(boto3.client("dynamodb", endpoint_url=endpoint))
    store = DynamoDBStore(table, client=client.as_client(), key_prefix=key_prefix, clock=clock, **options)
    return store, client


def test_lifespan_validates_once_for_many_requests(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store, client = counted_store(dynamodb_endpoint, table_name, key_prefix, clock)
    app = session_app(store, clock=clock)

    with TestClient(app, base_url=BASE_URL) as http:
        assert client.calls["describe_table"] == 1  # before any request
        for n in range(20):
            http.post("/update", json={"n": n})
            assert http.get("/view").json() == {"n": n}

    assert client.calls["describe_table"] == 1
    assert client.calls["describe_time_to_live"] == 1
    assert client.calls["put_item"] == 20


def test_without_a_lifespan_concurrent_first_requests_validate_once(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store, client = counted_store(dynamodb_endpoint, table_name, key_prefix, clock)
    app = session_app(store, clock=clock)
    statuses: list[int] = []

    async def main() -> None:
        # httpx's ASGITransport sends no lifespan: the first requests race for the check.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:

            async def one(n: int) -> None:
                statuses.append((await http.post("/update", json={"n": n})).status_code)

            async with anyio.create_task_group() as tasks:
                for n in range(10):
                    tasks.start_soon(one, n)

    anyio.run(main)

    assert statuses == [200] * 10
    assert client.calls["describe_table"] == 1


def test_lifespan_failure_is_reported_to_the_server_once(dynamodb_endpoint: str, fresh_table: str) -> None:
    store = DynamoDBStore(fresh_table, endpoint_url=dynamodb_endpoint)
    app = session_app(store)
    sent: list[Message] = []

    async def main() -> None:
        async def receive() -> Message:
            return {"type": "lifespan.startup"}

        async def send(message: Message) -> None:
            sent.append(message)

        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    with pytest.raises(TableConfigError) as raised:
        anyio.run(main)

    region = store.client.meta.region_name
    assert str(raised.value) == (
        f"DynamoDB table '{fresh_table}': error: table '{fresh_table}' does not exist in region {region} at "
        f"{dynamodb_endpoint}; create it there with `dynsession create-table --table {fresh_table} "
        f"--region {region} --endpoint-url {dynamodb_endpoint}` or pass create_table_if_missing=True"
    )
    assert sent == [{"type": "lifespan.startup.failed", "message": str(raised.value)}]


def test_lifespan_failure_stops_the_test_client(dynamodb_endpoint: str, fresh_table: str) -> None:
    app = session_app(DynamoDBStore(fresh_table, endpoint_url=dynamodb_endpoint))

    with pytest.raises(TableConfigError, match="does not exist in region"):
        with TestClient(app, base_url=BASE_URL):
            pass  # pragma: no cover - startup fails first


def test_without_a_lifespan_a_failure_is_raised_once_then_requests_get_503(
    dynamodb_endpoint: str, fresh_table: str, key_prefix: str, clock: FakeClock
) -> None:
    store, client = counted_store(dynamodb_endpoint, fresh_table, key_prefix, clock)
    http = TestClient(session_app(store, clock=clock), base_url=BASE_URL)  # no `with`: no lifespan

    with pytest.raises(TableConfigError, match="does not exist in region"):
        http.get("/view")
    later = [http.get("/view") for _ in range(3)]

    assert [response.status_code for response in later] == [503] * 3
    assert client.calls["describe_table"] == 1
    assert sum(client.calls.values()) == 1


def test_a_transient_failure_of_the_check_is_a_503_and_retried(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store, client = counted_store(dynamodb_endpoint, table_name, key_prefix, clock)

    def unavailable(**kwargs: Any) -> Any:
        raise client_error("InternalServerError", "DescribeTable")

    client.faults["describe_table"] = unavailable
    http = TestClient(session_app(store, clock=clock), base_url=BASE_URL)

    assert http.post("/update", json={"a": 1}).status_code == 503
    del client.faults["describe_table"]
    assert http.post("/update", json={"a": 1}).status_code == 200
    assert http.get("/view").json() == {"a": 1}
    assert client.calls["describe_table"] == 2


def test_create_table_if_missing_creates_the_table_at_startup(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str, clock: FakeClock
) -> None:
    store = DynamoDBStore(
        fresh_table, endpoint_url=dynamodb_endpoint, clock=clock, create_table_if_missing=True
    )

    with TestClient(session_app(store, clock=clock), base_url=BASE_URL) as http:
        assert dynamodb_client.describe_table(TableName=fresh_table)["Table"]["TableStatus"] == "ACTIVE"
        http.post("/update", json={"cart": ["pear"]})
        assert http.get("/view").json() == {"cart": ["pear"]}


def test_validate_on_startup_false_never_describes_the_table(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store, client = counted_store(dynamodb_endpoint, table_name, key_prefix, clock, validate_on_startup=False)

    with TestClient(session_app(store, clock=clock), base_url=BASE_URL) as http:
        http.post("/update", json={"a": 1})
        assert http.get("/view").json() == {"a": 1}

    assert client.calls["describe_table"] == 0 and client.calls["describe_time_to_live"] == 0


def test_warnings_are_logged_once_at_startup(
    dynamodb_client: DynamoDBClient,
    dynamodb_endpoint: str,
    fresh_table: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_table(dynamodb_client, fresh_table)  # TTL left off
    app = session_app(DynamoDBStore(fresh_table, endpoint_url=dynamodb_endpoint))

    with caplog.at_level(logging.WARNING, logger="dynsession"), TestClient(app, base_url=BASE_URL) as http:
        for _ in range(3):
            http.get("/view")

    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        f"DynamoDB table '{fresh_table}': TTL is disabled: enable it on 'ttl' so DynamoDB removes "
        "expired sessions (until then they only read as expired)"
    ]


def test_the_apps_own_lifespan_still_runs() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(lifespan=lifespan)
    app.add_middleware(SessionMiddleware, store=MemoryStore(), secret_key=SECRET)

    with TestClient(app, base_url=BASE_URL):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


class ItemOnlyClient:
    """The item methods of a DynamoDB client and nothing else, as a DAX client offers."""

    def __init__(self, inner: DynamoDBClient) -> None:
        self.get_item = inner.get_item
        self.put_item = inner.put_item
        self.update_item = inner.update_item
        self.delete_item = inner.delete_item


def test_a_client_without_describe_table_asks_for_validate_on_startup_false(
    dynamodb_client: DynamoDBClient, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    item_only = cast("DynamoDBClient", ItemOnlyClient(dynamodb_client))
    checked = DynamoDBStore(table_name, client=item_only, key_prefix=key_prefix, clock=clock)
    unchecked = DynamoDBStore(
        table_name, client=item_only, key_prefix=key_prefix, clock=clock, validate_on_startup=False
    )

    with pytest.raises(TableConfigError, match="pass validate_on_startup=False"):
        with TestClient(session_app(checked, clock=clock), base_url=BASE_URL):
            pass  # pragma: no cover - startup fails first
    with TestClient(session_app(unchecked, clock=clock), base_url=BASE_URL) as http:
        http.post("/update", json={"a": 1})
        assert http.get("/view").json() == {"a": 1}


# Where boto3 looks for a region and credentials besides the variables a test sets.
NO_AWS_FILES = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
)


@pytest.fixture
def bare_aws(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment where boto3 finds no AWS files, profile or endpoint variables."""
    for name, value in NO_AWS_FILES.items():
        monkeypatch.setenv(name, value)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def startup_failure(store: DynamoDBStore) -> str:
    """The message the lifespan startup fails with (what uvicorn prints before refusing to start)."""
    with pytest.raises(StoreUnavailable) as raised:
        with TestClient(session_app(store), base_url=BASE_URL):
            pass  # pragma: no cover - startup fails first
    return str(raised.value)


def test_startup_without_a_region_says_where_it_looked_and_what_to_set(bare_aws: pytest.MonkeyPatch) -> None:
    bare_aws.delenv("AWS_DEFAULT_REGION", raising=False)

    assert startup_failure(DynamoDBStore("sessions")) == (
        "DynamoDB table 'sessions' could not be checked: no AWS region configured: no region_name "
        f"given to DynamoDBStore, AWS_DEFAULT_REGION not set, and profile 'default' in {os.devnull} "
        "names none; pass region_name= to DynamoDBStore or set AWS_DEFAULT_REGION"
    )


def test_startup_without_credentials_says_where_it_looked_and_what_to_set(
    bare_aws: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        bare_aws.delenv(name, raising=False)
    store = DynamoDBStore("sessions", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1")

    assert startup_failure(store) == (
        "DynamoDB table 'sessions' could not be checked: no AWS credentials found: AWS_ACCESS_KEY_ID "
        f"and AWS_SECRET_ACCESS_KEY not set, profile 'default' has none in {os.devnull} or {os.devnull}, "
        "and no container or instance role answered; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (any values do for a local DynamoDB)"
    )


@pytest.mark.parametrize("source", ["endpoint_url", "AWS_ENDPOINT_URL_DYNAMODB"])
def test_startup_against_an_unreachable_endpoint_names_it_and_its_source(
    bare_aws: pytest.MonkeyPatch, source: str
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    if source == "endpoint_url":
        store = DynamoDBStore("sessions", endpoint_url=endpoint)
        named = "DynamoDBStore's endpoint_url"
    else:
        bare_aws.setenv(source, endpoint)
        store = DynamoDBStore("sessions")
        named = source

    assert startup_failure(store) == (
        f"DynamoDB table 'sessions' could not be checked: cannot reach the DynamoDB endpoint {endpoint}/ "
        f"(from {named}): start the server there (`dynsession local` runs one on loopback), or pass "
        "endpoint_url= to DynamoDBStore or set AWS_ENDPOINT_URL_DYNAMODB to one that runs"
    )


class ClosingStore(MemoryStore):
    """A MemoryStore that notes when it is closed, and can fail to close."""

    def __init__(self, events: list[str], *, fail: bool = False) -> None:
        super().__init__()
        self.events = events
        self.fail = fail

    async def aclose(self) -> None:
        self.events.append("store closed")
        if self.fail:
            raise OSError("connection reset while closing")


def test_lifespan_shutdown_closes_the_store_after_the_apps_own_shutdown() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        events.append("app shutdown")

    app = Starlette(lifespan=lifespan)
    app.add_middleware(SessionMiddleware, store=ClosingStore(events), secret_key=SECRET)
    with TestClient(app, base_url=BASE_URL):
        assert events == []
    assert events == ["app shutdown", "store closed"]


def test_a_store_that_fails_to_close_is_logged_and_shutdown_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []
    app = Starlette()
    app.add_middleware(SessionMiddleware, store=ClosingStore(events, fail=True), secret_key=SECRET)
    with caplog.at_level(logging.WARNING, logger="dynsession"), TestClient(app, base_url=BASE_URL):
        pass
    assert events == ["store closed"]
    assert "closing the session store at shutdown failed: connection reset while closing" in caplog.text
