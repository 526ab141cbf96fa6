"""The contract every session store implements."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Literal, Protocol, cast, runtime_checkable

from ..exceptions import ConfigurationError


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

    ``data`` is the encoded session (see :mod:`dynsession._serialization`); ``version`` starts at 1
    and grows by one on every save; times are integer epoch seconds, UTC. ``expires`` is the idle
    deadline (the DynamoDB TTL); ``absolute_deadline`` is ``None`` when no absolute timeout applies.
    ``binding`` is the client-binding fingerprint (opaque bytes; ``None`` when the session is not
    bound): a store keeps it as it keeps ``data``. ``issued`` is when the session got its current
    ID (``None``: at ``created``); ID renewal counts from it.
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
    binding: bytes | None = None
    issued: int | None = None
    owner: SessionOwner | None = None

    def is_expired(self, now: int) -> bool:
        """True once the idle deadline or the absolute deadline has been reached."""
        if self.expires <= now:
            return True
        return self.absolute_deadline is not None and self.absolute_deadline <= now


MoveReason = Literal["renewed", "privilege"]


@dataclass(frozen=True, slots=True)
class MovedRecord:
    """What an old key holds for a grace window after its session got a new ID: a record of its
    own type, never a session.

    ``reason`` is ``"renewed"`` (ID renewal: ``forward`` is the new ID, masked so that only a
    holder of the old ID can read it, see :mod:`dynsession._request.markers`) or ``"privilege"``
    (``regenerate_session``: no forward, requests carrying the old ID get an empty, read-only
    session). ``expires`` is the end of the grace window (the DynamoDB TTL).

    ``successor`` is the store key of the session that replaced this one (``None`` when none was
    stored): not a session ID, so it gives no access, but it lets a logout or a revoke that lost
    the race against the move end the session where it went (see :mod:`dynsession._users.ending`). A
    store keeps it as it keeps ``forward``.
    """

    reason: MoveReason
    expires: int
    forward: bytes | None = None
    successor: str | None = None

    def is_expired(self, now: int) -> bool:
        """True once the grace window is over."""
        return self.expires <= now


@runtime_checkable
class SessionStore(Protocol):
    """Where sessions live. Keys are opaque strings (the middleware passes a SHA-256 hex digest of
    the session ID, never the ID itself). Every method is a coroutine and must not block the
    event loop.

    ``load(key)``
        Return the record, or ``None`` when it is missing **or expired** (``is_expired(now)``).
        (A store with ``move`` may also return a :class:`MovedRecord`, see below.)
        Never return an empty record to mean "missing". Optionally, ``load(key, *,
        consistent=None)``: ``True`` asks for a read that sees every completed write, ``False``
        allows a cheaper read that may be a moment stale, ``None`` is the store's default. The
        middleware's ``eventually_consistent`` option needs this keyword; without the option the
        middleware only ever calls ``load(key)``.
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
        (another version, a moved ID's marker, or no record at all) raise
        :class:`~dynsession.SessionConflict` as ``save`` does (``current``: what is stored, when
        known without another read) and leave the store unchanged. Logouts, revokes and cap
        evictions end a session with this conditional delete, following moved IDs' markers to
        their ``successor``, so a renewal or a login racing them cannot leave the session alive.

    Stores that also implement ``move`` (:class:`MovingStore`; MemoryStore and DynamoDBStore do)
    keep the old ID of a renewed or regenerated session as a :class:`MovedRecord` (all of its
    fields, ``successor`` included): ``load`` returns it until it expires, ``touch`` answers
    ``False`` for it and changes nothing, and ``save`` and a conditional ``delete`` conflict with
    it (``current`` is the marker). A store without ``move`` still works:
    ``regenerate_session`` then deletes the old item, and ``renew_after`` is refused with
    :class:`~dynsession.ConfigurationError` when the middleware is built.

    Every other failure is raised as :class:`~dynsession.StoreError` (usually
    :class:`~dynsession.StoreUnavailable`), with the backend's exception as ``original``.
    """

    async def load(self, key: str) -> SessionRecord | MovedRecord | None: ...

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None: ...

    async def touch(self, key: str, expires: int) -> bool: ...

    async def delete(self, key: str, *, expected_version: int | None = None) -> None: ...


@runtime_checkable
class MovingStore(SessionStore, Protocol):
    """A store that can keep moved session IDs (see :class:`SessionStore`).

    ``move(key, marker, *, expected_version)``
        Replace the session record under ``key`` with ``marker``, atomically, only if a session
        record of version ``expected_version`` is stored there; otherwise raise
        :class:`~dynsession.SessionConflict` with ``current`` the record, marker or ``None`` found
        (``None`` may also mean "load it to find out") and change nothing.
    """

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None: ...


def can_move(store: SessionStore) -> bool:
    """True when ``store`` implements ``move``."""
    return callable(getattr(store, "move", None))


class ChoosesConsistency(Protocol):
    """A store whose ``load`` takes the optional ``consistent`` keyword."""

    async def load(
        self, key: str, *, consistent: bool | None = None
    ) -> SessionRecord | MovedRecord | None: ...


def chooses_consistency(store: SessionStore) -> bool:
    """True when ``store.load`` takes the optional ``consistent`` keyword (DynamoDBStore and
    MemoryStore do; a store written against the original contract need not)."""
    try:
        parameters = inspect.signature(store.load).parameters
    except (TypeError, ValueError):
        return False
    return "consistent" in parameters or any(
        parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()
    )


async def strong_load(store: SessionStore, key: str) -> SessionRecord | MovedRecord | None:
    """``store.load(key)`` strongly consistent whatever the store's default, where the store can
    choose: what a write builds on after losing a conditional write must include every completed
    write. Raises what the store raises (StoreError)."""
    if chooses_consistency(store):
        return await cast("ChoosesConsistency", store).load(key, consistent=True)
    return await store.load(key)


def session_store(value: object) -> SessionStore:
    """An object with the SessionStore methods (``load``, ``save``, ``touch``, ``delete``)."""
    if not isinstance(value, SessionStore):
        raise ConfigurationError(
            "store must be a SessionStore (DynamoDBStore, MemoryStore, or an object with async "
            f"load, save, touch and delete methods), not {type(value).__name__}"
        )
    return value
