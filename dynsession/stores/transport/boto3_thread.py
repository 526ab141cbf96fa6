"""The boto3 transport: each call runs a boto3 client method in a worker thread."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from ..dynamodb_wire import transport_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _method_name(operation: str) -> str:
    """``"GetItem"`` → ``"get_item"``: the boto3 client method behind a DynamoDB API name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


class Boto3Transport:
    """A :class:`~dynsession.stores.transport.Transport` over a boto3 DynamoDB client (or any
    object with its methods, such as a DAX client), at most ``max_concurrency`` calls at once,
    each in a worker thread. ``client`` is called (in a worker thread) to get the client, so a
    client that is expensive to build is built off the event loop, on first use.
    """

    def __init__(self, client: Callable[[], DynamoDBClient], *, max_concurrency: int) -> None:
        self._client = client
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        self._methods: dict[str, str] = {}

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        method = self._methods.get(operation)
        if method is None:
            method = self._methods[operation] = _method_name(operation)
        table = str(request.get("TableName", ""))

        def run() -> dict[str, Any]:
            with transport_errors(operation, table):
                result: dict[str, Any] = getattr(self._client(), method)(**request)
            return result

        return await anyio.to_thread.run_sync(run, limiter=self._limiter)

    async def aclose(self) -> None:
        # boto3 clients hold a urllib3 pool that closes with the client; nothing is owned here.
        return None
