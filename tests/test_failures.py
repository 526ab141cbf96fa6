"""Store failures surface: throttling is retried by the transport, everything else becomes a 503 (or
propagates). Every test runs over both transports.

Faults are injected by a loopback proxy in front of the DynamoDB endpoint (see tests/faults.py), so
the transport's real retry loop runs and the requests a fault lets through reach the server.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import anyio
import botocore.config
import botocore.exceptions
import pytest
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynsession import (
    DynamoDBStore,
    MovedRecord,
    SessionMiddleware,
    SessionRecord,
    StoreError,
    StoreUnavailable,
    end_session,
)
from dynsession._envelope.cookies import CookieSigner

from .faults import Fault, FaultProxy
from .items import stored_item
from .support import SECRET, FakeClock, TransportName

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.dynamodb

APP_BODY = "the app's own answer"


class Calls:
    def __init__(self) -> None:
        self.count = 0


def failing_app(store: DynamoDBStore, clock: FakeClock, calls: Calls, **options: Any) -> Starlette:
    async def update(request: Request) -> Response:
        calls.count += 1
        request.session.update(await request.json())
        return PlainTextResponse(APP_BODY)

    async def view(request: Request) -> Response:
        calls.count += 1
        return JSONResponse(dict(request.session))

    async def logout(request: Request) -> Response:
        calls.count += 1
        end_session(request)
        return PlainTextResponse(APP_BODY)

    async def echo(websocket: WebSocket) -> None:
        calls.count += 1
        await websocket.accept()
        await websocket.send_json(dict(websocket.session))
        await websocket.close()

    app = Starlette(
        routes=[
            Route("/update", update, methods=["POST"]),
            Route("/view", view),
            Route("/logout", logout, methods=["POST"]),
            WebSocketRoute("/ws", echo),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **options)
    return app


def https_client(app: Starlette, *, raise_server_exceptions: bool = True) -> TestClient:
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=raise_server_exceptions)


def assert_replaced_by_503(response: Any) -> None:
    assert response.status_code == 503
    assert APP_BODY not in response.text
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["retry-after"] == "1"


# -- throttling: the transport retries it, dynsession adds no loop of its own -------------------------


@pytest.mark.parametrize(
    ("operation", "code"),
    [("PutItem", "ProvisionedThroughputExceededException"), ("GetItem", "ThrottlingException")],
)
def test_throttled_twice_then_served(
    proxied_store: DynamoDBStore,
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    operation: str,
    code: str,
) -> None:
    calls = Calls()
    with https_client(failing_app(proxied_store, clock, calls)) as client:
        assert client.post("/update", json={"before": 1}).status_code == 200
        fault = faults.inject(operation, Fault(code, times=2))
        response = client.post("/update", json={"after": 2})
        assert response.status_code == 200
        assert response.text == APP_BODY
        assert client.get("/view").json() == {"before": 1, "after": 2}
    # Two throttled sends and the one that got through (plus, for GetItem, the /view read).
    assert fault.sent == (3 if operation == "PutItem" else 4)
    item = stored_item(dynamodb_client, proxied_store, client.cookies["session"])
    assert item is not None and item["ver"] == {"N": "2"}


def test_throttled_past_retries_is_503_and_the_item_unchanged(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    transport: TransportName,
) -> None:
    # Two attempts instead of the default four keep the throttling backoff (up to 1 s, 2 s, 4 s)
    # short; the path to the 503 is the same.
    config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 2})
    store = DynamoDBStore(
        table_name,
        endpoint_url=faults.url,
        key_prefix=key_prefix,
        config=config,
        clock=clock,
        transport=transport,
    )
    calls = Calls()
    with https_client(failing_app(store, clock, calls)) as client:
        client.post("/update", json={"kept": True})
        cookie = client.cookies["session"]
        before = stored_item(dynamodb_client, store, cookie)
        fault = faults.inject("PutItem", Fault("RequestLimitExceeded"))
        assert_replaced_by_503(client.post("/update", json={"lost": True}))
    # The transport retried once; dynsession added no attempt of its own.
    assert fault.sent == 2
    assert stored_item(dynamodb_client, store, cookie) == before


# -- the endpoint is down ----------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def seconds_to_a_503_at_load(store: DynamoDBStore, clock: FakeClock, session_id: str) -> float:
    """Send one request carrying a session cookie; check it was answered 503 without reaching the
    app, and return how long that took."""
    calls = Calls()
    cookie = CookieSigner(SECRET).sign(session_id)
    with https_client(failing_app(store, clock, calls)) as client:
        started = time.monotonic()
        response = client.get("/view", headers={"cookie": f"session={cookie}"})
        elapsed = time.monotonic() - started
    assert_replaced_by_503(response)
    assert calls.count == 0
    return elapsed


def test_closed_port_is_503_within_the_configured_bounds(
    table_name: str, clock: FakeClock, transport: TransportName
) -> None:
    store = DynamoDBStore(
        table_name,
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        validate_on_startup=False,
        clock=clock,
        transport=transport,
    )
    elapsed = seconds_to_a_503_at_load(store, clock, "A" * 43)
    # The default client makes 4 attempts (botocore's max_attempts=3 counts retries), each with
    # 2 s to connect and 5 s to read. A refused connection fails at once, so the bound is generous;
    # it catches an unbounded wait or a retry loop of dynsession's own.
    print(f"closed port: 503 after {elapsed:.3f} s")
    assert elapsed < 4 * (2 + 5)


class SilentServer:
    """Accepts TCP connections on loopback and never answers: every read times out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(conn)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_unanswered_reads_are_503_within_a_user_config(
    table_name: str, clock: FakeClock, silent_server: SilentServer, transport: TransportName
) -> None:
    config = botocore.config.Config(read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 2})
    store = DynamoDBStore(
        table_name,
        endpoint_url=f"http://127.0.0.1:{silent_server.port}",
        config=config,
        validate_on_startup=False,
        clock=clock,
        transport=transport,
    )
    elapsed = seconds_to_a_503_at_load(store, clock, "B" * 43)
    # The user's config wins over the defaults: two attempts of 0.5 s each, not three of 5 s.
    assert len(silent_server.connections) == 2
    print(f"unanswered reads: 503 after {elapsed:.3f} s")
    assert elapsed < 2 * 0.5 + 4


# -- failures at load and at save --------------------------------------------------------------------


def test_load_failure_never_calls_the_app(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    calls = Calls()
    with https_client(failing_app(proxied_store, clock, calls)) as client:
        client.post("/update", json={"a": 1})
        faults.inject("GetItem", Fault("InternalServerError", status=500))
        calls.count = 0
        assert_replaced_by_503(client.get("/view"))
        assert_replaced_by_503(client.post("/update", json={"b": 2}))
        cookie = {"cookie": f"session={client.cookies['session']}"}
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/ws", headers=cookie) as ws,
        ):
            ws.receive_json()
    assert closed.value.code == 1013
    assert calls.count == 0


def test_save_failure_drops_the_response_and_keeps_the_item(
    proxied_store: DynamoDBStore,
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = Calls()
    with https_client(failing_app(proxied_store, clock, calls)) as client:
        client.post("/update", json={"a": 1})
        cookie = client.cookies["session"]
        before = stored_item(dynamodb_client, proxied_store, cookie)
        fault = faults.inject("PutItem", Fault("InternalServerError", status=500))
        with caplog.at_level(logging.DEBUG, logger="dynsession"):
            assert_replaced_by_503(client.post("/update", json={"a": 2, "b": 3}))
        assert calls.count == 2  # the app ran; its answer was withheld
        assert fault.sent == 4  # the default settings: one attempt and three retries
        assert stored_item(dynamodb_client, proxied_store, cookie) == before
        assert client.get("/view").json() == {"a": 1}
    session_id = CookieSigner(SECRET).unsign(cookie)
    assert session_id is not None
    assert "session write failed" in caplog.text
    assert session_id.session_id not in caplog.text and cookie not in caplog.text


def test_failed_create_sets_no_cookie(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    with https_client(failing_app(proxied_store, clock, Calls())) as client:
        faults.inject("PutItem", Fault("InternalServerError", status=500))
        assert_replaced_by_503(client.post("/update", json={"new": True}))
        assert "session" not in client.cookies


def test_failed_delete_keeps_the_session_and_its_cookie(
    proxied_store: DynamoDBStore, faults: FaultProxy, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    with https_client(failing_app(proxied_store, clock, Calls())) as client:
        client.post("/update", json={"user": "ada"})
        cookie = client.cookies["session"]
        faults.inject("DeleteItem", Fault("InternalServerError", status=500))
        assert_replaced_by_503(client.post("/logout"))
        assert client.cookies["session"] == cookie
        assert client.get("/view").json() == {"user": "ada"}
    assert stored_item(dynamodb_client, proxied_store, cookie) is not None


# -- raise_store_errors and a missing table ----------------------------------------------------------


def test_raise_store_errors_propagates_load_and_save_failures(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    calls = Calls()
    with https_client(failing_app(proxied_store, clock, calls, raise_store_errors=True)) as client:
        client.post("/update", json={"a": 1})
        put = faults.inject("PutItem", Fault("AccessDeniedException"))
        with pytest.raises(
            StoreUnavailable, match="PutItem: DynamoDB returned AccessDeniedException"
        ) as saved:
            client.post("/update", json={"a": 2})
        assert put.sent == 1  # not a retryable error: one attempt
        assert isinstance(saved.value.original, botocore.exceptions.ClientError)
        faults.inject("GetItem", Fault("AccessDeniedException"))
        calls.count = 0
        with pytest.raises(StoreUnavailable, match="GetItem"):
            client.get("/view")
        assert calls.count == 0


def test_missing_table_is_an_error_not_an_empty_session(
    dynamodb_endpoint: str, clock: FakeClock, transport: TransportName
) -> None:
    store = DynamoDBStore(
        "no-such-table",
        endpoint_url=dynamodb_endpoint,
        validate_on_startup=False,
        clock=clock,
        transport=transport,
    )
    calls = Calls()
    cookie = CookieSigner(SECRET).sign("C" * 43)
    with https_client(failing_app(store, clock, calls)) as client:
        assert_replaced_by_503(client.get("/view", headers={"cookie": f"session={cookie}"}))
        assert_replaced_by_503(client.post("/update", json={"new": True}))
    assert calls.count == 1  # only the cookie-less request reached the app, and its write failed
    with (
        https_client(failing_app(store, clock, Calls(), raise_store_errors=True)) as client,
        pytest.raises(StoreError, match="table 'no-such-table' does not exist"),
    ):
        client.get("/view", headers={"cookie": f"session={cookie}"})


# -- a write whose answer is lost: the transport retries it, and the retry must not be a conflict ---


def test_lost_reply_to_a_new_sessions_write_still_sets_the_cookie(
    proxied_store: DynamoDBStore, faults: FaultProxy, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    with https_client(failing_app(proxied_store, clock, Calls())) as client:
        lost = faults.inject("PutItem", Fault(action="lost_reply", times=1))
        response = client.post("/update", json={"new": True})
        assert response.status_code == 200
        assert response.text == APP_BODY
        cookie = client.cookies["session"]
        assert client.get("/view").json() == {"new": True}
    # The first PutItem was applied and its answer lost; the retry found the item it had written.
    assert lost.sent == 2
    item = stored_item(dynamodb_client, proxied_store, cookie)
    assert item is not None and item["ver"] == {"N": "1"}


@pytest.mark.parametrize("on_conflict", ["raise", "merge"])
def test_lost_reply_to_an_update_is_a_success_applied_once(
    proxied_store: DynamoDBStore,
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    on_conflict: str,
) -> None:
    app = failing_app(proxied_store, clock, Calls(), on_conflict=on_conflict)
    with https_client(app) as client:
        client.post("/update", json={"a": 1})
        cookie = client.cookies["session"]
        lost = faults.inject("PutItem", Fault(action="lost_reply", times=1))
        response = client.post("/update", json={"b": 2})
        assert response.status_code == 200
        assert response.text == APP_BODY
        assert client.get("/view").json() == {"a": 1, "b": 2}
    assert lost.sent == 2
    # One version further, not two: no merge round wrote the same change again.
    item = stored_item(dynamodb_client, proxied_store, cookie)
    assert item is not None and item["ver"] == {"N": "2"}


def test_lost_reply_to_a_move_is_a_success_applied_once(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    key = "9" * 64
    record = SessionRecord(b"{}", 1, clock.now, clock.now + 1800)
    marker = MovedRecord("privilege", clock.now + 30)

    async def move_with_the_reply_lost() -> SessionRecord | MovedRecord | None:
        await proxied_store.save(key, record, expected_version=None)
        lost = faults.inject("PutItem", Fault(action="lost_reply", times=1))
        # Applied, answer lost, retried: the retry finds its own write token, not a conflict.
        await proxied_store.move(key, marker, expected_version=1)
        assert lost.sent == 2
        return await proxied_store.load(key)

    assert anyio.run(move_with_the_reply_lost) == marker


def test_store_error_response_answers_wire_failures(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    seen: list[str] = []

    def sorry(connection: HTTPConnection, exc: StoreError) -> Response:
        seen.append(str(exc))
        return PlainTextResponse("come back soon", status_code=503, headers={"retry-after": "30"})

    calls = Calls()
    with https_client(failing_app(proxied_store, clock, calls, store_error_response=sorry)) as client:
        client.post("/update", json={"a": 1})
        faults.inject("PutItem", Fault("InternalServerError", status=500))
        response = client.post("/update", json={"a": 2})
        assert (response.status_code, response.text, response.headers["retry-after"]) == (
            503,
            "come back soon",
            "30",
        )
        faults.inject("GetItem", Fault("AccessDeniedException"))
        calls.count = 0
        response = client.get("/view")
        assert (response.status_code, response.text) == (503, "come back soon")
        assert calls.count == 0
    assert seen == [
        "PutItem: DynamoDB returned InternalServerError",
        "GetItem: DynamoDB returned AccessDeniedException",
    ]
