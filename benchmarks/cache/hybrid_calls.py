"""Section 7, HybridCache: what the local tier saves on a Zipf mix, a local hit's CPU beside a
redis-py GET, a cold-start stampede across processes, and stale serves while DynamoDB is down."""

from __future__ import annotations

import asyncio
import itertools
import random
import shutil
import statistics
import time
import uuid
from dataclasses import dataclass

import anyio

from dynsession.cache import HybridCache, MemoryCache
from dynsession.testing import FakeClock

from ..harness import dynamo
from ..harness.servers import redis_server, redis_unavailable
from . import hit_callgrind
from .hybrid_failures import Outage, StampedeRow, outage, shared_tier, stampede

SEED = 20261207
VALUE = b"v" * 1000
RATE = 1000  # the mix's operations per simulated second
WRITE_SHARE = 0.02  # of the mix's operations are set, the rest get_or_set


@dataclass(frozen=True, slots=True)
class MixRow:
    label: str
    gets: int
    calls_per_1000: dict[str, float]
    cpu_us_per_get: float
    local_hits: int


@dataclass(frozen=True, slots=True)
class HitCpu:
    local_hit_us: float
    redis_get_us: float
    rounds: int

    @property
    def ratio(self) -> float:
        return self.redis_get_us / self.local_hit_us


@dataclass(frozen=True, slots=True)
class HybridResult:
    endpoint: str
    keys: int
    tasks: int
    zipf: float
    rate: int
    mix: list[MixRow]
    hit_cpu: HitCpu | None
    hit_instructions: dict[str, float] | None  # callgrind: instructions per local hit / redis GET
    why_no_redis: str | None
    stampede: list[StampedeRow]
    outage: Outage


async def _fill(url: str, table: str, prefix: str, keys: int, tasks: int) -> None:
    """Store every key once (not counted): the mix then reads a warm shared tier."""
    shared, _ = shared_tier(url, table, FakeClock(), prefix)

    async def worker(offset: int) -> None:
        for k in range(offset, keys, tasks):
            await shared.set(f"item:{k}", VALUE, absolute_in=3600)

    async with anyio.create_task_group() as group:
        for offset in range(tasks):
            group.start_soon(worker, offset)
    await shared.aclose()


async def _mix(
    url: str, table: str, prefix: str, variant: tuple[str, int | None], gets: int, keys: int, tasks: int
) -> MixRow:
    label, local_ttl = variant
    clock = FakeClock()
    shared, counting = shared_tier(url, table, clock, prefix)
    cache = shared if local_ttl is None else HybridCache(shared, local_ttl=local_ttl, clock=clock)
    rng = random.Random(SEED)
    weights = list(itertools.accumulate(1 / rank for rank in range(1, keys + 1)))  # Zipf, s = 1
    picks = [f"item:{k}" for k in rng.choices(range(keys), cum_weights=weights, k=gets)]
    writes = {i for i in range(gets) if rng.random() < WRITE_SHARE}

    async def load() -> bytes:
        return VALUE

    async def worker(offset: int) -> None:
        for i in range(offset, gets, tasks):
            if i % RATE == 0:
                clock.advance(1)
            if i in writes:
                await cache.set(picks[i], VALUE, absolute_in=3600)
            else:
                await cache.get_or_set(picks[i], load, absolute_in=3600)

    started = time.process_time()
    async with anyio.create_task_group() as group:
        for offset in range(tasks):
            group.start_soon(worker, offset)
    cpu = time.process_time() - started
    await shared.aclose()
    local_hits = cache.stats.local_hits if isinstance(cache, HybridCache) else 0
    reads = gets - len(writes)
    per_1000 = {op: counting.calls[op] * 1000 / reads for op in dynamo.OPERATIONS}
    return MixRow(label, reads, per_1000, cpu / gets * 1e6, local_hits)


async def _hit_cpu(redis_url: str, rounds: int, hits: int) -> HitCpu:
    import redis.asyncio

    cache = HybridCache(MemoryCache(), local_ttl=3600)
    await cache.set("k", VALUE, absolute_in=7200)
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.set("k", VALUE)
    local, remote = [], []
    for _ in range(rounds):  # interleaved, so both see the same machine
        started = time.process_time()
        for _ in range(hits):
            await cache.get("k")
        local.append((time.process_time() - started) / hits)
        started = time.process_time()
        for _ in range(hits // 10):
            await client.get("k")
        remote.append((time.process_time() - started) / (hits // 10))
    await client.aclose()
    return HitCpu(statistics.median(local) * 1e6, statistics.median(remote) * 1e6, rounds)


def run_hybrid(
    endpoint_url: str | None,
    *,
    gets: int,
    keys: int = 10_000,
    tasks: int = 8,
    name: str | None = None,
    callgrind: bool = False,
) -> HybridResult:
    """Run the HybridCache measurements against ``endpoint_url`` (default: moto's server)."""
    with dynamo.endpoint(endpoint_url) as url:
        client = dynamo.make_client(url)
        with dynamo.session_table(client) as table:
            mix, hit_cpu, why, stampedes, down = asyncio.run(_all(url, table, gets, keys, tasks))
    instructions = None
    if callgrind and shutil.which("valgrind") and redis_unavailable() is None:
        with redis_server() as redis_url:
            instructions = hit_callgrind.measure(redis_url)
    label = "moto's server (in-process, 127.0.0.1)" if endpoint_url is None else (name or endpoint_url)
    return HybridResult(label, keys, tasks, 1.0, RATE, mix, hit_cpu, instructions, why, stampedes, down)


async def _all(
    url: str, table: str, gets: int, keys: int, tasks: int
) -> tuple[list[MixRow], HitCpu | None, str | None, list[StampedeRow], Outage]:
    mix: dict[str, list[MixRow]] = {}
    prefix = f"mix-{uuid.uuid4().hex[:8]}:"
    await _fill(url, table, prefix, keys, tasks)
    variants = [
        ("DynamoDBCache alone", None),
        ("HybridCache, local_ttl=1", 1),
        ("HybridCache, local_ttl=5", 5),
    ]
    for _ in range(3):  # interleaved rounds; the median CPU is reported
        for variant in variants:
            mix.setdefault(variant[0], []).append(await _mix(url, table, prefix, variant, gets, keys, tasks))
    rows = []
    for label, runs in mix.items():
        cpu = statistics.median(run.cpu_us_per_get for run in runs)
        rows.append(MixRow(label, runs[0].gets, runs[0].calls_per_1000, cpu, runs[0].local_hits))
    why = redis_unavailable()
    hit_cpu = None
    if why is None:
        with redis_server() as redis_url:
            hit_cpu = await _hit_cpu(redis_url, rounds=7, hits=max(1000, gets))
    stampedes = [
        await stampede(url, table, "4 × HybridCache, no lock_timeout", None),
        await stampede(url, table, "4 × HybridCache, lock_timeout=10", 10),
    ]
    return rows, hit_cpu, why, stampedes, await outage(url, table, keys=100, gets=max(200, gets // 10))
