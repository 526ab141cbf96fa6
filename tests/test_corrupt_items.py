"""Items that cannot be read as a session (written by another program or version, edited by hand,
hostile) read as an empty session with one warning that names no ID; the next write replaces them
in place, and logging out works. Nothing raised while decoding becomes a 500."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from dynsession import DynamoDBStore, MovedRecord, SessionMiddleware, SessionRecord, SessionStore, end_session
from dynsession import _serialization as ser
from dynsession._envelope.cookies import CookieSigner, new_session_id, store_key

from .items import is_expiry
from .support import SECRET, FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Plant = Callable[[], Awaitable[None]]


def corrupt_app(
    store: SessionStore, clock: FakeClock, plant: Plant | None = None, **options: Any
) -> Starlette:
    """view/update/logout; ``/update?plant=1`` runs ``plant`` after the load, before its write."""

    async def view(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    async def update(request: Request) -> Response:
        request.session.update(await request.json())
        if "plant" in request.query_params and plant is not None:
            await plant()
        return PlainTextResponse("updated")

    async def logout(request: Request) -> Response:
        end_session(request)
        return PlainTextResponse("bye")

    app = Starlette(
        routes=[
            Route("/view", view),
            Route("/update", update, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **options)
    return app


class Planted:
    """One session ID whose item is written behind dynsession's back."""

    def __init__(self) -> None:
        self.session_id = new_session_id()
        self.key = store_key(self.session_id)
        self.cookie = CookieSigner(SECRET).sign(self.session_id)

    def client(self, app: Starlette) -> TestClient:
        return TestClient(app, base_url="https://testserver", cookies={"session": self.cookie})

    def assert_one_warning(self, caplog: pytest.LogCaptureFixture) -> None:
        warnings = [r for r in caplog.records if r.name == "dynsession" and r.levelno >= logging.WARNING]
        # Not about this session: the short test secret, and TTL being off on the test table.
        warnings = [r for r in warnings if not r.getMessage().startswith(("secret_key", "DynamoDB table"))]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert self.key[:8] in warnings[0].getMessage()
        for secret in (self.session_id, self.cookie, self.key):
            assert secret not in caplog.text


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture
def quiet_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        yield caplog


def read_back(store: SessionStore, key: str) -> SessionRecord | None:
    async def load() -> SessionRecord | None:
        found = await store.load(key)
        assert not isinstance(found, MovedRecord)
        return found

    return anyio.run(load)


def replaced_in_place(app: Starlette, planted: Planted, caplog: pytest.LogCaptureFixture) -> None:
    """The checks every unreadable item must pass, from the first request to logout."""
    with planted.client(app) as client:
        response = client.get("/view")
        assert response.status_code == 200 and response.json() == {}
        planted.assert_one_warning(caplog)
        response = client.post("/update", json={"fresh": 1})
        assert response.status_code == 200
        assert "set-cookie" not in response.headers  # the same ID: replaced in place
        assert client.get("/view").json() == {"fresh": 1}


# -- unreadable session JSON, in any store --------------------------------------------------------

DEPTH_BOMB = b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
BAD_JSON = {
    "nested past the recursion limit": DEPTH_BOMB,
    "compressed, nested past the recursion limit": b"\x01" + zlib.compress(DEPTH_BOMB),
    "nested past the depth limit": b'{"a":' + b"[" * 500 + b"]" * 500 + b"}",
    "NaN": b'{"a":NaN}',
    "Infinity": b'{"a":[1,-Infinity]}',
    "not an object": b"[1,2]",
    "not UTF-8": b'{"a":"\xff"}',
}


@pytest.mark.parametrize("blob", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_unreadable_json_is_an_empty_session_replaced_by_the_next_write(
    store: SessionStore,
    clock: FakeClock,
    planted: Planted,
    quiet_warnings: pytest.LogCaptureFixture,
    blob: bytes,
) -> None:
    record = SessionRecord(data=blob, version=3, created=clock() - 10, expires=clock() + 600)

    async def plant() -> None:
        await store.save(planted.key, record, expected_version=None)

    anyio.run(plant)
    replaced_in_place(corrupt_app(store, clock), planted, quiet_warnings)
    stored = read_back(store, planted.key)
    assert stored is not None and stored.version == 4
    assert ser.loads(ser.unpack(stored.data)) == {"fresh": 1}


@pytest.mark.parametrize("blob", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_logout_works_on_an_unreadable_session(
    store: SessionStore, clock: FakeClock, planted: Planted, blob: bytes
) -> None:
    record = SessionRecord(data=blob, version=3, created=clock() - 10, expires=clock() + 600)

    async def plant() -> None:
        await store.save(planted.key, record, expected_version=None)

    anyio.run(plant)
    with planted.client(corrupt_app(store, clock)) as client:
        response = client.post("/logout")
        assert response.status_code == 200 and is_expiry(response.headers["set-cookie"])
    assert read_back(store, planted.key) is None


def test_unreadable_json_written_during_a_request_is_merged_over(
    store: SessionStore, clock: FakeClock, planted: Planted
) -> None:
    # Between this request's load and its write, another program replaces the item with JSON that
    # cannot be decoded: the conflict's merge starts from an empty session instead of failing.
    async def seed() -> None:
        good = SessionRecord(data=b'{"a":1}', version=1, created=clock(), expires=clock() + 600)
        await store.save(planted.key, good, expected_version=None)

    async def plant() -> None:
        bad = SessionRecord(data=DEPTH_BOMB, version=2, created=clock(), expires=clock() + 600)
        await store.save(planted.key, bad, expected_version=1)

    anyio.run(seed)
    with planted.client(corrupt_app(store, clock, plant)) as client:
        response = client.post("/update?plant=1", json={"b": 2})
        assert response.status_code == 200
        assert client.get("/view").json() == {"b": 2}
    stored = read_back(store, planted.key)
    assert stored is not None and stored.version == 3


# -- DynamoDB items of the wrong shape -------------------------------------------------------------


def good_item(store: DynamoDBStore, key: str, now: int) -> dict[str, Any]:
    return {
        "id": {"S": store.key_prefix + key},
        "ttl": {"N": str(now + 600)},
        "data": {"B": b'{"old":true}'},
        "ver": {"N": "3"},
        "created": {"N": str(now - 10)},
    }


MALFORMED: dict[str, tuple[str, dict[str, Any] | None]] = {
    # name: (attribute, its malformed value or None to remove it)
    "data a String": ("data", {"S": '{"old":true}'}),
    "data missing": ("data", None),
    "ver missing": ("ver", None),
    "ver a String": ("ver", {"S": "three"}),
    "ver not an integer": ("ver", {"N": "3.5"}),
    "ver zero": ("ver", {"N": "0"}),
    "ver a list": ("ver", {"L": [{"N": "3"}]}),
    "ttl missing": ("ttl", None),
    "ttl a String": ("ttl", {"S": "tomorrow"}),
    "ttl not an integer": ("ttl", {"N": "1900000000.5"}),
    "created missing": ("created", None),
    "abs a String": ("abs", {"S": "never"}),
}


def malformed_item(store: DynamoDBStore, key: str, now: int, case: str) -> dict[str, Any]:
    item = good_item(store, key, now)
    attribute, value = MALFORMED[case]
    if value is None:
        del item[attribute]
    else:
        item[attribute] = value
    return item


def put_raw(client: DynamoDBClient, store: DynamoDBStore, item: dict[str, Any]) -> None:
    client.put_item(TableName=store.table_name, Item=item)


def get_raw(client: DynamoDBClient, store: DynamoDBStore, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(
        TableName=store.table_name, Key={"id": {"S": store.key_prefix + key}}, ConsistentRead=True
    ).get("Item")
    return found


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_item_is_an_empty_session_replaced_by_the_next_write(
    dynamodb_store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    planted: Planted,
    quiet_warnings: pytest.LogCaptureFixture,
    case: str,
) -> None:
    put_raw(dynamodb_client, dynamodb_store, malformed_item(dynamodb_store, planted.key, clock(), case))
    replaced_in_place(corrupt_app(dynamodb_store, clock), planted, quiet_warnings)
    item = get_raw(dynamodb_client, dynamodb_store, planted.key)
    assert item is not None
    expected_version = "4" if MALFORMED[case][0] != "ver" else "1"
    assert (item["ver"], item["data"]) == ({"N": expected_version}, {"B": b'{"fresh":1}'})
    assert item["ttl"] == {"N": str(clock() + 1800)}


@pytest.mark.parametrize("case", MALFORMED)
def test_logout_works_on_a_malformed_item(
    dynamodb_store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    planted: Planted,
    case: str,
) -> None:
    put_raw(dynamodb_client, dynamodb_store, malformed_item(dynamodb_store, planted.key, clock(), case))
    with planted.client(corrupt_app(dynamodb_store, clock)) as client:
        response = client.post("/logout")
        assert response.status_code == 200 and is_expiry(response.headers["set-cookie"])
    assert get_raw(dynamodb_client, dynamodb_store, planted.key) is None


@pytest.mark.parametrize("case", ["ver a String", "ver missing", "data a String", "ttl missing"])
def test_malformed_item_written_during_a_request_is_merged_over(
    dynamodb_store: DynamoDBStore,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    planted: Planted,
    case: str,
) -> None:
    # The failed conditional write gets the malformed item back (or reads it): reading it as the
    # conflict's current record must not fail, and the retry replaces exactly that item.
    put_raw(dynamodb_client, dynamodb_store, good_item(dynamodb_store, planted.key, clock()))

    async def plant() -> None:
        item = malformed_item(dynamodb_store, planted.key, clock(), case)
        if MALFORMED[case][0] != "ver":
            item["ver"] = {"N": "4"}  # written since the load: the version check fails
        await anyio.to_thread.run_sync(put_raw, dynamodb_client, dynamodb_store, item)

    with planted.client(corrupt_app(dynamodb_store, clock, plant)) as client:
        response = client.post("/update?plant=1", json={"b": 2})
        assert response.status_code == 200
        assert client.get("/view").json() == {"b": 2}
    item = get_raw(dynamodb_client, dynamodb_store, planted.key)
    assert item is not None and item["data"] == {"B": b'{"b":2}'}
