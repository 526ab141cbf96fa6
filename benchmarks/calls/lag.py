"""Replication lag, simulated: neither local DynamoDB server ever serves a stale eventually
consistent read, so a wrapper plays the replica that has not caught up yet."""

from __future__ import annotations

from typing import Any

from dynsession import MovedRecord, MovingStore, SessionRecord
from dynsession.clock import Clock

_Stored = SessionRecord | MovedRecord | None


class ReplicaLag:
    """Wraps a store. For ``lag`` seconds after a write to a key (a save, a move, a delete), an
    eventually consistent read of that key still reaches the store (and costs what it costs) but
    answers with what the key held before the write. ``stale_reads`` counts the reads it answered
    that way."""

    def __init__(self, inner: MovingStore, clock: Clock, lag: int) -> None:
        self.inner = inner
        self.clock = clock
        self.lag = lag
        self.stale_reads = 0
        self._seen: dict[str, _Stored] = {}
        self._replica: dict[str, tuple[int, _Stored]] = {}

    def _written(self, key: str, stored: _Stored) -> None:
        self._replica[key] = (self.clock() + self.lag, self._seen.get(key))
        self._seen[key] = stored

    async def load(self, key: str, *, consistent: bool | None = None) -> _Stored:
        load: Any = self.inner.load  # DynamoDBStore and MemoryStore take the keyword
        stored: _Stored = await load(key, consistent=consistent)
        behind = self._replica.get(key)
        if consistent is False and behind is not None and self.clock() < behind[0]:
            self.stale_reads += 1
            return behind[1]
        self._seen[key] = stored
        return stored

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self.inner.save(key, record, expected_version=expected_version)
        self._written(key, record)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        await self.inner.move(key, marker, expected_version=expected_version)
        self._written(key, marker)

    async def touch(self, key: str, expires: int) -> bool:
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self.inner.delete(key, expected_version=expected_version)
        self._written(key, None)
