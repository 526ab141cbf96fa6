"""Failures of the native transport as botocore reports them, so that
:func:`dynsession.stores.dynamodb_wire.translate_errors` (the one translator) and everything that
reads ``StoreError.original`` see the same exceptions whichever transport ran: error answers
become botocore's parsed error response (and ``ClientError``), connection failures
(:class:`WireFailure` and its kinds) become botocore's connection exceptions.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Mapping
from typing import Any

import botocore.exceptions

from . import wire_json


def error_response(status: int, headers: Mapping[str, str], body: bytes, retries: int) -> dict[str, Any]:
    """DynamoDB's error answer shaped as botocore's parsed error: ``Error`` (``Code``, ``Message``),
    ``ResponseMetadata`` and the answer's other members (such as the ``Item`` that
    ``ReturnValuesOnConditionCheckFailure`` sends back, Binary as ``bytes``)."""
    members: dict[str, Any] = {}
    try:
        members = wire_json.decode(body)
    except ValueError:
        pass
    raw_code = members.pop("__type", None)
    if isinstance(raw_code, str) and raw_code:
        code = raw_code.split(":", 1)[0].rsplit("#", 1)[-1]
        message = members.get("message", members.get("Message", ""))
    else:  # not DynamoDB's JSON (a proxy's HTML page, an empty 5xx): botocore's generic error
        code = str(status)
        message = _reason(status)
    lowered = {name.lower(): value for name, value in headers.items()}
    metadata: dict[str, Any] = {"HTTPStatusCode": status, "HTTPHeaders": lowered, "RetryAttempts": retries}
    request_id = lowered.get("x-amzn-requestid")
    if request_id is not None:
        metadata["RequestId"] = request_id
    return {"Error": {"Message": str(message), "Code": code}, "ResponseMetadata": metadata, **members}


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class WireFailure(Exception):
    """No complete answer came over the native transport's connection (see the subclasses)."""


class ConnectFailed(WireFailure):
    """The endpoint (or the proxy) could not be reached: DNS, refused, unreachable."""


class ConnectTimedOut(WireFailure):
    """Connecting (TCP, the proxy's tunnel and TLS) took longer than the connect timeout."""


class ReadTimedOut(WireFailure):
    """The answer took longer than the read timeout."""


class ProxyRefused(WireFailure):
    """The proxy could not be reached, or would not open a tunnel to the endpoint."""


class TLSFailed(WireFailure):
    """The TLS handshake failed (such as a certificate not trusted or not for the endpoint's name)."""


class ConnectionClosed(WireFailure):
    """The connection ended, or carried what is not a whole answer, before the answer was complete.
    ``received`` says whether any byte of the answer had arrived."""

    def __init__(self, message: str, *, received: bool = True) -> None:
        super().__init__(message)
        self.received = received


def connection_failure(
    exc: BaseException, endpoint_url: str, proxy: str | None
) -> botocore.exceptions.BotoCoreError:
    """The botocore exception for a request that got no complete answer: connect and read
    timeouts, refused or failed connections, TLS failures, connections closed mid-answer."""
    if isinstance(exc, ConnectTimedOut):
        return botocore.exceptions.ConnectTimeoutError(endpoint_url=endpoint_url, error=exc)
    if isinstance(exc, ReadTimedOut | asyncio.TimeoutError):
        return botocore.exceptions.ReadTimeoutError(endpoint_url=endpoint_url, error=exc)
    if isinstance(exc, ProxyRefused):
        return botocore.exceptions.ProxyConnectionError(proxy_url=proxy or "", error=exc)
    if isinstance(exc, TLSFailed):
        return botocore.exceptions.SSLError(endpoint_url=endpoint_url, error=exc)
    if isinstance(exc, ConnectFailed):
        return botocore.exceptions.EndpointConnectionError(endpoint_url=endpoint_url, error=exc)
    return botocore.exceptions.ConnectionClosedError(endpoint_url=endpoint_url, error=exc)
