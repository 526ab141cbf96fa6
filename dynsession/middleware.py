"""The pure-ASGI session middleware: load before the app runs, persist when the response starts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import serialization
from .clock import Clock, system_clock
from .cookies import CookieFormatter, CookieSigner, SameSite, store_key
from .exceptions import ConfigurationError, SessionConflict, StoreError
from .persistence import DEFAULT_CONFLICT_ATTEMPTS, ConflictPolicy, Writer
from .plain_http import PlainHttpWarning
from .session import STATE_KEY, RequestSession, Timing
from .startup import StorePreparation
from .stores.base import SessionStore

logger = logging.getLogger("dynsession")


def _seconds(name: str, value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ConfigurationError(f"{name} must be a non-negative number of seconds or a timedelta")
    return int(seconds)


class SessionMiddleware:
    """Server-side sessions for Starlette and FastAPI: ``request.session`` is a dict kept in a
    :class:`~dynsession.SessionStore`, the browser holds only a signed, random session ID.

    See the README's options table for every argument. Raises ConfigurationError on bad options.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SessionStore,
        secret_key: str | Sequence[str],
        idle_timeout: int | timedelta = 1800,
        absolute_timeout: int | timedelta | None = None,
        refresh_after: int | timedelta | None = None,
        session_cookie: str = "session",
        max_age: int | timedelta | None = None,
        path: str = "/",
        same_site: SameSite = "lax",
        https_only: bool = True,
        domain: str | None = None,
        partitioned: bool = False,
        save_on_error: bool = False,
        on_conflict: ConflictPolicy = "merge",
        conflict_attempts: int = DEFAULT_CONFLICT_ATTEMPTS,
        compress_threshold: int | None = serialization.DEFAULT_COMPRESS_THRESHOLD,
        raise_store_errors: bool = False,
        clock: Clock = system_clock,
    ) -> None:
        idle = _seconds("idle_timeout", idle_timeout)
        if not idle:
            raise ConfigurationError("idle_timeout must be at least one second")
        refresh = _seconds("refresh_after", refresh_after)
        self.app = app
        self.timing = Timing(
            clock=clock,
            idle_timeout=idle,
            absolute_timeout=_seconds("absolute_timeout", absolute_timeout),
            refresh_after=min(60, idle // 10) if refresh is None else refresh,
        )
        self.signer = CookieSigner(secret_key)
        cookie_max_age = _seconds("max_age", max_age)
        self.cookie = CookieFormatter(
            session_cookie,
            max_age=cookie_max_age,
            path=path,
            same_site=same_site,
            https_only=https_only,
            domain=domain,
            partitioned=partitioned,
        )
        self.writer = Writer(
            store,
            self.timing,
            on_conflict=on_conflict,
            conflict_attempts=conflict_attempts,
            compress_threshold=compress_threshold,
            resend_cookie=cookie_max_age is not None,
        )
        self.plain_http = PlainHttpWarning(session_cookie, secure=https_only)
        self.store = store
        self.preparation = StorePreparation(store)
        self.save_on_error = save_on_error
        self.raise_store_errors = raise_store_errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.preparation.lifespan(self.app, scope, receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            await self.preparation.ensure()
            state = await self._load(scope)
        except StoreError as exc:
            if self.raise_store_errors:
                raise
            logger.error("session load failed, answering 503: %s", exc)
            await _unavailable(scope, send)
            return
        scope["session"] = state.data
        scope[STATE_KEY] = state
        if scope["type"] == "websocket":
            # A websocket cannot set a cookie once accepted: its session is read-only.
            await self.app(scope, receive, send)
            return

        replaced = False

        async def send_wrapper(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                try:
                    await self._commit(state, message)
                except StoreError as exc:
                    if self.raise_store_errors:
                        raise
                    replaced = True
                    await _write_failed(scope, send, exc)
                    return
                self.plain_http.check(scope, message)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _load(self, scope: Scope) -> RequestSession:
        value = _cookie(scope, self.cookie.name)
        if value is None:
            return RequestSession(self.timing)
        parsed = self.signer.unsign(value)
        if parsed is None:
            logger.debug("ignoring a session cookie that is malformed or badly signed")
            return RequestSession(self.timing)
        key = store_key(parsed.session_id)
        record = await self.store.load(key)
        state = RequestSession(
            self.timing,
            session_id=parsed.session_id,
            key=key,
            record=record,
            signed_with_current_key=parsed.signed_with_current_key,
        )
        if record is None:
            logger.debug("session %s is missing or expired", key[:8])
            return state
        if state.absolute_deadline is not None and state.absolute_deadline <= self.timing.clock():
            logger.debug("session %s is past its absolute deadline", key[:8])
            state.record = None
            return state
        try:
            state.loaded = serialization.unpack(record.data)
            state.data.update(serialization.loads(state.loaded))
        except serialization.BlobDecodeError as exc:
            # Keep the record so the next write replaces the unreadable item in place.
            logger.warning("session %s could not be decoded (%s); starting it empty", key[:8], exc)
            state.loaded = b"{}"
        return state

    async def _commit(self, state: RequestSession, message: Message) -> None:
        if message["status"] >= 500 and not self.save_on_error and not state.ended:
            outcome = None
        else:
            outcome = await self.writer.persist(state)
        raw = message["headers"] = list(message.get("headers", ()))
        if outcome is not None or state.data.accessed:
            _vary_cookie(raw)
        if outcome is None:
            return
        headers = MutableHeaders(raw=raw)
        if outcome.session_id is None:
            headers.append("set-cookie", self.cookie.delete_cookie())
        else:
            headers.append("set-cookie", self.cookie.set_cookie(self.signer.sign(outcome.session_id)))
        cache_control = headers.get("cache-control")
        if cache_control is None:
            headers["cache-control"] = "no-store"
        elif "no-store" not in cache_control.lower():
            headers["cache-control"] = f"{cache_control}, no-store"


def _vary_cookie(raw: list[tuple[bytes, bytes]]) -> None:
    # Most responses carry no Vary yet: appending directly skips MutableHeaders' case-insensitive
    # merge, a measurable share of a read-only request's CPU (see benchmarks/RESULTS.md).
    for name, _ in raw:
        if name.lower() == b"vary":
            MutableHeaders(raw=raw).add_vary_header("Cookie")
            return
    raw.append((b"vary", b"Cookie"))


def _cookie(scope: Scope, name: str) -> str | None:
    values = [value for key, value in scope["headers"] if key == b"cookie"]
    if not values:
        return None
    return cookie_parser(b"; ".join(values).decode("latin-1")).get(name)


async def _write_failed(scope: Scope, send: Send, exc: StoreError) -> None:
    # The app's response is replaced so the client never sees a success for a write that did not happen.
    if isinstance(exc, SessionConflict):
        # Not an outage: concurrent requests won (on_conflict="raise", or every merge attempt lost).
        logger.warning("session write lost to a concurrent request, answering 409 instead: %s", exc)
        await _unavailable(scope, send, 409, b"Conflict: the session was changed by a concurrent request.")
    else:
        logger.error("session write failed, answering 503 instead: %s", exc)
        await _unavailable(scope, send)


async def _unavailable(
    scope: Scope,
    send: Send,
    status: int = 503,
    body: bytes = b"Service Unavailable: the session store could not be reached.",
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013, "reason": "session store unavailable"})
        return
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
