"""The contract between the stores (sessions, cache) and whatever carries their DynamoDB calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Transport(Protocol):
    """Sends one DynamoDB item operation and returns its answer; the stores speak only to this.

    ``call(operation, request)``
        ``operation`` is the DynamoDB API name (``"GetItem"``, ``"PutItem"``, ``"UpdateItem"``,
        ``"DeleteItem"``; ``"Query"``, ``"BatchGetItem"`` and ``"BatchWriteItem"`` for a user's sessions).
        ``request`` holds the operation's parameters exactly as boto3's low-level client takes
        them: typed attribute values (``{"S": "..."}``, ``{"N": "1"}``), Binary as ``bytes``.
        The answer is shaped as boto3's client returns it (Binary as ``bytes``); keys other than
        the operation's documented output (such as ``ResponseMetadata``) may be absent.

        Every failure is raised through :func:`dynsession.stores.dynamodb_wire.translate_errors`,
        the one place that turns the backend's errors into dynsession's: a condition that did not
        hold as ``ConditionFailed`` (its ``original.response`` carries the ``Item`` DynamoDB sent
        back with ``ReturnValuesOnConditionCheckFailure``), everything else as
        :class:`~dynsession.StoreUnavailable`. Retries of throttling, 5xx answers and connection
        errors, and connect/read timeouts, happen inside ``call``. It never blocks the event loop.
    ``aclose()``
        Release connections and threads; the owner calls it at shutdown. Calling ``call`` again
        afterwards is allowed and opens what it needs anew.
    """

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...
