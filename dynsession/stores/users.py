"""The contract of a store that can find a user's sessions: list them, end several at once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .base import SessionOwner, SessionStore

# The user index key is the key prefix, this separator, then the user ID with "%" and "#" escaped:
# the last "#" ends the prefix, so no (prefix, user ID) pair can spell another's key, even where
# one app's prefix starts with another's ("dc:" and "dc:shop:").
_SEPARATOR = "#"


def user_index_key(key_prefix: str, user_id: str) -> str:
    """The user index key (``uid``) of ``user_id`` for a store with ``key_prefix``; it starts with
    the prefix, so IAM ``LeadingKeys`` conditions on the prefix cover the index too."""
    return key_prefix + _SEPARATOR + user_id.replace("%", "%25").replace(_SEPARATOR, "%23")


def user_in_index_key(key_prefix: str, index_key: str) -> str | None:
    """The user ID that ``index_key`` names for a store with exactly ``key_prefix``, or None (another
    prefix, or not a key :func:`user_index_key` makes)."""
    head, separator, escaped = index_key.rpartition(_SEPARATOR)
    if not separator or head != key_prefix:
        return None
    user_id = escaped.replace("%23", _SEPARATOR).replace("%25", "%")
    # Only the canonical spelling counts: "%2523" must not also read as "%23".
    return user_id if user_index_key(key_prefix, user_id) == index_key else None


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
        ``delete`` that follows moved IDs, see :mod:`dynsession._users.ending`.)

    Every other failure is raised as :class:`~dynsession.StoreError`, as for the other methods.
    """

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]: ...

    async def delete_sessions(self, keys: Collection[str]) -> None: ...
