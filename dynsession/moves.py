"""``regenerate_session``: move a session to a new ID without losing a write made meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import conflict, serialization
from .cookies import new_session_id, store_key
from .exceptions import SessionConflict
from .session import CookieChange, RequestSession
from .stores.base import SessionOwner, SessionRecord

if TYPE_CHECKING:
    from .persistence import Writer


async def move(
    writer: Writer, state: RequestSession, old: SessionRecord, old_key: str, raw: bytes
) -> CookieChange | None:
    """Write the data under a new ID, then delete the old item on the condition that nobody wrote
    it since the load; if somebody did, their changes are merged into the new item and the delete
    is tried again. Returns the cookie to set (``None``: leave it). Raises SessionConflict under
    ``on_conflict="raise"`` or when every attempt lost, after removing the new item."""
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
            if writer.on_conflict == "overwrite":
                await writer.store.delete(old_key)
            else:
                await writer.store.delete(old_key, expected_version=expected)
            return target.cookie() or CookieChange(None)
        except SessionConflict as exc:
            try:
                fresh = await writer.after_conflict(old_key, exc, attempt)
            except SessionConflict:
                await target.discard()
                raise
        if fresh is None:
            # Another request ended or moved the old session meanwhile; this move stands.
            return target.cookie()
        raw = writer.encode(conflict.merge(state, fresh, writer.max_session_size))
        expected = fresh.version
    raise AssertionError("unreachable")  # pragma: no cover


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
            record = SessionRecord(
                self.writer.pack(raw), self.version + 1, self.created, self.expires, self.absolute, self.owner
            )
            await self.writer.save(
                self.state, store_key(self.session_id), record, expected_version=self.version or None
            )
            self.version += 1
        self.written = raw

    async def discard(self) -> None:
        """Delete the new item, if written: nobody else knows its ID."""
        if self.session_id is not None:
            await self.writer.store.delete(store_key(self.session_id))
        self.session_id, self.version, self.written = None, 0, serialization.EMPTY

    def cookie(self) -> CookieChange | None:
        return None if self.session_id is None else CookieChange(self.session_id)
