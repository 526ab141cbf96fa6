"""Ending a session for good (a logout, a revoke, a cap eviction), wherever a renewal or a login
moved it meanwhile.

The delete is conditional on the version last seen. When it loses, what the store holds decides:
a newer version of the session is deleted in turn; a moved ID's marker (a renewal or a login won
the race) is followed to its ``successor``, the session's new store key, which is ended the same
way; nothing at all means another request ended it first. A move that races the delete cannot
leave a live successor either: its own conditional write on the old key fails once the old key is
gone, and it then discards the copy it wrote (see :mod:`dynsession._request.moves`).
"""

from __future__ import annotations

import random

import anyio

from ..exceptions import SessionConflict
from ..stores.base import MovedRecord, SessionStore, strong_load

ENDED_MEANWHILE = (
    "the session was ended (a logout, a revoke or its timeout) while this request ran; "
    "its change was not stored"
)

# Measured with 50 simultaneous writers on one session in 50 separate middlewares (moto's server on
# loopback): 5 attempts with waits capped at 0.2 s lost 41 of 50; 10 attempts from 20 ms capped at
# 1 s (the backoff below) lost 1 in 250; 12 attempts lost none in 300. Writers in one process take
# turns and need two. A write's default (``conflict_attempts``), and the deletes an end may lose.
DEFAULT_CONFLICT_ATTEMPTS = 12
_BACKOFF_SECONDS = 0.02
_BACKOFF_CAP_SECONDS = 1.0


async def backoff(attempt: int) -> None:
    """Full jitter before a retry that lost again (an end here, a write in the request path):
    spreads writers in other processes apart."""
    await anyio.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_SECONDS * 2**attempt)))


# Renewals of one session that can happen while one end runs are few; the bound only stops a loop.
_MAX_HOPS = 16


async def end_session_item(store: SessionStore, key: str, version: int | None) -> bool:
    """End the session stored under ``key``, last seen at ``version`` (``None``: not known, read
    it first), and every session it was moved to; return True when this call deleted a live
    session, False when another request had ended it (or it had expired).

    Costs one conditional delete when nothing raced it; each lost round (a newer version, or a
    move followed) costs one more delete, and a read where the store did not say what beat it.
    Raises SessionConflict when the session was written again before each of 12 deletes,
    StoreError when the store fails.
    """
    losses = hops = 0
    while True:
        if version is None:
            found = await strong_load(store, key)
        else:
            try:
                await store.delete(key, expected_version=version)
                return True
            except SessionConflict as exc:
                found = exc.current if exc.current is not None else await strong_load(store, key)
        if found is None:
            return False
        if isinstance(found, MovedRecord):
            if found.successor is None or hops == _MAX_HOPS:
                return False
            # A moved session's new item starts at version 1; a refusal names the one stored.
            key, version, hops = found.successor, 1, hops + 1
            continue
        if version is not None:
            losses += 1
            if losses == DEFAULT_CONFLICT_ATTEMPTS:
                raise SessionConflict("the session kept changing; it was not ended")
            if losses > 1:
                # Losing again means writers in other processes: give them room.
                await backoff(losses - 1)
        version = found.version
