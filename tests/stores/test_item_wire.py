"""The session item's templated JSON: the same requests and answers as the generic codec gives."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from dynsession import DynamoDBStore, SessionRecord
from dynsession.stores.base import SessionOwner
from dynsession.stores.item_format import ItemFormat
from dynsession.stores.item_wire import read_answer, render
from dynsession.stores.transport import wire_json

from ..faults import FaultProxy
from ..support import FakeClock

LAYOUT = ItemFormat("pk", "expires_at", 'app:"quoted"\\')
RECORD = SessionRecord(
    data=bytes(range(256)) * 3,
    version=7,
    created=1_700_000_000,
    expires=1_700_000_600,
    absolute_deadline=1_700_086_400,
    binding=b"\x00bind",
    issued=1_700_000_001,
    owner=SessionOwner('user\u00e9\n"1"', 'Firefox "128" on Linux \u2603', 1_700_000_002),
)
ITEM = LAYOUT.item("0f" * 16, RECORD, b"\x01" * 8, written=1_700_000_003)

REQUESTS: dict[str, dict[str, Any]] = {
    "get": {"TableName": "sessions", "Key": LAYOUT.key("ab" * 16), "ConsistentRead": True},
    "put-new": {"TableName": "sessions", "Item": ITEM, **LAYOUT.condition(None)},
    "put-version": {"TableName": "sessions", "Item": ITEM, **LAYOUT.condition(6)},
    "put-unreadable-version": {"TableName": "sessions", "Item": ITEM, **LAYOUT.condition(-(2**20))},
    "update": {
        "TableName": "sessions",
        "Key": LAYOUT.key("ab" * 16),
        "UpdateExpression": "SET #t = :t",
        "ConditionExpression": "attribute_exists(#v)",
        "ExpressionAttributeNames": {"#t": "expires_at", "#v": "ver"},
        "ExpressionAttributeValues": {":t": {"N": "1700000900"}},
    },
    "delete": {"TableName": "sessions", "Key": LAYOUT.key("ab" * 16), "ConsistentRead": False},
}


@pytest.mark.parametrize("request_", REQUESTS.values(), ids=REQUESTS.keys())
def test_a_rendered_request_is_the_generic_codecs_json(request_: dict[str, Any]) -> None:
    rendered = render(request_)
    assert isinstance(rendered, wire_json.Rendered)
    assert rendered == request_  # still the request boto3 takes, for any other transport
    assert json.loads(rendered.body) == json.loads(wire_json.encode(request_))


@pytest.mark.parametrize(
    "request_",
    [
        {"TableName": "t", "Item": {"pk": {"S": "k"}, "tags": {"SS": ["a"]}}},
        {"TableName": "t", "Item": {"pk": {"S": "k"}, "m": {"M": {"x": {"N": "1"}}}}},
        {"TableName": "t", "Key": {"pk": {"S": "k"}}, "Limit": 3},
        {"TableName": "t", "Key": {"pk": {"B": bytearray(b"k")}}},
    ],
    ids=["string-set", "map", "number-field", "bytearray"],
)
def test_what_the_template_does_not_cover_goes_through_the_generic_codec(request_: dict[str, Any]) -> None:
    assert render(request_) is request_


def test_an_answer_is_read_as_the_generic_codec_reads_the_items_attributes() -> None:
    for part in ("Item", "Attributes"):
        body = wire_json.encode({part: ITEM, "ConsumedCapacity": {"CapacityUnits": 1.0}})
        assert read_answer(body) == wire_json.decode(body)
    assert read_answer(b"{}") == {} == read_answer(b"")
    with pytest.raises(ValueError):
        read_answer(b"[]")
    with pytest.raises(ValueError):
        read_answer(b'{"Item":{"data":{"B":"A"}}}')


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_native_transport_sends_the_rendered_json(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    anyio_backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generic: list[str] = []  # what went through the generic codec instead
    encode, decode = wire_json.encode, wire_json.decode

    def counted_encode(request: object) -> bytes:
        generic.append("encode")
        return encode(request)

    def counted_decode(body: bytes) -> dict[str, Any]:
        generic.append("decode")
        return decode(body)

    monkeypatch.setattr(wire_json, "encode", counted_encode)
    monkeypatch.setattr(wire_json, "decode", counted_decode)
    store = DynamoDBStore(
        table_name, endpoint_url=faults.url, key_prefix=key_prefix, clock=clock, transport="native"
    )
    record = SessionRecord(data=b'{"a":"\\u00e9"}', version=1, created=clock(), expires=clock() + 600)
    await store.save("k", record, expected_version=None)
    assert await store.load("k") == record
    assert await store.touch("k", clock() + 900)
    await store.delete("k", expected_version=1)
    assert await store.load("k") is None
    assert [operation for operation, _ in faults.requests] == [
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "GetItem",
    ]
    assert generic == []
    put = faults.requests[0][1]
    assert put["Item"]["data"] == {"B": base64.b64encode(record.data).decode("ascii")}
    await store.aclose()
