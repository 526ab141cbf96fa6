"""Whether an HTTP answer from DynamoDB arrived whole: the check both transports make before they
trust an answer, and its wiring into a boto3 client.

A connection that ends early does not always look like a failure. Python's ``http.client`` takes
the end of the connection inside the headers for their end, and botocore reads bodies without
holding them to ``Content-Length``; an answer cut before its ``Content-Length`` and ``x-amz-crc32``
headers reaches botocore as an empty success (GetItem "found nothing"), a body cut short is
retried as a checksum mismatch and then returned all the same, and a cut inside the
``x-amz-crc32:`` line raises ``ValueError`` from botocore's retry check. Every DynamoDB answer
carries ``Content-Length`` and (for its JSON) ``x-amz-crc32``, so an answer is whole when its
``Content-Length`` is a number equal to the body's length and its CRC32, when sent, matches.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import botocore.client
import botocore.exceptions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CRC32 = "x-amz-crc32"
_UNIQUE = "dynsession-whole-answers"


def whole(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether an answer with these headers (a mapping whose names match in any case, as
    botocore's and aiohttp's are) and this body arrived whole."""
    length = headers.get("content-length")
    if length is None or not length.isdigit() or int(length) != len(body):
        return False
    checksum = headers.get(CRC32)
    if checksum is None:
        return True
    return checksum.isdigit() and int(checksum) == zlib.crc32(body)


def check_answers(client: DynamoDBClient) -> None:
    """Make a boto3 DynamoDB client treat an answer that did not arrive whole as a broken
    connection: retried as botocore retries a checksum mismatch (its standard, legacy and
    adaptive modes all do), then raised as ``ConnectionClosedError`` (never returned) once the
    retries are spent. Registering twice changes nothing; a client that is not botocore's (DAX)
    is left alone. Raises nothing."""
    if not isinstance(client, botocore.client.BaseClient):
        return
    events = client.meta.events
    events.register_first("before-parse.dynamodb", _mark_cut_answer, unique_id=f"{_UNIQUE}-mark")
    events.register_last("after-call.dynamodb", _refuse_cut_answer, unique_id=f"{_UNIQUE}-refuse")


def _mark_cut_answer(response_dict: dict[str, Any], **kwargs: Any) -> None:
    # The headers here are the HTTP response's own, which botocore's retry check reads next:
    # a mismatching checksum makes that check retry the attempt, and stops a malformed value
    # from raising ValueError there.
    headers = response_dict["headers"]
    body = response_dict["body"]
    if isinstance(body, bytes) and not whole(headers, body):
        headers[CRC32] = str((zlib.crc32(body) + 1) & 0xFFFFFFFF)


def _refuse_cut_answer(http_response: Any, **kwargs: Any) -> None:
    content = http_response.content
    if isinstance(content, bytes) and not whole(http_response.headers, content):
        raise botocore.exceptions.ConnectionClosedError(
            endpoint_url=str(http_response.url),
            error=ValueError("DynamoDB's answer was cut short (length or CRC32 does not match)"),
        )
