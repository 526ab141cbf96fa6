"""The contract every session store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One stored session, as a store returns and accepts it.

    ``data`` is the encoded session (see :mod:`dynsession.serialization`); ``version`` starts at 1
    and grows by one on every save; times are integer epoch seconds, UTC. ``expires`` is the idle
    deadline (the DynamoDB TTL); ``absolute_deadline`` is ``None`` when no absolute timeout applies.
    """

    data: bytes
    version: int
    created: int
    expires: int
    absolute_deadline: int | None = None

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
        Never return an empty record to mean "missing". Optionally, ``load(key, *,
        consistent=None)``: ``True`` asks for a read that sees every completed write, ``False``
        allows a cheaper read that may be a moment stale, ``None`` is the store's default. The
        middleware's ``eventually_consistent`` option needs this keyword; without the option the
        middleware only ever calls ``load(key)``.
    ``save(key, record, *, expected_version)``
        Write ``record`` atomically and conditionally: with ``expected_version=None`` the key must
        not exist yet; otherwise the stored version must equal ``expected_version``. On a mismatch
        raise :class:`~dynsession.SessionConflict` and leave the stored record unchanged. The
        caller passes ``record.version`` already incremented. Raise
        :class:`~dynsession.SessionTooLarge` before writing if the record cannot fit.
    ``touch(key, expires)``
        Set only the idle deadline of an existing record (the data is not rewritten). Return
        ``False``, creating nothing, when the record no longer exists.
    ``delete(key)``
        Remove the record; a missing record is not an error.

    Every other failure is raised as :class:`~dynsession.StoreError` (usually
    :class:`~dynsession.StoreUnavailable`), with the backend's exception as ``original``.
    """

    async def load(self, key: str) -> SessionRecord | None: ...

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None: ...

    async def touch(self, key: str, expires: int) -> bool: ...

    async def delete(self, key: str) -> None: ...
