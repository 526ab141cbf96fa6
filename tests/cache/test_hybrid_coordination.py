"""HybridCache across processes and over time: leases, eager refresh, cancellation, closing.

Simulated processes are separate HybridCache objects (over DynamoDB, each with its own
DynamoDBCache and connection); concurrency is real tasks; lease waits run in real time, expiry on
the injected clock.
"""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest

from dynsession.cache import HybridCache
from dynsession.cache.hybrid.coordination import LEASE_PREFIX, Lease

from ..support import FakeClock
from .conftest import SharedCalls, SharedFactory

pytestmark = pytest.mark.anyio


class Factory:
    """An async factory counting its runs; each run sleeps ``seconds`` (real time) or waits for
    ``gate``, then returns ``b"value <run>"`` (or raises ``error``)."""

    def __init__(self, seconds: float = 0.0, gate: anyio.Event | None = None) -> None:
        self.seconds, self.gate = seconds, gate
        self.runs = 0
        self.started = anyio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> bytes:
        self.runs += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        await anyio.sleep(self.seconds)
        if self.error is not None:
            raise self.error
        return b"value %d" % self.runs


async def settle(cache: HybridCache) -> None:
    """Wait for the cache's background refreshes to finish."""
    await asyncio.gather(*cache.refreshing.values())


@pytest.mark.parametrize("locked", [True, False], ids=["lock_timeout", "no lock"])
async def test_a_stampede_across_processes_runs_the_factory_once_with_a_lease(
    new_shared: SharedFactory, clock: FakeClock, locked: bool
) -> None:
    options = {"lock_timeout": 30} if locked else {}
    processes = [HybridCache(new_shared(), clock=clock, **options) for _ in range(4)]
    runs = 0

    def everyone_arrived() -> bool:
        # With a lease: the other three processes wait for it. Without: all four are computing.
        return sum(cache.stats.lock_waits for cache in processes) == 3 if locked else runs == 4

    async def factory() -> bytes:
        nonlocal runs
        runs += 1
        with anyio.move_on_after(10):  # the run takes as long as the others need to arrive
            while not everyone_arrived():
                await anyio.sleep(0.01)
        return b"value %d" % runs

    results: list[bytes] = []

    async def ask(cache: HybridCache) -> None:
        results.append(await cache.get_or_set("hot", factory, absolute_in=60))

    async with anyio.create_task_group() as group:
        for cache in processes:
            for _ in range(5):
                group.start_soon(ask, cache)
    assert len(results) == 20 and everyone_arrived()
    if locked:
        assert runs == 1 and set(results) == {b"value 1"}
    else:  # one run per process: its own single flight, nothing across processes
        assert runs == 4
    assert all(not cache.flight for cache in processes)


async def test_a_miss_under_lease_costs_two_reads_two_writes_and_a_delete(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    cache = HybridCache(new_shared(), clock=clock, lock_timeout=5)
    calls = SharedCalls(cache.shared)  # type: ignore[arg-type]
    assert await cache.get_or_set("k", Factory(), absolute_in=60) == b"value 1"
    assert calls.take() == {"get_entry": 2, "add": 1, "set": 1, "remove": 1}
    clock.advance(10)
    assert await cache.get_or_set("k", Factory(), absolute_in=60) == b"value 1"
    assert calls.take() == {"get_entry": 1}


async def test_a_dead_lease_holder_blocks_nobody_past_lock_timeout(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    # A process took the lease and died: its lease item stays until its TTL (60 s on the clock).
    assert await Lease(new_shared(), "k", 60).acquire(clock.now)
    cache = HybridCache(new_shared(), clock=clock, lock_timeout=0.3)
    factory = Factory()
    started = anyio.current_time()
    assert await cache.get_or_set("k", factory, absolute_in=600) == b"value 1"
    waited = anyio.current_time() - started
    assert 0.3 <= waited < 10 and factory.runs == 1 and cache.stats.lock_waits == 1
    # Once the dead holder's lease has expired on the clock, a miss takes it at once.
    clock.advance(600)
    assert await cache.get_or_set("k", factory, absolute_in=600) == b"value 2"
    assert cache.stats.lock_waits == 1  # no wait this time


async def test_a_failed_holder_lets_a_waiter_take_the_lease(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    gate = anyio.Event()
    failing, good = Factory(gate=gate), Factory()
    failing.error = RuntimeError("backend down")
    one = HybridCache(new_shared(), clock=clock, lock_timeout=30)
    two = HybridCache(new_shared(), clock=clock, lock_timeout=30)
    results: list[bytes] = []

    async def first() -> None:
        with pytest.raises(RuntimeError):
            await one.get_or_set("k", failing, absolute_in=60)

    async def second() -> None:
        results.append(await two.get_or_set("k", good, absolute_in=60))

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        await failing.started.wait()
        group.start_soon(second)
        with anyio.fail_after(10):
            while not two.stats.lock_waits:  # the second process is waiting for the lease
                await anyio.sleep(0.01)
        gate.set()
    assert results == [b"value 1"] and good.runs == 1 and two.stats.lock_waits == 1


async def test_eager_refresh_answers_at_once_and_refreshes_once_per_process(
    new_shared: SharedFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    cache = HybridCache(new_shared(), clock=clock, eager_refresh=0.8)
    factory = Factory()
    assert await cache.get_or_set("k", factory, absolute_in=10) == b"value 1"
    clock.advance(7)
    assert await cache.get_or_set("k", factory, absolute_in=10) == b"value 1"
    assert not cache.refreshing
    clock.advance(1)
    gate = factory.gate = anyio.Event()
    for _ in range(10):
        assert await cache.get_or_set("k", factory, absolute_in=10) == b"value 1"
    assert len(cache.refreshing) == 1
    gate.set()
    await settle(cache)
    assert factory.runs == 2 and cache.stats.eager_refreshes == 1
    assert await cache.get("k") == b"value 2"
    # A failing background run changes nothing and says so.
    factory.gate, factory.error = None, RuntimeError("backend down")
    clock.advance(8)
    with caplog.at_level(logging.WARNING, logger="dynsession.cache"):
        assert await cache.get_or_set("k", factory, absolute_in=10) == b"value 2"
        await settle(cache)
    assert "background refresh failed" in caplog.text
    assert await cache.get_or_set("k", factory, absolute_in=10) == b"value 2"
    assert not cache.refreshing and factory.runs == 3


async def test_eager_refresh_with_a_lease_runs_once_per_cluster(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    one = HybridCache(new_shared(), clock=clock, eager_refresh=0.5, lock_timeout=30)
    two = HybridCache(new_shared(), clock=clock, eager_refresh=0.5, lock_timeout=30)
    factory = Factory()
    await one.get_or_set("k", factory, absolute_in=10)
    assert await two.get_or_set("k", factory, absolute_in=10) == b"value 1"
    clock.advance(5)
    factory.gate = anyio.Event()
    await one.get_or_set("k", factory, absolute_in=10)
    await factory.started.wait()
    await two.get_or_set("k", factory, absolute_in=10)
    await settle(two)
    factory.gate.set()
    await settle(one)
    assert factory.runs == 2 and one.stats.eager_refreshes == 1 and two.stats.eager_refreshes == 0


async def test_a_cancelled_holder_leaves_no_lease_and_no_flight(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    shared = new_shared()
    cache = HybridCache(shared, clock=clock, lock_timeout=30)
    factory = Factory(gate=anyio.Event())
    async with anyio.create_task_group() as group:
        group.start_soon(cache.get_or_set, "k", factory)
        await factory.started.wait()
        group.cancel_scope.cancel()
    assert await shared.get(LEASE_PREFIX + "k") is None
    assert not cache.flight and not cache.refreshing
    other = HybridCache(new_shared(), clock=clock, lock_timeout=30)
    assert await other.get_or_set("k", Factory()) == b"value 1"
    assert other.stats.lock_waits == 0


async def test_closing_cancels_background_refreshes_and_gives_their_leases_back(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    shared = new_shared()
    factory = Factory()
    async with HybridCache(shared, clock=clock, eager_refresh=0.5, lock_timeout=30) as cache:
        await cache.get_or_set("k", factory, absolute_in=10)
        clock.advance(5)
        factory.gate = anyio.Event()
        factory.started = anyio.Event()
        await cache.get_or_set("k", factory, absolute_in=10)
        await factory.started.wait()
        (task,) = cache.refreshing.values()
    assert task.cancelled() and not cache.refreshing
    assert await shared.get(LEASE_PREFIX + "k") is None
    assert await cache.get("k") == b"value 1"
