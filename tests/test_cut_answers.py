"""An answer cut short is a broken connection on every transport: retried, then a 503 — never a
success without the data, never a 500.

The loopback proxy (tests/faults.py) passes each request to the server, so writes are applied, and
sends back only part of the answer: up to before ``x-amz-crc32`` and ``Content-Length``, into the
``x-amz-crc32:`` line, or half the body. botocore took the first two for an empty success (GetItem
"found nothing") or raised ``ValueError``, and returned a cut body once its retries were spent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import botocore.exceptions
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from dynsession import DynamoDBStore, SessionMiddleware, SessionRecord, StoreUnavailable
from dynsession.stores.transport import Boto3Transport

from .faults import CUTS, Fault, FaultProxy
from .items import stored_item
from .support import SECRET, FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = [pytest.mark.dynamodb, pytest.mark.anyio]

ATTEMPTS = 4  # dynsession's default: botocore's standard mode with three retries
BROKEN = [*CUTS, "bad_checksum"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def record(clock: FakeClock, version: int, data: bytes = b'{"a":1}') -> SessionRecord:
    return SessionRecord(data=data, version=version, created=clock(), expires=clock() + 600)


async def seeded(store: DynamoDBStore, clock: FakeClock, key: str) -> None:
    await store.save(key, record(clock, 1), expected_version=None)


def assert_broken_connection(exc: StoreUnavailable) -> None:
    assert isinstance(exc.original, botocore.exceptions.ConnectionClosedError), repr(exc.original)


# -- each operation: cut once is retried and served; cut every time is a StoreUnavailable ----------


async def load(store: DynamoDBStore, clock: FakeClock, key: str) -> object:
    return await store.load(key)


async def save(store: DynamoDBStore, clock: FakeClock, key: str) -> object:
    await store.save(key, record(clock, 2, b'{"a":2}'), expected_version=1)
    return None


async def touch(store: DynamoDBStore, clock: FakeClock, key: str) -> object:
    return await store.touch(key, clock() + 900)


OPERATIONS: Mapping[str, tuple[str, Callable[[DynamoDBStore, FakeClock, str], Any]]] = {
    "GetItem": ("GetItem", load),
    "conditional-PutItem": ("PutItem", save),
    "conditional-UpdateItem": ("UpdateItem", touch),
}


@pytest.mark.parametrize("cut", BROKEN)
@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_an_answer_cut_every_time_is_retried_then_a_store_failure(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock, cut: str, name: str
) -> None:
    operation, run = OPERATIONS[name]
    await seeded(proxied_store, clock, "k")
    fault = faults.inject(operation, Fault(action=cut))
    with pytest.raises(StoreUnavailable) as raised:
        await run(proxied_store, clock, "k")
    assert_broken_connection(raised.value)
    assert fault.sent == ATTEMPTS
    await proxied_store.aclose()


@pytest.mark.parametrize("cut", BROKEN)
@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_an_answer_cut_once_is_retried_and_served_whole(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock, cut: str, name: str
) -> None:
    operation, run = OPERATIONS[name]
    await seeded(proxied_store, clock, "k")
    fault = faults.inject(operation, Fault(action=cut, times=1))
    answer = await run(proxied_store, clock, "k")
    assert fault.sent == 2
    faults.reset()
    current = await proxied_store.load("k")
    assert isinstance(current, SessionRecord)
    if name == "GetItem":
        assert answer == current and current.data == b'{"a":1}'
    elif name == "conditional-PutItem":
        # The first attempt was applied; the retry failed its condition and found its own token.
        assert answer is None and (current.version, current.data) == (2, b'{"a":2}')
    else:
        assert answer is True and current.expires == clock() + 900
    await proxied_store.aclose()


async def test_a_cut_conflict_reread_is_a_store_failure_not_a_conflict_without_data(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    # A condition failure without the item (as dynalite answers): the store reads the item that won.
    await seeded(proxied_store, clock, "k")
    faults.inject("PutItem", Fault("ConditionalCheckFailedException", times=1))
    reread = faults.inject("GetItem", Fault(action="cut_headers"))
    with pytest.raises(StoreUnavailable) as raised:
        await save(proxied_store, clock, "k")
    assert_broken_connection(raised.value)
    assert reread.sent == ATTEMPTS
    await proxied_store.aclose()


async def test_any_exception_of_a_transport_is_a_store_failure() -> None:
    class Breaks:
        def get_item(self, **request: Any) -> dict[str, Any]:
            raise ValueError("invalid literal for int() with base 10: ''")

    transport = Boto3Transport(lambda: Breaks(), max_concurrency=1)  # type: ignore[arg-type,return-value]
    with pytest.raises(StoreUnavailable) as raised:
        await transport.call("GetItem", {"TableName": "t", "Key": {"id": {"S": "k"}}})
    assert isinstance(raised.value.original, ValueError)


# -- through the middleware: a 503, the browser keeps its session and cookie -----------------------


def session_app(store: DynamoDBStore, clock: FakeClock) -> Starlette:
    async def update(request: Request) -> Response:
        request.session.update(await request.json())
        return PlainTextResponse("stored")

    async def view(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    app = Starlette(routes=[Route("/update", update, methods=["POST"]), Route("/view", view)])
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock)
    return app


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_read_is_a_503_not_a_new_empty_session(
    proxied_store: DynamoDBStore,
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    cut: str,
) -> None:
    app = session_app(proxied_store, clock)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        assert client.post("/update", json={"a": 1}).status_code == 200
        cookie = client.cookies["session"]
        faults.inject("GetItem", Fault(action=cut))
        response = client.post("/update", json={"b": 2})
        assert response.status_code == 503
        assert "set-cookie" not in response.headers
        faults.reset()
        assert client.cookies["session"] == cookie
        assert client.get("/view").json() == {"a": 1}
    item = stored_item(dynamodb_client, proxied_store, cookie)
    assert item is not None and item["ver"] == {"N": "1"}


@pytest.mark.parametrize("cut", CUTS)
def test_a_cut_conflict_reread_is_a_503_not_a_200_stored_nowhere(
    proxied_store: DynamoDBStore,
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    cut: str,
) -> None:
    app = session_app(proxied_store, clock)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        assert client.post("/update", json={"a": 1}).status_code == 200
        cookie = client.cookies["session"]
        # The request's own read goes through; its write loses a race (the answer carries no
        # item), and every read after that is cut.
        faults.inject("PutItem", Fault("ConditionalCheckFailedException", times=1))
        reread = faults.inject("GetItem", Fault(action=cut, after=1))
        response = client.post("/update", json={"b": 2})
        assert response.status_code == 503
        assert reread.sent > 1
        faults.reset()
        assert client.cookies["session"] == cookie
        assert client.get("/view").json() == {"a": 1}
    item = stored_item(dynamodb_client, proxied_store, cookie)
    assert item is not None and item["ver"] == {"N": "1"}
