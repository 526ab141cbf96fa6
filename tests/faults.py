"""Fault injection and send counting at botocore's ``before-send`` hook of a store's own client.

A handler that returns a response stands in for one HTTP exchange, so botocore's retry loop, error
parsing and dynsession's translation all run; sends it lets through reach the server over the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from dynsession import DynamoDBStore


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


class Fault:
    """Answers one DynamoDB operation with error ``code`` (HTTP ``status``) for its first ``times``
    sends (all of them when ``times`` is None), then lets sends through. ``sent`` counts every send.
    With ``status=200`` the answer is an empty success instead."""

    def __init__(self, code: str, *, status: int = 400, times: int | None = None) -> None:
        self.code, self.status, self.times = code, status, times
        self.sent = 0

    def __call__(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        self.sent += 1
        if self.times is not None and self.sent > self.times:
            return None
        body = {} if self.status == 200 else {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}"}
        headers = HTTPHeaders()
        headers["x-amzn-RequestId"] = "injected"
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, self.status, headers, _Body(json.dumps(body).encode()))


class LostReply:
    """Sends the first ``times`` requests of an operation to the server for real, then makes the
    client see a read timeout instead of the answer: botocore retries a request that already
    applied. ``sent`` counts every send, ``delivered`` the ones whose answer was dropped."""

    def __init__(self, times: int = 1) -> None:
        self.times = times
        self.sent = 0
        self.delivered = 0
        self._http = URLLib3Session()

    def __call__(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        self.sent += 1
        if self.sent > self.times:
            return None
        self._http.send(request)  # botocore's worker thread, never the event loop
        self.delivered += 1
        raise ReadTimeoutError(endpoint_url=request.url)


F = TypeVar("F", Fault, LostReply)


def inject(store: DynamoDBStore, operation: str, fault: F) -> F:
    """Register ``fault`` for ``operation`` (``PutItem``, ``GetItem``, …) on the store's client."""
    # botocore's stubs declare event handlers as returning None; before-send ones may return a response.
    handler = cast("Callable[..., None]", fault)
    store.client.meta.events.register(f"before-send.dynamodb.{operation}", handler)
    return fault


class Sends:
    """Counts the HTTP sends (retries included) of each DynamoDB operation of a store's client."""

    def __init__(self, store: DynamoDBStore) -> None:
        self.by_operation: dict[str, int] = {}
        store.client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, event_name: str, **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.by_operation[operation] = self.by_operation.get(operation, 0) + 1
