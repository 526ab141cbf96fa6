"""An in-process store with the same semantics as DynamoDBStore, for tests and development."""

from __future__ import annotations

import dataclasses

from ..clock import Clock, system_clock
from ..exceptions import SessionConflict
from .base import SessionRecord


class MemoryStore:
    """Keeps sessions in a dict of this process. Expired records read as missing and are dropped.

    Not shared between processes or workers; use it for tests, development and single-process apps.
    """

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._records: dict[str, SessionRecord] = {}
        self._clock = clock

    def __len__(self) -> int:
        return len(self._records)

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | None:
        # One copy in one process: every read is consistent, whatever ``consistent`` asks.
        record = self._records.get(key)
        if record is not None and record.is_expired(self._clock()):
            del self._records[key]
            return None
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        current = self._records.get(key)
        found = None if current is None else current.version
        if found != expected_version:
            raise SessionConflict("session was changed by another request")
        self._records[key] = record

    async def touch(self, key: str, expires: int) -> bool:
        record = self._records.get(key)
        if record is None:
            return False
        self._records[key] = dataclasses.replace(record, expires=expires)
        return True

    async def delete(self, key: str) -> None:
        self._records.pop(key, None)
