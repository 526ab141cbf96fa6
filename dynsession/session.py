"""Per-request session state and the helpers handlers call: regenerate, end, inspect."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from .clock import Clock
from .exceptions import SessionNotLoaded
from .stores.base import SessionRecord

STATE_KEY = "dynsession"


class Session(dict[str, Any]):
    """The dict in ``scope["session"]``: a plain dict that notes when ``request.session`` is read.

    Starlette's ``Request.session`` calls ``mark_accessed``; the middleware then adds
    ``Vary: Cookie``. Changes are found by comparing encoded bytes, so no other tracking is needed.
    """

    accessed: bool = False

    def mark_accessed(self) -> None:
        self.accessed = True


@dataclass(frozen=True, slots=True)
class Timing:
    """The timeouts of one middleware and the clock they are measured with."""

    clock: Clock
    idle_timeout: int
    absolute_timeout: int | None
    refresh_after: int

    def absolute_deadline(self, created: int, stored: int | None = None) -> int | None:
        """The earlier of a stored absolute deadline and ``created + absolute_timeout``."""
        configured = None if self.absolute_timeout is None else created + self.absolute_timeout
        if stored is None or configured is None:
            return configured if stored is None else stored
        return min(stored, configured)

    def expires(self, now: int, absolute_deadline: int | None) -> int:
        """The idle deadline to write now: ``now + idle_timeout``, capped by the absolute deadline."""
        idle = now + self.idle_timeout
        return idle if absolute_deadline is None else min(idle, absolute_deadline)

    def refresh_due(self, record: SessionRecord, expires: int) -> bool:
        """True when a read-only request should push the stored idle deadline to ``expires``."""
        if self.refresh_after == 0:
            return expires >= record.expires
        return expires - record.expires > self.refresh_after


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a handler may know about its session besides the data (never the session ID).

    Times are integer epoch seconds, UTC. ``expires`` is the idle deadline as last stored (or as it
    would be for a new session); ``seconds_remaining`` counts to the earlier of the two deadlines.
    """

    created: int
    expires: int
    absolute_deadline: int | None
    is_new: bool
    seconds_remaining: int


class RequestSession:
    """Everything the middleware knows about one request's session. Holds the raw session ID only
    to re-sign the cookie; it never appears in ``repr`` or logs."""

    __slots__ = (
        "absolute_deadline",
        "cookie_version",
        "data",
        "ended",
        "fresh_start",
        "key",
        "loaded",
        "record",
        "regenerate",
        "session_id",
        "signed_with_current_key",
        "timing",
    )

    def __init__(
        self,
        timing: Timing,
        *,
        session_id: str | None = None,
        key: str | None = None,
        record: SessionRecord | None = None,
        loaded: bytes = b"{}",
        data: dict[str, Any] | None = None,
        signed_with_current_key: bool = True,
        cookie_version: int | None = None,
    ) -> None:
        self.timing = timing
        self.session_id = session_id
        self.key = key
        self.record = record
        self.loaded = loaded
        self.data = Session(data or {})
        self.signed_with_current_key = signed_with_current_key
        # The session version the cookie says this browser has seen (eventually consistent reads).
        self.cookie_version = cookie_version
        self.absolute_deadline = (
            None if record is None else timing.absolute_deadline(record.created, record.absolute_deadline)
        )
        self.regenerate = False
        self.fresh_start = False
        self.ended = False

    def __repr__(self) -> str:
        short = None if self.key is None else self.key[:8]
        return f"<RequestSession key={short} new={self.record is None} ended={self.ended}>"

    def info(self) -> SessionInfo:
        now = self.timing.clock()
        if self.record is None:
            created, absolute = now, self.timing.absolute_deadline(now)
            expires = self.timing.expires(now, absolute)
        else:
            created, absolute, expires = self.record.created, self.absolute_deadline, self.record.expires
        deadline = expires if absolute is None else min(expires, absolute)
        return SessionInfo(created, expires, absolute, self.record is None, max(0, deadline - now))


def _state(request_or_scope: HTTPConnection | MutableMapping[str, Any], helper: str) -> RequestSession:
    scope = request_or_scope.scope if isinstance(request_or_scope, HTTPConnection) else request_or_scope
    state = scope.get(STATE_KEY)
    if isinstance(state, RequestSession):
        return state
    if state is None:
        raise RuntimeError("dynsession.SessionMiddleware is not installed for this request")
    # The middleware's placeholder for a session that autoload skipped and nobody loaded yet.
    raise SessionNotLoaded(f"{helper}()")


def regenerate_session(
    request_or_scope: HTTPConnection | MutableMapping[str, Any], *, fresh_start: bool = False
) -> None:
    """Move the session to a new ID when the response starts; call it on login.

    The data is kept. The new item is written, the old one deleted and the new cookie set. The
    creation time, and so the absolute deadline, is kept unless ``fresh_start`` is true.
    Raises RuntimeError when the middleware is not installed, SessionNotLoaded when ``autoload``
    skipped the request and the session has not been loaded (``await load_session(request)``).
    """
    state = _state(request_or_scope, "regenerate_session")
    state.regenerate = True
    state.fresh_start = state.fresh_start or fresh_start


def end_session(request_or_scope: HTTPConnection | MutableMapping[str, Any]) -> None:
    """End the session when the response starts; call it on logout.

    The stored item is deleted and the cookie expired, even if the handler writes to the session
    afterwards. Raises RuntimeError when the middleware is not installed, SessionNotLoaded when
    ``autoload`` skipped the request and the session has not been loaded.
    """
    state = _state(request_or_scope, "end_session")
    state.ended = True
    state.data.clear()


def session_info(request_or_scope: HTTPConnection | MutableMapping[str, Any]) -> SessionInfo:
    """Return the session's metadata (creation time, deadlines, whether it is new).

    Raises RuntimeError when the middleware is not installed, SessionNotLoaded when ``autoload``
    skipped the request and the session has not been loaded.
    """
    return _state(request_or_scope, "session_info").info()
