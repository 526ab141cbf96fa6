"""HybridCache over every shared tier: the local copy, tags and fail-safe.

Each test runs over MemoryCache and over DynamoDBCache (both transports). Simulated processes are
separate HybridCache objects; over DynamoDB each has its own DynamoDBCache and connection.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dynsession import StoreUnavailable
from dynsession.cache import HybridCache, HybridCacheStats, InvalidCacheKey

from ..support import FakeClock
from .conftest import SharedCalls, SharedFactory

pytestmark = pytest.mark.anyio


def hybrid(new_shared: SharedFactory, clock: FakeClock, **options: object) -> HybridCache:
    options.setdefault("local_ttl", 5)
    return HybridCache(new_shared(), clock=clock, **options)  # type: ignore[arg-type]


async def test_a_recent_read_makes_no_call_and_local_ttl_bounds_it(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    cache = hybrid(new_shared, clock)
    calls = SharedCalls(cache.shared)  # type: ignore[arg-type]
    await cache.set("k", b"v", absolute_in=60)
    assert calls.take() == {"set": 1}
    for _ in range(3):
        clock.advance(1)
        assert await cache.get("k") == b"v"
    assert calls.take() == {}
    clock.advance(2)  # five seconds after the write
    assert await cache.get("k") == b"v"
    assert calls.take() == {"get_entry": 1}
    assert cache.stats == HybridCacheStats(local_hits=3, shared_hits=1)


async def test_another_process_reads_the_shared_tier_once_per_local_ttl(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    writer, reader = hybrid(new_shared, clock), hybrid(new_shared, clock, local_ttl=timedelta(seconds=10))
    await writer.set("k", b"v", sliding=600)
    assert await reader.get("k") == b"v"
    clock.advance(9)
    assert await reader.get("k") == b"v"
    assert reader.stats.as_dict() == {**HybridCacheStats().as_dict(), "local_hits": 1, "shared_hits": 1}


async def test_the_local_copy_never_outlives_its_entry(new_shared: SharedFactory, clock: FakeClock) -> None:
    cache = hybrid(new_shared, clock, local_ttl=30)
    await cache.set("k", b"v", absolute_in=3)
    clock.advance(2)
    assert await cache.get("k") == b"v"
    clock.advance(1)
    assert await cache.get("k") is None
    other = hybrid(new_shared, clock, local_ttl=30)
    await cache.set("j", b"w", sliding=4)
    assert await other.get("j") == b"w"
    clock.advance(4)  # the sliding window read with the entry bounds the other copy too
    assert await other.get("j") is None


async def test_remove_and_set_update_this_process_at_once(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    one, two = hybrid(new_shared, clock), hybrid(new_shared, clock)
    await one.set("k", b"first", absolute_in=60)
    assert await two.get("k") == b"first"
    await one.set("k", b"second", absolute_in=60)
    assert await one.get("k") == b"second"
    assert await two.get("k") == b"first"  # its copy is less than local_ttl old
    clock.advance(5)
    assert await two.get("k") == b"second"
    await two.remove("k")
    assert await two.get("k") is None
    assert await one.refresh("k") is False
    assert await one.get("k") is None


async def test_remove_by_tag_misses_at_once_here_and_within_local_ttl_elsewhere(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    here, there = hybrid(new_shared, clock), hybrid(new_shared, clock)
    await here.set("a", b"1", absolute_in=600, tags=("catalogue", "product:1"))
    await here.set("b", b"2", sliding=600, tags=("catalogue",))
    await here.set("c", b"3", absolute_in=600, tags=("other",))
    for key in "abc":
        assert await there.get(key) is not None
    clock.advance(1)
    await here.remove_by_tag("catalogue")
    assert await here.get("a") is None and await here.get("b") is None
    assert await here.get("c") == b"3"
    calls = SharedCalls(there.shared)  # type: ignore[arg-type]
    clock.advance(3)
    assert await there.get("a") == b"1"  # within local_ttl of its read: its copy stands
    clock.advance(1)
    assert await there.get("a") is None
    # The bounded cost: the entry and each tag not checked in the last local_ttl, once.
    assert calls.take() == {"get_entry": 1, "get": 2}
    assert await there.get("b") is None
    assert calls.take() == {"get_entry": 1}  # the tag's state is known here for local_ttl
    clock.advance(1)
    await here.set("a", b"new", absolute_in=600, tags=("catalogue",))
    assert await there.get("a") == b"new"  # set after the removal: live


async def test_an_entry_set_in_the_second_of_the_removal_counts_as_removed(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    here, there = hybrid(new_shared, clock), hybrid(new_shared, clock, local_ttl=0)
    await here.remove_by_tag("t")
    await here.set("k", b"v", absolute_in=60, tags=("t",))
    assert await here.get("k") is None
    assert await there.get("k") is None
    clock.advance(1)
    await here.set("k", b"v", absolute_in=60, tags=("t",))
    assert await here.get("k") == b"v" and await there.get("k") == b"v"


async def test_fail_safe_serves_the_local_copy_while_the_shared_tier_is_down(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    cache = hybrid(new_shared, clock, fail_safe=3600)
    runs = []

    async def load() -> bytes:
        runs.append(clock.now)
        return b"fresh %d" % len(runs)

    assert await cache.get_or_set("k", load, absolute_in=10) == b"fresh 1"
    calls = SharedCalls(cache.shared)  # type: ignore[arg-type]
    calls.failing = True
    clock.advance(20)
    assert await cache.get_or_set("k", load, absolute_in=10) == b"fresh 1"
    assert calls.take() == {"get_entry": 1}
    # Served for local_ttl without asking the failing tier again, each serve counted.
    assert await cache.get_or_set("k", load, absolute_in=10) == b"fresh 1"
    assert calls.take() == {}
    assert cache.stats.stale_served == 2 and runs == [clock.now - 20]
    clock.advance(3600)  # past the fail-safe window: nothing to serve, the failure shows
    with pytest.raises(StoreUnavailable):
        await cache.get_or_set("k", load, absolute_in=10)
    calls.failing = False
    assert await cache.get_or_set("k", load, absolute_in=10) == b"fresh 2"


async def test_without_fail_safe_a_failing_shared_tier_raises(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    cache = hybrid(new_shared, clock)

    async def load() -> bytes:
        return b"v"

    await cache.get_or_set("k", load, absolute_in=10)
    SharedCalls(cache.shared).failing = True  # type: ignore[arg-type]
    clock.advance(20)
    with pytest.raises(StoreUnavailable):
        await cache.get_or_set("k", load, absolute_in=10)


async def test_fail_safe_serves_the_shared_tiers_kept_item_when_the_factory_fails(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    writer = hybrid(new_shared, clock, fail_safe=timedelta(hours=1))

    async def load() -> bytes:
        return b"good"

    async def broken() -> bytes:
        raise RuntimeError("backend down")

    await writer.get_or_set("k", load, absolute_in=10)
    clock.advance(30)
    reader = hybrid(new_shared, clock, fail_safe=3600)  # a process without a copy of its own
    assert await reader.get("k") is None  # expired is expired for a read
    assert await reader.get_or_set("k", broken, absolute_in=10) == b"good"
    assert reader.stats.stale_served == 1 and reader.stats.factory_runs == 1
    plain = hybrid(new_shared, clock)
    with pytest.raises(RuntimeError, match="backend down"):
        await plain.get_or_set("k", broken, absolute_in=10)
    clock.advance(3600)
    with pytest.raises(RuntimeError):
        await hybrid(new_shared, clock, fail_safe=3600).get_or_set("k", broken, absolute_in=10)


async def test_fail_safe_keeps_the_shared_item_for_the_window(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    shared = new_shared()
    cache = HybridCache(shared, clock=clock, fail_safe=100)
    await cache.set("k", b"v", absolute_in=10)
    entry = await shared.get_entry("k")
    assert entry is not None and entry.ttl == clock.now + 110 and entry.deadline == clock.now + 110


async def test_a_stored_value_that_begins_like_an_envelope_reads_back_whole(
    new_shared: SharedFactory, clock: FakeClock
) -> None:
    writer, reader = hybrid(new_shared, clock), hybrid(new_shared, clock)
    tricky = b"\x00HC1\x00\x02{}rest"
    await writer.set("k", tricky, absolute_in=60)
    assert await reader.get("k") == tricky


async def test_callers_cannot_use_the_caches_own_keys(new_shared: SharedFactory, clock: FakeClock) -> None:
    cache = hybrid(new_shared, clock)
    with pytest.raises(InvalidCacheKey):
        await cache.get("__hybrid__:tag:t")
    with pytest.raises(TypeError, match="tags="):
        await cache.set("k", b"v", tags="catalogue")  # type: ignore[arg-type]
