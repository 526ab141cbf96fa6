"""Loading on demand: every ``autoload`` mode, ``load_session``, and the unloaded-session edge cases,
over every store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from dynsession import (
    ConfigurationError,
    DynamoDBStore,
    MemoryStore,
    SessionMiddleware,
    SessionNotLoaded,
    StoreUnavailable,
    TableConfigError,
    end_session,
    load_session,
    regenerate_session,
    session_info,
)
from dynsession._request.lazy import NOT_LOADED

from .faults import Fault, FaultProxy
from .items import Inspector, is_expiry, issued_id, set_cookie
from .support import SECRET, CountingStore, FakeClock

Serve = Callable[..., TestClient]


async def lazy_view(request: Request) -> Response:
    return JSONResponse(dict(await load_session(request)))


async def lazy_update(request: Request) -> Response:
    session = await load_session(request)
    session.update(await request.json())
    return JSONResponse(dict(session))


async def eager_view(request: Request) -> Response:
    return JSONResponse(dict(request.session))


async def untouched(request: Request) -> Response:
    return PlainTextResponse("no session here")


async def login(request: Request) -> Response:
    await load_session(request)
    regenerate_session(request)
    request.session["user"] = "ada"
    return PlainTextResponse("in")


async def logout(request: Request) -> Response:
    await load_session(request)
    end_session(request)
    return PlainTextResponse("out")


async def info(request: Request) -> Response:
    await load_session(request)
    return JSONResponse({"is_new": session_info(request).is_new})


async def twice(request: Request) -> Response:
    """Loads twice, once from each of two concurrent tasks, then once more."""
    found: list[dict[str, Any]] = []

    async def load() -> None:
        found.append(await load_session(request))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(load)
        tasks.start_soon(load)
    again = await load_session(request)
    same = found[0] is found[1] is again is request.session
    return JSONResponse({"same": same})


def unloaded_helper(helper: Callable[[Request], object]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        helper(request)
        return PlainTextResponse("unreachable")

    return endpoint


def lazy_app(store: Any, **options: Any) -> Starlette:
    options.setdefault("secret_key", SECRET)
    app = Starlette(
        routes=[
            Route("/lazy/view", lazy_view),
            Route("/lazy/update", lazy_update, methods=["POST"]),
            Route("/view", eager_view),
            Route("/static/app.css", untouched),
            Route("/static", untouched),
            Route("/staticky", eager_view),
            Route("/healthz", untouched),
            Route("/untouched", untouched),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/info", info),
            Route("/twice", twice),
            Route("/unloaded/regenerate", unloaded_helper(regenerate_session), methods=["POST"]),
            Route("/unloaded/end", unloaded_helper(end_session), methods=["POST"]),
            Route("/unloaded/info", unloaded_helper(session_info)),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, **options)
    return app


@pytest.fixture
def items(store: Any, request: pytest.FixtureRequest) -> Inspector:
    return Inspector.for_store(store, request)


@pytest.fixture
def serve(counting: CountingStore, clock: FakeClock) -> Iterator[Serve]:
    with ExitStack() as stack:

        def start(**options: Any) -> TestClient:
            options.setdefault("clock", clock)
            client = TestClient(lazy_app(counting, **options), base_url="https://testserver")
            return stack.enter_context(client)

        yield start


def begin(client: TestClient, counting: CountingStore, data: dict[str, Any] | None = None) -> str:
    session_id = issued_id(client.post("/lazy/update", json=data or {"user": "ada"}))
    counting.reset()
    return session_id


# -- autoload=False ------------------------------------------------------------------------------


def test_unloaded_routes_cost_nothing_even_with_a_cookie_and_a_refresh_due(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve(autoload=False, max_age=3600)
    session_id = begin(client, counting)
    stored = items.item(session_id)
    clock.advance(600)  # a read would refresh the TTL now, and max_age would re-send the cookie
    response = client.get("/untouched")
    assert response.text == "no session here"
    assert counting.calls == []
    assert set_cookie(response) is None
    assert "vary" not in response.headers and "cache-control" not in response.headers
    assert items.item(session_id) == stored


def test_loading_on_demand_reads_writes_and_refreshes(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve(autoload=False, refresh_after=0)
    session_id = begin(client, counting, {"user": "ada"})
    response = client.get("/lazy/view")
    assert response.json() == {"user": "ada"}
    assert response.headers["vary"] == "Cookie"
    assert counting.calls == ["load", "touch"]
    counting.reset()
    assert client.post("/lazy/update", json={"n": 1}).json() == {"user": "ada", "n": 1}
    assert counting.calls == ["load", "save"]
    item = items.item(session_id)
    assert item is not None and item.version == 2


def test_reading_request_session_before_loading_names_the_fix(serve: Serve, counting: CountingStore) -> None:
    client = serve(autoload=False)
    for cookie in (False, True):  # the same error whether or not the browser has a session
        if cookie:
            begin(client, counting)
        with pytest.raises(SessionNotLoaded, match=r"await dynsession\.load_session\(request\)") as error:
            client.get("/view")
        assert "dynsession.fastapi.Session" in str(error.value)
        assert error.value.what == "request.session"
        assert isinstance(error.value, RuntimeError)
    assert counting.calls == []


@pytest.mark.parametrize(
    "use",
    [
        lambda s: s["user"],
        lambda s: s.get("user"),
        lambda s: s.setdefault("user", 1),
        lambda s: s.update(user=1),
        lambda s: s.pop("user"),
        lambda s: s.clear(),
        lambda s: s.keys(),
        lambda s: s.items(),
        lambda s: "user" in s,
        lambda s: len(s),
        lambda s: list(s),
        lambda s: dict(s),
        lambda s: bool(s),
        lambda s: s == {},
        lambda s: s.__setitem__("user", 1),
        lambda s: s.__delitem__("user"),
        lambda s: s.mark_accessed(),
    ],
)
def test_the_placeholder_refuses_every_use(use: Callable[[Any], object]) -> None:
    with pytest.raises(SessionNotLoaded):
        use(NOT_LOADED)


def test_the_placeholder_can_be_shown() -> None:
    assert repr(NOT_LOADED) == "<session not loaded: await dynsession.load_session(request)>"
    assert not hasattr(NOT_LOADED, "__length_hint__")


@pytest.mark.parametrize(
    ("path", "helper"),
    [("/unloaded/regenerate", "regenerate_session()"), ("/unloaded/end", "end_session()")],
)
def test_regenerate_and_end_need_a_loaded_session(
    serve: Serve, counting: CountingStore, items: Inspector, path: str, helper: str
) -> None:
    client = serve(autoload=False)
    session_id = begin(client, counting)
    stored = items.item(session_id)
    with pytest.raises(SessionNotLoaded) as error:
        client.post(path)
    assert str(error.value).startswith(f"{helper} needs the session")
    with pytest.raises(SessionNotLoaded, match=r"^session_info\(\) needs"):
        client.get("/unloaded/info")
    assert counting.calls == []
    assert items.item(session_id) == stored


def test_regenerate_and_end_after_loading(serve: Serve, counting: CountingStore, items: Inspector) -> None:
    client = serve(autoload=False)
    first = begin(client, counting)
    response = client.post("/login")
    second = issued_id(response)
    assert second != first and items.item(first) is None and items.item(second) is not None
    assert items.moved(first) is not None  # the old ID is the login's moved marker
    assert counting.calls == ["load", "save", "move"]
    assert client.get("/info").json() == {"is_new": False}
    counting.reset()
    assert is_expiry(set_cookie(client.post("/logout")))
    assert counting.calls == ["load", "delete"]
    assert items.item(second) is None


def test_load_session_is_idempotent_and_loads_once(serve: Serve, counting: CountingStore) -> None:
    client = serve(autoload=False)
    begin(client, counting)
    assert client.get("/twice").json() == {"same": True}
    assert counting.calls == ["load"]


def test_load_session_under_autoload_only_returns_the_session(serve: Serve, counting: CountingStore) -> None:
    client = serve()
    begin(client, counting)
    assert client.get("/twice").json() == {"same": True}
    assert client.get("/lazy/view").json() == {"user": "ada"}
    assert counting.calls == ["load", "load"]  # one per request, made by the middleware


def test_load_session_without_the_middleware_is_a_runtime_error() -> None:
    async def endpoint(request: Request) -> Response:
        await load_session(request)
        return PlainTextResponse("unreachable")

    with TestClient(Starlette(routes=[Route("/", endpoint)])) as client:
        with pytest.raises(RuntimeError, match="SessionMiddleware is not installed"):
            client.get("/")


def test_a_copied_scope_still_commits_the_session(counting: CountingStore, clock: FakeClock) -> None:
    routes = Starlette(routes=[Route("/update", lazy_update, methods=["POST"])])

    async def copying(scope: Scope, receive: Receive, send: Send) -> None:
        await routes(dict(scope), receive, send)  # as a layer that rebuilds the scope might

    middleware = SessionMiddleware(copying, store=counting, secret_key=SECRET, autoload=False, clock=clock)
    with TestClient(middleware, base_url="https://testserver") as client:
        assert issued_id(client.post("/update", json={"a": 1}))
        assert counting.calls == ["save"]
        assert client.post("/update", json={"b": 2}).json() == {"a": 1, "b": 2}


# -- path prefixes and callables ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "calls"),
    [
        ("/static/app.css", []),
        ("/static", []),
        ("/healthz", []),
        ("/staticky", ["load"]),
        ("/view", ["load"]),
        ("/untouched", ["load"]),
    ],
)
def test_path_prefixes_skip_loading(
    serve: Serve, counting: CountingStore, path: str, calls: list[str]
) -> None:
    client = serve(autoload=["/static/", "/healthz"])
    begin(client, counting)
    response = client.get(path)
    assert response.status_code == 200
    assert counting.calls == calls
    assert set_cookie(response) is None


def test_skipped_prefixes_can_still_load_on_demand(serve: Serve, counting: CountingStore) -> None:
    client = serve(autoload=["/lazy"])
    begin(client, counting)
    assert client.get("/lazy/view").json() == {"user": "ada"}
    assert counting.calls == ["load"]


def test_a_callable_decides_from_the_scope(serve: Serve, counting: CountingStore) -> None:
    seen: list[str] = []

    def autoload(scope: Scope) -> bool:
        seen.append(scope["path"])
        return bool(scope["path"] != "/untouched")

    client = serve(autoload=autoload)
    begin(client, counting)
    client.get("/untouched")
    assert counting.calls == []
    assert client.get("/view").json() == {"user": "ada"}
    assert counting.calls == ["load"]
    assert seen == ["/lazy/update", "/untouched", "/view"]


@pytest.mark.parametrize("autoload", ["/static", ["static"], [b"/static"], [None], 3, None])
def test_bad_autoload_values_fail_at_construction(autoload: Any) -> None:
    with pytest.raises(ConfigurationError, match="autoload"):
        SessionMiddleware(Starlette(), store=MemoryStore(), secret_key=SECRET, autoload=autoload)


# -- failures and websockets -----------------------------------------------------------------------


def test_a_failed_load_on_demand_is_a_503(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    app = lazy_app(proxied_store, autoload=False, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        begin(client, CountingStore(proxied_store))
        fault = faults.inject("GetItem", Fault("AccessDeniedException"))
        response = client.get("/lazy/view")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1" and set_cookie(response) is None
        assert fault.sent == 1
        assert client.get("/untouched").text == "no session here"


def test_a_failed_load_on_demand_propagates_with_raise_store_errors(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    app = lazy_app(proxied_store, autoload=False, raise_store_errors=True, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        begin(client, CountingStore(proxied_store))
        faults.inject("GetItem", Fault("AccessDeniedException"))
        with pytest.raises(StoreUnavailable, match="GetItem"):
            client.get("/lazy/view")


def test_an_app_may_handle_a_failed_load_itself(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    async def degraded(request: Request) -> Response:
        try:
            await load_session(request)
        except StoreUnavailable:
            return PlainTextResponse("shown without the session")
        return PlainTextResponse("with the session")

    app = lazy_app(proxied_store, autoload=False, clock=clock)
    app.router.routes.append(Route("/degraded", degraded))
    with TestClient(app, base_url="https://testserver") as client:
        begin(client, CountingStore(proxied_store))
        faults.inject("GetItem", Fault("AccessDeniedException"))
        response = client.get("/degraded")
        assert (response.status_code, response.text) == (200, "shown without the session")


def test_websockets_load_on_demand(counting: CountingStore, clock: FakeClock) -> None:
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(dict(await load_session(websocket)))
        await websocket.close()

    async def careless(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(dict(websocket.session))

    app = lazy_app(counting, autoload=False, clock=clock)
    app.router.routes += [WebSocketRoute("/ws", echo), WebSocketRoute("/careless", careless)]
    with TestClient(app, base_url="https://testserver") as client:
        begin(client, counting)
        with client.websocket_connect("wss://testserver/ws") as websocket:
            assert websocket.receive_json() == {"user": "ada"}
        assert counting.calls == ["load"]
        with pytest.raises(SessionNotLoaded), client.websocket_connect("wss://testserver/careless") as ws:
            ws.receive_json()


def test_a_failed_websocket_load_on_demand_closes_with_1013(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    async def echo(websocket: WebSocket) -> None:
        await load_session(websocket)
        await websocket.accept()

    app = lazy_app(proxied_store, autoload=False, clock=clock)
    app.router.routes.append(WebSocketRoute("/ws", echo))
    with TestClient(app, base_url="https://testserver") as client:
        begin(client, CountingStore(proxied_store))
        faults.inject("GetItem", Fault("AccessDeniedException"))
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("wss://testserver/ws"):
            pass
        assert closed.value.code == 1013


def test_requests_that_never_load_leave_the_table_check_to_one_that_does(
    dynamodb_endpoint: str, fresh_table: str, clock: FakeClock
) -> None:
    # No lifespan (no `with`): the check would run on the first request, but skipped ones never
    # reach the store, so the missing table surfaces on the first request that loads.
    store = DynamoDBStore(fresh_table, endpoint_url=dynamodb_endpoint, clock=clock)
    client = TestClient(lazy_app(store, autoload=False, clock=clock), base_url="https://testserver")
    assert client.get("/untouched").text == "no session here"
    with pytest.raises(TableConfigError, match=fresh_table):
        client.get("/lazy/view")
