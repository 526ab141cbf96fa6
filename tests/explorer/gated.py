"""Store wrappers for the explorer: one that stops every call at the scheduler's gate, and one that
plays a lagging replica for eventually consistent reads.

Layering, top to bottom: the middleware → :class:`GatedStore` → (:class:`LaggingReplica`, when the
scenario reads eventually consistently) → MemoryStore or DynamoDBStore. A gated call is one step
of a schedule: everything below the gate (the replica's bookkeeping, one DynamoDB request on the
wire) happens while no other actor runs, as one atomic store operation does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from typing import Any

from dynsession import MovedRecord, SessionRecord, SessionStore
from dynsession.stores.users import BoundSession

from .scheduler import Run


class LaggingReplica:
    """Passes every call to ``inner``; an eventually consistent read returns each key as it was
    before its latest write (a replica one write behind), which neither local DynamoDB server
    models. Strongly consistent reads, and keys not written since the replica last caught up,
    read the real item."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._replica: dict[str, SessionRecord | MovedRecord | None] = {}

    @contextmanager
    def caught_up(self) -> Iterator[None]:
        """Within the block every read is of the real item, as once the replicas have caught up."""
        replica, self._replica = self._replica, {}
        try:
            yield
        finally:
            self._replica = replica

    async def _before_write(self, key: str) -> None:
        self._replica[key] = await self.inner.load(key, consistent=True)

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        record: SessionRecord | MovedRecord | None = await self.inner.load(key, consistent=consistent)
        if consistent is False and key in self._replica:
            return self._replica[key]
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self._before_write(key)
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        await self._before_write(key)
        touched: bool = await self.inner.touch(key, expires)
        return touched

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self._before_write(key)
        await self.inner.delete(key, expected_version=expected_version)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        await self._before_write(key)
        await self.inner.move(key, marker, expected_version=expected_version)

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]:
        sessions: list[BoundSession] = await self.inner.list_user_sessions(user_id)
        return sessions

    async def delete_sessions(self, keys: Collection[str]) -> None:
        for key in keys:
            await self._before_write(key)
        await self.inner.delete_sessions(keys)


class GatedStore:
    """Every call of the store contract (``move`` and the user-session calls included) first waits
    at the current run's gate and then runs as one step; outside a run (the scenario's setup and
    checks) calls go straight through."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.run: Run | None = None
        # Every key a call named, so a run over a shared table can delete what it left behind.
        self.keys: set[str] = set()

    def _step(self, call: str, *keys: str) -> AbstractAsyncContextManager[None]:
        self.keys.update(keys)
        if self.run is None:
            return nullcontext()
        return self.run.step(call, ",".join(sorted(self.run.label(key) for key in keys)))

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        record: SessionRecord | MovedRecord | None
        async with self._step("load" if consistent is not False else "load~", key):
            if consistent is None:
                record = await self.inner.load(key)
            else:
                record = await self.inner.load(key, consistent=consistent)
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        async with self._step("save", key):
            await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        async with self._step("touch", key):
            touched: bool = await self.inner.touch(key, expires)
        return touched

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        async with self._step("delete" if expected_version is None else "delete?", key):
            if expected_version is None:
                await self.inner.delete(key)
            else:
                await self.inner.delete(key, expected_version=expected_version)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        async with self._step(f"move-{marker.reason}", key):
            await self.inner.move(key, marker, expected_version=expected_version)

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]:
        async with self._step("list"):
            sessions: list[BoundSession] = await self.inner.list_user_sessions(user_id)
        return sessions

    async def delete_sessions(self, keys: Collection[str]) -> None:
        async with self._step("delete-many", *keys):
            await self.inner.delete_sessions(keys)


def is_store(value: object) -> SessionStore:
    """``value`` typed as a store (the wrappers implement the contract structurally)."""
    assert isinstance(value, SessionStore)
    return value
