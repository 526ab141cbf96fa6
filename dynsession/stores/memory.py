"""An in-process store with the same semantics as DynamoDBStore, for tests and development."""

from __future__ import annotations

import dataclasses

from ..clock import Clock, system_clock
from ..exceptions import SessionConflict
from .base import MovedRecord, SessionRecord


class MemoryStore:
    """Keeps sessions in a dict of this process. Expired records read as missing and are dropped.

    Not shared between processes or workers; use it for tests, development and single-process apps.
    """

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._records: dict[str, SessionRecord | MovedRecord] = {}
        self._clock = clock

    def __len__(self) -> int:
        return len(self._records)

    async def load(self, key: str) -> SessionRecord | MovedRecord | None:
        record = self._records.get(key)
        if record is not None and record.is_expired(self._clock()):
            del self._records[key]
            return None
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        current = await self.load(key)
        found = current.version if isinstance(current, SessionRecord) else current
        if found != expected_version:
            raise SessionConflict("session was changed by another request", current=current)
        self._records[key] = record

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        current = await self.load(key)
        if not isinstance(current, SessionRecord) or current.version != expected_version:
            raise SessionConflict("session was changed by another request", current=current)
        self._records[key] = marker

    async def touch(self, key: str, expires: int) -> bool:
        record = self._records.get(key)
        if not isinstance(record, SessionRecord):
            return False
        self._records[key] = dataclasses.replace(record, expires=expires)
        return True

    async def delete(self, key: str) -> None:
        self._records.pop(key, None)
