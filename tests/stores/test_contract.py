"""The SessionStore contract, run over every store (MemoryStore and DynamoDBStore on a real wire)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from dynsession import DynamoDBStore, MovedRecord, MovingStore, SessionConflict, SessionRecord, SessionStore
from dynsession.stores.base import MoveReason

from ..items import RecordingClient
from ..support import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def key(name: str = "one") -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def record(clock: FakeClock, *, version: int = 1, data: bytes = b'{"a":1}', ttl: int = 1800) -> SessionRecord:
    return SessionRecord(data=data, version=version, created=clock.now, expires=clock.now + ttl)


async def test_load_of_an_unknown_key_is_none(store: SessionStore) -> None:
    assert await store.load(key("never-saved")) is None


async def test_save_then_load_returns_the_same_record(store: SessionStore, clock: FakeClock) -> None:
    saved = SessionRecord(
        data=b"\x01binary \x00\xff blob",
        version=1,
        created=clock.now - 10,
        expires=clock.now + 600,
        absolute_deadline=clock.now + 3600,
    )
    await store.save(key(), saved, expected_version=None)
    assert await store.load(key()) == saved


async def test_the_client_binding_fingerprint_is_kept_with_the_record(
    store: SessionStore, clock: FakeClock
) -> None:
    bound = dataclasses.replace(record(clock), binding=bytes(range(32)))
    await store.save(key(), bound, expected_version=None)
    assert await store.load(key()) == bound
    later = dataclasses.replace(bound, version=2, data=b'{"a":2}')
    await store.save(key(), later, expected_version=1)
    assert await store.load(key()) == later


async def test_records_are_kept_apart_by_key(store: SessionStore, clock: FakeClock) -> None:
    await store.save(key("a"), record(clock, data=b'{"who":"a"}'), expected_version=None)
    await store.save(key("b"), record(clock, data=b'{"who":"b"}'), expected_version=None)
    loaded = await store.load(key("a"))
    assert isinstance(loaded, SessionRecord) and loaded.data == b'{"who":"a"}'
    await store.delete(key("a"))
    assert await store.load(key("a")) is None
    assert await store.load(key("b")) is not None


async def test_create_fails_when_the_key_exists(store: SessionStore, clock: FakeClock) -> None:
    first = record(clock)
    await store.save(key(), first, expected_version=None)
    with pytest.raises(SessionConflict):
        await store.save(key(), record(clock, data=b'{"b":2}'), expected_version=None)
    assert await store.load(key()) == first


async def test_versioned_save_replaces_when_the_version_matches(
    store: SessionStore, clock: FakeClock
) -> None:
    await store.save(key(), record(clock), expected_version=None)
    second = record(clock, version=2, data=b'{"a":2}')
    await store.save(key(), second, expected_version=1)
    assert await store.load(key()) == second


async def test_versioned_save_conflicts_on_a_stale_version(store: SessionStore, clock: FakeClock) -> None:
    await store.save(key(), record(clock), expected_version=None)
    current = record(clock, version=2, data=b'{"a":2}')
    await store.save(key(), current, expected_version=1)
    with pytest.raises(SessionConflict):
        await store.save(key(), record(clock, version=2, data=b'{"lost":1}'), expected_version=1)
    assert await store.load(key()) == current


async def test_versioned_save_of_a_missing_key_conflicts(store: SessionStore, clock: FakeClock) -> None:
    with pytest.raises(SessionConflict):
        await store.save(key(), record(clock, version=2), expected_version=1)
    assert await store.load(key()) is None


async def test_touch_moves_only_the_idle_deadline(store: SessionStore, clock: FakeClock) -> None:
    saved = dataclasses.replace(record(clock), absolute_deadline=clock.now + 7200)
    await store.save(key(), saved, expected_version=None)
    assert await store.touch(key(), clock.now + 3000) is True
    assert await store.load(key()) == dataclasses.replace(saved, expires=clock.now + 3000)


async def test_touch_of_a_missing_key_is_false_and_creates_nothing(
    store: SessionStore, clock: FakeClock
) -> None:
    assert await store.touch(key(), clock.now + 3000) is False
    assert await store.load(key()) is None
    # A create must still succeed: no stub item may have been left behind.
    await store.save(key(), record(clock), expected_version=None)


async def test_delete_removes_and_tolerates_missing_keys(store: SessionStore, clock: FakeClock) -> None:
    await store.save(key(), record(clock), expected_version=None)
    await store.delete(key())
    assert await store.load(key()) is None
    await store.delete(key())
    await store.delete(key("never-saved"))
    await store.save(key(), record(clock), expected_version=None)


async def test_idle_deadline_expires_the_record(store: SessionStore, clock: FakeClock) -> None:
    await store.save(key(), record(clock, ttl=100), expected_version=None)
    clock.advance(99)
    assert await store.load(key()) is not None
    clock.advance(1)  # expires <= now is expired
    assert await store.load(key()) is None


async def test_absolute_deadline_expires_the_record(store: SessionStore, clock: FakeClock) -> None:
    saved = dataclasses.replace(record(clock, ttl=1000), absolute_deadline=clock.now + 50)
    await store.save(key(), saved, expected_version=None)
    clock.advance(49)
    assert await store.load(key()) == saved
    clock.advance(1)
    assert await store.load(key()) is None


async def test_touch_revives_a_record_only_before_it_expires(store: SessionStore, clock: FakeClock) -> None:
    await store.save(key(), record(clock, ttl=100), expected_version=None)
    clock.advance(90)
    assert await store.touch(key(), clock.now + 100)
    clock.advance(90)
    assert await store.load(key()) is not None


async def test_dynamodb_item_layout(
    dynamodb_store: DynamoDBStore, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    saved = SessionRecord(b'{"a":1}', 3, clock.now - 5, clock.now + 60, clock.now + 90)
    await dynamodb_store.save(key(), saved, expected_version=None)
    item = dynamodb_client.get_item(
        TableName=dynamodb_store.table_name,
        Key={"id": {"S": dynamodb_store.key_prefix + key()}},
        ConsistentRead=True,
    )["Item"]
    # A random write token of eight bytes, new with every write.
    token = item.pop("tok")
    assert set(token) == {"B"} and len(bytes(token["B"])) == 8
    assert item == {
        "id": {"S": dynamodb_store.key_prefix + key()},
        "ttl": {"N": str(clock.now + 60)},
        "data": {"B": b'{"a":1}'},
        "ver": {"N": "3"},
        "created": {"N": str(clock.now - 5)},
        "abs": {"N": str(clock.now + 90)},
        "seen": {"N": str(clock.now)},
    }


async def test_dynamodb_touch_of_a_deleted_item_leaves_no_item(
    dynamodb_store: DynamoDBStore, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    await dynamodb_store.save(key(), record(clock), expected_version=None)
    await dynamodb_store.delete(key())
    assert await dynamodb_store.touch(key(), clock.now + 100) is False
    found = dynamodb_client.get_item(
        TableName=dynamodb_store.table_name,
        Key={"id": {"S": dynamodb_store.key_prefix + key()}},
        ConsistentRead=True,
    )
    assert "Item" not in found


# -- moved IDs (MovingStore) -----------------------------------------------------------------------


def marker(clock: FakeClock, reason: MoveReason = "privilege", forward: bytes | None = None) -> MovedRecord:
    return MovedRecord(reason, clock.now + 30, forward)


async def test_every_shipped_store_can_move(store: SessionStore) -> None:
    assert isinstance(store, MovingStore)


async def test_move_replaces_the_expected_version_with_a_marker_until_it_expires(
    store: SessionStore, clock: FakeClock
) -> None:
    assert isinstance(store, MovingStore)
    await store.save(key(), record(clock), expected_version=None)
    renewed = marker(clock, "renewed", bytes(range(32)))
    await store.move(key(), renewed, expected_version=1)
    assert await store.load(key()) == renewed
    clock.advance(29)
    assert await store.load(key()) == renewed
    clock.advance(1)
    assert await store.load(key()) is None


async def test_move_of_another_version_conflicts_and_changes_nothing(
    store: SessionStore, clock: FakeClock
) -> None:
    assert isinstance(store, MovingStore)
    saved = record(clock, version=2)
    await store.save(key(), saved, expected_version=None)
    with pytest.raises(SessionConflict) as raised:
        await store.move(key(), marker(clock), expected_version=1)
    assert raised.value.current in (saved, None)  # None: the store could not tell without a read
    assert await store.load(key()) == saved
    with pytest.raises(SessionConflict):
        await store.move(key("missing"), marker(clock), expected_version=1)
    assert await store.load(key("missing")) is None


async def test_a_marker_cannot_be_moved_saved_over_or_touched(store: SessionStore, clock: FakeClock) -> None:
    assert isinstance(store, MovingStore)
    await store.save(key(), record(clock), expected_version=None)
    moved = marker(clock)
    await store.move(key(), moved, expected_version=1)
    with pytest.raises(SessionConflict):
        await store.move(key(), marker(clock, "renewed", bytes(32)), expected_version=1)
    for expected in (None, 1, 2):
        with pytest.raises(SessionConflict) as raised:
            await store.save(key(), record(clock, version=2), expected_version=expected)
        assert raised.value.current in (moved, None)
    assert await store.touch(key(), clock.now + 3600) is False
    assert await store.load(key()) == moved  # its grace window did not grow
    await store.delete(key())
    assert await store.load(key()) is None


async def test_a_marker_keeps_its_successor_and_a_conditional_delete_reports_it(
    store: SessionStore, clock: FakeClock
) -> None:
    # A logout or revoke that lost to a move follows the marker it finds to the session's new key.
    assert isinstance(store, MovingStore)
    await store.save(key(), record(clock), expected_version=None)
    moved = MovedRecord("renewed", clock.now + 30, bytes(32), successor=key("next"))
    await store.move(key(), moved, expected_version=1)
    assert await store.load(key()) == moved
    with pytest.raises(SessionConflict) as raised:
        await store.delete(key(), expected_version=1)
    assert raised.value.current == moved  # shipped stores tell without being asked again
    await store.save(key("gone"), record(clock, version=3), expected_version=None)
    with pytest.raises(SessionConflict) as raised:
        await store.delete(key("gone"), expected_version=2)
    assert raised.value.current == record(clock, version=3)
    assert await store.load(key()) == moved


@pytest.mark.parametrize("consistent", [None, True, False])
async def test_load_takes_an_optional_consistency_choice(
    store: SessionStore, clock: FakeClock, consistent: bool | None
) -> None:
    # Both stores take the keyword; local servers never serve stale reads, so all three agree.
    load: Any = store.load
    await store.save(key(), record(clock), expected_version=None)
    assert await load(key(), consistent=consistent) == record(clock)
    assert await load(key("never-saved"), consistent=consistent) is None
    clock.advance(1800)
    assert await load(key(), consistent=consistent) is None


@pytest.mark.parametrize(
    ("default", "consistent", "sent"),
    [(True, None, True), (False, None, False), (True, False, False), (False, True, True)],
)
async def test_dynamodb_reads_with_the_consistency_asked_for(
    dynamodb_endpoint: str,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    default: bool,
    consistent: bool | None,
    sent: bool,
) -> None:
    recording = RecordingClient(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))
    client = cast("DynamoDBClient", recording)
    store = DynamoDBStore(
        table_name, client=client, key_prefix=key_prefix, clock=clock, consistent_read=default
    )
    await store.load(key(), consistent=consistent)
    assert [call[2]["ConsistentRead"] for call in recording.calls if call[0] == "get_item"] == [sent]
