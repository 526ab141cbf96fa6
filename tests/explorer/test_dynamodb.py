"""Every scenario over the DynamoDB wire: DynamoDBStore with the user index (moto's server by
default; CI runs the tests marked ``dynamodb`` again on dynalite)."""

from __future__ import annotations

import pytest

from dynsession import DynamoDBStore
from dynsession.testing import FakeClock

from .explore import explore
from .scenario import Scenario
from .scenarios import ALL

pytestmark = [pytest.mark.anyio, pytest.mark.dynamodb]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def wire(dynamodb_endpoint: str, user_table_name: str, key_prefix: str) -> tuple[DynamoDBStore, FakeClock]:
    """A DynamoDBStore with the user index on the run's indexed table (native transport), and its clock."""
    clock = FakeClock()
    store = DynamoDBStore(
        user_table_name,
        endpoint_url=dynamodb_endpoint,
        key_prefix=key_prefix,
        clock=clock,
        transport="native",
        user_index=True,
    )
    return store, clock


@pytest.mark.parametrize("scenario", ALL, ids=lambda s: s.name)
async def test_dynamodb(scenario: Scenario, wire: tuple[DynamoDBStore, FakeClock]) -> None:
    store, clock = wire
    try:
        report = await explore(scenario, "dynamodb", lambda: store, clock, samples=scenario.wire_samples)
    finally:
        await store.aclose()
    print(report.summary())
    if report.failures:
        pytest.fail(report.message(), pytrace=False)
