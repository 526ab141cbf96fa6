"""The example app's static files cost no session load, though the browser sends the cookie with them."""

from __future__ import annotations

from collections import Counter

import pytest
from starlette.testclient import TestClient

from dynsession import DynamoDBStore, MemoryStore
from example_app.app import create_app
from example_app.settings import Settings

from ..support import CountingStore, FakeClock

ASSETS = 15


def page_with_assets(web: TestClient) -> None:
    """One page view as a browser makes it: the page, then its assets, all carrying the cookie."""
    page = web.get("/")
    assert page.status_code == 200 and '<link rel="icon" href="/static/favicon.svg"' in page.text
    for _ in range(ASSETS):
        asset = web.get("/static/favicon.svg")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith("image/svg+xml")
        assert "set-cookie" not in asset.headers and "vary" not in asset.headers
    assert web.get("/static/missing.css").status_code == 404


def test_assets_cost_no_call_on_memory(clock: FakeClock) -> None:
    counting = CountingStore(MemoryStore(clock=clock))
    app = create_app(counting, Settings(secret_key="static-secret"), clock=clock)
    with TestClient(app, base_url="http://testserver") as web:
        web.get("/")  # the first visit creates the session and its cookie
        counting.reset()
        page_with_assets(web)
    assert counting.calls == ["load", "save"]  # the page's visit counter; the assets cost nothing


@pytest.mark.dynamodb
def test_assets_cost_no_capacity_on_dynamodb(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store = DynamoDBStore(
        table_name,
        endpoint_url=dynamodb_endpoint,
        key_prefix=key_prefix,
        clock=clock,
        return_consumed_capacity=True,
        validate_on_startup=False,
    )
    assert store.consumed_capacity is not None
    app = create_app(store, Settings(secret_key="static-secret"), clock=clock)
    with TestClient(app, base_url="http://testserver") as web:
        web.get("/")
        store.consumed_capacity.reset()
        page_with_assets(web)
    totals = store.consumed_capacity.snapshot()
    assert Counter(totals.calls) == Counter({"GetItem": 1, "PutItem": 1})
    assert 0 < totals.read_units <= 1
