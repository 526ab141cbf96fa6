"""The helpers a handler calls for the signed-in user's devices: list their sessions, sign one out,
sign out all the others. They only ever reach the sessions of the user the request's own session
is bound to: nothing here takes a user ID.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

from .._users.user_sessions import (
    UserSession,
    list_user_sessions,
    revoke_user_sessions,
    session_handle,
    user_store,
)
from ..stores.users import UserSessionStore
from .session import RequestSession, _state, end_session


def _signed_in(state: RequestSession) -> tuple[str, str, UserSessionStore] | None:
    """The user the stored session is bound to (a binding this request has not written yet does
    not count), the session's store key and the store; None when the session is not bound."""
    if state.ended or state.record is None or state.record.owner is None or state.key is None:
        return None
    return state.record.owner.user_id, state.key, user_store(state.store)


async def list_sessions(request_or_scope: HTTPConnection | MutableMapping[str, Any]) -> list[UserSession]:
    """The live sessions of the user this request's session is bound to, its own first and marked
    ``current``, then the most recently active first; ``[]`` when the session is not bound.

    A session this request creates or moves (``regenerate_session``) is listed from the next
    request on. Raises RuntimeError when the middleware is not installed, SessionNotLoaded when
    ``autoload`` skipped the request and the session has not been loaded, ConfigurationError when
    the store cannot find sessions by user, StoreError when it fails.
    """
    signed_in = _signed_in(_state(request_or_scope, "list_sessions"))
    if signed_in is None:
        return []
    user_id, key, store = signed_in
    return await list_user_sessions(store, user_id, current_key=key)


async def revoke_session(request_or_scope: HTTPConnection | MutableMapping[str, Any], handle: str) -> int:
    """Sign out the current user's session named ``handle`` (from :func:`list_sessions`); return 1
    when a live session was ended, 0 when the handle names none of this user's sessions. Its next
    request finds no session. The request's own handle ends this session as ``end_session`` does.

    Raises RuntimeError when the middleware is not installed, SessionNotLoaded when ``autoload``
    skipped the request and the session has not been loaded, ConfigurationError when the store
    cannot find sessions by user, StoreError when it fails.
    """
    state = _state(request_or_scope, "revoke_session")
    signed_in = _signed_in(state)
    if signed_in is None:
        return 0
    user_id, key, store = signed_in
    if handle == session_handle(key):
        end_session(request_or_scope)
        return 1
    return await revoke_user_sessions(store, user_id, handles=[handle], clock=state.timing.clock)


async def revoke_other_sessions(
    request_or_scope: HTTPConnection | MutableMapping[str, Any], *, recheck_after: float | None = None
) -> int:
    """Sign out every other session of the current user ("sign out other devices"); return how many
    were ended. After a password change pass ``recheck_after`` (seconds, such as 1.0) to also end a
    session bound a moment before that the user index did not list yet (see
    :func:`dynsession.revoke_user_sessions`).

    Raises RuntimeError when the middleware is not installed, SessionNotLoaded when ``autoload``
    skipped the request and the session has not been loaded, ConfigurationError when the store
    cannot find sessions by user, StoreError when it fails.
    """
    state = _state(request_or_scope, "revoke_other_sessions")
    signed_in = _signed_in(state)
    if signed_in is None:
        return 0
    user_id, key, store = signed_in
    return await revoke_user_sessions(
        store, user_id, keep=[session_handle(key)], recheck_after=recheck_after, clock=state.timing.clock
    )
