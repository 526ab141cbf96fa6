"""The pure-ASGI session middleware: load before the app runs, persist when the response starts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _options as options
from . import _serialization as serialization
from ._envelope.binding import ClientBinding
from ._envelope.cookies import CookieFormatter, CookieSigner, SameSite
from ._envelope.encryption import SessionCipher
from ._request import failures
from ._request.conflict import ConflictPolicy
from ._request.failures import StoreErrorResponse
from ._request.lazy import Autoload, PendingSession, autoload_rule, install
from ._request.loading import Loader, renewal_settings
from ._request.markers import DEFAULT_MOVE_GRACE
from ._request.persistence import Writer
from ._request.plain_http import PlainHttpWarning
from ._request.reads import SessionReads
from ._request.session import RequestSession, Timing
from ._request.startup import StorePreparation
from ._request.websocket import websocket_session
from ._users.ending import DEFAULT_CONFLICT_ATTEMPTS
from .clock import Clock, checked_clock, system_clock
from .exceptions import ConfigurationError, DynSessionError, StoreError
from .stores.base import SessionStore, session_store
from .stores.users import UserSessionStore

logger = logging.getLogger("dynsession")


class SessionMiddleware:
    """Server-side sessions for Starlette and FastAPI: ``request.session`` is a dict kept in a
    :class:`~dynsession.SessionStore`, the browser holds only a signed, random session ID.

    The Sessions page of the documentation lists every argument in its options table. Raises
    ConfigurationError, naming the option, on bad options.
    """

    @options.logged_when_refused
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
        max_session_size: int = serialization.DEFAULT_MAX_SESSION_SIZE,
        encryption_key: str | bytes | Sequence[str | bytes] | None = None,
        client_binding: ClientBinding | None = None,
        renew_after: int | timedelta | None = None,
        renew_grace: int | timedelta = DEFAULT_MOVE_GRACE,
        store_error_response: StoreErrorResponse | None = None,
        raise_store_errors: bool = False,
        autoload: Autoload = True,
        eventually_consistent: bool = False,
        clock: Clock = system_clock,
        max_sessions_per_user: int | None = None,
    ) -> None:
        self.app = app
        self.store = session_store(store)
        idle = options.seconds("idle_timeout", idle_timeout, minimum=1)
        refresh = options.optional_seconds(
            "refresh_after", refresh_after, minimum=0, none="min(60, idle_timeout / 10)"
        )
        self.timing = Timing(
            clock=checked_clock(clock),
            idle_timeout=idle,
            absolute_timeout=options.optional_seconds(
                "absolute_timeout", absolute_timeout, minimum=1, none="no limit"
            ),
            refresh_after=min(60, idle // 10) if refresh is None else refresh,
        )
        self.signer = CookieSigner(options.secret_keys(secret_key))
        cookie_max_age = options.optional_seconds(
            "max_age", max_age, minimum=1, none="a browser-session cookie"
        )
        self.cookie = CookieFormatter(
            session_cookie,
            max_age=cookie_max_age,
            path=path,
            same_site=same_site,
            https_only=options.flag("https_only", https_only),
            domain=domain,
            partitioned=options.flag("partitioned", partitioned),
        )
        self.max_session_size = options.integer("max_session_size", max_session_size, minimum=1)
        renew, grace = renewal_settings(self.store, renew_after, renew_grace)
        consistency = options.flag("eventually_consistent", eventually_consistent)
        self.writer = Writer(
            self.store,
            self.timing,
            on_conflict=on_conflict,
            conflict_attempts=options.integer("conflict_attempts", conflict_attempts, minimum=1),
            compress_threshold=options.optional_integer(
                "compress_threshold", compress_threshold, minimum=0, none="never compress"
            ),
            max_session_size=self.max_session_size,
            resend_cookie=cookie_max_age is not None,
            envelope=None if encryption_key is None else SessionCipher(encryption_key),
            move_grace=grace,
            max_sessions_per_user=_session_cap(self.store, max_sessions_per_user),
            versioned_cookie=consistency,
        )
        self.loader = Loader(
            self.store,
            self.timing,
            reads=SessionReads(self.store, eventually_consistent=consistency),
            signer=self.signer,
            cookie_name=self.cookie.name,
            codec=self.writer.codec,
            binding=client_binding,
            renew_after=renew,
        )
        # None: every request loads up front (the default); else the test of which ones do.
        self.autoload = autoload_rule(autoload)
        self.plain_http = PlainHttpWarning(session_cookie, secure=https_only)
        self.preparation = StorePreparation(self.store)
        self.save_on_error = options.flag("save_on_error", save_on_error)
        self.raise_store_errors = options.flag("raise_store_errors", raise_store_errors)
        self.store_error_response = options.function(
            "store_error_response", store_error_response, none="the default 503 and 409 answers"
        )
        options.exclusive(raise_store_errors=raise_store_errors, store_error_response=store_error_response)
        self._late_change_logged = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            if kind == "lifespan":
                await self.preparation.lifespan(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        state: RequestSession | None = None
        pending: PendingSession | None = None
        if self.autoload is None or self.autoload(scope):
            try:
                state = await self.load(scope)
            except StoreError as exc:
                await self._load_failed(scope, receive, send, exc)
                return
            install(scope, state)
        else:
            # Loaded only if the app asks (load_session); until then nothing reads or writes it.
            pending = PendingSession(scope, self.load)

        if kind == "websocket":
            try:
                await websocket_session(
                    self.app,
                    self.store,
                    lambda: state if pending is None else pending.state,
                    scope,
                    receive,
                    send,
                )
            except StoreError as exc:
                if pending is None or not pending.failed:
                    raise
                await self._load_failed(scope, receive, send, exc)
            return

        failure: StoreError | None = None
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal failure, started
            if failure is not None:
                return  # the app's response was replaced
            started = True
            if message["type"] == "http.response.start":
                session = state if pending is None else pending.state
                try:
                    if session is not None:
                        await self._commit(session, message)
                except StoreError as exc:
                    failure = exc
                    if not self.raise_store_errors:
                        await failures.answer(
                            scope, receive, send, exc, during="write", custom=self.store_error_response
                        )
                    return
                self.plain_http.check(scope, message)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except StoreError as exc:
            # A load the app asked for failed and the app let it through: the answer a failed
            # load up front gets, unless the response had already started.
            if pending is None or not pending.failed or started:
                raise
            await self._load_failed(scope, receive, send, exc)
            return
        if failure is not None:
            if self.raise_store_errors:
                # Raised here, outside the app: none of its response was sent, and its exception
                # handlers (which could no longer answer) never see it.
                raise failure
            return
        session = state if pending is None else pending.state
        if session is not None and session.data.accessed and not self._late_change_logged:
            self._check_late_changes(session)

    async def load(self, scope: Scope) -> RequestSession:
        """Read the session a request's cookie names: the one loader, whether the middleware loads
        up front or the app asks through ``load_session``. Prepares the store first (once).

        Raises StoreError when the store cannot be read, TableConfigError when its check fails.
        """
        if not self.preparation.done:
            await self.preparation.ensure()
        state = await self.loader.load(scope)
        state.store = self.store
        return state

    async def _load_failed(self, scope: Scope, receive: Receive, send: Send, exc: StoreError) -> None:
        if self.raise_store_errors:
            raise exc
        await failures.answer(scope, receive, send, exc, during="load", custom=self.store_error_response)

    async def _commit(self, state: RequestSession, message: Message) -> None:
        if message["status"] >= 500 and not self.save_on_error and not state.ended:
            outcome = None
        else:
            outcome = await self.writer.persist(state)
        raw = message["headers"] = list(message.get("headers", ()))
        if outcome is not None or state.data.accessed:
            _vary_cookie(raw)
        # From here on, an access means code running after the response started (see below).
        state.data.accessed = False
        if outcome is None:
            return
        headers = MutableHeaders(raw=raw)
        if outcome.session_id is None:
            headers.append("set-cookie", self.cookie.delete_cookie())
        else:
            signed = self.signer.sign(outcome.session_id, outcome.version)
            headers.append("set-cookie", self.cookie.set_cookie(signed))
        cache_control = headers.get("cache-control")
        if cache_control is None:
            headers["cache-control"] = "no-store"
        elif "no-store" not in cache_control.lower():
            headers["cache-control"] = f"{cache_control}, no-store"

    def _check_late_changes(self, state: RequestSession) -> None:
        # Changes made after the response started (a background task, a streaming body) cannot be
        # saved: the write happened before the headers left. Say so once per middleware. Only a
        # session used through request.session since then is compared (encoding it on every
        # request would cost a tenth of the middleware's CPU).
        if self._late_change_logged or state.committed is None or not state.data.accessed:
            return
        try:
            now = serialization.dumps(state.data)
        except DynSessionError:
            now = None
        if now != state.committed:
            self._late_change_logged = True
            logger.warning(
                "a session was changed after its response had started (in a background task or a "
                "streaming body?); such changes are not saved. Logged once per middleware."
            )


def _session_cap(store: SessionStore, cap: int | None) -> int | None:
    checked = options.optional_integer("max_sessions_per_user", cap, minimum=1, none="no limit")
    if checked is None:
        return None
    if not isinstance(store, UserSessionStore) or getattr(store, "user_index", True) is False:
        raise ConfigurationError(
            "max_sessions_per_user needs a store that finds sessions by user: MemoryStore or "
            "DynamoDBStore(..., user_index=True)"
        )
    return checked


def _vary_cookie(raw: list[tuple[bytes, bytes]]) -> None:
    # Most responses carry no Vary yet: appending directly skips MutableHeaders' case-insensitive
    # merge, a measurable share of a read-only request's CPU (see benchmarks/RESULTS.md).
    for name, _ in raw:
        if name.lower() == b"vary":
            MutableHeaders(raw=raw).add_vary_header("Cookie")
            return
    raw.append((b"vary", b"Cookie"))
