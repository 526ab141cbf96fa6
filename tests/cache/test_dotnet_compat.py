"""Item compatibility with the AWS .NET distributed cache provider, both ways.

``dotnet_item`` below is what the provider's ``SetAsync`` puts, rebuilt by hand from its sources
(``DynamoDBDistributedCache.cs``, ``Internal/DynamoDBCacheProviderHelper.cs``,
``Internal/Utilities.cs``): the key is ``"dc:" + key`` or ``prefix + ":dc:" + key``; ``value`` is
Binary; the TTL attribute is ``min(now + sliding, deadline)`` in whole epoch seconds, or the
deadline alone, or NULL; ``ttl_window`` is ``TimeSpan.ToString()`` or NULL; ``ttl_deadline`` is
epoch seconds or NULL. Its refresh sets only the TTL attribute to that same formula.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from dynsession.cache import DynamoDBCache, HybridCache
from dynsession.cache.hybrid.envelope import MARKER

from ..support import FakeClock, TransportName

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = [pytest.mark.anyio, pytest.mark.dynamodb]

NULL = {"NULL": True}

# TimeSpan.ToString() ("c" format) of each window, as .NET prints it.
WINDOWS = {
    "20 minutes": (timedelta(minutes=20), "00:20:00"),
    "1 day 2:03:04": (timedelta(days=1, hours=2, minutes=3, seconds=4), "1.02:03:04"),
    "90.5 seconds": (timedelta(seconds=90, microseconds=500_000), "00:01:30.5000000"),
    "14 days": (timedelta(days=14), "14.00:00:00"),
}


def dotnet_key(key: str, prefix: str | None) -> str:
    return f"dc:{key}" if not prefix else f"{prefix}:dc:{key}"


def dotnet_item(
    key: str,
    value: bytes,
    now: int,
    *,
    window: tuple[timedelta, str] | None = None,
    absolute: datetime | None = None,
    absolute_in: timedelta | None = None,
    prefix: str | None = None,
    ttl_attribute: str = "ttl_date",
) -> dict[str, Any]:
    """The item the .NET provider writes for Set(key, value, options) at ``now``."""
    deadline: int | None = None
    if absolute_in is not None:
        deadline = now + int(absolute_in.total_seconds())
    elif absolute is not None:
        deadline = int(absolute.timestamp())
    ttl = deadline
    if window is not None:
        slid = now + int(window[0].total_seconds())
        ttl = slid if deadline is None or slid < deadline else deadline
    return {
        "id": {"S": dotnet_key(key, prefix)},
        "value": {"B": value},
        ttl_attribute: NULL if ttl is None else {"N": str(ttl)},
        "ttl_window": NULL if window is None else {"S": window[1]},
        "ttl_deadline": NULL if deadline is None else {"N": str(deadline)},
    }


def dotnet_refreshed(item: dict[str, Any], now: int, window: tuple[timedelta, str] | None) -> dict[str, Any]:
    """The item after .NET's refresh at ``now``: with a window, the TTL becomes
    ``min(now + window, deadline)``; nothing else changes, and without a window nothing does."""
    if window is None:
        return item
    slid = now + int(window[0].total_seconds())
    deadline = item["ttl_deadline"].get("N")
    ttl = slid if deadline is None or slid < int(deadline) else int(deadline)
    return {**item, "ttl_date": {"N": str(ttl)}}


# (name, what .NET's DistributedCacheEntryOptions held, the same as DynamoDBCache.set arguments)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    *[(f"sliding {name}", {"window": window}, {"sliding": window[0]}) for name, window in WINDOWS.items()],
    ("absolute_in", {"absolute_in": timedelta(hours=1)}, {"absolute_in": 3600}),
    ("absolute", {"absolute": "in 2 hours"}, {"absolute": "in 2 hours"}),
    (
        "sliding capped by absolute_in",
        {"window": WINDOWS["20 minutes"], "absolute_in": timedelta(minutes=5)},
        {"sliding": timedelta(minutes=20), "absolute_in": timedelta(minutes=5)},
    ),
    (
        "sliding under a later absolute",
        {"window": WINDOWS["20 minutes"], "absolute": "in 2 hours"},
        {"sliding": 1200, "absolute": "in 2 hours"},
    ),
]


def moment(clock: FakeClock, options: dict[str, Any]) -> dict[str, Any]:
    later = datetime.fromtimestamp(clock.now + 7200, tz=timezone.utc)
    return {name: later if value == "in 2 hours" else value for name, value in options.items()}


@pytest.fixture
def unique() -> str:
    return f"k-{uuid.uuid4().hex[:12]}"


def raw_item(client: DynamoDBClient, table: str, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(
        TableName=table, Key={"id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return item


def dotnet_style(endpoint: str, table: str, clock: FakeClock, **options: Any) -> DynamoDBCache:
    """A cache configured as a default .NET provider on a table without TTL configured: no
    prefix, TTL attribute ``ttl_date``."""
    options.setdefault("key_prefix", "dc:")
    options.setdefault("ttl_attribute", "ttl_date")
    return DynamoDBCache(table, endpoint_url=endpoint, clock=clock, **options)


@pytest.mark.parametrize(("name", "dotnet", "python"), CASES, ids=[case[0] for case in CASES])
async def test_python_writes_the_item_dotnet_writes(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    name: str,
    dotnet: dict[str, Any],
    python: dict[str, Any],
    transport: TransportName,
) -> None:
    cache = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport)
    value = b"\x00\x01 binary value \xff"
    await cache.set(unique, value, **moment(clock, python))
    expected = dotnet_item(unique, value, clock.now, **moment(clock, dotnet))
    assert raw_item(dynamodb_client, table_name, dotnet_key(unique, None)) == expected


async def test_python_defaults_match_dotnet_with_prefix_cache_and_the_table_ttl_attribute(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    # .NET with PartitionKeyPrefix = "cache", on a table whose TTL is on "ttl" (which .NET reads
    # from DescribeTimeToLive), given SlidingExpiration = 20 minutes.
    cache = DynamoDBCache(table_name, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock)
    await cache.set(unique, b"v")
    expected = dotnet_item(
        unique, b"v", clock.now, window=WINDOWS["20 minutes"], prefix="cache", ttl_attribute="ttl"
    )
    assert raw_item(dynamodb_client, table_name, dotnet_key(unique, "cache")) == expected


async def test_an_entry_that_never_expires_is_all_null_as_in_dotnet(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    cache = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport, default_sliding=None)
    await cache.set(unique, b"forever")
    assert raw_item(dynamodb_client, table_name, dotnet_key(unique, None)) == dotnet_item(
        unique, b"forever", clock.now
    )
    clock.advance(10 * 365 * 86400)
    assert await cache.get(unique) == b"forever"


@pytest.mark.parametrize(("name", "dotnet", "python"), CASES, ids=[case[0] for case in CASES])
async def test_python_reads_what_dotnet_writes(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    name: str,
    dotnet: dict[str, Any],
    python: dict[str, Any],
    transport: TransportName,
) -> None:
    cache = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport, refresh_after=0)
    item = dotnet_item(unique, b"from .NET", clock.now, **moment(clock, dotnet))
    dynamodb_client.put_item(TableName=table_name, Item=item)
    assert await cache.get(unique) == b"from .NET"
    # It lives exactly as long as .NET's TTL says, however it is read.
    ttl = int(item["ttl_date"]["N"])
    clock.now = ttl - 1
    assert await cache.refresh(unique) is True
    stored = raw_item(dynamodb_client, table_name, dotnet_key(unique, None))
    # A refresh moves only the TTL, to what .NET's refresh computes; window and deadline stay as written.
    expected = dotnet_refreshed(item, clock.now, dotnet.get("window"))
    assert stored == expected
    clock.now = int(expected["ttl_date"]["N"])
    assert await cache.get(unique) is None


@pytest.mark.parametrize("prefix", ["orders", None])
async def test_dotnet_partition_key_prefixes_map_to_key_prefix(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    prefix: str | None,
    transport: TransportName,
) -> None:
    item = dotnet_item(
        unique, b"v", clock.now, window=WINDOWS["20 minutes"], prefix=prefix, ttl_attribute="ttl"
    )
    dynamodb_client.put_item(TableName=table_name, Item=item)
    key_prefix = f"{prefix}:dc:" if prefix else "dc:"
    cache = DynamoDBCache(
        table_name, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock, key_prefix=key_prefix
    )
    assert await cache.get(unique) == b"v"
    other = DynamoDBCache(
        table_name, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock, key_prefix="other:dc:"
    )
    assert await other.get(unique) is None


async def test_dotnet_items_past_their_ttl_or_without_a_value_are_misses(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    cache = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport)
    expired = dotnet_item(unique, b"old", clock.now - 3600, window=WINDOWS["20 minutes"])
    dynamodb_client.put_item(TableName=table_name, Item=expired)
    assert await cache.get(unique) is None
    assert await cache.refresh(unique) is False
    # What .NET's refresh leaves behind when it races a removal: the key and a TTL, no value.
    stub = {"id": {"S": dotnet_key(unique, None)}, "ttl_date": {"N": str(clock.now + 600)}}
    dynamodb_client.put_item(TableName=table_name, Item=stub)
    assert await cache.get(unique) is None
    assert await cache.add(unique, b"mine") is True
    assert await cache.get(unique) == b"mine"


async def test_a_window_nobody_can_parse_leaves_the_entry_readable_but_not_sliding(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    cache = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport, refresh_after=0)
    item = dotnet_item(unique, b"v", clock.now, window=WINDOWS["20 minutes"])
    item["ttl_window"] = {"S": "twenty minutes"}
    dynamodb_client.put_item(TableName=table_name, Item=item)
    clock.advance(600)
    assert await cache.get(unique) == b"v"
    assert raw_item(dynamodb_client, table_name, dotnet_key(unique, None)) == item


async def test_an_added_entry_is_the_dotnet_item_plus_a_token_dotnet_ignores(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    cache = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport)
    assert await cache.add(unique, b"added", sliding=timedelta(minutes=20)) is True
    item = raw_item(dynamodb_client, table_name, dotnet_key(unique, None))
    assert item is not None
    token = item.pop("tok")
    assert set(token) == {"B"} and len(token["B"]) == 8
    assert item == dotnet_item(unique, b"added", clock.now, window=WINDOWS["20 minutes"])


async def test_hybrid_entries_without_tags_or_fail_safe_are_what_dotnet_writes(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    # The promise the docs make: such entries are bare .NET items, so .NET reads them.
    shared = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport)
    cache = HybridCache(shared, clock=clock, lock_timeout=5)

    async def load() -> bytes:
        return b"from Python"

    await cache.get_or_set(unique, load, absolute_in=timedelta(hours=1))
    await cache.set(unique + "s", b"slides", sliding=WINDOWS["20 minutes"][0])
    expected = dotnet_item(unique, b"from Python", clock.now, absolute_in=timedelta(hours=1))
    assert raw_item(dynamodb_client, table_name, dotnet_key(unique, None)) == expected
    slides = dotnet_item(unique + "s", b"slides", clock.now, window=WINDOWS["20 minutes"])
    assert raw_item(dynamodb_client, table_name, dotnet_key(unique + "s", None)) == slides
    # And what .NET writes, HybridCache reads, with its expiry.
    dynamodb_client.put_item(
        TableName=table_name,
        Item=dotnet_item(unique + "n", b"from .NET", clock.now, absolute_in=timedelta(seconds=30)),
    )
    assert await cache.get(unique + "n") == b"from .NET"
    clock.advance(30)
    assert await cache.get(unique + "n") is None


async def test_hybrid_entries_with_tags_or_fail_safe_carry_a_header_dotnet_would_return(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    unique: str,
    transport: TransportName,
) -> None:
    shared = dotnet_style(dynamodb_endpoint, table_name, clock, transport=transport)
    await HybridCache(shared, clock=clock).set(unique, b"v", absolute_in=60, tags=("t",))
    await HybridCache(shared, clock=clock, fail_safe=600).set(unique + "f", b"v", absolute_in=60)
    for key in (unique, unique + "f"):
        item = raw_item(dynamodb_client, table_name, dotnet_key(key, None))
        assert item is not None and bytes(item["value"]["B"]).startswith(MARKER)
    fail_safe = raw_item(dynamodb_client, table_name, dotnet_key(unique + "f", None))
    assert fail_safe is not None and fail_safe["ttl_date"] == {"N": str(clock.now + 660)}
