"""The app the explorer drives, each request as a real ASGI call through the middleware, and the
browser's side: the cookie each response sets and what a cookie reads afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from dynsession import (
    SessionMiddleware,
    end_session,
    regenerate_session,
    revoke_other_sessions,
    revoke_session,
    session_info,
)
from dynsession import _serialization as serialization
from dynsession._envelope.cookies import store_key
from dynsession._users.user_sessions import session_handle

from ..support import SECRET

COOKIE = "session"


def _answer(request: Request, **extra: Any) -> Response:
    return JSONResponse({"data": dict(request.session), "user": session_info(request).user_id, **extra})


async def write(request: Request) -> Response:
    request.session[request.query_params["key"]] = request.query_params["value"]
    return _answer(request)


async def pop(request: Request) -> Response:
    request.session.pop(request.query_params["key"], None)
    return _answer(request)


async def read(request: Request) -> Response:
    return _answer(request)


async def logout(request: Request) -> Response:
    end_session(request)
    return _answer(request)


async def login(request: Request) -> Response:
    regenerate_session(request, user_id=request.query_params["user"], device="explorer")
    return _answer(request)


async def revoke(request: Request) -> Response:
    ended = await revoke_session(request, request.query_params["handle"])
    return _answer(request, ended=ended)


async def revoke_others(request: Request) -> Response:
    ended = await revoke_other_sessions(request)
    return _answer(request, ended=ended)


ROUTES = {
    "write": write,
    "pop": pop,
    "read": read,
    "logout": logout,
    "login": login,
    "revoke": revoke,
    "revoke_others": revoke_others,
}


def build_app(store: Any, **options: Any) -> SessionMiddleware:
    """The endpoints behind a SessionMiddleware of their own (one per request: each request of a
    schedule may be served by another process); the middleware is the ASGI app to call."""
    app = Starlette(routes=[Route(f"/{name}", view, methods=["POST"]) for name, view in ROUTES.items()])
    return SessionMiddleware(app, store=store, secret_key=SECRET, **options)


@dataclass
class Answer:
    """What one request got back: status, the JSON body, and the Set-Cookie header's effect
    (``None``: no header; ``""``: the cookie was expired; else the new cookie value)."""

    status: int
    body: dict[str, Any]
    cookie: str | None

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.body.get("data", {})
        return data


async def call(app: ASGIApp, route: str, cookie: str | None, **params: str) -> Answer:
    """One POST through the ASGI app, carrying ``cookie`` (a Starlette app call, nothing mocked)."""
    headers = [(b"host", b"testserver"), (b"user-agent", b"explorer")]
    if cookie:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode("latin-1")))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": f"/{route}",
        "raw_path": f"/{route}".encode(),
        "query_string": urlencode(params).encode(),
        "headers": headers,
        "server": ("testserver", 443),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    set_cookies = [v.decode("latin-1") for k, v in start.get("headers", ()) if k == b"set-cookie"]
    assert len(set_cookies) <= 1, set_cookies
    cookie_set = None if not set_cookies else _cookie_effect(set_cookies[0])
    try:
        parsed = json.loads(body) if start["status"] == 200 else {}
    except ValueError:
        parsed = {}
    return Answer(start["status"], parsed if isinstance(parsed, dict) else {}, cookie_set)


def _cookie_effect(header: str) -> str:
    pair, _, attributes = header.partition(";")
    # The middleware expires a cookie with a 1970 date (Starlette's form); only the attributes
    # are looked at, since a random cookie value can contain "1970" too.
    return "" if "expires=thu, 01 jan 1970" in attributes.lower() else pair.split("=", 1)[1]


@dataclass
class View:
    """What a cookie reads: the session data and the user it is bound to."""

    data: dict[str, Any] = field(default_factory=dict)
    user: str | None = None

    @property
    def empty(self) -> bool:
        return not self.data and self.user is None


async def view(middleware: SessionMiddleware, cookie: str | None) -> View:
    """What a request carrying ``cookie`` would be served, read with the middleware's own loader
    (alias following, eventually consistent reads and all) without writing anything."""
    if not cookie:
        return View()
    scope = {"type": "http", "path": "/", "headers": [(b"cookie", f"{COOKIE}={cookie}".encode("latin-1"))]}
    state = await middleware.load(scope)
    if state.moved:
        return View()
    return View(dict(state.data), state.user_id)


def key_of(middleware: SessionMiddleware, cookie: str) -> str:
    """The store key of the session a cookie names."""
    parsed = middleware.signer.unsign(cookie)
    assert parsed is not None
    return store_key(parsed.session_id)


def handle_of(middleware: SessionMiddleware, cookie: str) -> str:
    """The session handle (as list_sessions shows it) of the session a cookie names."""
    return session_handle(key_of(middleware, cookie))


def decode(middleware: SessionMiddleware, key: str, blob: bytes) -> dict[str, Any]:
    """A stored session's data, decoded as the middleware decodes it."""
    decoded: dict[str, Any] = serialization.loads(middleware.writer.codec.decode(blob, key))
    return decoded
