"""The native transport's SigV4 signer against botocore's SigV4Auth: byte for byte, same request,
time and credentials."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from dynsession.stores.transport.signer import (
    CONTENT_TYPE,
    Credentials,
    Signer,
    host_of,
    request_path,
    request_url,
)

BODY = b'{"TableName":"sessions","Key":{"id":{"S":"dc:0123"}},"ConsistentRead":true}'
MOMENTS = [
    datetime.datetime(2026, 11, 27, 16, 31, 23, tzinfo=datetime.timezone.utc),
    datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc),
]


def botocore_headers(
    url: str, region: str, credentials: Credentials, operation: str, body: bytes, moment: datetime.datetime
) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"DynamoDB_20120810.{operation}"},
    )
    signer = SigV4Auth(BotocoreCredentials(*credentials), "dynamodb", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment.replace(tzinfo=None)):
        signer.add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://dynamodb.eu-west-1.amazonaws.com:443/",
        "http://127.0.0.1:8000",
        "http://LocalHost:80",
        "http://[::1]:8000",
        "https://proxy.example.com:8443/dynamodb",
    ],
)
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//////////wEaDH session token"])
@pytest.mark.parametrize("moment", MOMENTS, ids=["afternoon", "new-year-eve"])
def test_authorization_matches_botocore_byte_for_byte(
    endpoint: str, token: str | None, moment: datetime.datetime
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    signer = Signer("eu-west-1", host_of(endpoint), request_path(endpoint))
    ours = signer.headers(credentials, "GetItem", BODY, now=moment.timestamp())
    theirs = botocore_headers(request_url(endpoint), "eu-west-1", credentials, "GetItem", BODY, moment)
    assert ours["Authorization"].encode() == theirs["Authorization"].encode()
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == theirs.get("X-Amz-Security-Token")
    assert (ours["Content-Type"], ours["X-Amz-Target"]) == (CONTENT_TYPE, "DynamoDB_20120810.GetItem")


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("PutItem", '{"TableName":"t","Item":{"id":{"S":"é — ☃"},"data":{"B":"AAEC"}}}'.encode()),
        ("Query", b'{"TableName":"t","KeyConditionExpression":"#u = :u"}'),
        ("BatchWriteItem", b"{}"),
        ("DescribeTable", b""),
    ],
)
def test_any_operation_and_body_match_botocore(operation: str, body: bytes) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret", None)
    signer = Signer("us-east-1", "127.0.0.1:4567")
    moment = MOMENTS[0]
    ours = signer.headers(credentials, operation, body, now=moment.timestamp())
    theirs = botocore_headers("http://127.0.0.1:4567/", "us-east-1", credentials, operation, body, moment)
    assert ours["Authorization"] == theirs["Authorization"]


def test_cached_signing_key_follows_the_secret_and_the_day() -> None:
    # One signer, several secrets and days in turn: a stale cached key would change the signature.
    signer = Signer("eu-central-1", "dynamodb.eu-central-1.amazonaws.com")
    url = "https://dynamodb.eu-central-1.amazonaws.com/"
    for moment in (*MOMENTS, MOMENTS[0]):
        for secret in ("first-secret", "second-secret", "first-secret"):
            credentials = Credentials("AKID", secret, None)
            ours = signer.headers(credentials, "GetItem", BODY, now=moment.timestamp())
            theirs = botocore_headers(url, "eu-central-1", credentials, "GetItem", BODY, moment)
            assert ours["Authorization"] == theirs["Authorization"]


def test_host_and_path_follow_botocore() -> None:
    assert host_of("https://DynamoDB.eu-west-1.amazonaws.com:443") == "dynamodb.eu-west-1.amazonaws.com"
    assert host_of("http://user:pw@127.0.0.1:8000") == "127.0.0.1:8000"
    assert host_of("http://[::1]:80/") == "[::1]"
    assert request_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/"
    assert request_url("https://proxy.example.com/dynamodb") == "https://proxy.example.com/dynamodb/"
