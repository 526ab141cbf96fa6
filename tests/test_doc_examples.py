"""Every Python example in README.md and docs/ runs as written, against DynamoDB (moto, or
DYNSESSION_TEST_ENDPOINT) or MemoryStore; the main ones are checked for what they claim to do."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from .doc_examples import (
    DOCUMENTS,
    Block,
    ExampleRunner,
    blocks,
    distinct,
    is_test_module,
    python_blocks,
    run_test_module,
)
from .items import is_expiry, set_cookie

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXAMPLES = python_blocks()
RUNNABLE = distinct([block for block in EXAMPLES if block.not_run is None])


@pytest.fixture
def run_example(dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExampleRunner]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    monkeypatch.setenv("SESSION_SECRET", "old-key,new-key")
    monkeypatch.setenv("SESSION_ENCRYPTION_KEY", f"{'o' * 32},{'n' * 32}")
    runner = ExampleRunner(dynamodb_endpoint)
    yield runner
    runner.close()


def in_section(title: str) -> list[Block]:
    return [block for block in RUNNABLE if block.section == title]


@pytest.mark.parametrize("block", [b for b in RUNNABLE if not is_test_module(b)], ids=lambda block: block.id)
def test_example_runs(block: Block, run_example: ExampleRunner) -> None:
    """The example executes, and an app it builds starts up (options checked, table checked)."""
    namespace = run_example(block)
    if "app" in namespace:
        with TestClient(namespace["app"], base_url="https://testserver"):
            pass


@pytest.mark.parametrize("block", [b for b in RUNNABLE if is_test_module(b)], ids=lambda block: block.id)
def test_example_test_module_passes(block: Block, tmp_path: Path) -> None:
    result = run_test_module(block, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\d+ passed", result.stdout, flags=re.MULTILINE), result.stdout


@pytest.mark.parametrize("block", in_section("Quick start"), ids=lambda block: block.id)
def test_quick_starts_count_visits(block: Block, run_example: ExampleRunner) -> None:
    with TestClient(run_example(block)["app"], base_url="https://testserver") as client:
        first = client.get("/")
        assert first.json() == {"visits": 1}
        assert set_cookie(first) is not None
        assert client.get("/").json() == {"visits": 2}


@pytest.mark.parametrize("block", in_section("Login and logout"), ids=lambda block: block.id)
def test_login_example_logs_in_and_out(block: Block, run_example: ExampleRunner) -> None:
    namespace: dict[str, Any] = run_example(block)

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


@pytest.mark.parametrize("block", in_section("Security"), ids=lambda block: block.id)
def test_security_example_encrypts_and_binds(
    block: Block, run_example: ExampleRunner, dynamodb_client: DynamoDBClient
) -> None:
    """The example with every opt-in protection counts visits; what it stores is encrypted, and a
    cookie replayed with another User-Agent finds no session."""
    namespace = run_example(block)
    ((_, table),) = run_example.created
    headers = {"user-agent": "Firefox/133.0"}
    with TestClient(namespace["app"], base_url="https://testserver", headers=headers) as client:
        assert [client.get("/").json()["visits"] for _ in range(2)] == [1, 2]
        (item,) = dynamodb_client.scan(TableName=table)["Items"]
        assert b"visits" not in item["data"]["B"]
        cookie = client.cookies["session"]
    with TestClient(namespace["app"], base_url="https://testserver") as thief:
        thief.cookies["session"] = cookie
        assert thief.get("/", headers={"user-agent": "curl/8.5"}).json() == {"visits": 1}


@pytest.mark.parametrize(
    "block", in_section("FastAPI: the session as a dependency"), ids=lambda block: block.id
)
def test_loading_on_demand_example_loads_only_where_declared(
    block: Block, run_example: ExampleRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routes declaring ``session: Session`` read the session once; the others make no call."""
    app = run_example(block)["app"]
    transport = app.user_middleware[0].kwargs["store"].transport
    sent: Counter[str] = Counter()
    call = transport.call

    async def counted(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent[operation] += 1
        return dict(await call(operation, request))

    monkeypatch.setattr(transport, "call", counted)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/").json() == {"visits": 1}
        assert client.get("/").json() == {"visits": 2}
        assert sent == {"PutItem": 2, "GetItem": 1}
        health = client.get("/healthz")
        assert health.json() == {"status": "ok"} and set_cookie(health) is None
        assert sent == {"PutItem": 2, "GetItem": 1}
        assert is_expiry(set_cookie(client.post("/logout")))
        assert sent == {"PutItem": 2, "GetItem": 2, "DeleteItem": 1}


def test_the_main_examples_are_found() -> None:
    """The checks above look examples up by section: each finds the docs' copy at least."""
    assert {block.path.name for block in in_section("Quick start")} >= {"index.md"}
    assert {block.path.name for block in in_section("Login and logout")} >= {"sessions.md"}
    assert {block.path.name for block in in_section("Security")} == {"security.md"}
    assert {block.path.name for block in in_section("FastAPI: the session as a dependency")} == {
        "sessions.md"
    }
    assert {block.path.name for block in EXAMPLES if block.not_run is None} >= {
        "index.md",
        "sessions.md",
        "user-sessions.md",
        "cache.md",
        "security.md",
        "testing.md",
        "operations.md",
        "README.md",
    }
    assert any(block.path.name == "testing.md" and is_test_module(block) for block in EXAMPLES)


def test_fragments_are_marked_few_and_say_why() -> None:
    fragments = [block for block in EXAMPLES if block.not_run is not None]
    assert all(block.not_run for block in fragments), [block.id for block in fragments]
    assert len(fragments) <= len(DOCUMENTS) // 2, [block.id for block in fragments]


def test_python_examples_are_fenced_as_python() -> None:
    """Another spelling of the language (py, python3, pycon) would escape the tests above."""
    odd = [
        block.id
        for path in DOCUMENTS
        for block in blocks(path)
        if block.language.lower() in {"py", "py3", "python3", "pycon", "ipython"}
        or block.language == "Python"
    ]
    assert odd == []


def test_json_examples_parse() -> None:
    found = [block for path in DOCUMENTS for block in blocks(path) if block.language == "json"]
    assert found
    for block in found:
        json.loads(block.code)
