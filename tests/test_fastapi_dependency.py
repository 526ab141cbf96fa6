"""``dynsession.fastapi.Session``: the session as a FastAPI dependency, loaded only where declared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.responses import PlainTextResponse
from starlette.testclient import TestClient

from dynsession import SessionMiddleware, SessionNotLoaded, end_session, regenerate_session
from dynsession.fastapi import Session, get_session

from .items import Inspector, is_expiry, issued_id, set_cookie
from .support import SECRET, CountingStore, FakeClock

REPO = Path(__file__).resolve().parent.parent


async def current_user(session: Session) -> str | None:
    user = session.get("user")
    return None if user is None else str(user)


def shop(store: Any, clock: FakeClock, **options: Any) -> FastAPI:
    """The recommended pattern: ``autoload=False``, and ``session: Session`` where it is used."""
    app = FastAPI()

    @app.get("/cart")
    async def cart(session: Session) -> dict[str, Any]:
        return {"cart": session.get("cart", [])}

    @app.post("/cart/{item}")
    async def add(item: str, session: Session) -> dict[str, Any]:
        session.setdefault("cart", []).append(item)
        return {"cart": session["cart"]}

    @app.get("/me")
    async def me(session: Session, user: Annotated[str | None, Depends(current_user)]) -> dict[str, Any]:
        return {"user": user, "keys": sorted(session)}

    @app.post("/login")
    async def login(request: Request, session: Session) -> dict[str, bool]:
        regenerate_session(request)
        session["user"] = "ada"
        return {"ok": True}

    @app.post("/logout")
    async def logout(request: Request, session: Session) -> dict[str, bool]:
        end_session(request)
        return {"ok": True}

    @app.get("/health")
    async def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/careless")
    async def careless(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, session: Session) -> None:
        await websocket.accept()
        await websocket.send_json(session)
        await websocket.close()

    options.setdefault("autoload", False)
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **options)
    return app


@pytest.fixture
def client(counting: CountingStore, clock: FakeClock) -> TestClient:
    return TestClient(shop(counting, clock), base_url="https://testserver")


@pytest.fixture
def items(store: Any, request: pytest.FixtureRequest) -> Inspector:
    return Inspector.for_store(store, request)


def test_routes_without_the_dependency_cost_no_call(
    client: TestClient, counting: CountingStore, clock: FakeClock
) -> None:
    issued_id(client.post("/cart/tea"))
    counting.reset()
    clock.advance(900)  # a refresh would be due for a request that loaded the session
    response = client.get("/health")
    assert response.text == "ok" and set_cookie(response) is None
    assert counting.calls == []


def test_declared_session_is_loaded_once_and_persisted(
    client: TestClient, counting: CountingStore, items: Inspector
) -> None:
    session_id = issued_id(client.post("/cart/tea"))
    assert counting.calls == ["save"]  # no cookie yet: loading cost nothing
    counting.reset()
    assert client.post("/cart/apple").json() == {"cart": ["tea", "apple"]}
    assert counting.calls == ["load", "save"]
    counting.reset()
    # Declared by the route and by a sub-dependency: still one load.
    response = client.get("/me")
    assert response.json() == {"user": None, "keys": ["cart"]}
    assert response.headers["vary"] == "Cookie"
    assert counting.calls == ["load"]
    item = items.item(session_id)
    assert item is not None and item.version == 2


def test_login_and_logout_through_the_dependency(
    client: TestClient, counting: CountingStore, items: Inspector
) -> None:
    first = issued_id(client.post("/cart/tea"))
    second = issued_id(client.post("/login"))
    assert second != first and items.item(first) is None
    assert client.get("/me").json() == {"user": "ada", "keys": ["cart", "user"]}
    assert is_expiry(set_cookie(client.post("/logout")))
    assert items.item(second) is None


def test_a_route_reading_request_session_without_the_dependency_fails_clearly(client: TestClient) -> None:
    with pytest.raises(SessionNotLoaded, match="dynsession.fastapi.Session"):
        client.get("/careless")


def test_websocket_routes_take_the_dependency(client: TestClient, counting: CountingStore) -> None:
    issued_id(client.post("/cart/tea"))
    counting.reset()
    with client.websocket_connect("wss://testserver/ws") as websocket:
        assert websocket.receive_json() == {"cart": ["tea"]}
    assert counting.calls == ["load"]


def test_the_dependency_also_serves_under_autoload(counting: CountingStore, clock: FakeClock) -> None:
    with TestClient(shop(counting, clock, autoload=True), base_url="https://testserver") as client:
        issued_id(client.post("/cart/tea"))
        counting.reset()
        assert client.get("/cart").json() == {"cart": ["tea"]}
        assert client.get("/health").text == "ok"
        assert counting.calls == ["load", "load"]


def test_the_alias_is_the_session_dict_dependency() -> None:
    assert Session.__metadata__[0].dependency is get_session  # type: ignore[attr-defined]


def test_importing_dynsession_does_not_import_fastapi() -> None:
    code = "import sys, dynsession; sys.exit('fastapi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0
