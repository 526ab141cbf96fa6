"""The DistributedCache contract, run over MemoryCache and DynamoDBCache (on a real wire)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest

from dynsession.cache import (
    CacheValueNotSerializable,
    CacheValueTooLarge,
    DistributedCache,
    InvalidCacheKey,
    InvalidExpiry,
)

from ..support import FakeClock

pytestmark = pytest.mark.anyio


def at(clock: FakeClock, seconds: int) -> datetime:
    return datetime.fromtimestamp(clock.now + seconds, tz=timezone.utc)


async def test_a_missing_key_is_a_miss(cache: DistributedCache) -> None:
    assert await cache.get("never-set") is None


async def test_set_then_get_returns_the_bytes(cache: DistributedCache) -> None:
    value = bytes(range(256)) * 3
    await cache.set("k", value)
    assert await cache.get("k") == value


async def test_set_replaces_and_remove_deletes(cache: DistributedCache) -> None:
    await cache.set("k", b"one")
    await cache.set("k", b"two")
    assert await cache.get("k") == b"two"
    await cache.remove("k")
    assert await cache.get("k") is None
    await cache.remove("k")  # a missing key is fine


async def test_keys_are_kept_apart(cache: DistributedCache) -> None:
    await cache.set("a", b"A")
    await cache.set("b", b"B")
    await cache.remove("a")
    assert (await cache.get("a"), await cache.get("b")) == (None, b"B")


async def test_an_entry_expires_after_its_sliding_window_without_reads(
    cache: DistributedCache, clock: FakeClock
) -> None:
    await cache.set("k", b"v", sliding=60)
    clock.advance(59)
    assert await cache.get("k") == b"v"
    clock.advance(60)  # the read at 59 restarted the window: 59 + 60 = 119
    assert await cache.get("k") is None


async def test_reads_keep_a_sliding_entry_alive(cache: DistributedCache, clock: FakeClock) -> None:
    await cache.set("k", b"v", sliding=timedelta(seconds=60))
    for _ in range(10):
        clock.advance(50)
        assert await cache.get("k") == b"v"
    clock.advance(60)
    assert await cache.get("k") is None


async def test_a_read_within_refresh_after_does_not_move_the_deadline(
    cache: DistributedCache, clock: FakeClock
) -> None:
    # A 600 s window refreshes only when that gains more than min(60, 600 / 10) = 60 s.
    await cache.set("k", b"v", sliding=600)
    clock.advance(30)
    assert await cache.get("k") == b"v"
    clock.advance(570)
    assert await cache.get("k") is None


async def test_the_absolute_deadline_caps_sliding(cache: DistributedCache, clock: FakeClock) -> None:
    await cache.set("k", b"v", sliding=60, absolute_in=100)
    clock.advance(50)
    assert await cache.get("k") == b"v"
    clock.advance(49)
    assert await cache.get("k") == b"v"
    assert await cache.refresh("k") is True
    clock.advance(1)
    assert await cache.get("k") is None


async def test_an_absolute_moment_expires_the_entry_then(cache: DistributedCache, clock: FakeClock) -> None:
    await cache.set("k", b"v", absolute=at(clock, 30))
    clock.advance(29)
    assert await cache.get("k") == b"v"
    clock.advance(1)
    assert await cache.get("k") is None


async def test_absolute_in_wins_over_absolute(cache: DistributedCache, clock: FakeClock) -> None:
    await cache.set("k", b"v", absolute=at(clock, 1000), absolute_in=10)
    clock.advance(10)
    assert await cache.get("k") is None


@pytest.mark.parametrize(
    "options",
    [
        {"absolute": "past"},
        {"absolute": "now"},
        {"absolute": "naive"},
        {"sliding": 0},
        {"sliding": -5},
        {"sliding": 0.5},
        {"absolute_in": timedelta(0)},
        {"sliding": "60"},
        {"sliding": True},
    ],
    ids=lambda options: "-".join(f"{k}={v}" for k, v in options.items()),
)
async def test_bad_expiry_raises_and_writes_nothing(
    cache: DistributedCache, clock: FakeClock, options: dict[str, Any]
) -> None:
    moments = {
        "past": at(clock, -1),
        "now": at(clock, 0),
        "naive": datetime.fromtimestamp(clock.now + 60, tz=timezone.utc).replace(tzinfo=None),
    }
    resolved: dict[str, Any] = {
        name: moments.get(value, value) if isinstance(value, str) else value
        for name, value in options.items()
    }
    with pytest.raises(InvalidExpiry):
        await cache.set("k", b"v", **resolved)
    with pytest.raises(InvalidExpiry):
        await cache.add("k", b"v", **resolved)
    assert await cache.get("k") is None


async def test_entries_without_expiry_take_the_default_sliding_window(
    cache: DistributedCache, clock: FakeClock
) -> None:
    await cache.set("k", b"v")
    clock.advance(20 * 60 - 1)
    assert await cache.get("k") == b"v"
    clock.advance(20 * 60)
    assert await cache.get("k") is None


async def test_refresh_restarts_the_sliding_window(cache: DistributedCache, clock: FakeClock) -> None:
    await cache.set("k", b"v", sliding=60)
    clock.advance(5)  # too little for a read to refresh; an explicit refresh always does
    assert await cache.refresh("k") is True
    clock.advance(59)  # past the first window (60), within the restarted one (65)
    assert await cache.get("k") == b"v"


async def test_refresh_of_a_missing_or_expired_key_creates_nothing(
    cache: DistributedCache, clock: FakeClock
) -> None:
    assert await cache.refresh("missing") is False
    assert await cache.get("missing") is None
    await cache.set("k", b"v", sliding=10)
    clock.advance(10)
    assert await cache.refresh("k") is False
    assert await cache.get("k") is None


async def test_expired_entries_are_misses(cache: DistributedCache, clock: FakeClock) -> None:
    await cache.set("k", b"v", absolute_in=5)
    clock.advance(5)
    assert await cache.get("k") is None
    assert await cache.get_json("k") is None


async def test_add_stores_only_when_no_live_entry_exists(cache: DistributedCache, clock: FakeClock) -> None:
    assert await cache.add("k", b"first", absolute_in=10) is True
    assert await cache.add("k", b"second") is False
    assert await cache.get("k") == b"first"
    clock.advance(10)
    assert await cache.add("k", b"third") is True  # the first expired, even if not yet removed
    assert await cache.get("k") == b"third"


async def test_add_is_atomic_under_20_concurrent_callers(cache: DistributedCache) -> None:
    results: dict[int, bool] = {}

    async def contend(number: int) -> None:
        results[number] = await cache.add("lock", str(number).encode(), absolute_in=60)

    async with anyio.create_task_group() as group:
        for number in range(20):
            group.start_soon(contend, number)
    winners = [number for number, won in results.items() if won]
    assert len(results) == 20 and len(winners) == 1
    assert await cache.get("lock") == str(winners[0]).encode()


async def test_get_or_set_runs_the_factory_once_for_50_concurrent_misses(cache: DistributedCache) -> None:
    runs = 0
    release = anyio.Event()

    async def factory() -> bytes:
        nonlocal runs
        runs += 1
        await release.wait()
        return b"computed"

    results: list[bytes] = []

    async def ask() -> None:
        results.append(await cache.get_or_set("slow", factory, sliding=60))

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert runs == 1
    assert results == [b"computed"] * 50
    assert await cache.get_or_set("slow", factory) == b"computed"
    assert runs == 1


async def test_a_failing_factory_fails_every_waiter_and_stores_nothing(cache: DistributedCache) -> None:
    runs = 0
    release = anyio.Event()

    async def factory() -> bytes:
        nonlocal runs
        runs += 1
        await release.wait()
        raise RuntimeError("backend down")

    failures: list[BaseException] = []

    async def ask() -> None:
        try:
            await cache.get_or_set("k", factory)
        except RuntimeError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert runs == 1 and len(failures) == 5
    assert await cache.get("k") is None

    async def works() -> bytes:
        return b"ok"

    assert await cache.get_or_set("k", works) == b"ok"


async def test_get_or_set_checks_the_expiry_before_running_the_factory(cache: DistributedCache) -> None:
    factory: Callable[[], Awaitable[bytes]] = pytest.fail
    with pytest.raises(InvalidExpiry):
        await cache.get_or_set("k", factory, sliding=0)


async def test_values_are_bytes(cache: DistributedCache) -> None:
    with pytest.raises(TypeError, match="set_json"):
        await cache.set("k", "text")  # type: ignore[arg-type]
    await cache.set("k", bytearray(b"ba"))  # type: ignore[arg-type]
    assert await cache.get("k") == b"ba"


async def test_json_values_round_trip(cache: DistributedCache) -> None:
    value = {"name": "Käse", "cents": [480, 250], "fresh": True, "note": None}
    await cache.set_json("k", value)
    assert await cache.get_json("k") == value
    assert await cache.get("k") == '{"name":"Käse","cents":[480,250],"fresh":true,"note":null}'.encode()
    calls = 0

    async def factory() -> list[int]:
        nonlocal calls
        calls += 1
        return [1, 2]

    assert await cache.get_or_set_json("j", factory) == [1, 2]
    assert await cache.get_or_set_json("j", factory) == [1, 2]
    assert calls == 1


async def test_values_json_cannot_hold_raise_before_any_write(cache: DistributedCache) -> None:
    for bad in ({1, 2}, float("nan"), b"bytes", {"when": datetime.now(timezone.utc)}):
        with pytest.raises(CacheValueNotSerializable):
            await cache.set_json("k", bad)
    assert await cache.get("k") is None
    await cache.set("k", b"\xff not json")
    with pytest.raises(ValueError):
        await cache.get_json("k")


async def test_an_oversize_value_raises_before_any_write(cache: DistributedCache) -> None:
    await cache.set("k", b"small")
    with pytest.raises(CacheValueTooLarge) as raised:
        await cache.set("k", b"x" * 410_000)
    assert raised.value.size > raised.value.limit == 409_600
    with pytest.raises(CacheValueTooLarge):
        await cache.add("new", b"x" * 410_000)
    assert await cache.get("k") == b"small"
    assert await cache.get("new") is None


async def test_a_value_just_under_the_limit_fits(cache: DistributedCache) -> None:
    big = b"y" * 400_000
    await cache.set("k", big)
    assert await cache.get("k") == big


@pytest.mark.parametrize(
    "bad", ["", "é" * 513, "x" * 1025, "lone \ud800 surrogate", 42, None, b"bytes"], ids=repr
)
async def test_bad_keys_raise_before_any_io(cache: DistributedCache, bad: Any) -> None:
    async def factory() -> bytes:
        raise AssertionError("not reached")

    attempts = [
        cache.get(bad),
        cache.set(bad, b"v"),
        cache.add(bad, b"v"),
        cache.refresh(bad),
        cache.remove(bad),
        cache.get_or_set(bad, factory),
        cache.set_json(bad, 1),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidCacheKey):
            await attempt


async def test_keys_at_the_limit_and_of_any_characters_work(cache: DistributedCache) -> None:
    for key in ("é" * 512, "x" * 1024, "with spaces/and:colons", "🙂 emoji", "\x00control\n"):
        await cache.set(key, key.encode())
        assert await cache.get(key) == key.encode()
