"""Bounds on what one session costs: the decompressed-size cap (``max_session_size``), the 400 KB
item limit in every store, and MemoryStore reclaiming expired sessions nobody reads again."""

from __future__ import annotations

import logging
import random
import string
import tracemalloc
import zlib
from typing import Any

import anyio
import httpx
import pytest
from starlette.testclient import TestClient

from dynsession import DynamoDBStore, MemoryStore, SessionRecord, SessionStore, SessionTooLarge
from dynsession import _serialization as ser
from dynsession._envelope.cookies import CookieSigner, new_session_id, store_key
from dynsession.stores.dynamodb import MAX_ITEM_BYTES, item_size

from .support import SECRET, CountingStore, FakeClock, session_app

MiB = 1024 * 1024
# 50 MB of one repeated byte: zlib stores it in about 48 KB.
BOMB_JSON = b'{"a":"' + b"x" * (50 * MiB) + b'"}'
BOMB = b"\x01" + zlib.compress(BOMB_JSON, 9)


def planted_record(clock: FakeClock, blob: bytes) -> SessionRecord:
    return SessionRecord(data=blob, version=5, created=clock() - 10, expires=clock() + 600)


# -- the decompressed size --------------------------------------------------------------------------


def test_decompression_stops_at_the_cap() -> None:
    assert len(BOMB) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ser.BlobDecodeError, match="decompresses to over 4194304 bytes"):
            ser.unpack(BOMB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Inflating stops at the cap (the output buffer grows by doubling), not at the 50 MB inside.
    assert peak < 3 * ser.DEFAULT_MAX_SESSION_SIZE


def test_the_cap_applies_to_plain_json_too() -> None:
    raw = b'{"a":"' + b"x" * 100 + b'"}'
    assert ser.unpack(raw, len(raw)) == raw
    assert ser.unpack(b"\x01" + zlib.compress(raw), len(raw)) == raw
    with pytest.raises(ser.BlobDecodeError, match="over 107 bytes"):
        ser.unpack(raw, len(raw) - 1)
    with pytest.raises(ser.BlobDecodeError, match="over 107 bytes"):
        ser.unpack(b"\x01" + zlib.compress(raw), len(raw) - 1)


def test_a_stored_session_over_the_cap_reads_as_corrupt_and_is_replaced(
    store: SessionStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    session_id = new_session_id()

    async def plant() -> None:
        await store.save(store_key(session_id), planted_record(clock, BOMB), expected_version=None)

    anyio.run(plant)
    cookie = CookieSigner(SECRET).sign(session_id)
    app = session_app(store, clock=clock)
    with TestClient(app, base_url="https://testserver", cookies={"session": cookie}) as client:
        with caplog.at_level(logging.WARNING, logger="dynsession"):
            response = client.get("/view")
        assert response.status_code == 200 and response.json() == {}
        assert "decompresses to over 4194304 bytes" in caplog.text
        response = client.post("/update", json={"small": 1})
        assert response.status_code == 200 and "set-cookie" not in response.headers
        assert client.get("/view").json() == {"small": 1}


@pytest.mark.parametrize(
    ("max_session_size", "size"), [(None, 5 * MiB), (10_000, 10_001)], ids=["default", "configured"]
)
def test_a_session_over_the_cap_is_refused_before_any_write(
    counting: CountingStore, clock: FakeClock, max_session_size: int | None, size: int
) -> None:
    options: dict[str, Any] = {} if max_session_size is None else {"max_session_size": max_session_size}
    cap = max_session_size or ser.DEFAULT_MAX_SESSION_SIZE
    app = session_app(counting, clock=clock, **options)
    with TestClient(app, base_url="https://testserver") as client:
        client.post("/update", json={"kept": True})
        counting.reset()
        # Compressible: the stored item would be small, but reading it back would inflate it past the cap.
        value = "x" * (size - len('{"kept":true,"big":""}'))
        with pytest.raises(SessionTooLarge) as raised:
            client.post("/update", json={"big": value})
        assert counting.calls == ["load"]
        assert client.get("/view").json() == {"kept": True}
    error = raised.value
    assert (error.size, error.limit, error.what) == (size, cap, "session JSON")
    assert error.largest_keys[0][0] == "big"
    assert str(error).startswith(f"session JSON is {size} bytes, over the {cap} byte limit")


def test_a_session_of_exactly_the_cap_is_stored(counting: CountingStore, clock: FakeClock) -> None:
    app = session_app(counting, clock=clock, max_session_size=10_000)
    value = "x" * (10_000 - len('{"big":""}'))
    with TestClient(app, base_url="https://testserver") as client:
        assert client.post("/update", json={"big": value}).status_code == 200
        assert client.get("/view").json() == {"big": value}


# -- the 400 KB item limit, in every store -----------------------------------------------------------

_ALPHABET = "".join(c for c in string.ascii_letters + string.digits + string.punctuation if c not in '"\\')


def test_every_store_refuses_an_item_dynamodb_would_refuse(store: SessionStore, clock: FakeClock) -> None:
    counting = CountingStore(store)
    app = session_app(counting, clock=clock, compress_threshold=None)
    big = "".join(random.Random(4).choices(_ALPHABET, k=450_000))
    with TestClient(app, base_url="https://testserver") as client:
        client.post("/update", json={"small": 1})
        with pytest.raises(SessionTooLarge) as raised:
            client.post("/update", json={"big": big})
        assert client.get("/view").json() == {"small": 1}
    assert raised.value.limit == MAX_ITEM_BYTES == 409_600
    assert raised.value.size > MAX_ITEM_BYTES
    assert raised.value.largest_keys[0][0] == "big"


def test_memory_store_measures_items_as_dynamodb_store_does(clock: FakeClock) -> None:
    key = store_key(new_session_id())
    # Default attribute names and prefix, the same clock (items note their write time); never connects.
    reference = DynamoDBStore("sessions", clock=clock)

    def record(data_bytes: int) -> SessionRecord:
        return SessionRecord(b"x" * data_bytes, 1, clock(), clock() + 60, clock() + 3600)

    overhead = item_size(reference._item(key, record(0)))
    memory = MemoryStore(clock=clock)

    async def save(data_bytes: int) -> None:
        await memory.save(key, record(data_bytes), expected_version=None)

    with pytest.raises(SessionTooLarge) as raised:
        anyio.run(save, MAX_ITEM_BYTES - overhead + 1)
    assert raised.value.size == MAX_ITEM_BYTES + 1
    assert len(memory) == 0
    anyio.run(save, MAX_ITEM_BYTES - overhead)
    assert len(memory) == 1


# -- MemoryStore reclaims what nobody reads again ----------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_memory_store_reclaims_abandoned_sessions(clock: FakeClock, anyio_backend: str) -> None:
    store = MemoryStore(clock=clock)
    app = session_app(store, clock=clock, idle_timeout=600)
    sizes = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        for _ in range(3):
            # 300 visitors each start a session and never come back.
            for visitor in range(300):
                response = await client.post("/update", json={"visitor": visitor})
                assert response.status_code == 200
                client.cookies.clear()
            sizes.append(len(store))
            clock.advance(601)
    # Without reclaiming, 900 records; swept on writes, never more than twice the live ones (300).
    assert max(sizes) <= 2 * 300, sizes
    assert sizes[-1] < 3 * 300
