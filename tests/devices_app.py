"""A tiny app whose users sign in, list their devices and sign them out; one TestClient per device."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from dynsession import (
    SessionMiddleware,
    SessionStore,
    end_session,
    list_sessions,
    regenerate_session,
    revoke_other_sessions,
    revoke_session,
    session_info,
)

from .support import SECRET

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


async def login(request: Request) -> Response:
    device = request.query_params.get("device")
    regenerate_session(request, user_id=request.query_params["user"], device=device)
    if "empty" not in request.query_params:
        request.session["signed_in_as"] = request.query_params["user"]
    return JSONResponse({"user_id": session_info(request).user_id})


async def me(request: Request) -> Response:
    return JSONResponse({"session": dict(request.session), "user_id": session_info(request).user_id})


async def write(request: Request) -> Response:
    request.session["n"] = request.session.get("n", 0) + 1
    return PlainTextResponse("written")


async def move(request: Request) -> Response:
    regenerate_session(request)
    return PlainTextResponse("moved")


async def sessions(request: Request) -> Response:
    return JSONResponse([dataclasses.asdict(entry) for entry in await list_sessions(request)])


async def revoke(request: Request) -> Response:
    return JSONResponse({"ended": await revoke_session(request, request.query_params["handle"])})


async def revoke_others(request: Request) -> Response:
    recheck = request.query_params.get("recheck")
    ended = await revoke_other_sessions(request, recheck_after=None if recheck is None else float(recheck))
    return JSONResponse({"ended": ended})


async def logout(request: Request) -> Response:
    end_session(request)
    return PlainTextResponse("bye")


def devices_app(store: SessionStore, **options: Any) -> Starlette:
    options.setdefault("secret_key", SECRET)
    app = Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/me", me),
            Route("/write", write, methods=["POST"]),
            Route("/move", move, methods=["POST"]),
            Route("/sessions", sessions),
            Route("/revoke", revoke, methods=["POST"]),
            Route("/revoke-others", revoke_others, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, **options)
    return app


def device(app: Starlette, user_agent: str = FIREFOX_LINUX) -> TestClient:
    """One browser: its own cookie jar and User-Agent."""
    return TestClient(app, base_url="https://testserver", headers={"user-agent": user_agent})


def sign_in(client: TestClient, user: str = "alice", **params: str) -> None:
    response = client.post("/login", params={"user": user, **params})
    assert response.status_code == 200, response.text
    assert response.json() == {"user_id": user}


def listed(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/sessions")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def user_of(client: TestClient) -> str | None:
    found: str | None = client.get("/me").json()["user_id"]
    return found
