"""Shaping the answer to a store failure: ``store_error_response`` for loads and writes, and what
``raise_store_errors`` does instead. Failures are injected by wrapping each store; the faults
over DynamoDB's wire are in tests/test_failures.py."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynsession import (
    MovedRecord,
    SessionConflict,
    SessionMiddleware,
    SessionRecord,
    SessionStore,
    StoreError,
    StoreUnavailable,
)

from .support import SECRET, CountingStore, FakeClock

APP_BODY = "the app's own answer"


class FailingStore(CountingStore):
    """Raises ``error`` from the named methods once ``armed``; everything else reaches the store."""

    def __init__(self, inner: SessionStore, error: StoreError, methods: set[str]) -> None:
        super().__init__(inner)
        self.error, self.methods, self.armed = error, methods, False

    def _maybe_fail(self, name: str) -> None:
        if self.armed and name in self.methods:
            raise self.error

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        self._maybe_fail("load")
        return await super().load(key, consistent=consistent)

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        self._maybe_fail("save")
        await super().save(key, record, expected_version=expected_version)


class App:
    def __init__(self, store: SessionStore, clock: FakeClock, **options: Any) -> None:
        self.calls = 0
        self.handled: list[BaseException] = []

        async def update(request: Request) -> Response:
            self.calls += 1
            request.session.update(await request.json())
            return PlainTextResponse(APP_BODY)

        async def view(request: Request) -> Response:
            self.calls += 1
            return JSONResponse(dict(request.session))

        async def socket(websocket: WebSocket) -> None:
            self.calls += 1
            await websocket.accept()
            await websocket.close()

        async def app_handler(request: Request, exc: Exception) -> Response:
            self.handled.append(exc)
            return PlainTextResponse("the app's handler", status_code=500)

        self.app = Starlette(
            routes=[
                Route("/update", update, methods=["POST"]),
                Route("/view", view),
                WebSocketRoute("/ws", socket),
            ],
            exception_handlers={StoreError: app_handler},
        )
        self.app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **options)

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", **kwargs)


def sorry(connection: HTTPConnection, exc: StoreError) -> Response:
    kind = "conflict" if isinstance(exc, SessionConflict) else "unavailable"
    return JSONResponse(
        {"sorry": kind, "path": connection.url.path}, status_code=599, headers={"x-sorry": "1"}
    )


async def async_sorry(connection: HTTPConnection, exc: StoreError) -> Response:
    return sorry(connection, exc)


@pytest.mark.parametrize("responder", [sorry, async_sorry], ids=["sync", "async"])
def test_store_error_response_answers_a_failed_load(
    store: SessionStore, clock: FakeClock, responder: Any
) -> None:
    failing = FailingStore(store, StoreUnavailable("GetItem: injected"), {"load"})
    app = App(failing, clock, store_error_response=responder)
    with app.client() as client:
        client.post("/update", json={"a": 1})
        failing.armed, app.calls = True, 0
        response = client.get("/view")
        assert (response.status_code, response.json()) == (599, {"sorry": "unavailable", "path": "/view"})
        assert response.headers["x-sorry"] == "1"
        assert "set-cookie" not in response.headers
        # A websocket cannot take an HTTP response: it is closed with 1013 (try again later).
        cookie = {"cookie": f"session={client.cookies['session']}"}
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/ws", headers=cookie) as ws,
        ):
            ws.receive_text()
    assert closed.value.code == 1013
    assert app.calls == 0
    assert app.handled == []


@pytest.mark.parametrize(
    "error",
    [StoreUnavailable("PutItem: injected"), SessionConflict("session was changed by another request")],
    ids=["unavailable", "conflict"],
)
def test_store_error_response_replaces_the_answer_to_a_failed_write(
    store: SessionStore, clock: FakeClock, error: StoreError
) -> None:
    failing = FailingStore(store, error, {"save"})
    app = App(failing, clock, store_error_response=sorry, on_conflict="raise")
    with app.client() as client:
        client.post("/update", json={"a": 1})
        failing.armed = True
        response = client.post("/update", json={"a": 2})
        kind = "conflict" if isinstance(error, SessionConflict) else "unavailable"
        assert (response.status_code, response.json()) == (599, {"sorry": kind, "path": "/update"})
        assert APP_BODY not in response.text
        assert "set-cookie" not in response.headers
        failing.armed = False
        assert client.get("/view").json() == {"a": 1}
    assert app.handled == []


def test_raise_store_errors_raises_out_of_the_middleware_past_the_apps_handlers(
    store: SessionStore, clock: FakeClock
) -> None:
    failing = FailingStore(store, StoreUnavailable("injected"), {"load", "save"})
    app = App(failing, clock, raise_store_errors=True)
    with app.client() as client:
        client.post("/update", json={"a": 1})
        failing.armed = True
        # A failed write: the StoreError itself, not Starlette's "response already started".
        failing.methods = {"save"}
        with pytest.raises(StoreUnavailable, match="injected"):
            client.post("/update", json={"a": 2})
        failing.methods = {"load"}
        with pytest.raises(StoreUnavailable, match="injected"):
            client.get("/view")
    # The app's own exception handler never sees it: it runs inside the middleware.
    assert app.handled == []


def test_raise_store_errors_sends_nothing_of_the_apps_response(store: SessionStore, clock: FakeClock) -> None:
    failing = FailingStore(store, StoreUnavailable("injected"), {"save"})
    app = App(failing, clock, raise_store_errors=True)
    with app.client(raise_server_exceptions=False) as client:
        client.post("/update", json={"a": 1})
        failing.armed = True
        response = client.post("/update", json={"a": 2})
    # Starlette's outermost error middleware answers 500, since nothing had been sent yet.
    assert response.status_code == 500
    assert APP_BODY not in response.text
    assert "set-cookie" not in response.headers
