"""An in-process store with the same semantics as DynamoDBStore, for tests and development."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from ..clock import Clock, system_clock
from ..exceptions import SessionConflict
from .base import SessionRecord
from .users import BoundSession


class MemoryStore:
    """Keeps sessions in a dict of this process. Expired records read as missing and are dropped.

    Not shared between processes or workers; use it for tests, development and single-process apps.
    Finds a user's sessions by looking at every record (see :class:`~dynsession.UserSessionStore`).
    """

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._records: dict[str, SessionRecord] = {}
        # When each record was last written (a save or a touch): a user's session list shows it.
        self._written: dict[str, int] = {}
        self._clock = clock

    def __len__(self) -> int:
        return len(self._records)

    async def load(self, key: str) -> SessionRecord | None:
        record = self._records.get(key)
        if record is not None and record.is_expired(self._clock()):
            self._forget(key)
            return None
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        current = self._records.get(key)
        found = None if current is None else current.version
        if found != expected_version:
            raise SessionConflict("session was changed by another request")
        self._records[key] = record
        self._written[key] = self._clock()

    async def touch(self, key: str, expires: int) -> bool:
        record = self._records.get(key)
        if record is None:
            return False
        self._records[key] = dataclasses.replace(record, expires=expires)
        self._written[key] = self._clock()
        return True

    async def delete(self, key: str) -> None:
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
            )
            for key, record in self._records.items()
            if record.owner is not None and record.owner.user_id == user_id and not record.is_expired(now)
        ]

    async def delete_sessions(self, keys: Collection[str]) -> None:
        for key in keys:
            self._forget(key)

    def _forget(self, key: str) -> None:
        self._records.pop(key, None)
        self._written.pop(key, None)
