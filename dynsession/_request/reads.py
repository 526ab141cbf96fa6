"""How the middleware reads a session from its store: as the store reads by default, or eventually
consistently (half the read price on DynamoDB) while still reading its own writes, because the
cookie carries the version of the last write the browser saw."""

from __future__ import annotations

from typing import cast

from ..exceptions import ConfigurationError
from ..stores.base import ChoosesConsistency, MovedRecord, SessionRecord, SessionStore, chooses_consistency


class SessionReads:
    """Reads records for the middleware.

    With ``eventually_consistent`` a record is first read eventually consistently; when that finds
    nothing, or a version older than the one the cookie names, it is read once more strongly
    consistently. A cookie without a version (written before the option was on) reads strongly
    consistently. Raises ConfigurationError when the option is on and the store cannot choose.
    """

    def __init__(self, store: SessionStore, *, eventually_consistent: bool) -> None:
        if eventually_consistent and not chooses_consistency(store):
            raise ConfigurationError(
                "eventually_consistent=True needs a store whose load() accepts the keyword "
                f"`consistent` (DynamoDBStore, MemoryStore); {type(store).__name__}.load does not"
            )
        self.store = store
        self.eventually_consistent = eventually_consistent

    async def load(self, key: str, cookie_version: int | None) -> SessionRecord | MovedRecord | None:
        """The record (or moved ID's marker) under ``key``, or None. A marker read eventually
        consistently is as new as any version of the session it replaced. Raises what the store
        raises (StoreError)."""
        return (await self.read(key, cookie_version))[0]

    async def read(
        self, key: str, cookie_version: int | None
    ) -> tuple[SessionRecord | MovedRecord | None, bool]:
        """As :meth:`load`, with whether the record came from an eventually consistent read (so a
        write the browser saw may be missing from it, when its answers arrived out of order)."""
        if not self.eventually_consistent:
            return await self.store.load(key), False
        store = cast("ChoosesConsistency", self.store)
        if cookie_version is not None:
            record = await store.load(key, consistent=False)
            if isinstance(record, MovedRecord):
                return record, True
            if record is not None and record.version >= cookie_version:
                return record, True
        return await store.load(key, consistent=True), False
