"""Section 7: the distributed cache's DynamoDB calls and capacity units per operation, and what the
throttled sliding refresh saves against a refresh on every read (the .NET provider's policy)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio

from dynsession.cache import DynamoDBCache
from dynsession.cache.entry import CacheEntry
from dynsession.cache.expiry import Expiry
from dynsession.cache.item import ItemLayout
from dynsession.stores.dynamodb_wire import item_size
from dynsession.stores.transport import Transport
from dynsession.testing import FakeClock

from ..harness import dynamo
from .cache_model import FLOOR, MINIMUM, CacheModel

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OPERATIONS = dynamo.OPERATIONS
SLIDING = 1200  # the default window: 20 minutes
THRESHOLD = 60  # the default refresh_after for it: min(60, 1200 / 10)
VALUE = b"v" * 1000


class CountingTransport:
    """Counts every call on its way to the cache's own transport, with its units by DynamoDB's rules."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.wire = dynamo.WireCount()

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        self.wire.observe(operation, request)
        return await self.inner.call(operation, request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    minimum: Mapping[str, int]
    why: str = ""


OPERATION_ROWS = (
    Operation("get, miss", {"GetItem": 1}),
    Operation("get, hit within refresh_after", {"GetItem": 1}),
    Operation("get, hit, refresh due", {"GetItem": 1, "UpdateItem": 1}),
    Operation("set", {"PutItem": 1}),
    Operation("add, key free", {"PutItem": 1}),
    Operation("add, key taken", {"PutItem": 1}, "the failed condition is charged as a write"),
    Operation("refresh", {"GetItem": 1, "UpdateItem": 1}, "the window lives in the item: read it first"),
    Operation("remove", {"DeleteItem": 1}),
    Operation("get_or_set, miss", {"GetItem": 1, "PutItem": 1}),
    Operation("get_or_set, 50 concurrent misses", {"GetItem": 1, "PutItem": 1}),
)


@dataclass(frozen=True, slots=True)
class OperationRow:
    operation: Operation
    calls: Mapping[str, int]
    reported: tuple[float, float]  # RCU, WCU the server reported (successful calls only)
    by_rules: tuple[float, float]

    @property
    def at_minimum(self) -> bool:
        return all(self.calls.get(op, 0) == self.operation.minimum.get(op, 0) for op in OPERATIONS)


@dataclass(frozen=True, slots=True)
class MixRow:
    label: str
    calls_per_1000: Mapping[str, float]
    read_units_per_1000: float
    write_units_per_1000: float

    @property
    def units_per_1000(self) -> float:
        return self.read_units_per_1000 + self.write_units_per_1000


@dataclass(frozen=True, slots=True)
class CacheCallsResult:
    endpoint: str
    item_bytes: int
    operations: tuple[OperationRow, ...]
    mix_operations: int
    keys: int
    rate: int
    mix: tuple[MixRow, ...]

    def row(self, label: str) -> MixRow:
        return next(row for row in self.mix if row.label == label)


THROTTLED = "throttled refresh (measured)"
EVERY_GET = "refresh on every get, .NET policy (measured)"


def run_cache_calls(
    endpoint_url: str | None, *, operations: int, keys: int = 100, rate: int = 10, name: str | None = None
) -> CacheCallsResult:
    """Run section 7 against ``endpoint_url`` (default: moto's server on loopback)."""
    with dynamo.endpoint(endpoint_url) as url:
        client = dynamo.make_client(url)
        with dynamo.session_table(client) as table:
            rows, item_bytes = anyio.run(_operations, client, table)
            mix = anyio.run(_mix, client, table, operations, keys, rate)
    label = "moto's server (in-process, 127.0.0.1)" if endpoint_url is None else (name or endpoint_url)
    return CacheCallsResult(label, item_bytes, tuple(rows), operations, keys, rate, tuple(mix))


def _cache(
    client: DynamoDBClient, table: str, clock: FakeClock, **options: Any
) -> tuple[DynamoDBCache, CountingTransport]:
    cache = DynamoDBCache(
        table,
        client=client,
        key_prefix=f"b{uuid.uuid4().hex[:6]}:dc:",
        clock=clock,
        return_consumed_capacity=True,
        **options,
    )
    counting = CountingTransport(cache.transport)
    cache.transport = counting
    return cache, counting


async def _operations(client: DynamoDBClient, table: str) -> tuple[list[OperationRow], int]:
    clock = FakeClock()
    cache, counting = _cache(client, table, clock)

    async def made() -> bytes:
        return VALUE

    async def stampede() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(cache.get_or_set, "crowd", made)

    async def setup_due() -> None:
        await cache.set("k", VALUE)
        clock.advance(THRESHOLD + 1)

    steps: dict[str, tuple[Callable[[], Awaitable[object]] | None, Callable[[], Awaitable[object]]]] = {
        "get, miss": (None, lambda: cache.get("absent")),
        "get, hit within refresh_after": (lambda: cache.set("k", VALUE), lambda: cache.get("k")),
        "get, hit, refresh due": (setup_due, lambda: cache.get("k")),
        "set": (None, lambda: cache.set("k", VALUE)),
        "add, key free": (lambda: cache.remove("k"), lambda: cache.add("k", VALUE)),
        "add, key taken": (lambda: cache.set("k", VALUE), lambda: cache.add("k", VALUE)),
        "refresh": (setup_due, lambda: cache.refresh("k")),
        "remove": (lambda: cache.set("k", VALUE), lambda: cache.remove("k")),
        "get_or_set, miss": (lambda: cache.remove("g"), lambda: cache.get_or_set("g", made)),
        "get_or_set, 50 concurrent misses": (lambda: cache.remove("crowd"), stampede),
    }
    rows = []
    for operation in OPERATION_ROWS:
        setup, measured = steps[operation.name]
        if setup is not None:
            await setup()
        counting.wire.reset()
        assert cache.consumed_capacity is not None
        cache.consumed_capacity.reset()
        await measured()
        totals = cache.consumed_capacity.snapshot()
        wire = counting.wire
        rows.append(
            OperationRow(
                operation,
                dict(wire.calls),
                (totals.read_units, totals.write_units),
                (wire.rule_read_units, wire.rule_write_units),
            )
        )
    return rows, max(counting.wire.sizes.values())


async def _mix(client: DynamoDBClient, table: str, operations: int, keys: int, rate: int) -> list[MixRow]:
    """90 % get, 8 % set, 2 % remove over ``keys`` keys, ``rate`` operations per simulated second,
    once with the default throttle and once refreshing on every hit; the model sees the same."""
    model = CacheModel(_item_bytes(), sliding=SLIDING, threshold=THRESHOLD)
    rows: list[MixRow] = []
    scale = 1000 / operations
    for label, refresh_after in ((THROTTLED, None), (EVERY_GET, 0)):
        wire = await _mix_run(
            client, table, operations, keys, rate, refresh_after, model if not rows else None
        )
        calls = {op: wire.calls.get(op, 0) * scale for op in OPERATIONS}
        rows.append(MixRow(label, calls, wire.rule_read_units * scale, wire.rule_write_units * scale))
    for label, counts in ((MINIMUM, model.minimum), (FLOOR, model.floor)):
        per = {op: counts.get(op, 0) * scale for op in OPERATIONS}
        read, write = model.units[label]
        rows.append(MixRow(label, per, read * scale, write * scale))
    return rows


def _item_bytes() -> int:
    """The size of the mix's items (keys of two digits, the benchmark's prefix length)."""
    layout = ItemLayout(key_prefix="b000000:dc:")
    entry = CacheEntry.create(VALUE, Expiry(timedelta(seconds=SLIDING)), FakeClock()())
    return item_size(layout.item("00", entry))


async def _mix_run(
    client: DynamoDBClient,
    table: str,
    operations: int,
    keys: int,
    rate: int,
    refresh_after: int | None,
    model: CacheModel | None,
) -> dynamo.WireCount:
    clock = FakeClock()
    cache, counting = _cache(client, table, clock, refresh_after=refresh_after)
    shadow = model if model is not None else CacheModel(0, sliding=SLIDING, threshold=THRESHOLD)
    for number in range(keys):
        await cache.set(str(number), VALUE)
        shadow.set(str(number), clock())
    counting.wire.reset()
    shadow.reset()
    rng = random.Random(11)
    start = clock()
    for number in range(operations):
        clock.now = start + number // rate
        key, roll = str(rng.randrange(keys)), rng.random() * 100
        if roll < 90:
            await cache.get(key)
            shadow.get(key, clock())
        elif roll < 98:
            await cache.set(key, VALUE)
            shadow.set(key, clock())
        else:
            await cache.remove(key)
            shadow.remove(key)
    return counting.wire
