"""The per-request behaviour table, on Starlette and FastAPI apps, over every store."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import boto3
import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from dynsession import DynamoDBStore, SessionMiddleware, SessionStore, end_session, regenerate_session
from dynsession._envelope.cookies import CookieSigner

from .items import (
    Inspector,
    RecordingClient,
    cookie_value,
    fastapi_session_app,
    is_expiry,
    issued_id,
    session_id_of,
    set_cookie,
)
from .support import SECRET, CountingStore, FakeClock, session_app

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IDLE = 1800
Serve = Callable[..., TestClient]


@pytest.fixture(params=["starlette", "fastapi"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def serve(framework: str, counting: CountingStore, clock: FakeClock) -> Iterator[Serve]:
    """Start a TestClient on the chosen framework's app; options go to SessionMiddleware."""
    factory = session_app if framework == "starlette" else fastapi_session_app
    with ExitStack() as stack:

        def start(**options: Any) -> TestClient:
            options.setdefault("clock", clock)
            app = factory(counting, **options)
            return stack.enter_context(TestClient(app, base_url="https://testserver"))

        yield start


@pytest.fixture
def items(store: SessionStore, request: pytest.FixtureRequest) -> Inspector:
    return Inspector.for_store(store, request)


def login(client: TestClient, counting: CountingStore, data: dict[str, Any] | None = None) -> str:
    """Create a session holding ``data``; return its raw ID and forget the calls it took."""
    response = client.post("/update", json=data or {"user": "ada"})
    session_id = issued_id(response)
    counting.reset()
    return session_id


# -- no cookie ---------------------------------------------------------------------------------


def test_no_cookie_untouched_session_makes_no_call_and_sets_no_cookie(
    serve: Serve, counting: CountingStore
) -> None:
    response = serve().get("/untouched")
    assert response.status_code == 200
    assert counting.calls == []
    assert set_cookie(response) is None
    assert "vary" not in response.headers


def test_no_cookie_read_only_session_makes_no_call(serve: Serve, counting: CountingStore) -> None:
    response = serve().get("/view")
    assert response.json() == {}
    assert counting.calls == []
    assert set_cookie(response) is None
    assert response.headers["vary"] == "Cookie"


def test_no_cookie_empty_write_stores_nothing(serve: Serve, counting: CountingStore) -> None:
    response = serve().post("/update", json={})
    assert counting.calls == []
    assert set_cookie(response) is None


def test_no_cookie_write_saves_once_and_sets_a_signed_cookie(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    response = serve().post("/update", json={"user": "ada", "n": 1})
    assert counting.calls == ["save"]
    header = set_cookie(response)
    assert header is not None
    attributes = [part.strip() for part in header.split(";")[1:]]
    assert attributes == ["path=/", "httponly", "samesite=lax", "secure"]
    signed = cookie_value(header)
    parsed = CookieSigner(SECRET).unsign(signed)
    assert parsed is not None and parsed.session_id == session_id_of(signed)
    assert len(parsed.session_id) == 43

    item = items.item(parsed.session_id)
    assert item is not None
    assert json.loads(item.data) == {"user": "ada", "n": 1}
    assert item.data == b'{"user":"ada","n":1}'
    assert abs(item.ttl - (clock.now + IDLE)) <= 2
    assert (item.version, item.created, item.absolute) == (1, clock.now, None)


def test_item_ttl_is_integer_epoch_seconds_from_the_wall_clock(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, dynamodb_client: DynamoDBClient
) -> None:
    # Real clock on both sides: the TTL DynamoDB sees must be now + idle_timeout in epoch seconds.
    store = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, key_prefix=key_prefix)
    with TestClient(session_app(store, idle_timeout=600), base_url="https://testserver") as client:
        before = int(time.time())
        session_id = issued_id(client.post("/update", json={"a": 1}))
        after = int(time.time())
        assert client.get("/view").json() == {"a": 1}
    item = Inspector(store, dynamodb_client).item(session_id)
    assert item is not None
    assert before + 600 - 2 <= item.ttl <= after + 600 + 2


# -- bad cookies -------------------------------------------------------------------------------

_VALID = CookieSigner(SECRET).sign("A" * 43)
BAD_COOKIES = {
    "garbage": "not-a-session-cookie",
    "empty": "",
    "other key": CookieSigner("some-other-key").sign("B" * 43),
    "tampered id": "C" + _VALID[1:],
    "tampered signature": _VALID[:-1] + ("A" if _VALID[-1] != "A" else "B"),
    "unsigned id": "D" * 43,
    "extra dot": _VALID + ".x",
    "oversize": "E" * 5000,
}


@pytest.mark.parametrize("value", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_bad_cookie_is_treated_as_no_cookie(serve: Serve, counting: CountingStore, value: str) -> None:
    client = serve()
    response = client.get("/view", headers={"cookie": f"session={value}"})
    assert response.status_code == 200
    assert response.json() == {}
    assert counting.calls == []
    assert set_cookie(response) is None

    response = client.post("/update", json={"a": 1}, headers={"cookie": f"session={value}"})
    assert counting.calls == ["save"]
    assert cookie_value(set_cookie(response) or "") != value


# -- valid cookie ------------------------------------------------------------------------------


def test_valid_cookie_item_missing_reads_empty_and_never_reuses_the_id(
    serve: Serve, counting: CountingStore, items: Inspector
) -> None:
    client = serve()
    old = login(client, counting)
    items.delete(old)
    old_cookie = client.cookies["session"]

    response = client.get("/view")
    assert response.json() == {}
    assert counting.calls == ["load"]
    # The cookie names a session the store does not know: it is neither re-sent nor expired, since a
    # concurrent login or logout may be setting the browser's cookie in the same moment.
    assert set_cookie(response) is None

    counting.reset()
    response = client.post("/update", json={"a": 1}, headers={"cookie": f"session={old_cookie}"})
    assert counting.calls == ["load", "save"]
    new = issued_id(response)
    assert new != old
    assert items.item(old) is None
    assert items.item(new) is not None


def test_valid_cookie_item_expired_reads_empty_and_issues_a_new_id(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve()
    old = login(client, counting)
    old_cookie = client.cookies["session"]
    clock.advance(IDLE)  # the idle deadline itself counts as expired

    response = client.get("/view")
    assert response.json() == {}
    assert counting.calls == ["load"]
    if isinstance(items.store, DynamoDBStore):
        # DynamoDB's TTL deletes late: the item is still there, only reads hide it.
        assert items.item(old) is not None

    counting.reset()
    response = client.post("/update", json={"a": 1}, headers={"cookie": f"session={old_cookie}"})
    assert counting.calls == ["load", "save"]
    new = issued_id(response)
    assert new != old
    assert client.get("/view").json() == {"a": 1}


def test_valid_cookie_read_only_loads_once_and_writes_nothing(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve()
    session_id = login(client, counting, {"user": "ada"})
    before = items.item(session_id)
    clock.advance(5)

    response = client.get("/view")
    assert response.json() == {"user": "ada"}
    assert counting.calls == ["load"]
    assert set_cookie(response) is None
    assert response.headers["vary"] == "Cookie"
    assert items.item(session_id) == before


def test_valid_cookie_changed_session_loads_and_saves_once(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve()
    session_id = login(client, counting, {"user": "ada"})
    clock.advance(30)

    response = client.post("/update", json={"theme": "dark"})
    assert counting.calls == ["load", "save"]
    assert set_cookie(response) is None
    item = items.item(session_id)
    assert item is not None
    assert json.loads(item.data) == {"user": "ada", "theme": "dark"}
    assert item.version == 2
    assert item.created == clock.now - 30
    assert abs(item.ttl - (clock.now + IDLE)) <= 2


def test_nested_mutation_is_detected_and_saved(
    serve: Serve, counting: CountingStore, items: Inspector
) -> None:
    client = serve()
    session_id = login(client, counting, {"cart": ["apple"]})

    response = client.post("/append", params={"item": "pear"})
    assert response.json() == {"cart": ["apple", "pear"]}
    assert counting.calls == ["load", "save"]
    item = items.item(session_id)
    assert item is not None and json.loads(item.data) == {"cart": ["apple", "pear"]}
    assert client.get("/view").json() == {"cart": ["apple", "pear"]}


def test_clearing_the_session_deletes_the_item_and_expires_the_cookie(
    serve: Serve, counting: CountingStore, items: Inspector
) -> None:
    client = serve()
    session_id = login(client, counting)

    response = client.post("/clear")
    assert counting.calls == ["load", "delete"]
    header = set_cookie(response)
    assert is_expiry(header)
    assert header == (
        "session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax; secure"
    )
    assert items.item(session_id) is None

    counting.reset()
    assert client.get("/view").json() == {}
    assert counting.calls == []  # the browser dropped the cookie


def test_save_completes_before_the_response_starts(store: SessionStore, clock: FakeClock) -> None:
    counting = CountingStore(store)
    inner = session_app(counting, clock=clock)
    seen_at_start: list[list[str]] = []

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen_at_start.append(list(counting.calls))
            await send(message)

        await inner(scope, receive, watch)

    with TestClient(outer, base_url="https://testserver") as client:
        issued_id(client.post("/update", json={"a": 1}))
    assert seen_at_start == [["save"]]


# -- threads and websockets ----------------------------------------------------------------------


def test_no_boto3_call_runs_on_the_event_loop_thread(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    recording = RecordingClient(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))
    store = DynamoDBStore(table_name, client=recording, key_prefix=key_prefix, clock=clock)  # type: ignore[arg-type]
    app = session_app(store, clock=clock, refresh_after=0)
    loop_threads: set[int] = set()

    async def loop_thread(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            loop_threads.add(threading.get_ident())
        await app(scope, receive, send)

    with TestClient(loop_thread, base_url="https://testserver") as client:
        client.post("/update", json={"a": 1})
        clock.advance(1)
        client.get("/view")
        client.post("/update", json={"a": 2})
        client.post("/clear")

    operations = [name for name, _, _ in recording.calls if name.endswith("_item")]
    assert operations == [
        "put_item",
        "get_item",
        "update_item",
        "get_item",
        "put_item",
        "get_item",
        "delete_item",
    ]
    assert len(loop_threads) == 1
    assert not {thread for _, thread, _ in recording.calls} & loop_threads


def test_websocket_session_is_readable_and_read_only(
    counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    async def echo_session(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(dict(websocket.session))
        websocket.session["from_socket"] = True
        await websocket.close()

    app = session_app(counting, clock=clock)
    app.router.routes.append(WebSocketRoute("/ws", echo_session))
    with TestClient(app, base_url="https://testserver") as client:
        session_id = login(client, counting, {"user": "ada"})
        before = items.item(session_id)
        with client.websocket_connect("wss://testserver/ws") as websocket:
            assert websocket.receive_json() == {"user": "ada"}
        assert counting.calls == ["load"]
        assert items.item(session_id) == before
        assert client.get("/view").json() == {"user": "ada"}


def test_other_scope_types_pass_through(counting: CountingStore) -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])
        assert "session" not in scope
        if scope["type"] == "lifespan":
            message = await receive()
            assert message["type"] == "lifespan.startup"
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            await send({"type": "lifespan.shutdown.complete"})

    with TestClient(SessionMiddleware(app, store=counting, secret_key=SECRET)):
        pass
    assert seen == ["lifespan"]
    assert counting.calls == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_behaviour_over_httpx_asgi_transport(
    framework: str, counting: CountingStore, items: Inspector, clock: FakeClock, anyio_backend: str
) -> None:
    import httpx

    factory = session_app if framework == "starlette" else fastapi_session_app
    transport = httpx.ASGITransport(app=factory(counting, clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        created = await client.post("/update", json={"a": 1})
        session_id = issued_id(created)
        assert (await client.get("/view")).json() == {"a": 1}
        assert (await client.post("/clear")).status_code == 200
    assert counting.calls == ["save", "load", "load", "delete"]
    assert await anyio.to_thread.run_sync(items.item, session_id) is None


def test_websocket_end_session_deletes_the_item(
    counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    async def logout_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        end_session(websocket)
        await websocket.send_json(dict(websocket.session))
        await websocket.close()

    app = session_app(counting, clock=clock)
    app.router.routes.append(WebSocketRoute("/ws", logout_socket))
    with TestClient(app, base_url="https://testserver") as client:
        session_id = login(client, counting, {"user": "ada"})
        with client.websocket_connect("wss://testserver/ws") as websocket:
            assert websocket.receive_json() == {}
        assert counting.calls == ["load", "delete"]
        assert items.item(session_id) is None
        # The same cookie is no longer logged in.
        assert client.get("/view").json() == {}


def test_websocket_end_session_before_waiting_for_a_message_deletes_at_once(
    counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    seen: list[bool] = []

    async def logout_then_wait(websocket: WebSocket) -> None:
        await websocket.accept()
        end_session(websocket)
        await websocket.receive_text()  # the delete happens before this waits
        seen.append(True)
        await websocket.close()

    app = session_app(counting, clock=clock)
    app.router.routes.append(WebSocketRoute("/ws", logout_then_wait))
    with TestClient(app, base_url="https://testserver") as client:
        session_id = login(client, counting, {"user": "ada"})
        with client.websocket_connect("wss://testserver/ws") as websocket:
            # Still connected, no message sent: the handler's wait for one deletes the item. It runs
            # in the client's event loop thread, so look until it has (bounded, generously).
            deadline = time.monotonic() + 10
            while items.item(session_id) is not None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert items.item(session_id) is None
            assert client.get("/view").json() == {}
            assert seen == []  # the handler is still waiting
            websocket.send_text("bye")
    assert seen == [True]


def test_websocket_regenerate_session_raises_a_clear_error(counting: CountingStore, clock: FakeClock) -> None:
    async def regenerate_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            regenerate_session(websocket)
        except RuntimeError as exc:
            await websocket.send_text(str(exc))
        await websocket.close()

    app = session_app(counting, clock=clock)
    app.router.routes.append(WebSocketRoute("/ws", regenerate_socket))
    with TestClient(app, base_url="https://testserver") as client:
        login(client, counting, {"user": "ada"})
        with client.websocket_connect("wss://testserver/ws") as websocket:
            message = websocket.receive_text()
    assert message.startswith("regenerate_session cannot be used on a websocket")
    assert counting.calls == ["load"]


# -- changes after the response started ----------------------------------------------------------------


def late_change_app(store: SessionStore, clock: FakeClock) -> Starlette:
    async def background(request: Request) -> Response:
        def remember() -> None:
            request.session["late"] = True

        request.session["early"] = True
        return PlainTextResponse("ok", background=BackgroundTask(remember))

    async def streaming(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"first "
            request.session["streamed"] = True
            yield b"second"

        return StreamingResponse(body())

    async def view(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    app = Starlette(
        routes=[
            Route("/background", background, methods=["POST"]),
            Route("/streaming", streaming, methods=["POST"]),
            Route("/view", view),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock)
    return app


@pytest.mark.parametrize("path", ["/background", "/streaming"])
def test_a_change_after_the_response_started_is_not_saved_and_logged_once(
    store: SessionStore, clock: FakeClock, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    message = "a session was changed after its response had started"
    with TestClient(late_change_app(store, clock), base_url="https://testserver") as client:
        with caplog.at_level(logging.WARNING, logger="dynsession"):
            for _ in range(3):
                assert client.post(path).status_code == 200
        late = [r for r in caplog.records if r.getMessage().startswith(message)]
        assert len(late) == 1
        assert client.get("/view").json() == ({"early": True} if path == "/background" else {})
    # Another middleware instance warns once for itself.
    caplog.clear()
    with TestClient(late_change_app(store, clock), base_url="https://testserver") as client:
        with caplog.at_level(logging.WARNING, logger="dynsession"):
            client.post(path)
            client.post(path)
    assert len([r for r in caplog.records if r.getMessage().startswith(message)]) == 1


def test_no_late_change_warning_for_ordinary_requests(
    serve: Serve, counting: CountingStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = serve()
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        login(client, counting)
        client.get("/view")
        client.post("/append", params={"item": "pear"})
        client.post("/clear")
    assert "after its response had started" not in caplog.text


# -- several session cookies in one request ----------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        "not-a-session-cookie",
        CookieSigner("another-apps-secret-key").sign("B" * 43),
        '"quoted junk"',
    ],
    ids=["garbage", "other key", "quoted"],
)
def test_the_first_session_cookie_that_verifies_is_used(
    serve: Serve, counting: CountingStore, junk: str
) -> None:
    client = serve()
    login(client, counting, {"user": "ada"})
    valid = client.cookies["session"]
    client.cookies.clear()
    for header in (f"session={junk}; session={valid}", f"session={valid}; session={junk}"):
        counting.reset()
        response = client.get("/view", headers={"cookie": header})
        assert response.json() == {"user": "ada"}
        assert counting.calls == ["load"]
    # One cookie header per cookie (HTTP/2) works the same way.
    counting.reset()
    response = client.get("/view", headers=[("cookie", f"session={junk}"), ("cookie", f"session={valid}")])
    assert response.json() == {"user": "ada"}
