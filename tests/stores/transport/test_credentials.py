"""Credentials for the native transport: botocore's chain, refreshed in worker threads only.

blockbuster (on in every test) fails any refresh that blocks the event loop; each refresh here
blocks its thread on purpose, as a call to STS or a metadata endpoint would.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import botocore.exceptions
import pytest
from botocore.credentials import Credentials as BotocoreCredentials
from botocore.credentials import RefreshableCredentials

from dynsession.stores.transport.credentials import CHECK_INTERVAL, CredentialSource

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


START = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)


class Wall:
    """botocore's view of the time (its ``time_fetcher``), moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += datetime.timedelta(minutes=minutes)


class Issuer:
    """Hands out credentials KEY1, KEY2, … valid ``minutes`` from ``wall``'s now, noting the thread
    of each fetch; a fetch blocks its thread until ``release`` is set."""

    def __init__(self, wall: Wall, minutes: float = 60) -> None:
        self.wall = wall
        self.minutes = minutes
        self.threads: list[int] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> dict[str, str]:
        self.threads.append(threading.get_ident())
        self.release.wait(10)
        time.sleep(0.01)  # blocking, as a network call is: allowed in a worker thread only
        number = len(self.threads)
        expiry = self.wall() + datetime.timedelta(minutes=self.minutes)
        return {
            "access_key": f"KEY{number}",
            "secret_key": "secret",
            "token": f"token{number}",
            "expiry_time": expiry.isoformat(),
        }


def refreshable(issuer: Issuer, minutes: float) -> RefreshableCredentials:
    """KEY0, valid ``minutes`` from now, refreshed by ``issuer``; botocore's windows: refresh
    advised 15 minutes before expiry, mandatory 10 minutes before."""
    expiry = issuer.wall() + datetime.timedelta(minutes=minutes)
    return RefreshableCredentials(
        "KEY0", "secret", "token0", expiry, issuer, "test", time_fetcher=issuer.wall
    )


class Monotonic:
    """The source's own clock for how often it looks at the expiry."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def wait_for(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(10):
        while not condition():
            await anyio.sleep(0.005)


async def test_static_credentials_are_resolved_once_in_a_worker_thread() -> None:
    resolved: list[int] = []

    def resolve() -> Any:
        resolved.append(threading.get_ident())
        time.sleep(0.01)  # reading config files blocks
        return BotocoreCredentials("AKID", "secret")

    source = CredentialSource(resolve)
    first = await source.get()
    assert (first.access_key, first.secret_key, first.token) == ("AKID", "secret", None)
    for _ in range(5):
        assert await source.get() == first
    assert len(resolved) == 1 and resolved[0] != threading.get_ident()


async def test_a_valid_key_is_looked_at_again_only_after_the_check_interval() -> None:
    wall = Wall()
    issuer = Issuer(wall)
    monotonic = Monotonic()
    source = CredentialSource(lambda: refreshable(issuer, 60), monotonic=monotonic)
    assert (await source.get()).access_key == "KEY0"
    wall.advance(50)  # 10 minutes left: a refresh is due, but nobody looks before the interval
    monotonic.now += CHECK_INTERVAL / 2
    assert (await source.get()).access_key == "KEY0"
    assert issuer.threads == []


async def test_credentials_near_expiry_are_refreshed_without_blocking_requests() -> None:
    wall = Wall()
    issuer = Issuer(wall)
    monotonic = Monotonic()
    source = CredentialSource(lambda: refreshable(issuer, 60), monotonic=monotonic)
    assert (await source.get()).access_key == "KEY0"

    # 12 minutes left: inside the advisory window, outside the mandatory one. The next request
    # signs at once with KEY0 while KEY1 is fetched in another thread.
    wall.advance(48)
    monotonic.now += CHECK_INTERVAL
    issuer.release.clear()
    assert (await source.get()).access_key == "KEY0"
    await wait_for(lambda: len(issuer.threads) == 1)
    for _ in range(3):
        monotonic.now += CHECK_INTERVAL
        assert (await source.get()).access_key == "KEY0"  # still signing while the refresh runs
    assert len(issuer.threads) == 1  # one refresh at a time
    issuer.release.set()
    await wait_for(lambda: source.refreshes == 2)
    assert (await source.get()).access_key == "KEY1"
    assert threading.get_ident() not in issuer.threads


async def test_expired_credentials_are_waited_for_in_one_shared_refresh() -> None:
    wall = Wall()
    issuer = Issuer(wall)
    monotonic = Monotonic()
    source = CredentialSource(lambda: refreshable(issuer, 60), monotonic=monotonic)
    assert (await source.get()).access_key == "KEY0"
    wall.advance(61)
    monotonic.now += CHECK_INTERVAL
    keys: list[str] = []

    async def get() -> None:
        keys.append((await source.get()).access_key)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(get)
    # Expired: nobody signs with KEY0 any more; ten requests, one refresh, in a worker thread.
    assert keys == ["KEY1"] * 10
    assert len(issuer.threads) == 1 and issuer.threads[0] != threading.get_ident()


async def test_no_credentials_raise_and_are_looked_for_again() -> None:
    found: list[Any] = [None]
    source = CredentialSource(lambda: found[0])
    with pytest.raises(botocore.exceptions.NoCredentialsError):
        await source.get()
    found[0] = BotocoreCredentials("LATER", "secret")
    assert (await source.get()).access_key == "LATER"
