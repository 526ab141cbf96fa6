"""The opt-in ConsumedCapacity totals of DynamoDBStore, over the real wire protocol, each transport."""

from __future__ import annotations

import pytest

from dynsession import DynamoDBStore, SessionRecord
from dynsession.stores.capacity import CapacityTally

from ..faults import FaultProxy
from ..support import FakeClock, TransportName

pytestmark = pytest.mark.anyio


def _record(version: int, clock: FakeClock) -> SessionRecord:
    return SessionRecord(data=b'{"a":1}', version=version, created=clock(), expires=clock() + 600)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _store(
    endpoint: str, table: str, prefix: str, clock: FakeClock, transport: TransportName, *, opt_in: bool
) -> DynamoDBStore:
    return DynamoDBStore(
        table,
        endpoint_url=endpoint,
        key_prefix=prefix,
        clock=clock,
        return_consumed_capacity=opt_in,
        transport=transport,
    )


async def test_totals_count_each_call_and_its_units(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    store = _store(dynamodb_endpoint, table_name, key_prefix, clock, transport, opt_in=True)
    assert isinstance(store.consumed_capacity, CapacityTally)
    await store.save("k", _record(1, clock), expected_version=None)
    assert await store.load("k") is not None
    assert await store.touch("k", clock() + 900)
    await store.delete("k")
    totals = store.consumed_capacity.snapshot()
    assert totals.calls == {"PutItem": 1, "GetItem": 1, "UpdateItem": 1, "DeleteItem": 1}
    assert totals.read_units > 0
    assert totals.write_units >= 3 * totals.read_units
    store.consumed_capacity.reset()
    empty = store.consumed_capacity.snapshot()
    assert (empty.read_units, empty.write_units, dict(empty.calls)) == (0.0, 0.0, {})


async def test_failed_conditions_are_not_counted(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    store = _store(dynamodb_endpoint, table_name, key_prefix, clock, transport, opt_in=True)
    assert store.consumed_capacity is not None
    assert not await store.touch("missing", clock() + 60)
    assert store.consumed_capacity.snapshot().calls == {}


async def test_default_asks_for_nothing(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    store = _store(faults.url, table_name, key_prefix, clock, transport, opt_in=False)
    assert store.consumed_capacity is None
    await store.save("k", _record(1, clock), expected_version=None)
    await store.load("k")
    assert [operation for operation, _ in faults.requests] == ["PutItem", "GetItem"]
    assert all("ReturnConsumedCapacity" not in body for _, body in faults.requests)
