"""Per-request session state and the helpers handlers call: regenerate, end, inspect."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from .._users.user_agent import check_device, device_label
from ..clock import Clock
from ..exceptions import SessionNotLoaded
from ..stores.base import SessionRecord, SessionStore

STATE_KEY = "dynsession"
MAX_USER_ID_BYTES = 512


class Session(dict[str, Any]):
    """The dict in ``scope["session"]``: a plain dict that notes when ``request.session`` is read.

    Starlette's ``Request.session`` calls ``mark_accessed``; the middleware then adds
    ``Vary: Cookie``. Changes are found by comparing encoded bytes, so no other tracking is needed.
    """

    # A slot, not an instance dict: every request sets it at least once. RequestSession, which
    # makes every Session, sets it first.
    __slots__ = ("accessed",)
    accessed: bool

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
class CookieChange:
    """The cookie a response must carry: ``session_id`` to set, or ``None`` to expire it; with
    ``version`` when the cookie carries the session's version (eventually consistent reads)."""

    session_id: str | None
    version: int | None = None


EXPIRE = CookieChange(None)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a handler may know about its session besides the data (never the session ID).

    Times are integer epoch seconds, UTC. ``expires`` is the idle deadline as last stored (or as it
    would be for a new session); ``seconds_remaining`` counts to the earlier of the two deadlines.
    ``user_id`` is the user the session is bound to (see ``regenerate_session(user_id=...)``), or
    ``None``.
    """

    created: int
    expires: int
    absolute_deadline: int | None
    is_new: bool
    seconds_remaining: int
    user_id: str | None = None


class RequestSession:
    """Everything the middleware knows about one request's session. Holds the raw session ID only
    to re-sign the cookie; it never appears in ``repr`` or logs."""

    __slots__ = (
        "absolute_deadline",
        "bind",
        "client",
        "committed",
        "cookie_version",
        "data",
        "ended",
        "forwarded",
        "fresh_start",
        "key",
        "loaded",
        "moved",
        "read_eventually",
        "record",
        "regenerate",
        "renew",
        "session_id",
        "signed_with_current_key",
        "store",
        "timing",
        "unreadable",
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
        client: bytes | None = None,
        cookie_version: int | None = None,
    ) -> None:
        self.timing = timing
        self.session_id = session_id
        self.key = key
        self.record = record
        self.loaded = loaded
        session = self.data = Session(data or {})
        session.accessed = False
        self.signed_with_current_key = signed_with_current_key
        # The bound client properties of this request (with client binding), for new fingerprints.
        self.client = client
        # The session version the cookie says this browser has seen (eventually consistent reads).
        self.cookie_version = cookie_version
        self.absolute_deadline = (
            None if record is None else timing.absolute_deadline(record.created, record.absolute_deadline)
        )
        self.regenerate = False
        self.fresh_start = False
        self.ended = False
        # The cookie named a session that a login moved: empty and read-only (see markers.py).
        self.moved = False
        # The cookie named a renewed ID: served from the new session, whose cookie the response sets.
        self.forwarded = False
        # The record came from an eventually consistent read: it may miss a write the browser saw.
        self.read_eventually = False
        # The ID is older than renew_after: the response moves the session to a new one.
        self.renew = False
        # (user ID, device label) to bind the regenerated session to; None keeps the binding as is.
        self.bind: tuple[str, str] | None = None
        # The middleware's store, for the helpers that list and end the user's other sessions.
        self.store: SessionStore | None = None
        # The encoded session the response's write was decided on; None until then.
        self.committed: bytes | None = None
        # The stored item could not be decoded: the session started empty, and only a write of
        # data touches the item (it replaces it in place).
        self.unreadable = False

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
        remaining = max(0, deadline - now)
        return SessionInfo(created, expires, absolute, self.record is None, remaining, self.user_id)

    @property
    def user_id(self) -> str | None:
        """The user this session is bound to, or will be when the response starts."""
        if self.ended:
            return None
        if self.bind is not None:
            return self.bind[0]
        owner = None if self.record is None else self.record.owner
        return None if owner is None else owner.user_id


def _scope(request_or_scope: HTTPConnection | MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return request_or_scope.scope if isinstance(request_or_scope, HTTPConnection) else request_or_scope


def _state(request_or_scope: HTTPConnection | MutableMapping[str, Any], helper: str) -> RequestSession:
    state = _scope(request_or_scope).get(STATE_KEY)
    if isinstance(state, RequestSession):
        return state
    if state is None:
        raise RuntimeError("dynsession.SessionMiddleware is not installed for this request")
    # The middleware's placeholder for a session that autoload skipped and nobody loaded yet.
    raise SessionNotLoaded(f"{helper}()")


def regenerate_session(
    request_or_scope: HTTPConnection | MutableMapping[str, Any],
    *,
    fresh_start: bool = False,
    user_id: str | None = None,
    device: str | None = None,
) -> None:
    """Move the session to a new ID when the response starts; call it on login.

    The data is kept. The new item is written, the old one deleted and the new cookie set; a
    change another request saved to the old item meanwhile is carried over. The creation time,
    and so the absolute deadline, is kept unless ``fresh_start`` is true.

    With ``user_id`` the new session is bound to that user: it appears in the user's session list
    (see :func:`dynsession.list_sessions`) labelled ``device``, by default a short label derived from
    the User-Agent ("Firefox on Linux"). Without it a bound session stays bound to its user.

    Raises RuntimeError when the middleware is not installed, and on a websocket, which cannot
    set the new cookie (regenerate in the HTTP request that logs the user in); SessionNotLoaded
    when ``autoload`` skipped the request and the session has not been loaded (``await
    load_session(request)``); ValueError when ``user_id`` is empty or over 512 bytes (UTF-8), or
    ``device`` empty, over 64 characters or not printable.
    """
    state = _state(request_or_scope, "regenerate_session")
    if _scope(request_or_scope).get("type") == "websocket":
        raise RuntimeError(
            "regenerate_session cannot be used on a websocket: no cookie can be set once it is open; "
            "regenerate in the HTTP request that logs the user in"
        )
    if user_id is not None:
        if not isinstance(user_id, str) or not user_id or len(user_id.encode("utf-8")) > MAX_USER_ID_BYTES:
            raise ValueError(f"user_id must be a non-empty string of at most {MAX_USER_ID_BYTES} bytes")
        label = device_label(_user_agent(request_or_scope)) if device is None else check_device(device)
        state.bind = (user_id, label)
    elif device is not None:
        raise ValueError("device labels a session bound to a user: pass user_id too")
    state.regenerate = True
    state.fresh_start = state.fresh_start or fresh_start


def _user_agent(request_or_scope: HTTPConnection | MutableMapping[str, Any]) -> str | None:
    for name, value in _scope(request_or_scope).get("headers", ()):
        if name == b"user-agent":
            return bytes(value).decode("latin-1")
    return None


def end_session(request_or_scope: HTTPConnection | MutableMapping[str, Any]) -> None:
    """End the session when the response starts; call it on logout.

    The stored item is deleted and the cookie expired, even if the handler writes to the session
    afterwards, and whatever other requests wrote meanwhile. On a websocket the item is deleted
    before the handler's next send or receive (or when it returns); the browser keeps a cookie
    that names nothing. Raises RuntimeError when the middleware is not installed, SessionNotLoaded
    when ``autoload`` skipped the request and the session has not been loaded.
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
