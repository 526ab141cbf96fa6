"""DynamoDBStore(client=...) sends every call through the client it was given."""

from __future__ import annotations

import anyio
import boto3
from starlette.testclient import TestClient

from dynsession import DynamoDBStore

from .clients import WrappingClient, free_port
from .support import FakeClock, session_app


def test_an_injected_client_is_used_for_every_call(
    dynamodb_endpoint: str, fresh_table: str, clock: FakeClock
) -> None:
    injected = WrappingClient(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))
    # Nothing listens here: a call that bypassed the injected client would fail.
    store = DynamoDBStore(
        fresh_table,
        client=injected.as_client(),
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        clock=clock,
        create_table_if_missing=True,
    )
    app = session_app(store, clock=clock, refresh_after=0)

    with TestClient(app, base_url="https://testserver") as http:
        assert http.post("/update", json={"a": 1}).status_code == 200  # PutItem
        clock.advance(5)
        assert http.get("/view").json() == {"a": 1}  # GetItem, then UpdateItem (TTL refresh)
        assert http.post("/clear").status_code == 200  # DeleteItem
    report = anyio.run(store.check_table)

    assert report.healthy
    assert store.client is injected.as_client()
    assert {
        "describe_table",
        "create_table",
        "describe_time_to_live",
        "update_time_to_live",
        "put_item",
        "get_item",
        "update_item",
        "delete_item",
    } <= set(injected.calls)
    assert injected.calls["put_item"] == 1 and injected.calls["update_item"] == 1
    assert injected.calls["delete_item"] == 1
