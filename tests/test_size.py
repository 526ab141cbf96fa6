"""The 400 KB item limit: compression first, then SessionTooLarge before any call to DynamoDB.

moto refuses items over 405,000 bytes (DynamoDB: 409,600), so oversize sessions here are well
above both: the guard must fire before either server is asked.
"""

from __future__ import annotations

import json
import random
import string
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from starlette.testclient import TestClient

from dynsession import DynamoDBStore, SessionRecord, SessionTooLarge
from dynsession._envelope.cookies import CookieSigner, new_session_id, store_key
from dynsession.stores.dynamodb import MAX_ITEM_BYTES, item_size

from .faults import Fault, FaultProxy
from .items import stored_item
from .support import SECRET, FakeClock, session_app

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.dynamodb

# Printable ASCII without the two characters JSON escapes: about 6.5 bits of entropy per byte, so
# zlib shrinks it by less than a fifth.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits + string.punctuation if c not in '"\\')


def incompressible(size: int, seed: int = 4) -> str:
    return "".join(random.Random(seed).choices(_ALPHABET, k=size))


@pytest.mark.parametrize(
    ("size", "compress_threshold"),
    [(450_000, None), (600_000, 1024)],
    ids=["450KB-uncompressed", "600KB-still-too-large-compressed"],
)
def test_oversize_update_raises_before_any_write_and_keeps_the_item(
    proxied_store: DynamoDBStore,
    faults: FaultProxy,
    dynamodb_client: DynamoDBClient,
    clock: FakeClock,
    size: int,
    compress_threshold: int | None,
) -> None:
    app = session_app(proxied_store, clock=clock, compress_threshold=compress_threshold)
    with TestClient(app, base_url="https://testserver") as client:
        client.post("/update", json={"small": 1})
        cookie = client.cookies["session"]
        before = stored_item(dynamodb_client, proxied_store, cookie)
        faults.reset()
        with pytest.raises(SessionTooLarge) as raised:
            client.post("/update", json={"big": incompressible(size), "medium": "m" * 5000})
        assert client.get("/view").json() == {"small": 1}
    error = raised.value
    assert error.limit == MAX_ITEM_BYTES == 409_600
    assert error.size > MAX_ITEM_BYTES
    assert error.largest_keys[0] == ("big", size + 2)  # the encoded value includes its quotes
    assert [key for key, _ in error.largest_keys] == ["big", "medium", "small"]
    assert f"{error.size} bytes, over the 409600 byte limit" in str(error)
    assert "'big' (" in str(error)
    assert faults.sends["GetItem"] == 2  # the oversize update and the view both loaded
    assert faults.sends["PutItem"] == 0
    assert stored_item(dynamodb_client, proxied_store, cookie) == before


def test_oversize_new_session_writes_nothing_and_sets_no_cookie(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    app = session_app(proxied_store, clock=clock, compress_threshold=None)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        response = client.post("/update", json={"big": incompressible(450_000)})
        # The exception reaches the server's error handler: a 500, never the app's 200.
        assert response.status_code == 500
        assert "set-cookie" not in response.headers
        assert "big" not in response.text
    assert faults.sends["PutItem"] == 0


def test_compressible_2mb_session_fits_and_loads_back(
    dynamodb_store: DynamoDBStore, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    rows = [{"sku": f"item-{i % 97}", "qty": i % 7, "note": "gift wrap please"} for i in range(40_000)]
    app = session_app(dynamodb_store, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.post("/update", json={"cart": rows}).status_code == 200
        cookie = client.cookies["session"]
        assert client.get("/view").json() == {"cart": rows}
    item = stored_item(dynamodb_client, dynamodb_store, cookie)
    assert item is not None
    blob = bytes(item["data"]["B"])
    assert blob[:1] == b"\x01"  # the zlib envelope
    assert len(blob) < MAX_ITEM_BYTES // 4
    assert len(json.dumps({"cart": rows}, separators=(",", ":"))) > 2_000_000


def test_uncompressed_blob_from_before_compression_still_loads(
    dynamodb_store: DynamoDBStore, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    # An item written as plain JSON, larger than the threshold, as a writer without compression left it.
    session_id = new_session_id()
    legacy = b'{"user":"ada","history":[' + b",".join(b'"page"' for _ in range(400)) + b"]}"
    now = clock()
    dynamodb_client.put_item(
        TableName=dynamodb_store.table_name,
        Item={
            "id": {"S": dynamodb_store.key_prefix + store_key(session_id)},
            "ttl": {"N": str(now + 600)},
            "data": {"B": legacy},
            "ver": {"N": "7"},
            "created": {"N": str(now - 60)},
        },
    )
    cookie = CookieSigner(SECRET).sign(session_id)
    app = session_app(dynamodb_store, clock=clock)
    with TestClient(app, base_url="https://testserver", cookies={"session": cookie}) as client:
        assert client.get("/view").json() == {"user": "ada", "history": ["page"] * 400}
        client.post("/update", json={"user": "grace"})
        assert client.get("/view").json() == {"user": "grace", "history": ["page"] * 400}
    item = stored_item(dynamodb_client, dynamodb_store, cookie)
    assert item is not None
    assert item["ver"] == {"N": "8"}
    assert bytes(item["data"]["B"])[:1] == b"\x01"  # rewritten in the new format


def test_item_size_follows_dynamodb_rules() -> None:
    item: dict[str, dict[str, Any]] = {
        "id": {"S": "dc:" + "a" * 64},  # 2 + 67
        "ttl": {"N": "1800000000"},  # 3 + two significant digits (1 byte) + 1
        "data": {"B": b"\x01" + b"x" * 99},  # 4 + 100
        "ver": {"N": "12345"},  # 3 + five digits (3 bytes) + 1
        "created": {"N": "-0.0500"},  # 7 + one significant digit (1 byte) + 1
        "abs": {"S": "é"},  # 3 + two UTF-8 bytes
    }
    assert item_size(item) == 69 + 5 + 104 + 7 + 9 + 5


def test_guard_allows_exactly_the_limit(
    proxied_store: DynamoDBStore, faults: FaultProxy, clock: FakeClock
) -> None:
    # A stand-in success answers the PutItem: moto's own limit is smaller than DynamoDB's, so only
    # the guard's arithmetic is under test here.
    accepted = faults.inject("PutItem", Fault("none", status=200))
    key = store_key(new_session_id())

    def record(size: int) -> SessionRecord:
        return SessionRecord(data=b"x" * size, version=1, created=clock(), expires=clock() + 60)

    async def save(size: int) -> None:
        await proxied_store.save(key, record(size), expected_version=None)

    overhead = item_size(proxied_store._item(key, record(0)))
    anyio.run(save, MAX_ITEM_BYTES - overhead)
    assert accepted.sent == 1
    with pytest.raises(SessionTooLarge) as raised:
        anyio.run(save, MAX_ITEM_BYTES - overhead + 1)
    assert raised.value.size == MAX_ITEM_BYTES + 1
    assert accepted.sent == 1
