"""A store's one-time preparation (such as checking its table): at ASGI lifespan startup when the
server runs a lifespan, otherwise before the first request; never once per request. At lifespan
shutdown the store's connections are released."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..exceptions import StoreError, StoreUnavailable

logger = logging.getLogger("dynsession")


class StorePreparation:
    """Calls ``store.prepare()`` (an optional coroutine method of a store) exactly once.

    A transient :class:`~dynsession.StoreError` leaves the store unprepared, so the next request
    tries again. Any other failure (such as :class:`~dynsession.TableConfigError`) is raised once;
    every later attempt raises :class:`~dynsession.StoreUnavailable` without calling the store, so
    requests answer 503 instead of repeating the same report.

    ``store.aclose()`` (also optional) is awaited when the application's lifespan shutdown is done.
    """

    def __init__(self, store: object) -> None:
        prepare = getattr(store, "prepare", None)
        self._prepare: Callable[[], Awaitable[None]] | None = prepare if callable(prepare) else None
        aclose = getattr(store, "aclose", None)
        self._aclose: Callable[[], Awaitable[None]] | None = aclose if callable(aclose) else None
        self._failure: BaseException | None = None
        self._lock = anyio.Lock()

    @property
    def done(self) -> bool:
        """True once the store is prepared (or has nothing to prepare): ``ensure`` would return."""
        return self._prepare is None

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
        """Run ``app``'s lifespan, preparing the store when the server's ``lifespan.startup`` arrives
        and closing it once the app has answered ``lifespan.shutdown``.

        On failure the server gets ``lifespan.startup.failed`` with the error's message, and the
        error is raised from ``app``'s ``receive``; messages the app sends after that are dropped
        so the server never sees a second answer to the startup. A failure to close is logged.
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
            if failed:
                return
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.close()
            await send(message)

        await app(scope, receive_wrapper, send_wrapper)

    async def close(self) -> None:
        """Await ``store.aclose()`` if the store has one; log (never raise) its failure."""
        if self._aclose is None:
            return
        try:
            await self._aclose()
        except Exception as exc:
            logger.warning("closing the session store at shutdown failed: %s", exc)
