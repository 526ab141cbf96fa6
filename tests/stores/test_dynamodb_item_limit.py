"""DynamoDBStore's size guard agrees byte for byte with the server's 400 KB item limit."""

from __future__ import annotations

import hashlib

import pytest

from dynsession import DynamoDBStore, SessionRecord, SessionTooLarge
from dynsession.stores.dynamodb import MAX_ITEM_BYTES, item_size

from ..conftest import EXTERNAL_ENDPOINT
from ..support import FakeClock

pytestmark = pytest.mark.anyio

KEY = hashlib.sha256(b"large").hexdigest()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def sized(store: DynamoDBStore, clock: FakeClock, size: int, absolute: int | None) -> SessionRecord:
    """A record whose DynamoDB item is exactly ``size`` bytes."""

    def make(data_bytes: int) -> SessionRecord:
        return SessionRecord(
            data=b"x" * data_bytes,
            version=1,
            created=clock.now,
            expires=clock.now + 1800,
            absolute_deadline=absolute,
        )

    overhead = item_size(store._item(KEY, make(0)))
    result = make(size - overhead)
    assert item_size(store._item(KEY, result)) == size
    return result


@pytest.mark.parametrize("absolute", [None, 1_900_000_000], ids=["idle-only", "absolute"])
async def test_an_item_one_byte_over_the_limit_is_refused_before_any_write(
    dynamodb_store: DynamoDBStore, clock: FakeClock, absolute: int | None
) -> None:
    with pytest.raises(SessionTooLarge) as raised:
        await dynamodb_store.save(
            KEY, sized(dynamodb_store, clock, MAX_ITEM_BYTES + 1, absolute), expected_version=None
        )

    assert (raised.value.size, raised.value.limit) == (MAX_ITEM_BYTES + 1, 409_600)
    assert await dynamodb_store.load(KEY) is None


@pytest.mark.skipif(
    not EXTERNAL_ENDPOINT,
    reason="moto caps items at 405,000 bytes, below DynamoDB's 409,600 (dynalite has it exact)",
)
@pytest.mark.parametrize("absolute", [None, 1_900_000_000], ids=["idle-only", "absolute"])
async def test_an_item_of_exactly_the_limit_is_stored(
    dynamodb_store: DynamoDBStore, clock: FakeClock, absolute: int | None
) -> None:
    record = sized(dynamodb_store, clock, MAX_ITEM_BYTES, absolute)

    await dynamodb_store.save(KEY, record, expected_version=None)

    assert await dynamodb_store.load(KEY) == record
