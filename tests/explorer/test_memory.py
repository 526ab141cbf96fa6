"""Every scenario, every schedule, over MemoryStore."""

from __future__ import annotations

import pytest

from dynsession import MemoryStore
from dynsession.testing import FakeClock

from .explore import explore
from .scenario import Scenario
from .scenarios import ALL

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("scenario", ALL, ids=lambda s: s.name)
async def test_memory(scenario: Scenario) -> None:
    clock = FakeClock()
    report = await explore(
        scenario, "memory", lambda: MemoryStore(clock=clock), clock, samples=scenario.samples
    )
    print(report.summary())
    if report.failures:
        pytest.fail(report.message(), pytrace=False)
