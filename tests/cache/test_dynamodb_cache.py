"""DynamoDBCache on a real wire: calls per operation, failures, and the table shared with sessions."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from botocore.config import Config

from dynsession import DynamoDBStore, SessionRecord, StoreUnavailable, TableConfigError
from dynsession._operator.cli import main as cli_main
from dynsession.cache import CacheValueTooLarge, DynamoDBCache

from ..faults import Fault, FaultProxy
from ..support import FakeClock, TransportName
from .conftest import count_calls

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = [pytest.mark.anyio, pytest.mark.dynamodb]


async def test_each_operation_makes_the_fewest_calls(dynamodb_cache: DynamoDBCache, clock: FakeClock) -> None:
    calls = count_calls(dynamodb_cache)
    cache = dynamodb_cache

    async def factory() -> bytes:
        return b"made"

    assert await cache.get("k") is None
    assert calls.take() == {"GetItem": 1}
    await cache.set("k", b"v", sliding=600)
    assert calls.take() == {"PutItem": 1}
    clock.advance(60)  # gains 60 s, not more than refresh_after (min(60, 600 / 10))
    assert await cache.get("k") == b"v"
    assert calls.take() == {"GetItem": 1}
    clock.advance(1)
    assert await cache.get("k") == b"v"
    assert calls.take() == {"GetItem": 1, "UpdateItem": 1}
    assert await cache.refresh("k") is True
    clock.advance(1)
    assert await cache.refresh("k") is True
    assert calls.take() == {
        "GetItem": 2,
        "UpdateItem": 1,
    }  # the first refresh at the same second gains nothing
    assert await cache.add("k", b"w") is False
    assert calls.take() == {"PutItem": 1}
    await cache.remove("k")
    assert calls.take() == {"DeleteItem": 1}
    assert await cache.get_or_set("g", factory) == b"made"
    assert calls.take() == {"GetItem": 1, "PutItem": 1}
    assert await cache.get_or_set("g", factory) == b"made"
    assert calls.take() == {"GetItem": 1}


async def test_50_concurrent_misses_cost_one_read_and_one_write(dynamodb_cache: DynamoDBCache) -> None:
    calls = count_calls(dynamodb_cache)
    release = anyio.Event()

    async def factory() -> bytes:
        await release.wait()
        return b"catalogue"

    async def ask() -> None:
        assert await dynamodb_cache.get_or_set("catalogue", factory) == b"catalogue"

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert calls.take() == {"GetItem": 1, "PutItem": 1}


async def test_refresh_on_every_read_when_refresh_after_is_zero(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    # The .NET provider's behaviour, for comparison: an UpdateItem with every hit on a sliding entry.
    cache = DynamoDBCache(
        table_name,
        endpoint_url=dynamodb_endpoint,
        transport=transport,
        key_prefix=key_prefix,
        clock=clock,
        refresh_after=0,
    )
    calls = count_calls(cache)
    await cache.set("k", b"v", sliding=600)
    calls.take()
    for _ in range(3):
        assert await cache.get("k") == b"v"
    assert calls.take() == {"GetItem": 3, "UpdateItem": 3}


async def test_an_oversize_value_makes_no_call(dynamodb_cache: DynamoDBCache) -> None:
    calls = count_calls(dynamodb_cache)
    with pytest.raises(CacheValueTooLarge):
        await dynamodb_cache.set("k", b"x" * 410_000)
    with pytest.raises(CacheValueTooLarge):
        await dynamodb_cache.get_or_set("k", _returns(b"x" * 410_000))
    assert calls.take() == {"GetItem": 1}  # get_or_set's read; no write was attempted


def _returns(value: bytes) -> Any:
    async def factory() -> bytes:
        return value

    return factory


async def test_compression_is_opt_in_and_lets_compressible_values_fit(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    transport: TransportName,
) -> None:
    value = b'{"sku":"apple","cents":50},' * 40_000  # about 1 MB, very repetitive
    plain = DynamoDBCache(
        table_name, endpoint_url=dynamodb_endpoint, transport=transport, key_prefix=key_prefix, clock=clock
    )
    with pytest.raises(CacheValueTooLarge):
        await plain.set("big", value)
    packed = DynamoDBCache(
        table_name,
        endpoint_url=dynamodb_endpoint,
        transport=transport,
        key_prefix=key_prefix,
        clock=clock,
        compress_threshold=1024,
    )
    await packed.set("big", value)
    await packed.set("small", b"short")
    assert await packed.get("big") == value
    assert await plain.get("big") == value  # any DynamoDBCache reads it, whatever its own setting
    item = dynamodb_client.get_item(TableName=table_name, Key={"id": {"S": key_prefix + "big"}})["Item"]
    assert item["encoding"] == {"S": "zlib"} and len(item["value"]["B"]) < 20_000
    small = dynamodb_client.get_item(TableName=table_name, Key={"id": {"S": key_prefix + "small"}})["Item"]
    assert "encoding" not in small


async def test_a_corrupted_compressed_value_is_a_miss_with_a_warning(
    dynamodb_cache: DynamoDBCache,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await dynamodb_cache.set("k", b"v")
    dynamodb_client.update_item(
        TableName=table_name,
        Key={"id": {"S": dynamodb_cache.layout.key_prefix + "k"}},
        UpdateExpression="SET #e = :z",
        ExpressionAttributeNames={"#e": "encoding"},
        ExpressionAttributeValues={":z": {"S": "zlib"}},
    )
    with caplog.at_level(logging.WARNING, logger="dynsession.cache"):
        assert await dynamodb_cache.get("k") is None
    assert "read as a miss" in caplog.text


async def test_expired_items_dynamodb_has_not_removed_are_misses(
    dynamodb_cache: DynamoDBCache, dynamodb_client: DynamoDBClient, table_name: str, clock: FakeClock
) -> None:
    await dynamodb_cache.set("k", b"v", sliding=30)
    clock.advance(30)
    raw = dynamodb_client.get_item(
        TableName=table_name, Key={"id": {"S": dynamodb_cache.layout.key_prefix + "k"}}
    )
    assert "Item" in raw  # still stored: TTL deletion is DynamoDB's background job
    assert await dynamodb_cache.get("k") is None


async def test_a_missing_table_is_an_error_never_a_miss(
    dynamodb_endpoint: str, clock: FakeClock, transport: TransportName
) -> None:
    cache = DynamoDBCache(
        f"dynsession-absent-{uuid.uuid4().hex[:8]}",
        endpoint_url=dynamodb_endpoint,
        transport=transport,
        clock=clock,
    )
    for attempt in (
        cache.get("k"),
        cache.set("k", b"v"),
        cache.add("k", b"v"),
        cache.refresh("k"),
        cache.remove("k"),
    ):
        with pytest.raises(StoreUnavailable, match="does not exist"):
            await attempt
    with pytest.raises(TableConfigError, match="does not exist"):
        async with cache:
            pass


async def test_a_failed_sliding_refresh_still_returns_the_value(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    transport: TransportName,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = DynamoDBCache(
        table_name,
        endpoint_url=faults.url,
        key_prefix=key_prefix,
        clock=clock,
        transport=transport,
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}),
    )
    await cache.set("k", b"v", sliding=600)
    clock.advance(300)
    fault = faults.inject("UpdateItem", Fault("ProvisionedThroughputExceededException"))
    with caplog.at_level(logging.WARNING, logger="dynsession.cache"):
        assert await cache.get("k") == b"v"
    assert fault.sent == 2  # both attempts, then the warning
    assert "sliding refresh failed" in caplog.text
    with pytest.raises(StoreUnavailable, match="throttled"):
        await cache.refresh("k")  # an explicit refresh reports the failure


async def test_a_refresh_never_overwrites_a_concurrent_set(
    dynamodb_cache: DynamoDBCache, dynamodb_client: DynamoDBClient, table_name: str, clock: FakeClock
) -> None:
    await dynamodb_cache.set("k", b"old", sliding=600)
    clock.advance(300)
    original = dynamodb_cache._read
    other = DynamoDBCache(
        table_name, client=dynamodb_cache.client, key_prefix=dynamodb_cache.layout.key_prefix, clock=clock
    )

    async def read_then_replace(key: str) -> Any:
        entry = await original(key)
        # Another process sets a new value with a short window between our read and our refresh.
        await other.set(key, b"new", sliding=10)
        return entry

    dynamodb_cache._read = read_then_replace  # type: ignore[method-assign]
    assert await dynamodb_cache.get("k") == b"old"
    raw = dynamodb_client.get_item(
        TableName=table_name, Key={"id": {"S": dynamodb_cache.layout.key_prefix + "k"}}
    )
    assert raw["Item"]["value"] == {"B": b"new"}
    assert raw["Item"]["ttl"] == {"N": str(clock.now + 10)}


async def test_sessions_and_cache_share_a_table_without_colliding(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    transport: TransportName,
) -> None:
    # Both with their defaults: sessions under "dc:", cache entries under "cache:dc:".
    store = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock)
    cache = DynamoDBCache(table_name, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock)
    session_key = uuid.uuid4().hex * 2  # what the middleware passes: 64 hex characters
    record = SessionRecord(data=b'{"user":"ann"}', version=1, created=clock.now, expires=clock.now + 600)
    await store.save(session_key, record, expected_version=None)
    assert await cache.get(session_key) is None
    await cache.set(session_key, b"cached")
    await cache.remove(session_key)
    assert await store.load(session_key) == record
    keys = {
        item["id"]["S"]
        for item in dynamodb_client.scan(TableName=table_name)["Items"]
        if session_key in item["id"]["S"]
    }
    assert keys == {"dc:" + session_key}


async def test_the_cache_checks_and_creates_tables_as_the_command_does(
    dynamodb_endpoint: str, fresh_table: str, table_name: str, clock: FakeClock, transport: TransportName
) -> None:
    cache = DynamoDBCache(
        fresh_table,
        endpoint_url=dynamodb_endpoint,
        transport=transport,
        clock=clock,
        create_table_if_missing=True,
    )
    async with cache:
        await cache.set("k", b"v")
        assert await cache.get("k") == b"v"
    report = await cache.check_table()
    assert report.healthy and not report.created
    shared = DynamoDBCache(table_name, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock)
    assert (await shared.check_table()).healthy  # the sessions table serves the cache as it is


def test_create_table_command_makes_a_table_for_sessions_and_cache(
    dynamodb_endpoint: str,
    fresh_table: str,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    transport: TransportName,
) -> None:
    assert cli_main(["create-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint]) == 0
    capsys.readouterr()

    async def use() -> None:
        async with DynamoDBCache(
            fresh_table, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock
        ) as cache:
            await cache.set("k", b"v")
            assert await cache.get("k") == b"v"
        store = DynamoDBStore(fresh_table, endpoint_url=dynamodb_endpoint, transport=transport, clock=clock)
        await store.prepare()

    anyio.run(use)
    assert cli_main(["check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint]) == 0


# -- a conditional write whose answer is lost: the transport retries it, and it is still the writer's


async def test_an_add_whose_answer_was_lost_reports_its_own_write(
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    transport: TransportName,
) -> None:
    cache = DynamoDBCache(
        table_name, endpoint_url=faults.url, key_prefix=key_prefix, clock=clock, transport=transport
    )
    lost = faults.inject("PutItem", Fault(action="lost_reply", times=1))
    # The first PutItem is applied and its answer lost; the retry finds the entry it wrote itself.
    assert await cache.add("k", b"mine", sliding=600) is True
    assert lost.sent == 2
    assert await cache.get("k") == b"mine"
    # Another add still loses against that entry, and one whose answer is lost loses too.
    assert await cache.add("k", b"theirs") is False
    lost = faults.inject("PutItem", Fault(action="lost_reply", times=1))
    assert await cache.add("k", b"theirs") is False
    assert lost.sent == 2
    assert await cache.get("k") == b"mine"
    # The token is the only attribute beyond the .NET provider's, and a set drops it.
    key = {"id": {"S": key_prefix + "k"}}
    item = dynamodb_client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    assert set(item) == {"id", "value", "ttl", "ttl_window", "ttl_deadline", "tok"}
    await cache.set("k", b"set")
    item = dynamodb_client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    assert "tok" not in item


async def test_a_refresh_whose_answer_was_lost_still_slides(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    cache = DynamoDBCache(
        table_name, endpoint_url=faults.url, key_prefix=key_prefix, clock=clock, transport=transport
    )
    await cache.set("k", b"v", sliding=600)
    clock.advance(300)
    lost = faults.inject("UpdateItem", Fault(action="lost_reply", times=1))
    # The retry's condition fails against the TTL its first attempt moved: the same outcome.
    assert await cache.refresh("k") is True
    assert lost.sent == 2
    clock.advance(599)
    assert await cache.get("k") == b"v"
