"""The README's "User sessions and devices" example runs as written, against DynamoDB."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from starlette.testclient import TestClient

from dynsession import tables

from .devices_app import FIREFOX_LINUX, SAFARI_IPHONE
from .test_readme import examples


@pytest.fixture
def namespace(dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    monkeypatch.setenv("SESSION_SECRET", "readme-key")
    (code,) = examples("User sessions and devices")
    name = f"readme-users-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
    tables.create_table(client, name, user_index=True, wait_timeout=30, poll_interval=0.2).raise_for_errors()
    assert code.count('DynamoDBStore("sessions", user_index=True)') == 1
    found: dict[str, Any] = {"__name__": "readme_users_example"}
    exec(
        compile(code.replace('DynamoDBStore("sessions"', f'DynamoDBStore("{name}"'), "README", "exec"), found
    )
    passwords = {"alice": "old"}

    async def authenticate(user: str, password: str) -> bool:
        return passwords.get(user) == password

    async def set_password(user: str, password: str) -> None:
        passwords[user] = password

    found.update(authenticate=authenticate, set_password=set_password)
    return found


def test_devices_sign_out_and_password_change(namespace: dict[str, Any]) -> None:
    app = namespace["app"]
    laptop, phone, tablet = (
        TestClient(app, base_url="https://testserver", headers={"user-agent": agent})
        for agent in (FIREFOX_LINUX, SAFARI_IPHONE, SAFARI_IPHONE)
    )
    for client in (laptop, phone):
        assert client.post("/login", data={"user": "alice", "password": "old"}).json() == {"user": "alice"}
    listed = laptop.get("/devices").json()
    assert [(s["device"], s["current"]) for s in listed] == [
        ("Firefox on Linux", True),
        ("Safari on iOS", False),
    ]

    assert laptop.post("/devices/sign-out", data={"handle": listed[1]["handle"]}).json() == {"ended": 1}
    assert len(phone.get("/devices").json()) == 0

    for client in (phone, tablet):
        client.post("/login", data={"user": "alice", "password": "old"})
    assert laptop.post("/devices/sign-out-others").json() == {"ended": 2}

    phone.post("/login", data={"user": "alice", "password": "old"})
    assert laptop.post("/password", data={"password": "new"}).json() == {"signed_out": 1}
    assert phone.get("/devices").json() == []
    assert [s["current"] for s in laptop.get("/devices").json()] == [True]
    assert phone.post("/login", data={"user": "alice", "password": "old"}).status_code == 401
