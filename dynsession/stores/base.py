"""The contract every session store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SessionOwner:
    """Who a session belongs to: the app's user ID, a short device label, and when it was bound
    (integer epoch seconds, UTC). Kept beside the session data, never inside it."""

    user_id: str
    device: str
    since: int


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One stored session, as a store returns and accepts it.

    ``data`` is the encoded session (see :mod:`dynsession.serialization`); ``version`` starts at 1
    and grows by one on every save; times are integer epoch seconds, UTC. ``expires`` is the idle
    deadline (the DynamoDB TTL); ``absolute_deadline`` is ``None`` when no absolute timeout applies.
    ``owner`` is set when the session is bound to a user (see ``regenerate_session(user_id=...)``);
    a store must keep it with the record.

    A store that finds an item it cannot read (written by something else) returns it as a record
    with ``data=b""`` (an unreadable blob) and, when the stored version is not a positive integer,
    a ``version`` of 0 or less that the store maps back to the stored value: the middleware starts
    the session empty and its next write replaces that very item, conditionally, as version 1.
    """

    data: bytes
    version: int
    created: int
    expires: int
    absolute_deadline: int | None = None
    owner: SessionOwner | None = None

    def is_expired(self, now: int) -> bool:
        """True once the idle deadline or the absolute deadline has been reached."""
        if self.expires <= now:
            return True
        return self.absolute_deadline is not None and self.absolute_deadline <= now


@runtime_checkable
class SessionStore(Protocol):
    """Where sessions live. Keys are opaque strings (the middleware passes a SHA-256 hex digest of
    the session ID, never the ID itself). Every method is a coroutine and must not block the
    event loop.

    ``load(key)``
        Return the record, or ``None`` when it is missing **or expired** (``is_expired(now)``).
        Never return an empty record to mean "missing".
    ``save(key, record, *, expected_version)``
        Write ``record`` atomically and conditionally: with ``expected_version=None`` the key must
        not exist yet; otherwise the stored version must equal ``expected_version``. On a mismatch
        raise :class:`~dynsession.SessionConflict` (``current``: the stored record when known
        without another read, ``None`` otherwise) and leave the stored record unchanged. The
        caller passes ``record.version`` already incremented. Raise
        :class:`~dynsession.SessionTooLarge` before writing if the record cannot fit. A write
        whose answer was lost and that the backend retried must not report its own success as a
        conflict (DynamoDBStore stores a random write token with each item for this).
    ``touch(key, expires)``
        Set only the idle deadline of an existing record (the data is not rewritten). Return
        ``False``, creating nothing, when the record no longer exists. A store that lists users'
        sessions also notes the time of each save and touch, as the session's last activity.
    ``delete(key, *, expected_version=None)``
        Remove the record. Without ``expected_version`` a missing record is not an error. With
        it, remove the record only if its stored version equals ``expected_version``; otherwise
        (another version, or no record at all) raise :class:`~dynsession.SessionConflict` as
        ``save`` does and leave the store unchanged.

    Every other failure is raised as :class:`~dynsession.StoreError` (usually
    :class:`~dynsession.StoreUnavailable`), with the backend's exception as ``original``.
    """

    async def load(self, key: str) -> SessionRecord | None: ...

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None: ...

    async def touch(self, key: str, expires: int) -> bool: ...

    async def delete(self, key: str, *, expected_version: int | None = None) -> None: ...
