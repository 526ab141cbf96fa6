"""What to write when a response starts: create, save with versions, merge on conflict, refresh, delete."""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from . import serialization
from .binding import fingerprint
from .cookies import new_session_id, store_key
from .exceptions import ConfigurationError, SessionConflict, SessionTooLarge
from .moves import MOVED_BY_LOGIN, forward_pointer, resolve
from .session import RequestSession, Timing
from .stores.base import MovedRecord, MovingStore, SessionRecord, SessionStore, can_move

logger = logging.getLogger("dynsession")

ConflictPolicy = Literal["merge", "raise", "overwrite"]
# Measured with 50 simultaneous writers on one session in 50 separate middlewares (moto's server on
# loopback): 5 attempts with waits capped at 0.2 s lost 41 of 50; 10 attempts from 20 ms capped at
# 1 s lost 1 in 250; 12 attempts lost none in 300. Writers in one process take turns and need two.
DEFAULT_CONFLICT_ATTEMPTS = 12
_BACKOFF_SECONDS = 0.02
_BACKOFF_CAP_SECONDS = 1.0
# How long an old session ID keeps forwarding (after a renewal) or stays marked as moved by a login.
DEFAULT_MOVE_GRACE = 30


@dataclass(frozen=True, slots=True)
class CookieChange:
    """The cookie the response must carry: ``session_id`` to set, or ``None`` to expire it."""

    session_id: str | None


_EXPIRE = CookieChange(None)


class Writer:
    """Persists one request's session through a store, with the fewest calls that keep it right."""

    def __init__(
        self,
        store: SessionStore,
        timing: Timing,
        *,
        on_conflict: ConflictPolicy,
        conflict_attempts: int,
        compress_threshold: int | None,
        resend_cookie: bool,
        envelope: serialization.Envelope | None = None,
        move_grace: int = DEFAULT_MOVE_GRACE,
    ) -> None:
        if on_conflict not in ("merge", "raise", "overwrite"):
            raise ConfigurationError(
                f"on_conflict must be 'merge', 'raise' or 'overwrite', not {on_conflict!r}"
            )
        if conflict_attempts < 1:
            raise ConfigurationError("conflict_attempts must be at least 1")
        self.store = store
        self.timing = timing
        self.on_conflict = on_conflict
        self.conflict_attempts = conflict_attempts
        self.codec = serialization.BlobCodec(compress_threshold, envelope)
        # A cookie with a lifetime of its own (max_age) is re-sent on every write so it slides.
        self.resend_cookie = resend_cookie
        self._turns = _KeyTurns()
        # How long an old ID stays a renewal alias or a moved-by-login marker; None: the store
        # cannot keep moved IDs and a login deletes the old item instead.
        self.move_grace = move_grace if can_move(store) else None

    async def persist(self, state: RequestSession) -> CookieChange | None:
        """Write what the request changed; return the cookie change the response needs, if any.

        Raises SessionConflict (a 409) for a change that cannot be stored: the session moved to a
        new ID on a login, or every attempt lost to concurrent writers.
        """
        if state.moved:
            # The cookie names a session a login moved: nothing here may be stored, nor any cookie
            # set, or this request could undo the login in the browser or mint a session.
            if not state.ended and state.data:
                raise SessionConflict(MOVED_BY_LOGIN)
            return None
        change = await self._persist(state)
        if change is None and state.forwarded:
            return CookieChange(state.session_id)  # the renewed ID, for a request sent with the old one
        return change

    async def _persist(self, state: RequestSession) -> CookieChange | None:
        record, key = state.record, state.key
        if state.ended:
            if record is not None and key is not None:
                await self.store.delete(key)
            return _EXPIRE if key is not None else None
        raw = serialization.dumps(state.data)
        if record is None or key is None or state.regenerate:
            return await self._create(state, raw)
        if not state.data and raw != state.loaded:
            await self.store.delete(key)
            return _EXPIRE
        if state.renew and self.move_grace is not None:
            async with self._turns.take(key):
                return await self._renew(state, record, key, raw)
        if raw == state.loaded:
            return await self._refresh(state, record, key)
        # Writers of one session in this process take turns, so they lose at most one round to each
        # other; the versioned write still settles races with other processes.
        async with self._turns.take(key):
            return await self._save_changes(state, record, key, raw)

    def _same_cookie(self, state: RequestSession) -> CookieChange | None:
        if self.resend_cookie or not state.signed_with_current_key:
            return CookieChange(state.session_id)
        return None

    async def _create(self, state: RequestSession, raw: bytes) -> CookieChange | None:
        old = state.record
        if not state.data:
            if old is None or state.key is None:
                # A cookie naming a session the store no longer has is left alone: the request that
                # ended or moved that session (a logout, a login) may be setting the browser's cookie
                # right now, and an expiry racing it would log that user out.
                return None
            await self.store.delete(state.key)
            return _EXPIRE
        now = self.timing.clock()
        if old is None or state.fresh_start:
            created, absolute = now, self.timing.absolute_deadline(now)
        else:
            created, absolute = old.created, state.absolute_deadline
        session_id = new_session_id()
        new_key = store_key(session_id)
        record = SessionRecord(
            data=self.codec.encode(raw, new_key),
            version=1,
            created=created,
            expires=self.timing.expires(now, absolute),
            absolute_deadline=absolute,
            binding=None if state.client is None else fingerprint(session_id, state.client),
            issued=now,
        )
        await self._save(state, new_key, record, expected_version=None)
        if old is not None and state.key is not None:
            if self.move_grace is None:
                await self.store.delete(state.key)
            else:
                await self._retire(state, old, state.key, record, new_key)
        return CookieChange(session_id)

    async def _retire(
        self, state: RequestSession, old: SessionRecord, old_key: str, new: SessionRecord, new_key: str
    ) -> None:
        """Turn the old item into a moved-by-login marker, carrying into the new session any change
        another request stored on the old one since this request loaded it.

        Raises SessionConflict (after deleting the new item) when another request moved the old
        session first, or every attempt lost.
        """
        assert self.move_grace is not None
        marker = MovedRecord("privilege", self.timing.clock() + self.move_grace)
        expected = old.version
        for _ in range(self.conflict_attempts):
            try:
                await self._move(old_key, marker, expected_version=expected)
                return
            except SessionConflict as exc:
                current = exc.current if exc.current is not None else await self.store.load(old_key)
            if current is None:
                return  # ended or expired meanwhile: nothing is left that the old ID could reach
            if isinstance(current, MovedRecord):
                break  # another login or a renewal moved it first: this login did not happen
            # A write landed on the old session after this request loaded it: keep it.
            raw = serialization.dumps(_merge(state, current, self.codec, old_key))
            merged = dataclasses.replace(new, data=self.codec.encode(raw, new_key), version=new.version + 1)
            await self._save(state, new_key, merged, expected_version=new.version)
            new, expected = merged, current.version
        await self.store.delete(new_key)
        raise SessionConflict("the session was moved by another request before this login finished")

    async def _follow(self, state: RequestSession, marker: MovedRecord) -> tuple[str, SessionRecord] | None:
        """Switch ``state`` to the session a renewal alias points to; ``(key, record)`` or None.

        Raises SessionConflict when the session was moved by a login instead.
        """
        assert state.session_id is not None
        target = await resolve(self.store, state.session_id, marker)
        if isinstance(target, MovedRecord):
            raise SessionConflict(MOVED_BY_LOGIN)
        if target is None:
            return None
        state.session_id, state.key, state.record = target
        state.forwarded = True
        return target[1], target[2]

    async def _move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        store = self.store
        assert isinstance(store, MovingStore)
        await store.move(key, marker, expected_version=expected_version)

    async def _renew(
        self, state: RequestSession, record: SessionRecord, key: str, raw: bytes
    ) -> CookieChange | None:
        """Give the session a new ID, leaving the old one as a forwarding alias for the grace window.

        Exactly one of several racing requests wins the conditional move; the others drop their
        copy and follow the winner's alias. Raises SessionConflict as ``_save_changes`` does.
        """
        assert self.move_grace is not None and state.session_id is not None
        now = self.timing.clock()
        session_id = new_session_id()
        new_key = store_key(session_id)
        renewed = SessionRecord(
            data=self.codec.encode(raw, new_key),
            version=1,
            created=record.created,
            expires=self.timing.expires(now, state.absolute_deadline),
            absolute_deadline=state.absolute_deadline,
            binding=None if state.client is None else fingerprint(session_id, state.client),
            issued=now,
        )
        await self._save(state, new_key, renewed, expected_version=None)
        marker = MovedRecord("renewed", now + self.move_grace, forward_pointer(state.session_id, session_id))
        try:
            await self._move(key, marker, expected_version=record.version)
        except SessionConflict as exc:
            # Another request renewed, wrote or ended the session first: this copy was never handed out.
            await self.store.delete(new_key)
            current = exc.current if exc.current is not None else await self.store.load(key)
            return await self._after_lost_renewal(state, key, raw, current)
        state.session_id, state.key, state.record = session_id, new_key, renewed
        return CookieChange(session_id)

    async def _after_lost_renewal(
        self, state: RequestSession, key: str, raw: bytes, current: SessionRecord | MovedRecord | None
    ) -> CookieChange | None:
        if isinstance(current, MovedRecord):
            target = await self._follow(state, current)
            if target is None:
                return None
            key, current = target
        if current is None:
            logger.info("session %s was ended by another request; its deletion wins", key[:8])
            return None
        if raw == state.loaded:
            return None
        if self.on_conflict == "raise":
            raise SessionConflict("session was changed by another request")
        if self.on_conflict == "merge":
            raw = serialization.dumps(_merge(state, current, self.codec, key))
        return await self._save_changes(state, current, key, raw)

    async def _refresh(self, state: RequestSession, record: SessionRecord, key: str) -> CookieChange | None:
        expires = self.timing.expires(self.timing.clock(), state.absolute_deadline)
        if not self.timing.refresh_due(record, expires):
            return None
        if await self.store.touch(key, expires):
            return self._same_cookie(state)
        # Not an error: the session ended meanwhile, and the cookie is left to whoever ended it.
        logger.info("session %s vanished before its refresh; ending it", key[:8])
        return None

    async def _save_changes(
        self, state: RequestSession, record: SessionRecord, key: str, raw: bytes
    ) -> CookieChange | None:
        """Versioned save with the conflict policy; returns the cookie change the response needs.

        Raises SessionConflict when the policy is ``raise`` or every attempt lost.
        """
        now = self.timing.clock()
        expected, current = record.version, record
        for attempt in range(self.conflict_attempts):
            new = SessionRecord(
                data=self.codec.encode(raw, key),
                version=expected + 1,
                created=current.created,
                expires=self.timing.expires(now, state.absolute_deadline),
                absolute_deadline=state.absolute_deadline,
                binding=current.binding,
                issued=current.issued,
            )
            try:
                await self._save(state, key, new, expected_version=expected)
                return self._same_cookie(state)
            except SessionConflict as exc:
                if self.on_conflict == "raise" or attempt + 1 == self.conflict_attempts:
                    raise
                fresh = exc.current
            if attempt == 0:
                # The first loss retries at once, on the item that won when the store returned it:
                # two racing requests, the common case, cost one extra write and no wait.
                if fresh is None:
                    fresh = await self.store.load(key)
            else:
                # Losing again means writers in other processes: full jitter spreads them out, and
                # the read comes after the wait so the retry builds on the newest version.
                await anyio.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_SECONDS * 2**attempt)))
                fresh = await self.store.load(key)
            if isinstance(fresh, MovedRecord):
                followed = await self._follow(state, fresh)
                fresh = None if followed is None else followed[1]
                if followed is not None:
                    key = followed[0]
            if fresh is None:
                # The request that ended or moved the session already sent the cookie the browser
                # should keep; expiring it here could log out a login that just happened.
                logger.info("session %s was ended by another request; its deletion wins", key[:8])
                return None
            if self.on_conflict == "merge":
                raw = serialization.dumps(_merge(state, fresh, self.codec, key))
                if raw == b"{}":
                    await self.store.delete(key)
                    return _EXPIRE
            expected, current = fresh.version, fresh
        raise AssertionError("unreachable")  # pragma: no cover

    async def _save(
        self, state: RequestSession, key: str, record: SessionRecord, *, expected_version: int | None
    ) -> None:
        try:
            await self.store.save(key, record, expected_version=expected_version)
        except SessionTooLarge as exc:
            if exc.largest_keys:
                raise
            raise SessionTooLarge(exc.size, exc.limit, serialization.largest_keys(state.data)) from None


class _KeyTurns:
    """One lock per store key while some request of this process is writing it; dropped when idle."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def take(self, key: str) -> AsyncIterator[None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (anyio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            # Uncontended, the common case, takes the lock without the scheduling checkpoint that
            # `async with lock` adds: that extra trip round the event loop was a third of a write's CPU.
            try:
                lock.acquire_nowait()
            except anyio.WouldBlock:
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[key]


def _merge(
    state: RequestSession, fresh: SessionRecord, codec: serialization.BlobCodec, key: str
) -> dict[str, Any]:
    """Apply this request's key-level edits onto the data another request stored meanwhile."""
    before = serialization.loads(state.loaded)
    try:
        current = serialization.loads(codec.decode(fresh.data, key))
    except serialization.BlobDecodeError:
        current = {}
    updated, deleted = serialization.changed_keys(before, state.data)
    current.update(updated)
    for name in deleted:
        current.pop(name, None)
    return current
