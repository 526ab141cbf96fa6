"""The contract every cache implements: ``DistributedCache``, an async ``IDistributedCache``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from .expiry import Duration


@runtime_checkable
class DistributedCache(Protocol):
    """A cache of byte values shared by every process that uses the same backend.

    Keys are non-empty ``str`` of at most 1024 UTF-8 bytes (:mod:`dynsession.cache.keys`); a bad
    key raises :class:`~dynsession.cache.InvalidCacheKey` before any I/O. Every method is a
    coroutine and never blocks the event loop.

    Expiry, given to ``set``, ``add`` and the ``get_or_set`` methods:
        ``sliding`` (a ``timedelta`` or seconds): the entry expires after this long without a
        read. ``absolute`` (a timezone-aware ``datetime`` in the future) or ``absolute_in`` (a
        duration from now; it wins when both are given): the entry expires then, however often
        it is read. Sliding never extends an entry past its absolute deadline. With none of
        the three, the cache's ``default_sliding`` applies. Durations under one second, a naive
        or past ``absolute`` raise :class:`~dynsession.cache.InvalidExpiry`.

    ``get(key)``
        The value, or ``None`` when the key is missing **or expired** (an expired entry the
        backend has not deleted yet is a miss). A hit restarts the sliding window, but only
        when that gains more than the cache's ``refresh_after`` seconds.
    ``set(key, value, *, sliding=None, absolute=None, absolute_in=None)``
        Store ``value`` (``bytes``), replacing any entry. Raises
        :class:`~dynsession.cache.CacheValueTooLarge` before writing when it cannot fit.
    ``add(key, value, ...)``
        Store ``value`` only if no live entry has the key; return whether it was stored. Atomic
        across processes: of concurrent callers exactly one gets ``True`` (a lock or an
        idempotency marker).
    ``refresh(key)``
        Restart the sliding window now (never past the absolute deadline); create nothing.
        Return whether a live entry was found.
    ``remove(key)``
        Delete the entry; a missing key is not an error.
    ``get_or_set(key, factory, ...)``
        ``get``, and on a miss ``await factory()`` and ``set`` its result. Concurrent calls for
        one key in one process share a single run (stampede protection). Raises what the
        factory raises (to every caller sharing that run); nothing is stored then.
    ``get_json`` / ``set_json`` / ``get_or_set_json``
        The same with any JSON value (UTF-8 JSON bytes in the store). ``get_json`` returns
        ``None`` for a miss (so a stored JSON ``null`` reads as a miss) and raises ValueError
        when the stored value is not JSON; ``set_json`` raises
        :class:`~dynsession.cache.CacheValueNotSerializable` for values JSON cannot hold.

    Caches built on the cache base (``DynamoDBCache``, ``MemoryCache``) also offer
    ``get_entry(key)``: the read ``get`` makes, returning the
    :class:`~dynsession.cache.CacheEntry` with its TTL, window and deadline, which
    :class:`~dynsession.cache.HybridCache` uses so a local copy never outlives its entry.

    Backend failures raise :class:`~dynsession.StoreError` (usually
    :class:`~dynsession.StoreUnavailable`, with the backend's exception as ``original``); a
    missing table is such an error, never a miss.
    """

    async def get(self, key: str) -> bytes | None: ...

    async def set(
        self,
        key: str,
        value: bytes,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> None: ...

    async def add(
        self,
        key: str,
        value: bytes,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> bool: ...

    async def refresh(self, key: str) -> bool: ...

    async def remove(self, key: str) -> None: ...

    async def get_or_set(
        self,
        key: str,
        factory: Callable[[], Awaitable[bytes]],
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> bytes: ...

    async def get_json(self, key: str) -> Any: ...

    async def set_json(
        self,
        key: str,
        value: Any,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> None: ...

    async def get_or_set_json(
        self,
        key: str,
        factory: Callable[[], Awaitable[Any]],
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> Any: ...
