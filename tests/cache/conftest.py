"""Fixtures for the cache tests: every cache (memory, and DynamoDB on the test endpoint), counted calls."""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import pytest

from dynsession import StoreUnavailable
from dynsession.cache import DistributedCache, DynamoDBCache, HybridCache, MemoryCache
from dynsession.cache.shared import BaseCache
from dynsession.stores.transport import Transport

from ..support import FakeClock, TransportName


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class CountingTransport:
    """Passes every call to the cache's own transport, counting it by operation (failures too)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls[operation] += 1
        return await self.inner.call(operation, request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def take(self) -> dict[str, int]:
        """The calls counted since the last take."""
        with self._lock:
            taken = dict(self.calls)
            self.calls.clear()
        return taken


def count_calls(cache: DynamoDBCache) -> CountingTransport:
    """Count the cache's DynamoDB calls from now on."""
    counting = CountingTransport(cache.transport)
    cache.transport = counting
    return counting


@pytest.fixture
def dynamodb_cache(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> DynamoDBCache:
    """A DynamoDBCache (each transport) in the run's sessions table, under this test's own prefix."""
    return DynamoDBCache(
        table_name, endpoint_url=dynamodb_endpoint, key_prefix=key_prefix, clock=clock, transport=transport
    )


@pytest.fixture(
    params=[
        "memory",
        pytest.param("dynamodb-boto3", marks=pytest.mark.dynamodb),
        pytest.param("dynamodb-native", marks=pytest.mark.dynamodb),
    ]
)
def cache_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("dynamodb-boto3", marks=pytest.mark.dynamodb),
        pytest.param("dynamodb-native", marks=pytest.mark.dynamodb),
        "hybrid-memory",
        pytest.param("hybrid-dynamodb-native", marks=pytest.mark.dynamodb),
    ]
)
def cache(clock: FakeClock, request: pytest.FixtureRequest) -> DistributedCache:
    """Every cache implementation (DynamoDBCache once per transport; HybridCache over MemoryCache
    and over DynamoDBCache), one test run each."""
    kind = str(request.param)
    shared: DistributedCache
    if kind.removeprefix("hybrid-") == "memory":
        shared = MemoryCache(clock=clock)
    else:
        shared = DynamoDBCache(
            request.getfixturevalue("table_name"),
            endpoint_url=request.getfixturevalue("dynamodb_endpoint"),
            key_prefix=request.getfixturevalue("key_prefix"),
            clock=clock,
            transport=cast(TransportName, kind.rpartition("-")[2]),
        )
    return HybridCache(shared, clock=clock) if kind.startswith("hybrid-") else shared


SharedFactory = Callable[[], BaseCache]
"""Builds the shared tier of one simulated process (see ``new_shared``)."""


@pytest.fixture
def new_shared(cache_kind: str, clock: FakeClock, request: pytest.FixtureRequest) -> SharedFactory:
    """A shared tier per simulated process: the one MemoryCache for all of them, or a DynamoDBCache
    (each transport) with a connection of its own, all on the same table and key prefix."""
    if cache_kind == "memory":
        memory = MemoryCache(clock=clock)
        return lambda: memory
    table, endpoint = request.getfixturevalue("table_name"), request.getfixturevalue("dynamodb_endpoint")
    prefix = request.getfixturevalue("key_prefix")
    transport = cast(TransportName, cache_kind.removeprefix("dynamodb-"))
    # Each cache lives as long as the fixture: a transport dropped while its event loop
    # runs may be collected before the loop closes its connections, which then warns.
    made: list[DynamoDBCache] = []

    def build() -> DynamoDBCache:
        made.append(
            DynamoDBCache(table, endpoint_url=endpoint, key_prefix=prefix, clock=clock, transport=transport)
        )
        return made[-1]

    return build


class SharedCalls:
    """Counts a shared tier's calls by method (``get_entry``, ``get``, ``set``, ``add``, ``remove``,
    ``refresh``) and, while ``failing``, makes each raise StoreUnavailable instead."""

    def __init__(self, cache: BaseCache) -> None:
        self.counts: Counter[str] = Counter()
        self.failing = False
        # The wrappers reach the cache through a weak reference: a cycle through the cache's own
        # attributes would leave its connections to the cyclic collector, which finds them unclosed.
        owner = weakref.ref(cache)
        kind = type(cache)

        def call(name: str) -> Callable[..., Awaitable[Any]]:
            method = getattr(kind, "get_entry" if name == "get" else name)

            async def counted(*args: Any, **kwargs: Any) -> Any:
                self.counts[name] += 1
                if self.failing:
                    raise StoreUnavailable("the shared tier is down (injected)")
                result = await method(owner(), *args, **kwargs)
                if name == "get":  # BaseCache.get, without counting get_entry too
                    return None if result is None else result.value
                return result

            return counted

        for name in ("get_entry", "get", "set", "add", "remove", "refresh"):
            setattr(cache, name, call(name))

    def take(self) -> dict[str, int]:
        """The calls counted since the last take."""
        taken = dict(self.counts)
        self.counts.clear()
        return taken
