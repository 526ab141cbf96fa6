"""Wrappers around a DynamoDBStore's transport: count the operations that go through the seam, or
hold bound sessions back from the user index for a while, as DynamoDB's eventually consistent
index may (every call still reaches the real server)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
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
    """Leaves the table keys in ``hidden`` out of every Query answer, as an index that has not caught
    up with their writes yet would; ``catch_up()`` lets them through from then on."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.hidden: set[str] = set()
        self.queries = 0

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.inner.call(operation, request)
        if operation == "Query":
            self.queries += 1
            items = response.get("Items", [])
            response = {**response, "Items": [i for i in items if i["id"]["S"] not in self.hidden]}
        return response

    def catch_up(self) -> None:
        self.hidden.clear()

    async def aclose(self) -> None:
        await self.inner.aclose()


def counting_transport(store: DynamoDBStore) -> CountingTransport:
    """Put a CountingTransport in front of the store's transport and return it."""
    counting = CountingTransport(store._transport)
    store._transport = counting
    return counting


def lagging_index(store: DynamoDBStore) -> LaggingIndex:
    """Put a LaggingIndex in front of the store's transport and return it."""
    lagging = LaggingIndex(store._transport)
    store._transport = lagging
    return lagging
