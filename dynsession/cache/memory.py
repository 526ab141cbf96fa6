"""A cache in this process's memory, with the same rules as DynamoDBCache, for tests and development."""

from __future__ import annotations

from collections import OrderedDict

from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError
from ..stores.dynamodb_wire import MAX_ITEM_BYTES
from ..stores.item_format import TOKEN_BYTES
from .entry import CacheEntry, refresh_target
from .expiry import Duration, Expiry
from .item import ItemLayout
from .keys import check_key
from .shared import DEFAULT_SLIDING, BaseCache

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class MemoryCache(BaseCache):
    """A :class:`~dynsession.cache.DistributedCache` in a dict of this process.

    Expiry, the throttled sliding refresh, the size guard (an entry that would not fit in a
    DynamoDB item is refused the same way, with ``compress_threshold`` counted as DynamoDBCache
    counts it) and the key rules are DynamoDBCache's. Memory is bounded: beyond ``max_entries``
    entries or ``max_bytes`` bytes of keys and values, the least recently used entries are dropped.

    Not shared between processes; use it for tests, development and single-process apps.
    Raises ConfigurationError for bad options.
    """

    def __init__(
        self,
        *,
        clock: Clock = system_clock,
        default_sliding: Duration | None = DEFAULT_SLIDING,
        refresh_after: Duration | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        compress_threshold: int | None = None,
    ) -> None:
        super().__init__(clock=clock, default_sliding=default_sliding, refresh_after=refresh_after)
        if max_entries < 1:
            raise ConfigurationError("max_entries must be at least 1")
        if max_bytes < MAX_ITEM_BYTES:
            raise ConfigurationError(f"max_bytes must be at least {MAX_ITEM_BYTES}, the largest entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._layout = ItemLayout(compress_threshold=compress_threshold)
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """The bytes of keys and values held now (what ``max_bytes`` bounds)."""
        return self._bytes

    async def get_entry(self, key: str) -> CacheEntry | None:
        entry = self._live(check_key(key))
        if entry is None:
            return None
        target = refresh_target(entry, self._clock(), self._refresh_after)
        if target is not None:
            entry = self._entries[key] = CacheEntry(entry.value, target, entry.window, entry.deadline)
        return entry

    async def refresh(self, key: str) -> bool:
        entry = self._live(check_key(key))
        if entry is None:
            return False
        target = entry.slid_ttl(self._clock())
        if target is not None:
            self._entries[key] = CacheEntry(entry.value, target, entry.window, entry.deadline)
        return True

    async def remove(self, key: str) -> None:
        self._drop(check_key(key))

    async def _put(self, key: str, value: bytes, expiry: Expiry, *, token: bytes | None = None) -> None:
        entry = CacheEntry.create(value, expiry, self._clock())
        # The size guard DynamoDB would apply (to an add's item, with its write token); raises
        # before storing.
        self._layout.item(key, entry, token)
        self._drop(key)
        self._entries[key] = entry
        self._bytes += _cost(key, entry)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest, evicted = self._entries.popitem(last=False)
            self._bytes -= _cost(oldest, evicted)

    async def _add(self, key: str, value: bytes, expiry: Expiry) -> bool:
        if self._live(key) is not None:
            return False
        await self._put(key, value, expiry, token=bytes(TOKEN_BYTES))
        return True

    def _live(self, key: str) -> CacheEntry | None:
        """The entry if it has not expired (an expired one is dropped), marked as recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.is_expired(self._clock()):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= _cost(key, entry)


def _cost(key: str, entry: CacheEntry) -> int:
    return len(key) + len(entry.value)
