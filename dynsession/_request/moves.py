"""A session moved to a new ID: ``regenerate_session`` (the old ID left as a moved-by-login marker)
and renewal (the old ID left as a forwarding alias), each settled by one conditional move, without
losing a write made meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from .. import _serialization as serialization
from .._envelope.cookies import new_session_id, store_key
from .._users.ending import ENDED_MEANWHILE
from ..exceptions import SessionConflict
from ..stores.base import MovedRecord, SessionOwner, SessionRecord, SessionStore, strong_load
from . import conflict, markers
from .conflict import ConflictPolicy
from .markers import MOVED_FIRST, follow_alias, forward_pointer
from .session import EXPIRE, CookieChange, RequestSession, Timing

logger = logging.getLogger("dynsession")


class Writer(Protocol):
    """What a move needs of :class:`~dynsession._request.persistence.Writer`, which calls the moves
    (declared here so that this module does not import the one that imports it)."""

    store: SessionStore
    timing: Timing
    codec: serialization.BlobCodec
    on_conflict: ConflictPolicy
    conflict_attempts: int
    move_grace: int | None

    def encode(self, data: Mapping[str, Any]) -> bytes: ...

    def cookie(self, session_id: str, version: int) -> CookieChange: ...

    def binding_for(self, state: RequestSession, session_id: str) -> bytes | None: ...

    async def owner(
        self, state: RequestSession, now: int, *, replacing: str | None
    ) -> SessionOwner | None: ...

    async def after_conflict(
        self, key: str, exc: SessionConflict, attempt: int
    ) -> SessionRecord | MovedRecord | None: ...

    async def save(
        self, state: RequestSession, key: str, record: SessionRecord, *, expected_version: int | None
    ) -> None: ...

    async def _write(
        self, state: RequestSession, record: SessionRecord, key: str, raw: bytes
    ) -> CookieChange | None: ...


async def move(
    writer: Writer, state: RequestSession, old: SessionRecord, old_key: str, raw: bytes
) -> CookieChange | None:
    """``regenerate_session``: write the data under a new ID, then turn the old item into a
    moved-by-login marker (delete it, where the store keeps no markers) on the condition that
    nobody wrote it since the load; if somebody did, their changes are merged into the new item
    and the move is tried again. Raises SessionConflict as ``Writer._write`` does, when another
    login or a renewal moved the session first, and when it was ended or revoked meanwhile (the
    new item is then deleted: a move never brings an ended session back)."""
    now = writer.timing.clock()
    if state.fresh_start:
        created, absolute = now, writer.timing.absolute_deadline(now)
    else:
        created, absolute = old.created, state.absolute_deadline
    owner = await writer.owner(state, now, replacing=old_key)
    target = _NewItem(writer, state, created, absolute, writer.timing.expires(now, absolute), owner)
    expected = old.version
    for attempt in range(writer.conflict_attempts):
        await target.hold(raw)
        try:
            await _retire(writer, old_key, expected, target.key())
            return target.cookie() or EXPIRE
        except SessionConflict as exc:
            try:
                fresh = await writer.after_conflict(old_key, exc, attempt)
                if isinstance(fresh, MovedRecord):
                    # Another login or a renewal moved the old session first: this login did
                    # not happen; its client retries with the cookie it has by now.
                    raise SessionConflict(MOVED_FIRST) from None
            except SessionConflict:
                await target.discard()
                raise
        if fresh is None:
            # Another request ended (or revoked) the old session meanwhile: its end wins, and the
            # copy written under the new ID must not bring it back.
            await target.discard()
            raise SessionConflict(ENDED_MEANWHILE)
        if writer.on_conflict != "overwrite":
            try:
                raw = writer.encode(conflict.merge(state, fresh, writer.codec, old_key))
            except SessionConflict:
                await target.discard()  # a merge that may not overwrite: nobody gets the new ID
                raise
        expected = fresh.version
    raise AssertionError("unreachable")  # pragma: no cover


async def renew_id(
    writer: Writer, state: RequestSession, record: SessionRecord, key: str, raw: bytes
) -> CookieChange | None:
    """Give the session a new ID, leaving the old one as a forwarding alias for the grace window.

    Of several requests renewing at once, exactly one wins the conditional move; the others
    delete their copy (never handed out) and follow the winner's alias. Raises SessionConflict
    as ``_write`` does.
    """
    assert writer.move_grace is not None and state.session_id is not None
    now = writer.timing.clock()
    session_id = new_session_id()
    new_key = store_key(session_id)
    renewed = SessionRecord(
        data=writer.codec.encode(raw, new_key),
        version=1,
        created=record.created,
        expires=writer.timing.expires(now, state.absolute_deadline),
        absolute_deadline=state.absolute_deadline,
        binding=writer.binding_for(state, session_id),
        issued=now,
        owner=record.owner,
    )
    await writer.save(state, new_key, renewed, expected_version=None)
    forward = forward_pointer(state.session_id, session_id)
    # The grace window starts when the alias is written, however long the copy's write took.
    expires = writer.timing.clock() + writer.move_grace
    marker = MovedRecord("renewed", expires, forward, successor=new_key)
    try:
        await markers.move(writer.store, key, marker, expected_version=record.version)
    except SessionConflict as exc:
        await writer.store.delete(new_key)
        found = exc.current if exc.current is not None else await strong_load(writer.store, key)
        try:
            current, key = await follow_alias(writer.store, state, found, key)
        except SessionConflict:
            if raw == state.loaded:
                return None  # a read, and a login moved the session: nothing was lost
            raise
        if current is None:
            logger.info("session %s was ended by another request; its deletion wins", key[:8])
            if raw == state.loaded:
                return None  # a read: nothing was lost
            raise SessionConflict(ENDED_MEANWHILE) from None
        if raw == state.loaded:
            return None  # a read: the winner's alias (or write) serves it
        if writer.on_conflict == "raise":
            raise SessionConflict("session was changed by another request") from None
        if writer.on_conflict == "merge":
            raw = writer.encode(conflict.merge(state, current, writer.codec, key))
        return await writer._write(state, current, key, raw)
    state.session_id, state.key, state.record = session_id, new_key, renewed
    return writer.cookie(session_id, renewed.version)


async def _retire(writer: Writer, old_key: str, expected: int, successor: str | None) -> None:
    """Leave the old ID of a regenerated session as a moved-by-login marker for the grace
    window (a plain delete where the store cannot keep one), if it still holds ``expected``;
    the marker names ``successor``, the new item's store key, for a logout or revoke to follow."""
    if writer.move_grace is None:
        if writer.on_conflict == "overwrite":
            await writer.store.delete(old_key)
        else:
            await writer.store.delete(old_key, expected_version=expected)
        return
    marker = MovedRecord("privilege", writer.timing.clock() + writer.move_grace, successor=successor)
    await markers.move(writer.store, old_key, marker, expected_version=expected)


class _NewItem:
    """The item a move writes under a new session ID, kept equal to the data it must hold."""

    def __init__(
        self,
        writer: Writer,
        state: RequestSession,
        created: int,
        absolute: int | None,
        expires: int,
        owner: SessionOwner | None,
    ) -> None:
        self.writer, self.state = writer, state
        self.created, self.absolute, self.expires = created, absolute, expires
        self.issued = writer.timing.clock()
        self.owner = owner
        self.session_id: str | None = None
        self.version = 0
        self.written = serialization.EMPTY

    async def hold(self, raw: bytes) -> None:
        if raw == self.written and self.session_id is not None:
            return
        if raw == serialization.EMPTY and self.owner is None:
            # A session bound to a user (a login) is stored even with nothing in it.
            await self.discard()
        else:
            if self.session_id is None:
                self.session_id = new_session_id()
            key = store_key(self.session_id)
            record = SessionRecord(
                self.writer.codec.encode(raw, key),
                self.version + 1,
                self.created,
                self.expires,
                self.absolute,
                binding=self.writer.binding_for(self.state, self.session_id),
                issued=self.issued,
                owner=self.owner,
            )
            await self.writer.save(self.state, key, record, expected_version=self.version or None)
            self.version += 1
        self.written = raw

    async def discard(self) -> None:
        """Delete the new item, if written: nobody else knows its ID."""
        if self.session_id is not None:
            await self.writer.store.delete(store_key(self.session_id))
        self.session_id, self.version, self.written = None, 0, serialization.EMPTY

    def key(self) -> str | None:
        return None if self.session_id is None else store_key(self.session_id)

    def cookie(self) -> CookieChange | None:
        return None if self.session_id is None else self.writer.cookie(self.session_id, self.version)
