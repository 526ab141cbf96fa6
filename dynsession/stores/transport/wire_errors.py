"""Failures of the native transport as botocore reports them, so that
:func:`dynsession.stores.dynamodb_wire.translate_errors` (the one translator) and everything that
reads ``StoreError.original`` see the same exceptions whichever transport ran: error answers
become botocore's parsed error response (and ``ClientError``), aiohttp's connection failures
become botocore's connection exceptions.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Mapping
from typing import Any

import aiohttp
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


def connection_failure(
    exc: BaseException, endpoint_url: str, proxy: str | None
) -> botocore.exceptions.BotoCoreError:
    """The botocore exception for a request that got no complete answer: connect and read
    timeouts, refused or failed connections, TLS failures, connections closed mid-answer."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return botocore.exceptions.ConnectTimeoutError(endpoint_url=endpoint_url, error=exc)
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's read timeouts included
        return botocore.exceptions.ReadTimeoutError(endpoint_url=endpoint_url, error=exc)
    if isinstance(exc, aiohttp.ClientProxyConnectionError) and proxy is not None:
        return botocore.exceptions.ProxyConnectionError(proxy_url=proxy, error=exc)
    if isinstance(exc, aiohttp.ClientSSLError):
        return botocore.exceptions.SSLError(endpoint_url=endpoint_url, error=exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return botocore.exceptions.EndpointConnectionError(endpoint_url=endpoint_url, error=exc)
    return botocore.exceptions.ConnectionClosedError(endpoint_url=endpoint_url, error=exc)
