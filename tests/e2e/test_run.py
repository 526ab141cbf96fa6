"""``python -m example_app`` as a user runs it: the line it prints, the DynamoDB it uses, Ctrl-C."""

from __future__ import annotations

import re
import urllib.request
import uuid
from typing import TYPE_CHECKING

from .conftest import STOP_TIMEOUT, ExampleProcess, start_example

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BANNER = "dynsession example: "


def banner(example: ExampleProcess) -> str:
    """The line the example prints once ready, skipping any warning lines before it."""
    line = example.first_line()
    while line.startswith("example_app: warning:"):
        line = example.first_line()
    return line


def set_cookie_from(url: str) -> str | None:
    """The session cookie's Set-Cookie header (the shop sets its own deadline cookie beside it)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        headers: list[str] = response.headers.get_all("set-cookie") or []
        return next((header for header in headers if header.startswith("session=")), None)


def test_embedded_dynamodb_by_default_and_ctrl_c_stops_it() -> None:
    example = start_example()
    try:
        line = banner(example)
        port = example.url.rsplit(":", 1)[1].rstrip("/")
        pattern = (
            r"dynsession example: sessions in embedded moto server at http://127\.0\.0\.1:\d+, "
            rf"table 'dynsession-example'; open http://127\.0\.0\.1:{port}/"
        )
        assert re.fullmatch(pattern, line), line
        example.wait_until_serving()
        cookie = set_cookie_from(example.url)
        assert cookie is not None and cookie.startswith("session=") and "; httponly" in cookie
        assert "secure" not in cookie.lower()
        assert example.interrupt() == 0
    finally:
        example.stop()
    leftover = list(example.lines.queue)
    assert leftover == [], leftover


def test_endpoint_url_with_create_table(dynamodb_endpoint: str, dynamodb_client: DynamoDBClient) -> None:
    table = f"example-{uuid.uuid4().hex[:8]}"
    example = start_example("--endpoint-url", dynamodb_endpoint, "--create-table", "--table", table)
    try:
        assert banner(example).startswith(
            f"{BANNER}sessions in DynamoDB at {dynamodb_endpoint}, table '{table}';"
        )
        example.wait_until_serving()
        assert set_cookie_from(example.url) is not None
        items = dynamodb_client.scan(TableName=table)["Items"]
        assert len(items) == 1
        assert re.fullmatch(r"dc:[0-9a-f]{64}", items[0]["id"]["S"]) and "ttl" in items[0]
        assert example.interrupt(STOP_TIMEOUT) == 0
    finally:
        example.stop()
        dynamodb_client.delete_table(TableName=table)


def test_missing_table_on_endpoint_from_environment(dynamodb_endpoint: str) -> None:
    table = f"absent-{uuid.uuid4().hex[:8]}"
    example = start_example("--table", table, env={"AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint})
    try:
        assert example.process.wait(timeout=60) == 1
        line = example.first_line()
        assert line.startswith("example_app: cannot use DynamoDB:") and table in line
        assert "--create-table" in line
    finally:
        example.stop()
    assert not any("Traceback" in line for line in example.lines.queue)


def test_bad_timeout_setting_is_a_usage_error() -> None:
    example = start_example(env={"EXAMPLE_IDLE_TIMEOUT": "soon"})
    try:
        assert example.process.wait(timeout=60) == 2
        assert "EXAMPLE_IDLE_TIMEOUT" in example.first_line()
    finally:
        example.stop()
