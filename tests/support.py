"""Test helpers shared across the suite: a controllable clock, a call-counting store, apps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from dynsession import MemoryStore, MovedRecord, MovingStore, SessionMiddleware, SessionRecord, SessionStore
from dynsession.clock import Clock, system_clock
from dynsession.testing import FakeClock as FakeClock  # re-exported for the tests

SECRET = "test-secret-key-for-dynsession"

TransportName = Literal["boto3", "native"]
"""A DynamoDBStore transport the tests run over (the ``transport`` fixture's values)."""


class CountingStore:
    """Wraps a store, recording each call by name (``load``, ``save``, ``touch``, ``delete``) and
    the ``consistent`` argument of each load (None when the caller left the choice to the store)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.reads: list[bool | None] = []
        self.threads: list[int] = []
        self._lock = threading.Lock()

    def _note(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def reset(self) -> None:
        self.calls.clear()
        self.reads.clear()

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        self._note("load")
        self.reads.append(consistent)
        if consistent is None:
            return await self.inner.load(key)
        load: Any = self.inner.load  # the contract's optional keyword: DynamoDBStore and MemoryStore take it
        record: SessionRecord | MovedRecord | None = await load(key, consistent=consistent)
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        self._note("save")
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        self._note("touch")
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        self._note("delete")
        if expected_version is None:
            await self.inner.delete(key)
        else:
            await self.inner.delete(key, expected_version=expected_version)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        self._note("move")
        assert isinstance(self.inner, MovingStore)
        await self.inner.move(key, marker, expected_version=expected_version)


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


class PlainStore:
    """A third-party store implementing only the four methods of the contract (over a MemoryStore):
    no ``move``, and a ``load`` without the optional ``consistent`` keyword."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.inner = MemoryStore(clock=clock)

    async def load(self, key: str) -> SessionRecord | MovedRecord | None:
        return await self.inner.load(key)

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self.inner.delete(key, expected_version=expected_version)


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
