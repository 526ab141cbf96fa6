"""``HybridCache``: a tier in this process's memory over any DistributedCache (DynamoDBCache in
production), with one factory run across processes, stale-on-failure, eager refresh and tags."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from ...clock import Clock, system_clock
from ..base import DistributedCache
from ..expiry import Duration
from ..shared import as_bytes, encode_json
from .coordination import check_tags, check_user_key, write_tag
from .fill import Factory, Filler
from .local import Copy
from .tiers import Plan

logger = logging.getLogger("dynsession.cache")


class HybridCache(Filler):
    """A :class:`~dynsession.cache.DistributedCache` that keeps copies of entries in this process
    in front of a shared tier (``shared``, typically a :class:`~dynsession.cache.DynamoDBCache`).

    ``local_ttl`` (seconds or ``timedelta``, 0 to keep no fresh copies): a ``get`` of a key this
    process read or wrote less than that long ago makes no call; a copy never outlives its
    entry's own expiry. ``local_max_entries``: the least recently used copies are dropped beyond
    it. ``fail_safe``: when the shared tier raises StoreError or the factory raises, ``get_or_set``
    serves a value expired less than this long ago (entries with an absolute expiry and no
    sliding window are kept that much longer in the shared tier for it). ``eager_refresh`` (a
    fraction such as 0.8): a ``get_or_set`` hit past that part of its entry's lifetime returns at
    once and refreshes the entry in the background, one run per key per process at a time.
    ``lock_timeout``: a ``get_or_set`` miss takes a lease in the shared tier, so the factory runs
    once across every process; the others wait up to this long (real time), then run it
    themselves. ``clock`` decides every expiry.

    ``set``, ``add``, ``get_or_set`` and the JSON methods take ``tags=(...)``;
    :meth:`remove_by_tag` makes every entry set with a tag before it a miss: at once in this
    process, within ``local_ttl`` in the others. Use the cache as ``async with cache:`` (or call
    :meth:`aclose`): that owns the background refreshes and the shared tier's connections.
    Raises ConfigurationError for bad options, naming the option.
    """

    def __init__(
        self,
        shared: DistributedCache,
        *,
        local_ttl: Duration = 5,
        local_max_entries: int = 10_000,
        fail_safe: Duration | None = None,
        eager_refresh: float | None = None,
        lock_timeout: Duration | None = None,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(
            shared,
            local_ttl=local_ttl,
            local_max_entries=local_max_entries,
            fail_safe=fail_safe,
            eager_refresh=eager_refresh,
            lock_timeout=lock_timeout,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"HybridCache({self.shared!r}, local_ttl={self.local_ttl})"

    def __len__(self) -> int:
        """The copies held in this process."""
        return len(self.local)

    # -- the cache -------------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The live value under ``key`` or None: this process's fresh copy, else the shared tier's.
        Raises InvalidCacheKey, StoreError."""
        check_user_key(key)
        now = self.clock()
        copy = self.local.fresh(key, now)
        if copy is not None and not copy.outage:
            self._counts["local_hits"] += 1
            return copy.value
        found = await self.read(key, now)
        self._counts["misses" if found is None else "shared_hits"] += 1
        return None if found is None else found.value

    async def set(
        self,
        key: str,
        value: bytes,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
        tags: tuple[str, ...] = (),
    ) -> None:
        """Store ``value`` in the shared tier and this process (see DistributedCache). Raises
        InvalidCacheKey, InvalidExpiry, CacheValueTooLarge, StoreError."""
        check_user_key(key)
        plan = Plan(sliding, absolute, absolute_in, check_tags(tags))
        self.local.drop(key)
        await self.write(key, as_bytes(value), plan)

    async def add(
        self,
        key: str,
        value: bytes,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
        tags: tuple[str, ...] = (),
    ) -> bool:
        """Store ``value`` only if no live entry has ``key`` in the shared tier; return whether it
        was stored. Raises as ``set``."""
        check_user_key(key)
        plan = Plan(sliding, absolute, absolute_in, check_tags(tags))
        return await self.write(key, as_bytes(value), plan, only_if_free=True)

    async def refresh(self, key: str) -> bool:
        """Restart the entry's sliding window in the shared tier; return whether it was found.
        Raises InvalidCacheKey, StoreError."""
        check_user_key(key)
        found = await self.shared.refresh(key)
        if not found:
            self.local.drop(key)
        return found

    async def remove(self, key: str) -> None:
        """Delete the entry from the shared tier and this process. Raises InvalidCacheKey,
        StoreError."""
        check_user_key(key)
        self.local.drop(key)
        await self.shared.remove(key)
        self.local.drop(key)

    async def remove_by_tag(self, tag: str) -> None:
        """Make every entry set with ``tag`` until now a miss: in this process at once, in others
        within ``local_ttl`` (one PutItem; an entry set in this same second counts as removed).
        Raises InvalidCacheKey for a bad tag, StoreError."""
        (tag,) = check_tags((tag,))
        now = self.clock()
        self.local.note_tag(tag, now, now)
        await write_tag(self.shared, tag, now)

    async def get_or_set(
        self,
        key: str,
        factory: Callable[[], Awaitable[bytes]],
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
        tags: tuple[str, ...] = (),
    ) -> bytes:
        """The cached value, or ``await factory()`` stored (with ``tags``) and returned; see the
        class for fail-safe, eager refresh and ``lock_timeout``. Raises what the factory raises
        (unless fail-safe serves a stale value), InvalidCacheKey, InvalidExpiry, StoreError."""
        check_user_key(key)
        plan = Plan(sliding, absolute, absolute_in, check_tags(tags))
        now = self.clock()
        self.resolve(plan, now)  # bad arguments fail before any call
        copy = self.local.fresh(key, now)
        if copy is not None:
            return self.hit(key, copy, factory, plan, now)
        return await self.flight.run(key, lambda: self.fill(key, factory, plan))

    def hit(self, key: str, copy: Copy, factory: Factory, plan: Plan, now: int) -> bytes:
        """Count a local hit (a stale serve during an outage) and start an eager refresh if due."""
        self._counts["stale_served" if copy.outage else "local_hits"] += 1
        self.maybe_refresh(key, copy, factory, plan, now)
        return copy.value

    async def get_json(self, key: str) -> Any:
        """The JSON value under ``key`` or None. Raises ValueError when it is not JSON, and as ``get``."""
        raw = await self.get(key)
        return None if raw is None else json.loads(raw)

    async def set_json(
        self,
        key: str,
        value: Any,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
        tags: tuple[str, ...] = (),
    ) -> None:
        """Store ``value`` as JSON. Raises CacheValueNotSerializable before any write, and as ``set``."""
        await self.set(
            key, encode_json(value), sliding=sliding, absolute=absolute, absolute_in=absolute_in, tags=tags
        )

    async def get_or_set_json(
        self,
        key: str,
        factory: Callable[[], Awaitable[Any]],
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
        tags: tuple[str, ...] = (),
    ) -> Any:
        """``get_or_set`` for JSON values; every caller gets its own decoded copy. Raises as
        ``get_or_set``, and CacheValueNotSerializable when the factory's result is not JSON."""

        async def produce() -> bytes:
            return encode_json(await factory())

        raw = await self.get_or_set(
            key, produce, sliding=sliding, absolute=absolute, absolute_in=absolute_in, tags=tags
        )
        return json.loads(raw)

    # -- lifetime --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Cancel the background refreshes, wait for them, and close the shared tier's connections;
        the cache may be used again afterwards. Raises nothing of its own."""
        tasks = list(self.refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        closing = getattr(self.shared, "aclose", None)
        if closing is not None:
            await closing()

    async def __aenter__(self) -> HybridCache:
        preparing = getattr(self.shared, "prepare", None)
        if preparing is not None:
            await preparing()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()


__all__ = ["HybridCache"]
