"""The native transport's failures as botocore reports them."""

from __future__ import annotations

import asyncio

import botocore.exceptions
import botocore.parsers
import botocore.session
import pytest

from dynsession.stores.transport.wire_errors import (
    ConnectFailed,
    ConnectionClosed,
    ConnectTimedOut,
    ProxyRefused,
    ReadTimedOut,
    TLSFailed,
    connection_failure,
    error_response,
)

MODEL = botocore.session.get_session().get_service_model("dynamodb")


def botocore_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, object]:
    parser = botocore.parsers.create_parser("json")
    shape = MODEL.operation_model("PutItem").output_shape
    assert shape is not None
    return dict(parser.parse({"body": body, "headers": headers, "status_code": status}, shape))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            400,
            b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
            b'"message":"Requested resource not found"}',
        ),
        (
            400,
            b'{"__type":"com.amazon.coral.validate#ValidationException",'
            b'"Message":"One or more parameter values were invalid"}',
        ),
        (400, b'{"__type":"com.amazon.coral.service#UnrecognizedClientException:extra","message":"bad key"}'),
        (500, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"oops"}'),
        (502, b"<html><body>Bad Gateway</body></html>"),
        (503, b""),
    ],
)
def test_error_answers_parse_as_botocores(status: int, body: bytes) -> None:
    headers = {"x-amzn-RequestId": "REQ1", "Content-Type": "application/x-amz-json-1.0"}
    ours = error_response(status, headers, body, retries=2)
    theirs = botocore_error(status, headers, body)
    assert ours["Error"] == theirs["Error"]
    metadata = ours["ResponseMetadata"]
    assert isinstance(metadata, dict)
    assert (metadata["RequestId"], metadata["HTTPStatusCode"], metadata["RetryAttempts"]) == (
        "REQ1",
        status,
        2,
    )


def test_the_item_sent_back_with_a_failed_condition_is_decoded() -> None:
    body = (
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",'
        b'"message":"The conditional request failed","Item":{"id":{"S":"k"},"data":{"B":"AAE="}}}'
    )
    parsed = error_response(400, {}, body, retries=0)
    assert parsed["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert parsed["Item"] == {"id": {"S": "k"}, "data": {"B": b"\x00\x01"}}


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (ConnectTimedOut("connect"), botocore.exceptions.ConnectTimeoutError),
        (ReadTimedOut("read"), botocore.exceptions.ReadTimeoutError),
        (asyncio.TimeoutError(), botocore.exceptions.ReadTimeoutError),
        (ConnectFailed("refused"), botocore.exceptions.EndpointConnectionError),
        (TLSFailed("certificate verify failed"), botocore.exceptions.SSLError),
        (ProxyRefused("407"), botocore.exceptions.ProxyConnectionError),
        (ConnectionClosed("closed inside the body"), botocore.exceptions.ConnectionClosedError),
        (ConnectionResetError(104, "reset"), botocore.exceptions.ConnectionClosedError),
    ],
)
def test_connection_failures_become_botocores_exceptions(
    failure: Exception, expected: type[Exception]
) -> None:
    converted = connection_failure(failure, "http://127.0.0.1:1", "http://proxy.internal:3128")
    assert type(converted) is expected
    # Each names where it failed: the proxy when the tunnel failed, else the endpoint.
    where = (
        "http://proxy.internal:3128"
        if expected is botocore.exceptions.ProxyConnectionError
        else "127.0.0.1:1"
    )
    assert where in str(converted)
    # Every one of them is one botocore's standard retry mode retries.
    assert isinstance(converted, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError)
