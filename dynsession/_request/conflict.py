"""What a writer does after losing to a concurrent request: take turns within the process, wait
before retrying, and re-apply its key-level edits onto what the other request stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio

from .. import _serialization as serialization
from ..exceptions import SessionConflict
from ..stores.base import SessionRecord
from .session import RequestSession

ConflictPolicy = Literal["merge", "raise", "overwrite"]

# What a merge built on an eventually consistent read refuses to do.
OVERWRITE_UNSEEN = (
    "the session was changed by a write this request's eventually consistent read did not see, on a "
    "key this request also changed; retry"
)


def merge(
    state: RequestSession, fresh: SessionRecord, codec: serialization.BlobCodec, key: str
) -> dict[str, Any]:
    """Apply this request's key-level edits onto the data another request stored meanwhile under
    ``key``.

    Data that cannot be decoded (a malformed, oversize or unauthentic item) counts as an empty session.
    Raises SessionConflict (a 409) when this request loaded the session eventually consistently
    and changed a key that a newer write also changed: that write may be one whose answer the
    browser already had (answers can arrive out of order), and this request's value was computed
    without it, so it must not overwrite it.
    """
    before = serialization.loads(state.loaded)
    try:
        current = serialization.loads(codec.decode(fresh.data, key))
    except serialization.BlobDecodeError:
        current = {}
    updated, deleted = serialization.changed_keys(before, state.data)
    if state.read_eventually and _overwrites(before, current, updated, deleted):
        raise SessionConflict(OVERWRITE_UNSEEN)
    current.update(updated)
    for name in deleted:
        current.pop(name, None)
    return current


def _overwrites(
    before: dict[str, Any], current: dict[str, Any], updated: dict[str, Any], deleted: list[str]
) -> bool:
    """True when applying the edits would replace what another write did since ``before``."""
    their_sets, their_deletes = serialization.changed_keys(before, current)
    theirs = set(their_sets).union(their_deletes)
    for name in theirs.intersection(updated):
        # Both wrote the key: an overwrite unless both wrote the same value.
        if name not in current or serialization.changed_keys({name: current[name]}, {name: updated[name]})[0]:
            return True
    return any(name in their_sets for name in deleted)


class KeyTurns:
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
