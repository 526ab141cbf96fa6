"""The README's Distributed cache examples run as written, against DynamoDB."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from dynsession import tables
from dynsession.cache.dynamodb import DEFAULT_KEY_PREFIX

from ..test_readme import README, examples

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def run(code: str, client: DynamoDBClient, table: str) -> dict[str, Any]:
    assert code.count('DynamoDBCache("sessions")') == 1
    namespace: dict[str, Any] = {"__name__": "readme_cache_example"}
    exec(
        compile(code.replace('DynamoDBCache("sessions")', f'DynamoDBCache("{table}")'), "README", "exec"),
        namespace,
    )
    return namespace


@pytest.fixture
def readme_table(
    dynamodb_endpoint: str, dynamodb_client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    name = f"readme-{uuid.uuid4().hex[:8]}"
    tables.create_table(dynamodb_client, name, wait_timeout=30, poll_interval=0.2)
    return name


def cached_keys(client: DynamoDBClient, table: str) -> set[str]:
    return {item["id"]["S"] for item in client.scan(TableName=table)["Items"]}


@pytest.mark.dynamodb
def test_fastapi_example_caches_through_the_lifespan_cache(
    dynamodb_client: DynamoDBClient, readme_table: str
) -> None:
    fastapi_code, starlette_code = examples("Distributed cache")
    namespace = run(fastapi_code, dynamodb_client, readme_table)
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
    assert cached_keys(dynamodb_client, readme_table) == {
        "cache:dc:fx:rates",
        'cache:dc:readme_cache_example.product:[["apple"],{}]',
    }


@pytest.mark.dynamodb
def test_starlette_example_keeps_the_cache_on_app_state(
    dynamodb_client: DynamoDBClient, readme_table: str
) -> None:
    _, starlette_code = examples("Distributed cache")
    namespace = run(starlette_code, dynamodb_client, readme_table)
    with TestClient(namespace["app"]) as client:
        assert client.get("/hello/ann").json() == {"greeting": "Hello, ann!"}
    assert cached_keys(dynamodb_client, readme_table) == {"cache:dc:greeting:ann"}


def test_the_iam_example_limits_the_role_to_the_cache_prefix() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Distributed cache\n", 1)[1].split("\n## ", 1)[0]
    (policy_text,) = re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)
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
