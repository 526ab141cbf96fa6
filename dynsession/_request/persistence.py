"""What to write when a response starts: create, versioned save or delete with merge, move, refresh."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .. import _serialization as serialization
from .._envelope.binding import fingerprint
from .._envelope.cookies import new_session_id, store_key
from .._users import ending
from .._users.ending import ENDED_MEANWHILE, end_session_item
from .._users.user_sessions import evict_over_cap
from ..exceptions import ConfigurationError, DynSessionError, SessionConflict, SessionTooLarge
from ..stores.base import MovedRecord, SessionOwner, SessionRecord, SessionStore, can_move, strong_load
from . import conflict
from .conflict import ConflictPolicy
from .markers import DEFAULT_MOVE_GRACE, MOVED_BY_LOGIN, follow_alias
from .moves import move, renew_id
from .session import EXPIRE, CookieChange, RequestSession, Timing

logger = logging.getLogger("dynsession")


def _snapshot(data: Mapping[str, Any]) -> bytes | None:
    """The session as encoded now, or None when it cannot be (it is not being written anyway)."""
    try:
        return serialization.dumps(data)
    except DynSessionError:
        return None


def _next_version(expected: int) -> int:
    # A store reports an item it could not read with a version of 0 or less; it is rewritten as 1.
    return max(expected, 0) + 1


class Writer:
    """Persists one request's session through a store, with the fewest calls that keep it right.

    Every write of a loaded session, emptying it included, is conditional on the version loaded;
    on a conflict the policy decides: ``merge`` re-applies this request's key-level edits onto
    what the other request stored, ``overwrite`` writes this request's snapshot again, ``raise``
    gives up. :func:`~dynsession.end_session` deletes whatever version is stored, following the
    session where a renewal or a login moved it (see :mod:`dynsession._users.ending`).
    """

    def __init__(
        self,
        store: SessionStore,
        timing: Timing,
        *,
        on_conflict: ConflictPolicy,
        conflict_attempts: int,
        compress_threshold: int | None,
        max_session_size: int,
        resend_cookie: bool,
        envelope: serialization.Envelope | None = None,
        move_grace: int = DEFAULT_MOVE_GRACE,
        max_sessions_per_user: int | None = None,
        versioned_cookie: bool = False,
    ) -> None:
        if on_conflict not in ("merge", "raise", "overwrite"):
            raise ConfigurationError(
                f"on_conflict must be 'merge', 'raise' or 'overwrite', not {on_conflict!r}"
            )
        self.store = store
        self.timing = timing
        self.on_conflict = on_conflict
        self.conflict_attempts = conflict_attempts
        self.codec = serialization.BlobCodec(compress_threshold, envelope, max_session_size)
        self.max_session_size = max_session_size
        # A cookie with a lifetime of its own (max_age) is re-sent on every write so it slides.
        self.resend_cookie = resend_cookie
        self.max_sessions_per_user = max_sessions_per_user
        # The cookie names the version of the last write, so every write re-sends it.
        self.versioned_cookie = versioned_cookie
        self._turns = conflict.KeyTurns()
        # How long an old ID stays a renewal alias or a moved-by-login marker; None: the store
        # cannot keep moved IDs, and a login deletes the old item instead.
        self.move_grace = move_grace if can_move(store) else None

    def encode(self, data: Mapping[str, Any]) -> bytes:
        """The session as stored JSON. Raises SessionNotSerializable, or SessionTooLarge over
        ``max_session_size``: an item must never hold more than a read will decode."""
        raw = serialization.dumps(data)
        if len(raw) > self.max_session_size:
            keys = serialization.largest_keys(data)
            raise SessionTooLarge(len(raw), self.max_session_size, keys, what="session JSON")
        return raw

    def cookie(self, session_id: str, version: int) -> CookieChange:
        """The cookie naming ``session_id``, stored now at ``version`` (which the cookie carries
        when it is versioned)."""
        return CookieChange(session_id, version if self.versioned_cookie else None)

    async def persist(self, state: RequestSession) -> CookieChange | None:
        """Write what the request changed; return the cookie change the response needs, if any.

        Raises SessionConflict (a 409) for a change that cannot be stored: the session moved to a
        new ID on a login, or was ended, meanwhile, or every attempt lost to concurrent writers.
        """
        if state.moved:
            # The cookie names a session a login moved: nothing may be stored nor any cookie set,
            # or this request could mint a session or undo the login in the browser.
            state.committed = _snapshot(state.data)
            if state.ended or state.data:
                # A logout too: this request never held the logged-in session, so it cannot end
                # it (an ID planted before the login must not sign the victim out), and a 200
                # would claim a logout that did not happen. The client retries with its new cookie.
                raise SessionConflict(MOVED_BY_LOGIN)
            return None
        change = await self._persist(state)
        if change is None and state.forwarded and state.session_id is not None:
            # The renewed ID, for a request sent with the old one; without a version, since this
            # answer wrote nothing (see _unversioned).
            return CookieChange(state.session_id)
        return change

    async def _persist(self, state: RequestSession) -> CookieChange | None:
        record, key = state.record, state.key
        if state.ended:
            state.committed = _snapshot(state.data)
            if record is not None and key is not None:
                # An explicit logout wins over every concurrent write, and ends the session where
                # a renewal or a login racing it moved it.
                await end_session_item(self.store, key, record.version)
            return EXPIRE if key is not None else None
        raw = state.committed = self.encode(state.data)
        if record is None or key is None:
            return await self._create(state, raw)
        # Every stored session renews, empty or not, unless this request is deleting it.
        deleting = raw == serialization.EMPTY and record.owner is None and raw != state.loaded
        renew = state.renew and self.move_grace is not None and not deleting and not state.unreadable
        if raw == state.loaded and not state.regenerate and not renew:
            # An unreadable item is not refreshed: moving its deadline could revive what made it
            # unreadable (a missing TTL); the next write of data replaces it.
            return None if state.unreadable else await self._refresh(state, record, key)
        # Writers of one session in this process take turns, so they lose at most one round to each
        # other; the versioned write still settles races with other processes.
        async with self._turns.take(key):
            if state.regenerate:
                return await move(self, state, record, key, raw)
            if renew:
                return await renew_id(self, state, record, key, raw)
            return await self._write(state, record, key, raw)

    def _same_cookie(self, state: RequestSession, version: int) -> CookieChange | None:
        """The cookie change for a session kept under its ID, stored now at ``version``."""
        resend = self.resend_cookie or not state.signed_with_current_key
        if self.versioned_cookie:
            resend = resend or state.cookie_version != version
        if not resend or state.session_id is None:
            return None
        return self.cookie(state.session_id, version)

    def _unversioned(self, state: RequestSession) -> CookieChange | None:
        """The cookie change of an answer that wrote no data (a refresh): re-sent only to slide
        ``max_age`` or re-sign, never with a version, which, arriving after a newer write's answer,
        would lower the browser's below that write (a cookie without one reads strongly)."""
        if not (self.resend_cookie or not state.signed_with_current_key) or state.session_id is None:
            return None
        return CookieChange(state.session_id)

    async def _create(self, state: RequestSession, raw: bytes) -> CookieChange | None:
        # A session being bound to a user is stored even when its dict is empty.
        if raw == serialization.EMPTY and state.bind is None:
            # A cookie naming a session the store no longer has is left alone: the request that
            # ended or moved that session (a logout, a login) may be setting the browser's cookie
            # right now, and an expiry racing it would log that user out.
            return None
        now = self.timing.clock()
        absolute = self.timing.absolute_deadline(now)
        owner = await self.owner(state, now, replacing=None)
        session_id = new_session_id()
        key = store_key(session_id)
        record = SessionRecord(
            self.codec.encode(raw, key),
            1,
            now,
            self.timing.expires(now, absolute),
            absolute,
            binding=self.binding_for(state, session_id),
            owner=owner,
        )
        await self.save(state, key, record, expected_version=None)
        return self.cookie(session_id, record.version)

    def binding_for(self, state: RequestSession, session_id: str) -> bytes | None:
        """The client-binding fingerprint a new ID gets (the request's properties), if bound."""
        return None if state.client is None else fingerprint(session_id, state.client)

    async def owner(self, state: RequestSession, now: int, *, replacing: str | None) -> SessionOwner | None:
        """The owner of a session being created or moved: this request's binding, or the one it
        had. A new binding first ends the user's sessions over ``max_sessions_per_user`` (not
        counting ``replacing``, the store key of the session being moved), before anything is
        written, so a failure there leaves no orphaned session."""
        if state.bind is None:
            return None if state.record is None else state.record.owner
        user_id, device = state.bind
        if self.max_sessions_per_user is not None:
            await evict_over_cap(self.store, user_id, self.max_sessions_per_user, replacing=replacing)
        return SessionOwner(user_id, device, now)

    async def _refresh(self, state: RequestSession, record: SessionRecord, key: str) -> CookieChange | None:
        expires = self.timing.expires(self.timing.clock(), state.absolute_deadline)
        if not self.timing.refresh_due(record, expires):
            return None
        if await self.store.touch(key, expires):
            return self._unversioned(state)
        # Not an error: the session ended meanwhile, and the cookie is left to whoever ended it.
        logger.info("session %s vanished before its refresh; ending it", key[:8])
        return None

    async def _write(
        self, state: RequestSession, record: SessionRecord, key: str, raw: bytes
    ) -> CookieChange | None:
        """Versioned save, or versioned delete when the session is now empty, under the policy.

        Raises SessionConflict when the policy is ``raise`` or every attempt lost.
        """
        now = self.timing.clock()
        expected, current = record.version, record
        for attempt in range(self.conflict_attempts):
            try:
                # An empty session is deleted, unless it is bound to a user: only end_session, a
                # revoke, a timeout or the cap sign a user out.
                if raw == serialization.EMPTY and current.owner is None:
                    await self.store.delete(key, expected_version=expected)
                    return EXPIRE
                new = SessionRecord(
                    data=self.codec.encode(raw, key),
                    version=_next_version(expected),
                    created=current.created,
                    expires=self.timing.expires(now, state.absolute_deadline),
                    absolute_deadline=state.absolute_deadline,
                    binding=current.binding,
                    issued=current.issued,
                    owner=current.owner,
                )
                await self.save(state, key, new, expected_version=expected)
                return self._same_cookie(state, new.version)
            except SessionConflict as exc:
                found = await self.after_conflict(key, exc, attempt)
                # Moved by a renewal meanwhile: go on in the new session (a login: SessionConflict).
                fresh, key = await follow_alias(self.store, state, found, key)
            if fresh is None:
                # Ended meanwhile (a logout, a revoke, its timeout; or a renewal whose grace window
                # is over): the change is stored nowhere, so no 200. No cookie either: the request
                # that ended or moved the session already sent the one the browser should keep.
                logger.info("session %s was ended by another request; its deletion wins", key[:8])
                if raw == serialization.EMPTY and current.owner is None:
                    return None  # this request was deleting it too
                raise SessionConflict(ENDED_MEANWHILE)
            if self.on_conflict == "merge":
                raw = self.encode(conflict.merge(state, fresh, self.codec, key))
            expected, current = fresh.version, fresh
        raise AssertionError("unreachable")  # pragma: no cover

    async def after_conflict(
        self, key: str, exc: SessionConflict, attempt: int
    ) -> SessionRecord | MovedRecord | None:
        """The record to build the next attempt on; re-raises ``exc`` when no attempt is left."""
        if self.on_conflict == "raise" or attempt + 1 == self.conflict_attempts:
            raise exc
        # Every re-read here is strongly consistent, whatever the store's default: a retry built on
        # a stale replica would lose again, or take a session it cannot see for an ended one.
        if attempt == 0:
            # The first loss retries at once, on the item that won when the store returned it:
            # two racing requests, the common case, cost one extra write and no wait.
            return exc.current if exc.current is not None else await strong_load(self.store, key)
        # Losing again means writers in other processes: the read comes after the wait so the
        # retry builds on the newest version.
        await ending.backoff(attempt)
        return await strong_load(self.store, key)

    async def save(
        self, state: RequestSession, key: str, record: SessionRecord, *, expected_version: int | None
    ) -> None:
        """``store.save``, with the session's largest keys named in SessionTooLarge."""
        try:
            await self.store.save(key, record, expected_version=expected_version)
        except SessionTooLarge as exc:
            if exc.largest_keys:
                raise
            raise SessionTooLarge(exc.size, exc.limit, serialization.largest_keys(state.data)) from None
