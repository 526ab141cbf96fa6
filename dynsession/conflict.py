"""What a writer does after losing to a concurrent request: take turns within the process, wait
before retrying, and re-apply its key-level edits onto what the other request stored."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from . import serialization
from .session import RequestSession
from .stores.base import SessionRecord

_BACKOFF_SECONDS = 0.02
_BACKOFF_CAP_SECONDS = 1.0


async def backoff(attempt: int) -> None:
    """Full jitter before a retry that lost again: spreads writers in other processes apart."""
    await anyio.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_SECONDS * 2**attempt)))


def merge(state: RequestSession, fresh: SessionRecord, max_size: int) -> dict[str, Any]:
    """Apply this request's key-level edits onto the data another request stored meanwhile.

    Data that cannot be decoded (a malformed or oversize item) counts as an empty session.
    """
    before = serialization.loads(state.loaded)
    try:
        current = serialization.loads(serialization.unpack(fresh.data, max_size))
    except serialization.BlobDecodeError:
        current = {}
    updated, deleted = serialization.changed_keys(before, state.data)
    current.update(updated)
    for name in deleted:
        current.pop(name, None)
    return current


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
