"""The example of the User sessions and devices page does what the page says, against DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from .devices_app import FIREFOX_LINUX, SAFARI_IPHONE
from .doc_examples import REPO, ExampleRunner, python_blocks


@pytest.fixture
def namespace(dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    monkeypatch.setenv("SESSION_SECRET", "docs-key")
    (block,) = [b for b in python_blocks(REPO / "docs" / "user-sessions.md") if b.not_run is None]
    assert block.code.count('DynamoDBStore("sessions", user_index=True)') == 1
    runner = ExampleRunner(dynamodb_endpoint)
    found = runner(block)
    passwords = {"alice": "old"}

    async def authenticate(user: str, password: str) -> bool:
        return passwords.get(user) == password

    async def set_password(user: str, password: str) -> None:
        passwords[user] = password

    found.update(authenticate=authenticate, set_password=set_password)
    yield found
    runner.close()


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
