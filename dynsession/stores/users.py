"""The contract of a store that can find a user's sessions: list them, end several at once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .base import SessionOwner, SessionStore


@dataclass(frozen=True, slots=True)
class BoundSession:
    """A live session bound to a user, as a store lists it (the session data is not read).

    ``key`` is the store key (the SHA-256 of the session ID); ``active`` is when the store last
    wrote the session (a save or a deadline refresh), so it is as precise as ``refresh_after``.
    Times are integer epoch seconds, UTC. ``version`` is the stored version when the listing read
    it (``None``: not known); ending the session starts with a delete conditional on it.
    """

    key: str
    owner: SessionOwner
    created: int
    active: int
    expires: int
    absolute_deadline: int | None = None
    version: int | None = None

    def is_expired(self, now: int) -> bool:
        """True once the idle deadline or the absolute deadline has been reached."""
        if self.expires <= now:
            return True
        return self.absolute_deadline is not None and self.absolute_deadline <= now


@runtime_checkable
class UserSessionStore(SessionStore, Protocol):
    """A :class:`~dynsession.SessionStore` that also finds sessions by the user they are bound to.

    ``list_user_sessions(user_id)``
        Return the user's sessions that are live now: sessions that expired (idle or absolute
        deadline) or were deleted are left out, even when an index still shows them. The order
        is unspecified. Raise :class:`~dynsession.ConfigurationError` when the store is not set up
        to find sessions by user.
    ``delete_sessions(keys)``
        Remove every record in ``keys``; missing records are not an error. (dynsession's revokes
        and cap evictions no longer call it: they end each session with a conditional
        ``delete`` that follows moved IDs, see :mod:`dynsession.ending`.)

    Every other failure is raised as :class:`~dynsession.StoreError`, as for the other methods.
    """

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]: ...

    async def delete_sessions(self, keys: Collection[str]) -> None: ...
