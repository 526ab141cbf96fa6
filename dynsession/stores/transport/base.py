"""The contract between the stores (sessions, cache) and whatever carries their DynamoDB calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Transport(Protocol):
    """Sends one DynamoDB operation and returns its answer; the stores speak only to this.

    ``call(operation, request)``
        ``operation`` is the DynamoDB API name: ``"GetItem"``, ``"PutItem"``, ``"UpdateItem"``,
        ``"DeleteItem"``, and for the transports dynsession ships any other operation of
        DynamoDB's JSON API too (``"Query"``, ``"BatchWriteItem"``, ...). ``request`` holds the
        operation's parameters exactly as boto3's low-level client takes them: typed attribute
        values (``{"S": "..."}``, ``{"N": "1"}``), Binary as ``bytes``. The answer is shaped as
        boto3's client returns it (Binary as ``bytes``); keys other than the operation's
        documented output (such as ``ResponseMetadata``) may be absent, and capacity units may
        be ``int`` where boto3 gives ``float``.

        Every failure is raised through :func:`dynsession.stores.dynamodb_wire.transport_errors`,
        the one place that turns botocore's exceptions (and any other) into dynsession's, so implementations
        raise botocore's own: ``ClientError`` (or its modeled subclasses) carrying the parsed error
        response for an error answer, and botocore's connection exceptions
        (``EndpointConnectionError``, ``ConnectTimeoutError``, ``ReadTimeoutError``,
        ``ConnectionClosedError``, ...) when no answer came. The caller then sees a condition that
        did not hold as ``ConditionFailed`` (its ``original.response`` carries the ``Item``
        DynamoDB sent back with ``ReturnValuesOnConditionCheckFailure``) and everything else as
        :class:`~dynsession.StoreUnavailable`, with botocore's exception as ``.original`` whichever
        transport ran. Retries of throttling, 5xx answers and connection errors (botocore's
        standard mode), and connect/read timeouts, happen inside ``call``. An answer that did
        not arrive whole (``Content-Length`` missing or not the body's length, or a CRC32 that
        does not match: :func:`~dynsession.stores.transport.answer_checks.whole`) is a broken
        connection — retried, then raised — never returned. It never blocks the event loop.
    ``aclose()``
        Release connections and threads held for the running event loop; the owner calls it at
        shutdown. Calling ``call`` again afterwards is allowed and opens what it needs anew.
    """

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...
