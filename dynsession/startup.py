"""A store's one-time preparation (such as checking its table): at ASGI lifespan startup when the
server runs a lifespan, otherwise before the first request; never once per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .exceptions import StoreError, StoreUnavailable


class StorePreparation:
    """Calls ``store.prepare()`` (an optional coroutine method of a store) exactly once.

    A transient :class:`~dynsession.StoreError` leaves the store unprepared, so the next request
    tries again. Any other failure (such as :class:`~dynsession.TableConfigError`) is raised once;
    every later attempt raises :class:`~dynsession.StoreUnavailable` without calling the store, so
    requests answer 503 instead of repeating the same report.
    """

    def __init__(self, store: object) -> None:
        prepare = getattr(store, "prepare", None)
        self._prepare: Callable[[], Awaitable[None]] | None = prepare if callable(prepare) else None
        self._failure: BaseException | None = None
        self._lock = anyio.Lock()

    async def ensure(self) -> None:
        """Prepare the store unless that has been done. Raises what ``prepare`` raises (see above)."""
        if self._prepare is None:
            return
        async with self._lock:
            if self._prepare is None:
                return
            if self._failure is not None:
                raise StoreUnavailable(f"the session store failed its startup check: {self._failure}")
            try:
                await self._prepare()
            except StoreError:
                raise
            except Exception as exc:
                self._failure = exc
                raise
            self._prepare = None

    async def lifespan(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``app``'s lifespan, preparing the store when the server's ``lifespan.startup`` arrives.

        On failure the server gets ``lifespan.startup.failed`` with the error's message, and the
        error is raised from ``app``'s ``receive``; messages the app sends after that are dropped
        so the server never sees a second answer to the startup.
        """
        failed = False

        async def receive_wrapper() -> Message:
            nonlocal failed
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.ensure()
                except Exception as exc:
                    failed = True
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    raise
            return message

        async def send_wrapper(message: Message) -> None:
            if not failed:
                await send(message)

        await app(scope, receive_wrapper, send_wrapper)
