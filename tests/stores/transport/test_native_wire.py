"""The native transport on the wire: keep-alive connections, answers cut short or framed wrongly
(each a connection failure: retried, then StoreUnavailable), chunked answers, a connection the
server closed while it sat idle in the pool, and cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import anyio
import botocore.config
import botocore.exceptions
import pytest

from dynsession import DynamoDBStore, SessionRecord, StoreUnavailable
from dynsession.stores.transport.native import NativeTransport

from ...faults import Fault, FaultProxy
from ...support import FakeClock
from .peers import Relay, ScriptedServer, answer, chunked

pytestmark = pytest.mark.anyio

GOOD = (answer(b"{}"), False)
ITEM = {
    "Item": {
        "id": {"S": "k"},
        "data": {"B": "eyJhIjoxfQ=="},
        "ver": {"N": "1"},
        "created": {"N": "1700000000"},
        "expires": {"N": "4102444800"},
        "ttl": {"N": "4102444800"},
    }
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def native_store(url: str, table: str = "t", *, attempts: int = 2, **options: Any) -> DynamoDBStore:
    config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return DynamoDBStore(table, endpoint_url=url, transport="native", config=config, **options)


def native(store: DynamoDBStore) -> NativeTransport:
    assert isinstance(store.transport, NativeTransport)
    return store.transport


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    servers: list[ScriptedServer] = []
    yield servers
    for server in servers:
        server.close()


def serve(servers: list[ScriptedServer], *answers: tuple[bytes, bool]) -> ScriptedServer:
    server = ScriptedServer(list(answers))
    servers.append(server)
    return server


CUT = {
    "inside-the-status-line": b"HTTP/1.1 2",
    "inside-the-headers": b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Len",
    "inside-the-crc32-line": b"HTTP/1.1 200 OK\r\nx-amz-crc32: 2745614147",
    "after-the-headers": answer(b'{"Item":{}}')[: -len(b'{"Item":{}}')],
    "inside-the-body": answer(b'{"Item":{"id":{"S":"k"}}}')[:-5],
    "without-content-length": b"HTTP/1.1 200 OK\r\nx-amz-crc32: 2745614147\r\n\r\n{}",
    "inside-a-chunk": chunked(b'{"Item":{"id":{"S":"k"}}}', 7)[:-30],
    "before-any-byte": b"",
}


@pytest.mark.parametrize("cut", CUT.values(), ids=CUT.keys())
async def test_an_answer_cut_short_is_retried_then_store_unavailable(
    scripted: list[ScriptedServer], cut: bytes
) -> None:
    # Once: the retry gets the whole answer.
    server = serve(scripted, (cut, True), GOOD)
    store = native_store(server.url)
    assert await store.load("k") is None
    assert server.requests == 2
    await store.aclose()
    # Every time: after the retries, a connection failure (a 503 for the app), never an answer.
    server = serve(scripted, (cut, True))
    store = native_store(server.url, attempts=3)
    with pytest.raises(StoreUnavailable, match="GetItem: ConnectionClosedError") as failed:
        await store.load("k")
    assert isinstance(failed.value.original, botocore.exceptions.ConnectionClosedError)
    assert server.requests == 3
    await store.aclose()


BAD = {
    "crc32-mismatch": (answer(b"{}", crc=1), botocore.exceptions.ConnectionClosedError),
    "bytes-after-the-answer": (
        answer(b"{}") + b"HTTP/1.1 200 OK\r\n",
        botocore.exceptions.ConnectionClosedError,
    ),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", botocore.exceptions.ConnectionClosedError),
    "content-length-twice": (
        answer(b"{}", extra="Content-Length: 3\r\n"),
        botocore.exceptions.ConnectionClosedError,
    ),
}


@pytest.mark.parametrize(("bad", "error"), BAD.values(), ids=BAD.keys())
async def test_a_malformed_or_corrupt_answer_is_retried_then_store_unavailable(
    scripted: list[ScriptedServer], bad: bytes, error: type[Exception]
) -> None:
    server = serve(scripted, (bad, False))
    store = native_store(server.url, attempts=2)
    with pytest.raises(StoreUnavailable) as failed:
        await store.load("k")
    assert type(failed.value.original) is error
    assert server.requests == 2
    await store.aclose()


async def test_chunked_and_interim_answers_are_read_whole(scripted: list[ScriptedServer]) -> None:
    body = json.dumps(ITEM).encode()
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    server = serve(scripted, (chunked(body, 5), False), (interim + chunked(body, 1000), False))
    store = native_store(server.url)
    for _ in range(2):
        record = await store.load("k")
        assert isinstance(record, SessionRecord) and record.data == b'{"a":1}' and record.version == 1
    assert server.requests == 2 and server.connections == 1
    await store.aclose()


async def test_connection_close_answers_are_honoured(scripted: list[ScriptedServer]) -> None:
    close = (answer(b"{}", extra="Connection: close\r\n"), True)
    old = (answer(b"{}", status="200 OK").replace(b"HTTP/1.1", b"HTTP/1.0"), True)
    server = serve(scripted, close, old, GOOD, GOOD)
    store = native_store(server.url, attempts=1)  # no retries: nothing may fail
    for _ in range(4):
        assert await store.load("k") is None
    assert server.connections == 3  # a new one after each closing answer, then kept
    await store.aclose()


async def test_keep_alive_connections_are_reused_and_bounded(
    faults: FaultProxy, table_name: str, key_prefix: str
) -> None:
    relay = Relay(("127.0.0.1", int(faults.url.rsplit(":", 1)[1])))
    try:
        store = native_store(f"http://127.0.0.1:{relay.port}", table_name, key_prefix=key_prefix)
        faults.inject("GetItem", Fault(action="delay", seconds=0.2, times=4))
        async with anyio.create_task_group() as tg:
            for n in range(4):
                tg.start_soon(store.load, f"k{n}")
        for n in range(20):
            assert await store.load(f"k{n}") is None
        assert relay.connections == 4 == native(store).connections()
        await store.aclose()
        assert native(store).open_sessions == 0
    finally:
        relay.close()


async def wait_until_closed_seen(store: DynamoDBStore) -> None:
    entry = next(iter(native(store)._pools.values()))
    with anyio.fail_after(10):
        while not all(c.closed for c in entry.pool._idle):
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("crossing", [False, True], ids=["seen-while-idle", "crossing-the-request"])
async def test_an_idle_connection_the_server_closed_is_replaced_without_a_retry(
    faults: FaultProxy, table_name: str, key_prefix: str, crossing: bool
) -> None:
    relay = Relay(("127.0.0.1", int(faults.url.rsplit(":", 1)[1])))
    try:
        # One attempt only: the request sent again on a new connection is not a retry.
        store = native_store(f"http://127.0.0.1:{relay.port}", table_name, attempts=1, key_prefix=key_prefix)
        assert await store.load("k") is None
        if crossing:
            relay.drop_next = True  # the server closes as the next request arrives
        else:
            relay.close_connections()
            await wait_until_closed_seen(store)
        assert await store.load("k") is None
        assert relay.connections == 2
        assert faults.sends["GetItem"] == 2  # each request reached the server once
        await store.aclose()
    finally:
        relay.close()


async def test_a_new_connection_closed_before_any_answer_is_a_failure(
    faults: FaultProxy, table_name: str, key_prefix: str
) -> None:
    # Unlike a reused one, a new connection closed without an answer is not sent again for free.
    store = native_store(faults.url, table_name, attempts=1, key_prefix=key_prefix)
    faults.inject("GetItem", Fault(action="drop", times=1))
    with pytest.raises(StoreUnavailable, match="ConnectionClosedError"):
        await store.load("k")
    assert faults.sends["GetItem"] == 1
    await store.aclose()


async def test_a_cancelled_call_leaves_no_connection_behind(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    store = native_store(faults.url, table_name, key_prefix=key_prefix, clock=clock)
    assert await store.load("k") is None
    faults.inject("GetItem", Fault(action="silence", seconds=2, times=1))
    with anyio.move_on_after(0.3) as scope:
        await store.load("k")
    assert scope.cancelled_caught
    assert native(store).connections() == 0  # the one awaiting the silent answer was dropped
    assert await store.load("k") is None
    assert native(store).connections() == 1
    await store.aclose()


async def test_every_failure_is_a_store_error(
    dynamodb_endpoint: str, table_name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # A value JSON cannot carry: botocore's parameter error, as the boto3 transport raises.
    for transport in ("native", "boto3"):
        store = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, transport=transport)
        with pytest.raises(StoreUnavailable) as failed:
            await store.transport.call("GetItem", {"TableName": table_name, "Key": {"id": {"S": object()}}})
        assert isinstance(failed.value.original, botocore.exceptions.ParamValidationError)
        await store.aclose()
    # A CA bundle that cannot be read: not an OSError escaping to the app.
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    store = native_store("https://127.0.0.1:1", table_name)
    with pytest.raises(StoreUnavailable) as failed:
        await store.load("k")
    assert isinstance(failed.value.original, botocore.exceptions.BotoCoreError)
    await store.aclose()
