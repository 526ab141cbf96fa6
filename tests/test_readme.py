"""The README's Quick start and Session lifecycle examples run as written, against DynamoDB."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from starlette.testclient import TestClient

from dynsession import tables

from .faults import Sends
from .items import is_expiry, set_cookie

README = Path(__file__).resolve().parent.parent / "README.md"


def examples(section: str) -> list[str]:
    """The ```python blocks of one ``## `` section of the README."""
    text = README.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


@pytest.fixture
def run_example(dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, Any]]:
    """Execute an example with its table created on the test endpoint; return its namespace."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    monkeypatch.setenv("SESSION_SECRET", "old-key,new-key")

    def run(code: str) -> dict[str, Any]:
        name = f"readme-{uuid.uuid4().hex[:8]}"
        region = re.search(r'region_name="([^"]+)"', code)
        client = boto3.client(
            "dynamodb", endpoint_url=dynamodb_endpoint, region_name=region[1] if region else None
        )
        tables.create_table(client, name, wait_timeout=30, poll_interval=0.2)
        assert code.count('DynamoDBStore("sessions"') == 1
        namespace: dict[str, Any] = {"__name__": "readme_example"}
        exec(
            compile(code.replace('DynamoDBStore("sessions"', f'DynamoDBStore("{name}"'), "README", "exec"),
            namespace,
        )
        return namespace

    return run


def test_quick_start_examples_count_visits(run_example: Callable[[str], dict[str, Any]]) -> None:
    blocks = examples("Quick start")
    assert len(blocks) == 2
    for code in blocks:
        with TestClient(run_example(code)["app"], base_url="https://testserver") as client:
            first = client.get("/")
            assert first.json() == {"visits": 1}
            assert set_cookie(first) is not None
            assert client.get("/").json() == {"visits": 2}


def test_lifecycle_example_logs_in_and_out(run_example: Callable[[str], dict[str, Any]]) -> None:
    (code,) = examples("Session lifecycle")
    namespace = run_example(code)

    async def authenticate(user: str, password: str) -> bool:
        return password == "right"

    namespace["authenticate"] = authenticate
    with TestClient(namespace["app"], base_url="https://testserver") as client:
        assert client.post("/login", data={"user": "ada", "password": "wrong"}).status_code == 401
        assert set_cookie(client.post("/login", data={"user": "ada", "password": "right"})) is not None
        me = client.get("/me").json()
        assert me["user"] == "ada"
        assert 1790 <= me["seconds_remaining"] <= 1800
        assert is_expiry(set_cookie(client.post("/logout")))
        assert client.get("/me").json()["user"] is None


def test_loading_on_demand_example_loads_only_where_declared(
    run_example: Callable[[str], dict[str, Any]],
) -> None:
    (code,) = examples("Loading on demand")
    app = run_example(code)["app"]
    store = app.user_middleware[0].kwargs["store"]
    with TestClient(app, base_url="https://testserver") as client:
        sends = Sends(store)  # after startup: its table check is not counted
        assert client.get("/").json() == {"visits": 1}
        assert client.get("/").json() == {"visits": 2}
        assert sends.by_operation == {"PutItem": 2, "GetItem": 1}
        health = client.get("/healthz")
        assert health.json() == {"status": "ok"} and set_cookie(health) is None
        assert sends.by_operation == {"PutItem": 2, "GetItem": 1}
        assert is_expiry(set_cookie(client.post("/logout")))
        assert sends.by_operation == {"PutItem": 2, "GetItem": 2, "DeleteItem": 1}
