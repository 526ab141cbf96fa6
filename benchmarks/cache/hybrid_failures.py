"""Section 7, HybridCache under failure: a cold-start stampede across processes, and stale serves
while DynamoDB is down. Each simulated process has its own DynamoDBCache and connection."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from dynsession import StoreUnavailable
from dynsession.cache import DynamoDBCache, HybridCache
from dynsession.stores.transport import Transport
from dynsession.testing import FakeClock

VALUE = b"v" * 1000


class Counting:
    """Counts each call on its way to a cache's transport; raises StoreUnavailable while ``down``."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.down = False

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        self.calls[operation] += 1
        if self.down:
            raise StoreUnavailable("DynamoDB is down (simulated)")
        return await self.inner.call(operation, request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True, slots=True)
class StampedeRow:
    label: str
    factory_runs: int
    calls: dict[str, int]
    lock_waits: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Outage:
    gets: int
    keys: int
    stale_served: int
    errors: int
    calls_tried: int
    errors_without_fail_safe: int


def shared_tier(url: str, table: str, clock: FakeClock, prefix: str) -> tuple[DynamoDBCache, Counting]:
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    cache = DynamoDBCache(
        table, endpoint_url=url, region_name=region, key_prefix=prefix, clock=clock, validate_on_startup=False
    )
    counting = Counting(cache.transport)
    cache.transport = counting
    return cache, counting


async def stampede(url: str, table: str, label: str, lock_timeout: float | None) -> StampedeRow:
    clock = FakeClock()
    prefix = f"stampede-{uuid.uuid4().hex[:8]}:"
    tiers = [shared_tier(url, table, clock, prefix) for _ in range(4)]  # four processes, four connections
    caches = [HybridCache(shared, lock_timeout=lock_timeout, clock=clock) for shared, _ in tiers]
    runs = 0

    async def load() -> bytes:
        nonlocal runs
        runs += 1
        await anyio.sleep(0.05)  # the backend the cache protects
        return VALUE

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for cache in caches:
            for _ in range(25):
                group.start_soon(cache.get_or_set, "cold", load)
    seconds = time.perf_counter() - started
    calls: Counter[str] = Counter()
    for shared, counting in tiers:
        calls.update(counting.calls)
        await shared.aclose()
    waits = sum(cache.stats.lock_waits for cache in caches)
    return StampedeRow(label, runs, dict(calls), waits, seconds)


async def outage(url: str, table: str, keys: int, gets: int) -> Outage:
    logging.getLogger("dynsession.cache").setLevel(logging.ERROR)  # one warning per stale serve
    results = []
    for fail_safe in (3600, None):
        clock = FakeClock()
        shared, counting = shared_tier(url, table, clock, f"outage-{uuid.uuid4().hex[:8]}:")
        cache = HybridCache(shared, local_ttl=5, fail_safe=fail_safe, clock=clock)

        async def load() -> bytes:
            return VALUE

        for k in range(keys):
            await cache.get_or_set(f"item:{k}", load, absolute_in=60)
        clock.advance(120)  # every entry expired; then DynamoDB goes down
        counting.down, counting.calls = True, Counter()
        errors = 0
        for i in range(gets):
            if i % 50 == 0:
                clock.advance(1)
            try:
                await cache.get_or_set(f"item:{i % keys}", load, absolute_in=60)
            except StoreUnavailable:
                errors += 1
        results.append((cache.stats.stale_served, errors, sum(counting.calls.values())))
        await shared.aclose()
    (stale, errors, tried), (_, plain_errors, _) = results
    return Outage(gets, keys, stale, errors, tried, plain_errors)
