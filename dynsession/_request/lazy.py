"""Loading the session on demand: which requests load it up front (the ``autoload`` option), what
stands in ``scope["session"]`` until the session is loaded, and :func:`load_session`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, NoReturn, TypeAlias

import anyio
from starlette.requests import HTTPConnection
from starlette.types import Scope

from ..exceptions import ConfigurationError, SessionNotLoaded, StoreError
from .session import STATE_KEY, RequestSession

Autoload: TypeAlias = bool | Iterable[str] | Callable[[Scope], bool]
AutoloadRule = Callable[[Scope], bool]


def autoload_rule(autoload: Autoload) -> AutoloadRule | None:
    """Turn the ``autoload`` option into a test "load this request's session up front?", or ``None``
    when every request loads up front (``True``, the default).

    ``False`` loads none; path prefixes (``["/static", "/healthz"]``) skip the requests whose path
    is a prefix or lies under one (``/static`` and ``/static/app.css``, not ``/staticky``); a
    callable gets the ASGI scope and returns whether to load. Raises ConfigurationError otherwise.
    """
    if autoload is True:
        return None
    if autoload is False:
        return _never
    if callable(autoload):
        return autoload
    if isinstance(autoload, str | bytes) or not isinstance(autoload, Iterable):
        raise ConfigurationError(
            "autoload must be True, False, a list of path prefixes to skip, or a callable taking the "
            f"ASGI scope, not {autoload!r}"
        )
    prefixes = list(autoload)
    for prefix in prefixes:
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ConfigurationError(
                f"autoload path prefixes must be strings starting with '/', not {prefix!r}"
            )
    bases = frozenset(prefix.rstrip("/") for prefix in prefixes)
    under = tuple(base + "/" for base in bases)

    def outside_prefixes(scope: Scope) -> bool:
        path: str = scope["path"]
        return path not in bases and not path.startswith(under)

    return outside_prefixes


def _never(scope: Scope) -> bool:
    return False


class UnloadedSession:
    """What ``scope["session"]`` holds until the session is loaded. Every use raises
    :class:`~dynsession.SessionNotLoaded`, so a skipped load never passes for an empty session;
    on Starlette versions whose ``request.session`` calls ``mark_accessed``, reading
    ``request.session`` itself raises."""

    __slots__ = ()

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        raise SessionNotLoaded("request.session")

    def _refuse(self, *args: object) -> NoReturn:
        raise SessionNotLoaded("request.session")

    __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = __len__ = __bool__ = _refuse
    __eq__ = _refuse
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<session not loaded: await dynsession.load_session(request)>"


NOT_LOADED = UnloadedSession()


class PendingSession:
    """The scope's dynsession entry while the session is not loaded. :meth:`load` runs the
    middleware's loader once (concurrent callers wait for the first) and puts the session in the
    scope; ``state`` is then what the middleware persists when the response starts."""

    __slots__ = ("_load", "_lock", "_scope", "failed", "state")

    def __init__(self, scope: Scope, load: Callable[[Scope], Awaitable[RequestSession]]) -> None:
        self._scope = scope
        self._load = load
        self._lock: anyio.Lock | None = None
        self.state: RequestSession | None = None
        self.failed = False  # the last load raised StoreError
        scope["session"] = NOT_LOADED
        scope[STATE_KEY] = self

    async def load(self) -> RequestSession:
        """Load the session unless done already. Raises what the loader raises (StoreError, …)."""
        if self.state is None:
            if self._lock is None:
                self._lock = anyio.Lock()
            async with self._lock:
                if self.state is None:
                    try:
                        state = await self._load(self._scope)
                    except StoreError:
                        self.failed = True
                        raise
                    self.failed = False
                    install(self._scope, state)
                    self.state = state
        return self.state


def install(scope: MutableMapping[str, Any], state: RequestSession) -> None:
    """Make ``state`` the request's session: ``request.session`` and the helpers see it."""
    scope["session"] = state.data
    scope[STATE_KEY] = state


async def load_session(connection: HTTPConnection | MutableMapping[str, Any]) -> dict[str, Any]:
    """Load the session of a request (or websocket) whose loading ``autoload`` skipped, and return
    it: the dict ``request.session`` is from then on.

    Idempotent and cheap once loaded: with ``autoload=True`` it just returns the session. The load
    is the middleware's own (one GetItem when the request carries a valid cookie, none otherwise).
    Raises StoreError (usually StoreUnavailable) when the store cannot be read, answered with a 503
    by the middleware if the app lets it propagate; TableConfigError when the first request's table
    check fails; RuntimeError when the middleware is not installed for the request.
    """
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    entry = scope.get(STATE_KEY)
    if isinstance(entry, PendingSession):
        state = await entry.load()
        # The app may hold a copy of the middleware's scope; both must see the session.
        install(scope, state)
    elif isinstance(entry, RequestSession):
        state = entry
    else:
        raise RuntimeError("dynsession.SessionMiddleware is not installed for this request")
    # Whoever loads the session uses it: the response varies with the cookie.
    state.data.mark_accessed()
    return state.data
