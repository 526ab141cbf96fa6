"""Test helpers shared across the suite: a controllable clock, a call-counting store, apps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from dynsession import SessionMiddleware, SessionRecord, SessionStore
from dynsession.testing import FakeClock as FakeClock  # re-exported for the tests

SECRET = "test-secret-key"

TransportName = Literal["boto3", "aiohttp"]
"""A DynamoDBStore transport the tests run over (the ``transport`` fixture's values)."""


class CountingStore:
    """Wraps a store, recording each call by name (``load``, ``save``, ``touch``, ``delete``)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.threads: list[int] = []
        self._lock = threading.Lock()

    def _note(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def reset(self) -> None:
        self.calls.clear()

    async def load(self, key: str) -> SessionRecord | None:
        self._note("load")
        return await self.inner.load(key)

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        self._note("save")
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        self._note("touch")
        return await self.inner.touch(key, expires)

    async def delete(self, key: str) -> None:
        self._note("delete")
        await self.inner.delete(key)


async def view(request: Request) -> Response:
    return JSONResponse(dict(request.session))


async def update(request: Request) -> Response:
    request.session.update(await request.json())
    return JSONResponse(dict(request.session))


async def append(request: Request) -> Response:
    request.session.setdefault("cart", [])
    request.session["cart"].append(request.query_params["item"])
    return JSONResponse(dict(request.session))


async def clear(request: Request) -> Response:
    request.session.clear()
    return PlainTextResponse("cleared")


async def untouched(request: Request) -> Response:
    return PlainTextResponse("no session here")


def session_app(store: SessionStore, **options: Any) -> Starlette:
    """A tiny Starlette app with view/update/append/clear endpoints behind the middleware."""
    options.setdefault("secret_key", SECRET)
    app = Starlette(
        routes=[
            Route("/view", view),
            Route("/update", update, methods=["POST"]),
            Route("/append", append, methods=["POST"]),
            Route("/clear", clear, methods=["POST"]),
            Route("/untouched", untouched),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, **options)
    return app


ClockFactory = Callable[[], FakeClock]
