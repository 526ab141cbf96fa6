"""HybridCache's two tiers: reading an entry through them and writing one to both.

:class:`Tiers` holds the options, the local tier and the counts; :class:`~dynsession.cache.HybridCache`
builds its public methods on ``read`` and ``write``.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio

from ...clock import Clock, checked_clock
from ...exceptions import ConfigurationError
from ..base import DistributedCache
from ..entry import CacheEntry
from ..errors import InvalidExpiry
from ..expiry import Duration, Expiry, duration, resolve
from ..flight import SingleFlight
from ..shared import BaseCache
from .coordination import at, read_tag, tag_deadline
from .envelope import Envelope, decode
from .local import Copy, LocalTier
from .stats import HybridCacheStats


@dataclass(frozen=True, slots=True)
class Plan:
    """How a write asked for its entry to expire, and its tags (resolved when written)."""

    sliding: Duration | None = None
    absolute: datetime | None = None
    absolute_in: Duration | None = None
    tags: tuple[str, ...] = ()


def _seconds(name: str, value: object, *, whole: bool) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a number of seconds or a timedelta")
    if value < 0 or (whole and value != int(value)):
        kind = "a whole, non-negative" if whole else "a non-negative"
        raise ConfigurationError(f"{name} must be {kind} number of seconds")
    return float(value)


class Tiers:
    """The options, the local tier and the counts of a HybridCache (see that class)."""

    def __init__(
        self,
        shared: DistributedCache,
        *,
        local_ttl: Duration,
        local_max_entries: int,
        fail_safe: Duration | None,
        eager_refresh: float | None,
        lock_timeout: Duration | None,
        clock: Clock,
    ) -> None:
        if isinstance(shared, Tiers):
            raise ConfigurationError("shared must be the distributed tier itself, not another HybridCache")
        if not isinstance(shared, DistributedCache):
            raise ConfigurationError("shared must be a DistributedCache (a DynamoDBCache, a MemoryCache)")
        self.shared = shared
        self.local_ttl = int(_seconds("local_ttl", local_ttl, whole=True))
        if type(local_max_entries) is not int or local_max_entries < 1:
            raise ConfigurationError("local_max_entries must be a whole number, at least 1")
        self.fail_safe: int | None = None
        if fail_safe is not None:
            try:
                self.fail_safe = duration("fail_safe", fail_safe) // timedelta(seconds=1)
            except InvalidExpiry as exc:
                raise ConfigurationError(str(exc)) from None
        if eager_refresh is not None and (
            isinstance(eager_refresh, bool)
            or not isinstance(eager_refresh, int | float)
            or not 0 < eager_refresh < 1
        ):
            raise ConfigurationError("eager_refresh must be a fraction of the lifetime between 0 and 1")
        self.eager_refresh = eager_refresh
        self.lock_timeout: float | None = None
        if lock_timeout is not None:
            self.lock_timeout = _seconds("lock_timeout", lock_timeout, whole=False)
            if self.lock_timeout == 0:
                raise ConfigurationError("lock_timeout must be more than 0 seconds (or None)")
        self.clock = checked_clock(clock)
        self.local = LocalTier(
            local_ttl=self.local_ttl, max_entries=local_max_entries, fail_safe=self.fail_safe
        )
        self._counts = dict.fromkeys(HybridCacheStats.__dataclass_fields__, 0)  # bumped in place: cheap
        self.flight: SingleFlight[bytes] = SingleFlight()
        self.refreshing: dict[str, asyncio.Task[None]] = {}
        self._default_sliding = shared.default_sliding if isinstance(shared, BaseCache) else None

    @property
    def stats(self) -> HybridCacheStats:
        """The counts so far (a snapshot; see HybridCacheStats)."""
        return HybridCacheStats(**self._counts)

    @property
    def lease_seconds(self) -> int:
        """A lease's TTL: ``lock_timeout`` rounded up to the second (the clock counts seconds)."""
        return max(1, math.ceil(self.lock_timeout or 0))

    # -- reading ---------------------------------------------------------------------------------

    async def read(self, key: str, now: int) -> Copy | None:
        """Ask the shared tier for ``key``; return its copy if fresh. A copy is kept locally even
        when expired (for fail-safe); one a tag removal covers is dropped. Raises StoreError."""
        entry = await self._entry(key)
        if entry is None:
            self.local.drop(key)
            return None
        envelope = decode(entry.value)
        expires = None if entry.ttl is None else entry.ttl - envelope.fail_safe
        copy = Copy(
            envelope.value,
            fresh_until=0,
            expires=expires,
            set_at=envelope.set_at,
            tags=envelope.tags,
            refresh_at=self.refresh_at(envelope.set_at, expires),
        )
        if copy.tags:
            await self.check_tags(copy.tags, now)
            if self.local.removed(copy):
                self.local.drop(key)
                return None
        copy.fresh_until = self._fresh_until(now, self.local.checked_at(copy.tags, now), expires)
        self.local.keep(key, copy)
        return copy if expires is None or now < expires else None

    async def _entry(self, key: str) -> CacheEntry | None:
        if isinstance(self.shared, BaseCache):
            return await self.shared.get_entry(key)
        value = await self.shared.get(key)  # another DistributedCache: its expiry is not known
        return None if value is None else CacheEntry(value, None)

    async def check_tags(self, tags: tuple[str, ...], now: int) -> None:
        """Ask the shared tier about the tags not checked in the last ``local_ttl`` seconds (one
        GetItem each, concurrently). Raises StoreError."""
        due = self.local.tags_to_check(tags, now)

        async def check(tag: str) -> None:
            self.local.note_tag(tag, await read_tag(self.shared, tag), now)

        if len(due) == 1:
            await check(due[0])
        elif due:
            async with anyio.create_task_group() as group:
                for tag in due:
                    group.start_soon(check, tag)

    def refresh_at(self, set_at: int | None, expires: int | None) -> int | None:
        if self.eager_refresh is None or set_at is None or expires is None:
            return None
        return set_at + int(self.eager_refresh * (expires - set_at))

    def _fresh_until(self, now: int, checked: int, expires: int | None) -> int:
        fresh_until = min(now, checked) + self.local_ttl
        return fresh_until if expires is None else min(fresh_until, expires)

    # -- writing ---------------------------------------------------------------------------------

    def resolve(self, plan: Plan, now: int) -> Expiry:
        """The entry's own expiry at ``now`` (tagged entries end within TAG_RETENTION).

        Raises InvalidExpiry.
        """
        expiry = resolve(
            now,
            sliding=plan.sliding,
            absolute=plan.absolute,
            absolute_in=plan.absolute_in,
            default_sliding=self._default_sliding,
        )
        if plan.tags:
            cap = tag_deadline(now)
            expiry = Expiry(expiry.window, cap if expiry.deadline is None else min(cap, expiry.deadline))
        return expiry

    async def write(self, key: str, value: bytes, plan: Plan, *, only_if_free: bool = False) -> bool:
        """Store ``value`` in the shared tier (``add`` if ``only_if_free``) and keep the copy;
        return whether it was stored. An entry with an absolute expiry and no sliding window is
        kept ``fail_safe`` seconds longer in the shared tier. Raises InvalidExpiry,
        CacheValueTooLarge, StoreError."""
        now = self.clock()
        expiry = self.resolve(plan, now)
        fail_safe = self.fail_safe if self.fail_safe and expiry.window is None and expiry.deadline else 0
        needs_header = bool(plan.tags) or fail_safe > 0 or self.eager_refresh is not None
        envelope = Envelope(value, now if needs_header else None, fail_safe, plan.tags)
        sliding = expiry.window
        absolute = None if expiry.deadline is None else at(expiry.deadline + fail_safe)
        if only_if_free:
            stored = await self.shared.add(key, envelope.encode(), sliding=sliding, absolute=absolute)
        else:
            await self.shared.set(key, envelope.encode(), sliding=sliding, absolute=absolute)
            stored = True
        if stored:
            self.keep_written(key, value, plan, now, envelope.set_at, expiry.ttl(now))
        return stored

    def keep_written(
        self, key: str, value: bytes, plan: Plan, now: int, set_at: int | None, expires: int | None
    ) -> None:
        """Keep the copy of what this process has just computed or written."""
        copy = Copy(
            value,
            fresh_until=self._fresh_until(now, now, expires),
            expires=expires,
            set_at=set_at,
            tags=plan.tags,
            refresh_at=self.refresh_at(set_at, expires),
        )
        self.local.keep(key, copy)
