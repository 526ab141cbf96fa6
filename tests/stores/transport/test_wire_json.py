"""DynamoDB's JSON wire format without the service model: the same bodies botocore's serializer
writes, the same answers its parser returns, for any operation."""

from __future__ import annotations

import json
from typing import Any

import botocore.parsers
import botocore.serialize
import botocore.session
import pytest

from dynsession.stores.transport import wire_json

MODEL = botocore.session.get_session().get_service_model("dynamodb")

ITEM: dict[str, Any] = {
    "id": {"S": "dc:abc"},
    "data": {"B": b"\x00\x01\xff binary"},
    "blobs": {"BS": [b"one", b"\x02two"]},
    "n": {"N": "12.5"},
    "tags": {"SS": ["a", "b"]},
    "nested": {"M": {"B": {"B": b"inner"}, "S": {"S": "text"}, "list": {"L": [{"B": b"x"}, {"N": "1"}]}}},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
}

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("PutItem", {"TableName": "t", "Item": ITEM, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    ("GetItem", {"TableName": "t", "Key": {"id": {"S": "dc:abc"}}, "ConsistentRead": True}),
    (
        "Query",
        {
            "TableName": "t",
            "IndexName": "by-user",
            "KeyConditionExpression": "#u = :u",
            "ExpressionAttributeNames": {"#u": "user"},
            "ExpressionAttributeValues": {":u": {"B": b"\x10user"}},
            "Limit": 25,
            "ExclusiveStartKey": {"id": {"S": "dc:abc"}},
        },
    ),
    (
        "BatchWriteItem",
        {
            "RequestItems": {
                "t": [{"PutRequest": {"Item": ITEM}}, {"DeleteRequest": {"Key": {"id": {"S": "dc:old"}}}}]
            }
        },
    ),
]

ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("GetItem", {"Item": ITEM}),
    (
        "Query",
        {"Items": [ITEM, {"id": {"S": "dc:2"}}], "Count": 2, "LastEvaluatedKey": {"id": {"S": "dc:2"}}},
    ),
    ("BatchGetItem", {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {}}),
    ("BatchWriteItem", {"UnprocessedItems": {"t": [{"PutRequest": {"Item": ITEM}}]}}),
    ("UpdateItem", {"Attributes": ITEM}),
    ("DeleteItem", {}),
]


def botocore_body(operation: str, request: dict[str, Any]) -> Any:
    serializer = botocore.serialize.create_serializer("json")
    serialized = serializer.serialize_to_request(request, MODEL.operation_model(operation))
    return json.loads(serialized["body"])


def wire_text(answer: Any) -> bytes:
    """``answer`` as DynamoDB would send it (Binary as base64), written by botocore's serializer rules."""
    return wire_json.encode(answer)


@pytest.mark.parametrize(("operation", "request_"), REQUESTS, ids=[op for op, _ in REQUESTS])
def test_requests_encode_as_botocore_serializes_them(operation: str, request_: dict[str, Any]) -> None:
    assert json.loads(wire_json.encode(request_)) == botocore_body(operation, request_)


@pytest.mark.parametrize(("operation", "answer"), ANSWERS, ids=[op for op, _ in ANSWERS])
def test_answers_decode_as_botocore_parses_them(operation: str, answer: dict[str, Any]) -> None:
    body = wire_text(answer)
    shape = MODEL.operation_model(operation).output_shape
    assert shape is not None
    parsed = botocore.parsers.create_parser("json").parse(
        {"body": body, "headers": {}, "status_code": 200}, shape
    )
    parsed.pop("ResponseMetadata", None)
    assert wire_json.decode(body) == parsed == answer


def test_bytes_like_values_and_sets_are_accepted() -> None:
    encoded = json.loads(wire_json.encode({"a": bytearray(b"\x01"), "b": memoryview(b"\x02"), "c": {"x"}}))
    assert encoded == {"a": "AQ==", "b": "Ag==", "c": ["x"]}


def test_unsupported_values_raise_type_error() -> None:
    with pytest.raises(TypeError, match="object is not a DynamoDB request value"):
        wire_json.encode({"when": object()})


def test_empty_and_malformed_answers() -> None:
    assert wire_json.decode(b"") == {}
    with pytest.raises(ValueError, match="not a JSON object"):
        wire_json.decode(b"[1, 2]")
    with pytest.raises(ValueError, match="malformed Binary"):
        wire_json.decode(b'{"Item": {"data": {"B": "A"}}}')
    with pytest.raises(ValueError):
        wire_json.decode(b"<html>Bad Gateway</html>")
