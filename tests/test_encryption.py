"""Encryption at rest: the stored blob is AES-256-GCM, bound to its item, with key rotation."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from dynsession import ConfigurationError, DynamoDBStore, SessionRecord, SessionStore, SessionTooLarge
from dynsession._envelope.cookies import store_key
from dynsession._envelope.encryption import SessionCipher
from dynsession._serialization import BlobDecodeError

from .items import cookie_value, issued_id, set_cookie
from .support import CountingStore, FakeClock, session_app
from .test_concurrency import RacingApp, race, start_session, stored

OLD_KEY = "o" * 32
NEW_KEY = "n" * 32


@pytest.fixture
def serve(store: SessionStore, clock: FakeClock) -> Iterator[Any]:
    with ExitStack() as stack:

        def start(**options: Any) -> TestClient:
            app = session_app(store, clock=clock, **options)
            return stack.enter_context(TestClient(app, base_url="https://testserver"))

        yield start


def create(client: TestClient, data: dict[str, Any]) -> tuple[str, str]:
    """Start a session holding ``data``; return (signed cookie value, store key)."""
    response = client.post("/update", json=data)
    assert response.status_code == 200
    header = set_cookie(response)
    assert header is not None
    client.cookies.clear()
    return cookie_value(header), store_key(issued_id(response))


def with_cookie(cookie: str) -> dict[str, str]:
    return {"cookie": f"session={cookie}"}


def view(client: TestClient, cookie: str) -> dict[str, Any]:
    response = client.get("/view", headers=with_cookie(cookie))
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def stored_blob(store: SessionStore, key: str) -> bytes:
    record = anyio.run(store.load, key)
    assert isinstance(record, SessionRecord)
    return record.data


def overwrite_blob(store: SessionStore, key: str, blob: bytes) -> None:
    """Change an item's data behind dynsession's back, as anyone with write access to the table could."""

    async def go() -> None:
        record = await store.load(key)
        assert isinstance(record, SessionRecord)
        changed = dataclasses.replace(record, data=blob, version=record.version + 1)
        await store.save(key, changed, expected_version=record.version)

    anyio.run(go)


def test_stored_blob_is_encrypted_and_reads_back(serve: Any, store: SessionStore) -> None:
    client = serve(encryption_key=NEW_KEY)
    cookie, key = create(client, {"card": "4111-1111", "user": "ada"})
    blob = stored_blob(store, key)
    assert blob[:1] == b"\x02"
    assert b"4111" not in blob and b"ada" not in blob and b"card" not in blob
    assert view(client, cookie) == {"card": "4111-1111", "user": "ada"}


def test_every_write_uses_a_fresh_nonce(serve: Any, store: SessionStore) -> None:
    client = serve(encryption_key=NEW_KEY)
    cookie, key = create(client, {"n": 1})
    first = stored_blob(store, key)
    client.post("/update", json={"n": 1, "m": 2}, headers=with_cookie(cookie))
    client.post("/update", json={"m": 1}, headers=with_cookie(cookie))
    client.post("/update", json={"m": 2}, headers=with_cookie(cookie))
    second = stored_blob(store, key)
    assert first[5:17] != second[5:17]


def test_a_blob_swapped_into_another_item_reads_as_corrupt_never_as_the_other_users_data(
    serve: Any, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = serve(encryption_key=NEW_KEY)
    victim_cookie, victim_key = create(client, {"user": "victim"})
    attacker_cookie, attacker_key = create(client, {"user": "attacker"})
    # Someone who can write the table copies the victim's blob into the attacker's item.
    overwrite_blob(store, attacker_key, stored_blob(store, victim_key))
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        assert view(client, attacker_cookie) == {}
    assert "failed authentication" in caplog.text
    assert attacker_key[:8] in caplog.text and attacker_cookie not in caplog.text
    assert view(client, victim_cookie) == {"user": "victim"}


@pytest.mark.parametrize("position", [0, 1, 8, 20, -1])
def test_a_flipped_bit_reads_as_corrupt(
    serve: Any, store: SessionStore, caplog: pytest.LogCaptureFixture, position: int
) -> None:
    client = serve(encryption_key=NEW_KEY)
    cookie, key = create(client, {"user": "ada", "role": "admin"})
    blob = bytearray(stored_blob(store, key))
    blob[position] ^= 0x04
    overwrite_blob(store, key, bytes(blob))
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        assert view(client, cookie) == {}
    assert "could not be decoded" in caplog.text
    # The next write replaces the unreadable item in place, encrypted again.
    response = client.post("/update", json={"user": "ada"}, headers=with_cookie(cookie))
    assert response.status_code == 200
    assert view(client, cookie) == {"user": "ada"}


def test_plaintext_planted_in_an_item_is_refused_when_encryption_is_on(
    serve: Any, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = serve(encryption_key=NEW_KEY)
    cookie, key = create(client, {"user": "ada"})
    overwrite_blob(store, key, b'{"user":"admin"}')
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        assert view(client, cookie) == {}
    assert "not encrypted" in caplog.text


def test_an_encrypted_item_without_the_key_reads_as_corrupt(
    serve: Any, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    cookie, _ = create(serve(encryption_key=NEW_KEY), {"user": "ada"})
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        assert view(serve(), cookie) == {}
    assert "no encryption_key is configured" in caplog.text


def test_key_rotation_decrypts_with_any_key_and_reencrypts_with_the_newest_on_write(
    serve: Any, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    cookie, key = create(serve(encryption_key=OLD_KEY), {"user": "ada"})
    old_blob = stored_blob(store, key)
    rotating = serve(encryption_key=[OLD_KEY, NEW_KEY])
    assert view(rotating, cookie) == {"user": "ada"}
    assert stored_blob(store, key) == old_blob  # reading alone rewrites nothing
    rotating.post("/update", json={"cart": [1]}, headers=with_cookie(cookie))
    assert stored_blob(store, key)[1:5] != old_blob[1:5]  # another key id
    assert view(serve(encryption_key=NEW_KEY), cookie) == {"user": "ada", "cart": [1]}
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        assert view(serve(encryption_key=OLD_KEY), cookie) == {}
    assert "a key not in encryption_key" in caplog.text


def test_compression_happens_before_encryption(serve: Any, store: SessionStore) -> None:
    client = serve(encryption_key=NEW_KEY)
    cart = [{"sku": "ABC-123", "qty": 1, "note": "gift wrap"} for _ in range(2000)]
    cookie, key = create(client, {"cart": cart})
    blob = stored_blob(store, key)
    assert len(blob) < 5_000  # the JSON is ~100 KB; ciphertext would not compress
    assert view(client, cookie)["cart"] == cart


def test_the_size_guard_counts_the_encrypted_item(dynamodb_store: DynamoDBStore, clock: FakeClock) -> None:
    app = session_app(dynamodb_store, clock=clock, encryption_key=NEW_KEY, compress_threshold=None)
    plain = session_app(dynamodb_store, clock=clock, compress_threshold=None)
    body = {"big": secrets.token_hex(205_000)}
    with TestClient(plain, base_url="https://testserver") as client, pytest.raises(SessionTooLarge) as bare:
        client.post("/update", json=body)
    with TestClient(app, base_url="https://testserver") as client, pytest.raises(SessionTooLarge) as sealed:
        client.post("/update", json=body)
    assert sealed.value.size == bare.value.size + 33
    assert sealed.value.largest_keys[0][0] == "big"


def test_the_envelope_adds_33_bytes() -> None:
    cipher = SessionCipher(NEW_KEY)
    assert len(cipher.seal(b'{"a":1}', "k")) == len(b'{"a":1}') + 33
    assert cipher.open(cipher.seal(b"x", "k"), "k") == b"x"
    with pytest.raises(BlobDecodeError):
        cipher.open(cipher.seal(b"x", "k"), "other")
    with pytest.raises(BlobDecodeError):
        cipher.open(b"\x02short", "k")


@pytest.mark.parametrize("bad", ["short", b"", [], ["x" * 32, "short"], [None]])
def test_bad_encryption_keys_fail_when_the_middleware_is_built(store: SessionStore, bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="encryption_key"):
        session_app(store, encryption_key=bad).build_middleware_stack()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_concurrent_writers_merge_through_the_envelope(
    store: SessionStore, clock: FakeClock, anyio_backend: str
) -> None:
    counting = CountingStore(store)
    racing = RacingApp(counting, clock, encryption_key=[OLD_KEY, NEW_KEY])
    async with racing.client() as client:
        cookie = await start_session(client)
        counting.reset()
        responses = await race(racing, client, cookie, [{f"k{i}": i} for i in range(5)])
        assert [r.status_code for r in responses] == [200] * 5
        assert await stored(client, cookie) == {"seed": 0, **{f"k{i}": i for i in range(5)}}
    assert counting.calls.count("save") >= 9  # every loser merged the winner's decrypted data
