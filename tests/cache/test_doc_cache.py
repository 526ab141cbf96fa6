"""The examples of the Distributed cache page do what the page says, against DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from dynsession.cache.dynamodb import DEFAULT_KEY_PREFIX

from ..doc_examples import REPO, ExampleRunner, blocks, python_blocks

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PAGE = REPO / "docs" / "cache.md"


@pytest.fixture
def run_example(dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExampleRunner]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    runner = ExampleRunner(dynamodb_endpoint)
    yield runner
    runner.close()


def run_page_example(runner: ExampleRunner, index: int) -> tuple[dict[str, Any], str]:
    """Run the page's first (FastAPI) or second (Starlette) example; return its namespace and the
    table it was given."""
    found = [block.code for block in python_blocks(PAGE)][:2]
    assert len(found) == 2 and all(code.count('DynamoDBCache("sessions")') == 1 for code in found)
    namespace = runner.run_code(found[index])
    ((_, table),) = runner.created
    return namespace, table


def cached_keys(client: DynamoDBClient, table: str) -> set[str]:
    return {item["id"]["S"] for item in client.scan(TableName=table)["Items"]}


@pytest.mark.dynamodb
def test_fastapi_example_caches_through_the_lifespan_cache(
    dynamodb_client: DynamoDBClient, run_example: ExampleRunner
) -> None:
    namespace, table = run_page_example(run_example, 0)
    fetches = 0
    original = namespace["fetch_rates"]

    async def counted() -> dict[str, float]:
        nonlocal fetches
        fetches += 1
        result: dict[str, float] = await original()
        return result

    namespace["fetch_rates"] = counted
    with TestClient(namespace["app"]) as client:
        assert client.get("/rates").json() == {"EUR": 1.0, "USD": 1.08}
        assert client.get("/rates").json() == {"EUR": 1.0, "USD": 1.08}
        assert client.get("/products/apple").json() == {"sku": "apple", "name": "Apple"}
    assert fetches == 1
    assert cached_keys(dynamodb_client, table) == {
        "cache:dc:fx:rates",
        'cache:dc:doc_example.product:[["apple"],{}]',
    }


@pytest.mark.dynamodb
def test_starlette_example_keeps_the_cache_on_app_state(
    dynamodb_client: DynamoDBClient, run_example: ExampleRunner
) -> None:
    namespace, table = run_page_example(run_example, 1)
    with TestClient(namespace["app"]) as client:
        assert client.get("/hello/ann").json() == {"greeting": "Hello, ann!"}
    assert cached_keys(dynamodb_client, table) == {"cache:dc:greeting:ann"}


def test_the_iam_example_limits_the_role_to_the_cache_prefix() -> None:
    (policy_text,) = [block.code for block in blocks(PAGE) if block.language == "json"]
    policy = json.loads(policy_text)
    items = policy["Statement"][0]
    leading = {"dynamodb:LeadingKeys": [DEFAULT_KEY_PREFIX + "*"]}
    assert items["Condition"] == {"ForAllValues:StringLike": leading}
    assert sorted(items["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]


@pytest.mark.dynamodb
def test_hybrid_example_computes_once_and_forgets_by_tag(run_example: ExampleRunner) -> None:
    (code,) = [block.code for block in python_blocks(PAGE) if "HybridCache(" in block.code]
    namespace = run_example.run_code(code)
    loads: list[str] = []
    original = namespace["load_product"]

    async def counted(sku: str) -> dict[str, Any]:
        loads.append(sku)
        result: dict[str, Any] = await original(sku)
        return result

    namespace["load_product"] = counted
    with TestClient(namespace["app"]) as client:
        first = client.get("/products/tea").json()
        assert first == {"sku": "tea", "name": "Tea", "cents": 320}
        assert client.get("/products/tea").json() == first and loads == ["tea"]
        assert client.post("/products/tea/changed").json() == {"status": "invalidated"}
        assert client.get("/products/tea").json() == first and loads == ["tea", "tea"]
    cache = namespace["cache"]
    assert cache.stats.local_hits == 1 and cache.stats.factory_runs == 2 and not cache.refreshing
