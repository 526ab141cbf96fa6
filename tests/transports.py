"""Wrappers around a DynamoDBStore's transport: count the operations that go through the seam, or
hold bound sessions back from the user index for a while, as DynamoDB's eventually consistent
index may (every call still reaches the real server)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from dynsession import DynamoDBStore
from dynsession.stores.transport import Transport


class CountingTransport:
    """Counts each operation by name, then passes it on."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, Mapping[str, Any]]] = []

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        self.calls[operation] += 1
        self.requests.append((operation, request))
        return await self.inner.call(operation, request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class LaggingIndex:
    """Leaves the table keys in ``hidden`` out of Query answers, as an index that has not caught up
    with their writes yet would, for the next ``lag`` queries (then it has caught up).
    ``before_query``, when set, runs before each Query is sent."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.hidden: set[str] = set()
        self.lag = 0
        self.queries = 0
        self.before_query: Callable[[], Awaitable[None]] | None = None

    def hide(self, table_key: str, *, queries: int) -> None:
        self.hidden.add(table_key)
        self.lag = queries

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        if operation == "Query" and self.before_query is not None:
            await self.before_query()
        response = await self.inner.call(operation, request)
        if operation == "Query":
            self.queries += 1
            if self.lag > 0:
                self.lag -= 1
                items = response.get("Items", [])
                response = {**response, "Items": [i for i in items if i["id"]["S"] not in self.hidden]}
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def counting_transport(store: DynamoDBStore) -> CountingTransport:
    """Put a CountingTransport in front of the store's transport and return it."""
    counting = CountingTransport(store.transport)
    store.transport = counting
    return counting


def lagging_index(store: DynamoDBStore) -> LaggingIndex:
    """Put a LaggingIndex in front of the store's transport and return it."""
    lagging = LaggingIndex(store.transport)
    store.transport = lagging
    return lagging
