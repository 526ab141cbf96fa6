"""Fixtures for the cache tests: every cache (memory, and DynamoDB on the test endpoint), counted calls."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any, cast

import pytest

from dynsession.cache import DistributedCache, DynamoDBCache, MemoryCache
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


@pytest.fixture
def cache(cache_kind: str, clock: FakeClock, request: pytest.FixtureRequest) -> DistributedCache:
    """Every cache implementation (DynamoDBCache once per transport), one test run each."""
    if cache_kind == "memory":
        return MemoryCache(clock=clock)
    return DynamoDBCache(
        request.getfixturevalue("table_name"),
        endpoint_url=request.getfixturevalue("dynamodb_endpoint"),
        key_prefix=request.getfixturevalue("key_prefix"),
        clock=clock,
        transport=cast(TransportName, cache_kind.removeprefix("dynamodb-")),
    )
