"""Encoding sessions: values JSON cannot hold are refused before any write; stored blobs in either
format load; a blob that cannot be decoded reads as an empty session and is replaced by the next write."""

from __future__ import annotations

import datetime
import json
import logging
import zlib
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from dynsession import MovedRecord, SessionMiddleware, SessionNotSerializable, SessionRecord, SessionStore
from dynsession import _serialization as ser
from dynsession._envelope.cookies import CookieSigner, new_session_id, store_key

from .support import SECRET, CountingStore, FakeClock, session_app

UNSERIALIZABLE: dict[str, Any] = {
    "set": {1, 2},
    "bytes": b"raw",
    "datetime": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    "object": object(),
    "nan": float("nan"),
    "nested": {"inner": [1, {2, 3}]},
}


def storing_app(store: SessionStore, clock: FakeClock, value: Any) -> Starlette:
    async def put(request: Request) -> Response:
        request.session["fine"] = "yes"
        request.session[request.query_params["key"]] = value
        return JSONResponse({"ok": True})

    async def seed(request: Request) -> Response:
        request.session["fine"] = "seeded"
        return JSONResponse({"ok": True})

    async def view(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    app = Starlette(
        routes=[
            Route("/put", put, methods=["POST"]),
            Route("/seed", seed, methods=["POST"]),
            Route("/view", view),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock)
    return app


@pytest.mark.parametrize("kind", sorted(UNSERIALIZABLE))
def test_unserializable_value_is_refused_before_any_write(
    counting: CountingStore, clock: FakeClock, kind: str
) -> None:
    app = storing_app(counting, clock, UNSERIALIZABLE[kind])
    with TestClient(app, base_url="https://testserver") as client:
        with pytest.raises(SessionNotSerializable) as raised:
            client.post(f"/put?key=my_{kind}")
        assert "save" not in counting.calls
        assert "session" not in client.cookies
    error = raised.value
    assert isinstance(error, TypeError)
    assert error.key == f"my_{kind}"
    assert f"session key 'my_{kind}'" in str(error)


def test_unserializable_update_leaves_the_stored_session(counting: CountingStore, clock: FakeClock) -> None:
    app = storing_app(counting, clock, {1, 2})
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        client.post("/seed")
        counting.reset()
        response = client.post("/put?key=tags")
        assert response.status_code == 500
        assert "ok" not in response.text
        assert counting.calls == ["load"]
        assert client.get("/view").json() == {"fine": "seeded"}


TUPLE_KEYED: dict[Any, Any] = {"ok": 1, (1, 2): "tuple key"}


def test_non_string_key_is_refused() -> None:
    with pytest.raises(SessionNotSerializable, match=r"key \(1, 2\) is not a string") as raised:
        ser.dumps(TUPLE_KEYED)
    assert raised.value.key is None


def test_dumps_is_compact_and_keeps_unicode() -> None:
    assert ser.dumps({"name": "Zoë", "n": [1, 2]}) == '{"name":"Zoë","n":[1,2]}'.encode()


# -- the stored formats ----------------------------------------------------------------------------


def test_pack_compresses_above_the_threshold_only_when_smaller() -> None:
    small = ser.dumps({"a": "x" * 100})
    assert ser.pack(small, 1024) == small
    large = ser.dumps({"a": "x" * 5000})
    packed = ser.pack(large, 1024)
    assert packed[:1] == b"\x01" and len(packed) < len(large) // 10
    assert ser.unpack(packed) == large
    assert ser.pack(large, None) == large
    # Above the threshold but incompressible: stored plain rather than grown.
    noisy = json.dumps({"a": [str(i * 7919 % 10007) for i in range(400)]}).encode()
    assert ser.unpack(ser.pack(noisy, 16)) == noisy


def test_plain_json_blobs_load() -> None:
    assert ser.unpack(b'{"legacy":true}') == b'{"legacy":true}'


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"\x01" + b"not zlib at all", "corrupted zlib body"),
        (b"\x01" + zlib.compress(b'{"a":1}')[:-3], "corrupted zlib body"),
        (b"\x03future format", "unknown format"),
        (b"\x02" + bytes(40), "no encryption_key is configured"),
        (b"", "malformed"),
        (b"[1,2]", "unknown format"),
    ],
)
def test_undecodable_blobs_raise_blob_decode_error(blob: bytes, reason: str) -> None:
    with pytest.raises(ser.BlobDecodeError, match=reason):
        ser.loads(ser.unpack(blob))


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"a":1', b"{\xff\xfe}", b'{"a":1}{"b":2}'],
    ids=["syntax", "truncated", "utf8", "two"],
)
def test_bad_json_raises_blob_decode_error(raw: bytes) -> None:
    with pytest.raises(ser.BlobDecodeError):
        ser.loads(raw)


def test_changed_keys_compares_encoded_values() -> None:
    before = {"same": [1, 2], "nested": {"a": [1]}, "gone": 1}
    after = {"same": [1, 2], "nested": {"a": [1, 2]}, "new": None}
    assert ser.changed_keys(before, after) == ({"nested": {"a": [1, 2]}, "new": None}, ["gone"])


# -- a corrupted item through the middleware ---------------------------------------------------------


@pytest.mark.parametrize("blob", [b"\x01garbage", b"\x7fnot a session", b"{truncated"])
def test_corrupted_blob_reads_as_empty_and_is_replaced(
    store: SessionStore, clock: FakeClock, caplog: pytest.LogCaptureFixture, blob: bytes
) -> None:
    session_id = new_session_id()
    key = store_key(session_id)
    record = SessionRecord(data=blob, version=3, created=clock() - 10, expires=clock() + 600)

    async def plant() -> None:
        await store.save(key, record, expected_version=None)

    anyio.run(plant)
    cookie = CookieSigner(SECRET).sign(session_id)
    app = session_app(store, clock=clock)
    with TestClient(app, base_url="https://testserver", cookies={"session": cookie}) as client:
        with caplog.at_level(logging.WARNING, logger="dynsession"):
            assert client.get("/view").json() == {}
        warnings = [r for r in caplog.records if "could not be decoded" in r.getMessage()]
        assert len(warnings) == 1
        assert key[:8] in warnings[0].getMessage()
        assert session_id not in caplog.text
        response = client.post("/update", json={"fresh": 1})
        assert response.status_code == 200
        # Replaced in place, under the same ID: the versioned write built on the unreadable item.
        assert "set-cookie" not in response.headers
        assert client.get("/view").json() == {"fresh": 1}

    async def reread() -> SessionRecord | MovedRecord | None:
        return await store.load(key)

    stored = anyio.run(reread)
    assert isinstance(stored, SessionRecord)
    assert stored.version == 4
    assert ser.loads(ser.unpack(stored.data)) == {"fresh": 1}


# -- lone surrogates -------------------------------------------------------------------------------


def test_lone_surrogates_round_trip_and_stay_loadable_by_any_json_reader() -> None:
    data = {"name": "abc\ud800", "other": "Zoë \U0001f600", "low": "\udc00x"}
    raw = ser.dumps(data)
    # Escaped as standard JSON: any reader, dynsession's older versions included, loads it.
    assert raw.isascii() and b"\\ud800" in raw
    assert json.loads(raw) == data
    assert ser.loads(ser.unpack(ser.pack(raw, 16))) == data
    # As in Starlette's cookie sessions, two surrogates that form a pair read back as one character.
    assert ser.loads(ser.dumps({"pair": "\udbff\udfff"})) == {"pair": "\U0010ffff"}
    # Sessions without them keep the compact UTF-8 form.
    assert ser.dumps({"name": "Zoë"}) == '{"name":"Zoë"}'.encode()
    assert ser.largest_keys(data)[0][0] in data


def test_a_lone_surrogate_from_a_json_body_is_stored_and_read_back(
    counting: CountingStore, clock: FakeClock
) -> None:
    async def update(request: Request) -> Response:
        request.session.update(await request.json())
        return Response("stored")

    async def view(request: Request) -> Response:
        # json.dumps escapes the surrogate; Starlette's JSONResponse (UTF-8) could not send it.
        return Response(json.dumps(dict(request.session)), media_type="application/json")

    app = Starlette(routes=[Route("/update", update, methods=["POST"]), Route("/view", view)])
    app.add_middleware(SessionMiddleware, store=counting, secret_key=SECRET, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        # Python's own JSON parser turns this body into a str holding a lone surrogate.
        body = b'{"name": "abc\\ud800"}'
        response = client.post("/update", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200
        assert json.loads(client.get("/view").content) == {"name": "abc\ud800"}
        counting.reset()
        # Unchanged: read back and re-encoded identically, so nothing is written.
        client.get("/view")
        assert counting.calls == ["load"]
