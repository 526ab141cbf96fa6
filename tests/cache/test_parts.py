"""The cache's pure parts: .NET TimeSpan text, expiry arithmetic, keys, single flight, memory bounds."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from botocore.config import Config

from dynsession import ConfigurationError, StoreUnavailable
from dynsession.cache import CacheValueTooLarge, DynamoDBCache, InvalidCacheKey, InvalidExpiry, MemoryCache
from dynsession.cache.entry import CacheEntry, refresh_target
from dynsession.cache.expiry import Expiry, resolve
from dynsession.cache.flight import SingleFlight
from dynsession.cache.keys import check_key
from dynsession.cache.timespan import format_timespan, parse_timespan
from dynsession.stores.dynamodb_wire import MAX_ITEM_BYTES

from ..clients import free_port
from ..support import FakeClock

NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=20), "00:20:00"),
        (timedelta(seconds=1), "00:00:01"),
        (timedelta(hours=23, minutes=59, seconds=59), "23:59:59"),
        (timedelta(days=1), "1.00:00:00"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1.02:03:04"),
        (timedelta(seconds=90, microseconds=500_000), "00:01:30.5000000"),
        (timedelta(microseconds=1), "00:00:00.0000010"),
        (timedelta(days=10_000), "10000.00:00:00"),
        (-timedelta(minutes=5), "-00:05:00"),
    ],
)
def test_timespans_format_as_dotnet_prints_them_and_parse_back(value: timedelta, text: str) -> None:
    assert format_timespan(value) == text
    assert parse_timespan(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", timedelta(days=3)),
        ("1.02:03", timedelta(days=1, hours=2, minutes=3)),
        ("02:03", timedelta(hours=2, minutes=3)),
        ("1:02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 00:20:00 ", timedelta(minutes=20)),
        ("00:00:00.1234567", timedelta(microseconds=123_456)),
        ("00:00:00.5", timedelta(microseconds=500_000)),
    ],
)
def test_other_shapes_timespan_parse_accepts_are_read(text: str, value: timedelta) -> None:
    assert parse_timespan(text) == value


@pytest.mark.parametrize(
    "text", ["", "twenty", "24:00:00", "00:60:00", "00:00:60", "1.2.3", "00:00:00.12345678"]
)
def test_malformed_timespans_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timespan(text)


def test_the_ttl_is_the_earlier_of_the_slid_window_and_the_deadline() -> None:
    assert Expiry(timedelta(seconds=90.9)).ttl(NOW) == NOW + 90  # whole seconds, rounded down as .NET does
    assert Expiry(timedelta(seconds=60), NOW + 30).ttl(NOW) == NOW + 30
    assert Expiry(None, NOW + 30).ttl(NOW) == NOW + 30
    assert Expiry().ttl(NOW) is None


def test_resolve_reads_the_set_arguments() -> None:
    default = timedelta(minutes=20)
    later = datetime.fromtimestamp(NOW + 100.7, tz=timezone(timedelta(hours=2)))
    none: dict[str, Any] = {"sliding": None, "absolute": None, "absolute_in": None}
    assert resolve(NOW, **none, default_sliding=default) == Expiry(default)
    assert resolve(NOW, **none, default_sliding=None) == Expiry()
    assert resolve(NOW, **{**none, "absolute": later}, default_sliding=default) == Expiry(None, NOW + 100)
    both: dict[str, Any] = {**none, "absolute": later, "absolute_in": timedelta(seconds=5)}
    assert resolve(NOW, **both, default_sliding=default) == Expiry(None, NOW + 5)
    with pytest.raises(InvalidExpiry, match="future"):
        resolve(
            NOW,
            **{**none, "absolute": datetime.fromtimestamp(NOW + 0.5, tz=timezone.utc)},
            default_sliding=None,
        )
    with pytest.raises(InvalidExpiry, match="datetime"):
        resolve(NOW, **{**none, "absolute": NOW + 60}, default_sliding=None)


def test_reads_refresh_when_they_gain_more_than_refresh_after() -> None:
    entry = CacheEntry(b"v", ttl=NOW + 600, window=timedelta(seconds=600))
    assert refresh_target(entry, NOW + 60, None) is None  # default threshold min(60, 600 / 10) = 60
    assert refresh_target(entry, NOW + 61, None) == NOW + 661
    assert refresh_target(entry, NOW + 5, 4) == NOW + 605
    assert refresh_target(entry, NOW, 0) == NOW + 600  # 0: every read, as .NET does
    short = CacheEntry(b"v", ttl=NOW + 5, window=timedelta(seconds=5))
    assert refresh_target(short, NOW + 1, None) == NOW + 6  # under 10 s the default threshold is 0
    capped = CacheEntry(b"v", ttl=NOW + 100, window=timedelta(seconds=600), deadline=NOW + 100)
    assert refresh_target(capped, NOW + 90, None) is None
    assert refresh_target(CacheEntry(b"v", ttl=NOW + 100, deadline=NOW + 100), NOW + 90, 0) is None


def test_keys_are_checked_with_clear_messages() -> None:
    assert check_key("k") == "k"
    for bad, message in [
        ("", "empty"),
        (1, "not int"),
        ("é" * 513, "1026 bytes"),
        ("\udfff", "surrogate"),
    ]:
        with pytest.raises(InvalidCacheKey, match=message):
            check_key(bad)


def test_bad_options_fail_when_the_cache_is_built() -> None:
    options: dict[str, Any]
    for options in (
        {"default_sliding": 0},
        {"refresh_after": -1},
        {"refresh_after": "soon"},
        {"max_entries": 0},
        {"max_bytes": 1000},
        {"compress_threshold": -1},
    ):
        with pytest.raises(ConfigurationError):
            MemoryCache(**options)
    for options in (
        {"key_prefix": "p" * 1025},
        {"key_prefix": 3},
        {"max_concurrency": 0},
        {"compress_threshold": -1},
    ):
        with pytest.raises(ConfigurationError):
            DynamoDBCache("t", **options)


@pytest.mark.anyio
async def test_memory_is_bounded_by_entries_least_recently_used_first(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock, max_entries=3)
    for key in "abc":
        await cache.set(key, key.encode())
    assert await cache.get("a") == b"a"  # now the most recently used
    await cache.set("d", b"d")
    assert len(cache) == 3
    assert [await cache.get(key) for key in "abcd"] == [b"a", None, b"c", b"d"]


@pytest.mark.anyio
async def test_memory_is_bounded_by_bytes(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock, max_bytes=409_600)
    await cache.set("a", b"x" * 200_000)
    await cache.set("b", b"x" * 200_000)
    assert cache.size_bytes == 400_002
    await cache.set("c", b"x" * 10_000)
    assert await cache.get("a") is None and cache.size_bytes == 210_002
    await cache.set("b", b"small")
    await cache.remove("c")
    assert cache.size_bytes == 6


@pytest.mark.anyio
async def test_expired_memory_entries_are_dropped_when_met(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", sliding=10)
    clock.advance(10)
    assert await cache.get("k") is None
    assert len(cache) == 0 and cache.size_bytes == 0


@pytest.mark.anyio
async def test_single_flight_survives_the_leader_being_cancelled() -> None:
    flight: SingleFlight[str] = SingleFlight()
    runs: list[str] = []
    release = anyio.Event()

    async def work(name: str) -> str:
        runs.append(name)
        await release.wait()
        return name

    results: list[str] = []

    async def follower() -> None:
        results.append(await flight.run("k", lambda: work("follower")))

    async with anyio.create_task_group() as outer:
        async with anyio.create_task_group() as leader:
            leader.start_soon(flight.run, "k", lambda: work("leader"))
            await anyio.wait_all_tasks_blocked()
            outer.start_soon(follower)
            await anyio.wait_all_tasks_blocked()
            leader.cancel_scope.cancel()
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert runs == ["leader", "follower"]
    assert results == ["follower"] and len(flight) == 0


@pytest.mark.anyio
async def test_an_unreachable_endpoint_fails_the_startup_check_saying_what_to_set(clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cache = DynamoDBCache(
        "t", endpoint_url=url, clock=clock, config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(StoreUnavailable, match="cannot reach the DynamoDB endpoint") as raised:
        async with cache:
            pass
    assert "pass endpoint_url= to DynamoDBCache" in str(raised.value)
    assert raised.value.original is not None


@pytest.mark.anyio
async def test_memory_cache_measures_an_add_with_its_write_token_as_dynamodb_does() -> None:
    """DynamoDBCache's add stores an 8-byte write token (``tok``) beside the value, 11 bytes more
    than a set's item: MemoryCache refuses the same adds, so a value that fits in memory fits in
    DynamoDB."""
    value = random.Random(20261207).randbytes(MAX_ITEM_BYTES)  # incompressible
    cache = MemoryCache()
    low, high = 0, MAX_ITEM_BYTES  # the longest value a set stores: low fits, high does not
    while high - low > 1:
        middle = (low + high) // 2
        try:
            await cache.set("a", value[:middle])
            low = middle
        except CacheValueTooLarge:
            high = middle
    assert await cache.add("b", value[: low - 11])
    with pytest.raises(CacheValueTooLarge):
        await cache.add("c", value[: low - 10])
    assert await cache.get("c") is None
