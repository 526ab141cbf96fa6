"""An in-process store with the same semantics as DynamoDBStore, for tests and development."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from ..clock import Clock, checked_clock, system_clock
from ..exceptions import SessionConflict, SessionTooLarge
from .base import MovedRecord, SessionRecord
from .item_format import MAX_ITEM_BYTES, ItemFormat
from .users import BoundSession

# Expired records nobody reads again are dropped by a sweep once the dict has grown to twice what
# the last sweep left (and at least this many): memory stays within twice the live sessions, and
# each save pays for the sweep a constant amount on average.
_MIN_SWEEP = 256


# Attribute names, the key prefix, the write token and up to nine numbers below 10**30 (at most 16
# bytes each by DynamoDB's rules) stay well under this many bytes.
_FIXED_PART_BOUND = 1024
_NUMBER_BOUND = 10**30


def _surely_fits(key: str, record: SessionRecord, now: int) -> bool:
    """True when the item for ``record`` is under DynamoDB's limit by a cheap upper bound: building
    the item to measure it exactly costs more than the rest of a MemoryStore write."""
    numbers = (
        record.version,
        record.created,
        record.expires,
        record.absolute_deadline or 0,
        record.issued or 0,
        now,
    )
    if max(numbers) >= _NUMBER_BOUND or min(numbers) <= -_NUMBER_BOUND:
        return False
    # UTF-8 takes at most four bytes per character.
    bound = _FIXED_PART_BOUND + len(record.data) + len(record.binding or b"") + 4 * len(key)
    owner = record.owner
    if owner is not None:
        if not -_NUMBER_BOUND < owner.since < _NUMBER_BOUND:
            return False
        bound += 4 * (len(owner.user_id) + len(owner.device))
    return bound <= MAX_ITEM_BYTES


class MemoryStore:
    """Keeps sessions in a dict of this process. Expired records read as missing and are dropped,
    and a periodic sweep on writes drops the ones never read again. Records are refused with
    :class:`~dynsession.SessionTooLarge` where DynamoDB would refuse the item (400 KB, measured as
    a DynamoDBStore with the default attribute names would store it).

    Not shared between processes or workers; use it for tests, development and single-process apps.
    Finds a user's sessions by looking at every record (see :class:`~dynsession.UserSessionStore`).
    Raises ConfigurationError when ``clock`` is not callable.
    """

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._records: dict[str, SessionRecord | MovedRecord] = {}
        # When each record was last written (a save or a touch): a user's session list shows it.
        self._written: dict[str, int] = {}
        self._clock = checked_clock(clock)
        self._format = ItemFormat()
        self._sweep_at = _MIN_SWEEP

    def __len__(self) -> int:
        return len(self._records)

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        # One copy in one process: every read is consistent, whatever ``consistent`` asks.
        record = self._records.get(key)
        if record is not None and record.is_expired(self._clock()):
            self._forget(key)
            return None
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        now = self._clock()
        if not _surely_fits(key, record, now):
            size = self._format.size(key, record, now)
            if size > MAX_ITEM_BYTES:
                raise SessionTooLarge(size, MAX_ITEM_BYTES)
        self._check(key, expected_version)
        self._records[key] = record
        self._written[key] = now
        if len(self._records) >= self._sweep_at:
            self._sweep()

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        live = await self.load(key)
        if not isinstance(live, SessionRecord) or live.version != expected_version:
            raise SessionConflict("session was changed by another request", current=live)
        self._records[key] = marker
        self._written.pop(key, None)

    async def touch(self, key: str, expires: int) -> bool:
        record = self._records.get(key)
        if not isinstance(record, SessionRecord):
            return False
        self._records[key] = dataclasses.replace(record, expires=expires)
        self._written[key] = self._clock()
        return True

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        if expected_version is not None:
            self._check(key, expected_version)
        self._forget(key)

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]:
        now = self._clock()
        return [
            BoundSession(
                key,
                record.owner,
                record.created,
                self._written.get(key, record.created),
                record.expires,
                record.absolute_deadline,
                record.version,
            )
            for key, record in self._records.items()
            if isinstance(record, SessionRecord)
            and record.owner is not None
            and record.owner.user_id == user_id
            and not record.is_expired(now)
        ]

    async def delete_sessions(self, keys: Collection[str]) -> None:
        for key in keys:
            self._forget(key)

    def _forget(self, key: str) -> None:
        self._records.pop(key, None)
        self._written.pop(key, None)

    def _check(self, key: str, expected_version: int | None) -> None:
        current = self._records.get(key)
        # A moved ID's marker has no version: every conditional write on it conflicts.
        found: object = current.version if isinstance(current, SessionRecord) else current
        if found != expected_version:
            live = None if current is None or current.is_expired(self._clock()) else current
            raise SessionConflict("session was changed by another request", current=live)

    def _sweep(self) -> None:
        now = self._clock()
        expired = [key for key, record in self._records.items() if record.is_expired(now)]
        for key in expired:
            self._forget(key)
        self._sweep_at = max(_MIN_SWEEP, 2 * len(self._records))
