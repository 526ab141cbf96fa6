"""A user's sessions, listed and ended through the store: opaque handles, list entries, revocation,
and the per-user cap. The request-scoped helpers in :mod:`dynsession._request.devices` build on these.

A handle is derived from the store key (itself the SHA-256 of the session ID) by another SHA-256
under a label of its own, cut to 128 bits. Nothing leads back from it: not to the store key, so it
cannot address an item, and not to the session ID, so it cannot become a cookie. It needs no
secret, so the command line and the app show the same handles. A handle is only ever looked up
among one user's sessions, so knowing another user's handle is worth nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection
from dataclasses import dataclass

import anyio

from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError
from ..stores.base import SessionStore
from ..stores.users import BoundSession, UserSessionStore
from .ending import end_session_item

_HANDLE_LABEL = b"dynsession session handle\x00"


def session_handle(key: str) -> str:
    """The handle shown for the session stored under ``key``: 22 url-safe characters."""
    digest = hashlib.sha256(_HANDLE_LABEL + key.encode("utf-8")).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class UserSession:
    """One of a user's live sessions, as a session list shows it (never its ID or store key).

    ``handle`` names it to :func:`dynsession.revoke_session`; ``signed_in`` is when it was bound
    to the user, ``last_active`` when it was last saved or had its deadline refreshed (so it is as
    precise as ``refresh_after``); ``expires`` and ``absolute_deadline`` are its idle and absolute
    deadlines. ``current`` marks the session of the request that asked. Times are integer epoch
    seconds, UTC.
    """

    handle: str
    device: str
    created: int
    signed_in: int
    last_active: int
    expires: int
    absolute_deadline: int | None
    current: bool = False


def user_store(store: SessionStore | None) -> UserSessionStore:
    """``store`` as a store that finds sessions by user; raises ConfigurationError when it cannot."""
    if not isinstance(store, UserSessionStore):
        raise ConfigurationError(
            f"{type(store).__name__} cannot find a user's sessions: use MemoryStore or "
            "DynamoDBStore(..., user_index=True), or a store with list_user_sessions and delete_sessions"
        )
    return store


async def list_user_sessions(
    store: SessionStore, user_id: str, *, current_key: str | None = None
) -> list[UserSession]:
    """The user's live sessions: the one stored under ``current_key`` first, then the most recently
    active first. For operators and jobs; handlers use :func:`dynsession.list_sessions`.

    Raises ConfigurationError when the store cannot find sessions by user, StoreError when it fails.
    """
    found = await user_store(store).list_user_sessions(user_id)
    entries = [_entry(session, session.key == current_key) for session in found]
    entries.sort(key=lambda entry: (not entry.current, -entry.last_active, entry.handle))
    return entries


async def revoke_user_sessions(
    store: SessionStore,
    user_id: str,
    *,
    handles: Collection[str] | None = None,
    keep: Collection[str] = (),
    recheck_after: float | None = None,
    clock: Clock = system_clock,
) -> int:
    """End the user's sessions named by ``handles`` (default: all of them) except those in
    ``keep``; return how many live sessions this call ended. Handles that name no live session
    of this user are ignored. A session renewed or moved by a login since it was listed is ended
    where it went; one that another request ended first is not counted.

    Listing a user's sessions may miss one bound a moment ago (DynamoDB's index is eventually
    consistent). ``recheck_after`` closes that window when ending all sessions, as after a
    password change: that many seconds later the list is read again and every session bound
    before this call started is ended too; sessions bound since are left alone.

    Raises ConfigurationError when the store cannot find sessions by user, ValueError when
    ``recheck_after`` is given with ``handles`` or is negative, StoreError when the store fails
    (SessionConflict when a session was written again before each of 12 deletes).
    """
    if recheck_after is not None and (handles is not None or recheck_after < 0):
        raise ValueError("recheck_after is a non-negative number of seconds, for ending all sessions")
    users = user_store(store)
    started = clock()
    wanted = None if handles is None else set(handles)
    spared = set(keep)

    def chosen(session: BoundSession) -> bool:
        handle = session_handle(session.key)
        return handle not in spared and (wanted is None or handle in wanted)

    ended = await _end(users, [s for s in await users.list_user_sessions(user_id) if chosen(s)])
    if recheck_after is not None:
        await anyio.sleep(recheck_after)
        late = [s for s in await users.list_user_sessions(user_id) if chosen(s) and s.owner.since <= started]
        ended += await _end(users, late)
    return ended


async def evict_over_cap(store: SessionStore, user_id: str, cap: int, *, replacing: str | None) -> int:
    """Before a session of ``user_id`` is bound: end the user's least recently active sessions so
    that, with the new one, at most ``cap`` remain. ``replacing`` is the store key of the session
    being moved to the new one (it is not counted). Returns how many were ended.

    Raises ConfigurationError when the store cannot find sessions by user, StoreError when it fails.
    """
    users = user_store(store)
    others = [s for s in await users.list_user_sessions(user_id) if s.key != replacing]
    excess = len(others) + 1 - cap
    if excess <= 0:
        return 0
    others.sort(key=lambda session: (session.active, session.created, session.key))
    return await _end(users, others[:excess])


async def _end(users: UserSessionStore, sessions: list[BoundSession]) -> int:
    # One conditional delete per session, not a batch: a session renewed or moved by a login
    # since it was listed must be followed to where it went (see dynsession._users.ending). One after
    # another: a user has a handful of sessions, and the order of the store's calls stays one.
    ended = 0
    for session in sessions:
        ended += await end_session_item(users, session.key, session.version)
    return ended


def _entry(session: BoundSession, current: bool) -> UserSession:
    return UserSession(
        handle=session_handle(session.key),
        device=session.owner.device,
        created=session.created,
        signed_in=session.owner.since,
        last_active=session.active,
        expires=session.expires,
        absolute_deadline=session.absolute_deadline,
        current=current,
    )
