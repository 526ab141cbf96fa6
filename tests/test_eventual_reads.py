"""``eventually_consistent=True``: half-price reads that still read their own writes, because the
cookie carries the session's version; stale replicas are played by a store wrapper, since neither
local DynamoDB server models replication lag."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from starlette.testclient import TestClient

from dynsession import (
    ConfigurationError,
    MovedRecord,
    MovingStore,
    SessionMiddleware,
    SessionRecord,
    SessionStore,
)
from dynsession._envelope.cookies import CookieSigner

from .items import Inspector, cookie_value, is_expiry, issued_id, set_cookie
from .support import SECRET, CountingStore, FakeClock, PlainStore, session_app
from .test_concurrency import WRITERS, RacingApp, race, start_session, stored


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LaggingStore:
    """Passes every call to ``inner``, but while ``lagging`` an eventually consistent read returns
    each key as it was before its latest write, as a replica that has not caught up would. The read
    itself still reaches ``inner`` (on DynamoDB, a real GetItem with ``ConsistentRead=False``)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.lagging = True
        self._replica: dict[str, SessionRecord | MovedRecord | None] = {}

    def catch_up(self) -> None:
        self._replica.clear()

    async def _before_write(self, key: str) -> None:
        self._replica[key] = await self._load(key, True)

    async def _load(self, key: str, consistent: bool | None) -> SessionRecord | MovedRecord | None:
        load: Any = self.inner.load
        record: SessionRecord | MovedRecord | None = await load(key, consistent=consistent)
        return record

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        record = await self._load(key, consistent)
        if consistent is False and self.lagging and key in self._replica:
            return self._replica[key]
        return record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self._before_write(key)
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        await self._before_write(key)
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self._before_write(key)
        await self.inner.delete(key, expected_version=expected_version)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        assert isinstance(self.inner, MovingStore)
        await self._before_write(key)
        await self.inner.move(key, marker, expected_version=expected_version)


@pytest.fixture
def lagging(store: SessionStore) -> LaggingStore:
    return LaggingStore(store)


@pytest.fixture
def reads(lagging: LaggingStore) -> CountingStore:
    return CountingStore(lagging)


@pytest.fixture
def items(store: SessionStore, request: pytest.FixtureRequest) -> Inspector:
    return Inspector.for_store(store, request)


@pytest.fixture
def client(reads: CountingStore, clock: FakeClock) -> Iterator[TestClient]:
    app = session_app(reads, clock=clock, eventually_consistent=True)
    with TestClient(app, base_url="https://testserver") as web:
        yield web


def version_in(response: Any) -> int | None:
    header = set_cookie(response)
    assert header is not None
    parsed = CookieSigner(SECRET).unsign(cookie_value(header))
    assert parsed is not None
    return parsed.version


def test_fresh_replicas_answer_at_half_price(
    client: TestClient, reads: CountingStore, lagging: LaggingStore
) -> None:
    lagging.lagging = False
    created = client.post("/update", json={"a": 1})
    assert version_in(created) == 1
    reads.reset()
    response = client.get("/view")
    assert response.json() == {"a": 1} and set_cookie(response) is None
    assert (reads.calls, reads.reads) == (["load"], [False])
    reads.reset()
    # Every write re-sends the cookie with the version it wrote, even without max_age.
    assert version_in(client.post("/update", json={"b": 2})) == 2
    assert (reads.calls, reads.reads) == (["load", "save"], [False])


def test_a_replica_older_than_the_cookie_is_read_again_consistently(
    client: TestClient, reads: CountingStore, lagging: LaggingStore
) -> None:
    client.post("/update", json={"a": 1})
    reads.reset()
    # The replica has not seen the create: the item reads as missing, then consistently as there.
    assert client.get("/view").json() == {"a": 1}
    assert reads.reads == [False, True]
    assert version_in(client.post("/update", json={"a": 2})) == 2
    reads.reset()
    # The replica still holds version 1, older than the cookie's 2.
    assert client.get("/view").json() == {"a": 2}
    assert reads.reads == [False, True]
    lagging.catch_up()
    reads.reset()
    assert client.get("/view").json() == {"a": 2}
    assert reads.reads == [False]


def test_a_session_really_gone_costs_one_more_read(
    client: TestClient, reads: CountingStore, lagging: LaggingStore, items: Inspector
) -> None:
    session_id = issued_id(client.post("/update", json={"a": 1}))
    items.delete(session_id)
    lagging.catch_up()
    reads.reset()
    response = client.get("/view")
    assert response.json() == {} and set_cookie(response) is None
    assert reads.reads == [False, True]


def test_stale_reads_never_lose_a_concurrent_write(
    client: TestClient, reads: CountingStore, items: Inspector
) -> None:
    session_id = issued_id(client.post("/update", json={"a": 1}))
    first_tab_cookie = client.cookies["session"]
    assert version_in(client.post("/update", json={"b": 2})) == 2
    # Another tab still sends the version-1 cookie, and the replica still holds version 1: the read
    # is stale yet not older than that cookie, so it is used, and the versioned write catches it.
    reads.reset()
    response = client.post("/update", json={"c": 3}, headers={"cookie": f"session={first_tab_cookie}"})
    assert response.status_code == 200
    # The stale read was used (no fallback), its write lost to version 2, and the merge won.
    assert reads.reads[0] is False and True not in reads.reads
    assert reads.calls.count("save") == 2
    assert version_in(response) == 3
    item = items.item(session_id)
    assert item is not None and item.version == 3
    assert client.get("/view").json() == {"a": 1, "b": 2, "c": 3}


@pytest.mark.anyio
async def test_racing_writers_on_stale_reads_keep_every_key(store: SessionStore, clock: FakeClock) -> None:
    lagging = LaggingStore(store)
    racing = RacingApp(lagging, clock, eventually_consistent=True)
    async with racing.client() as web:
        cookie = await start_session(web)
        bodies = [{f"k{n}": n} for n in range(WRITERS)]
        responses = await race(racing, web, cookie, bodies)
        assert [r.status_code for r in responses] == [200] * WRITERS
        lagging.catch_up()
        data = await stored(web, cookie)
    assert data == {"seed": 0, **{f"k{n}": n for n in range(WRITERS)}}


def test_cookies_without_a_version_read_consistently_then_gain_one(
    reads: CountingStore, lagging: LaggingStore, clock: FakeClock
) -> None:
    with ExitStack() as stack:
        before = stack.enter_context(
            TestClient(session_app(reads, clock=clock), base_url="https://testserver")
        )
        after = stack.enter_context(
            TestClient(
                session_app(reads, clock=clock, eventually_consistent=True), base_url="https://testserver"
            )
        )
        created = before.post("/update", json={"a": 1})
        assert version_in(created) is None
        after.cookies = before.cookies
        reads.reset()
        response = after.get("/view")
        assert response.json() == {"a": 1} and set_cookie(response) is None
        assert reads.reads == [True]
        clock.advance(120)  # a refresh is due, but an answer that wrote no data sets no version
        refreshed = after.get("/view")
        assert refreshed.json() == {"a": 1} and set_cookie(refreshed) is None
        assert reads.calls == ["load", "load", "touch"]
        assert version_in(after.post("/update", json={"b": 2})) == 2  # the next write gives one
        lagging.catch_up()
        reads.reset()
        assert after.get("/view").json() == {"a": 1, "b": 2}
        assert reads.reads == [False]


def test_versioned_cookies_keep_working_with_the_option_off(
    reads: CountingStore, lagging: LaggingStore, clock: FakeClock
) -> None:
    with ExitStack() as stack:
        on = stack.enter_context(
            TestClient(
                session_app(reads, clock=clock, eventually_consistent=True), base_url="https://testserver"
            )
        )
        off = stack.enter_context(TestClient(session_app(reads, clock=clock), base_url="https://testserver"))
        assert version_in(on.post("/update", json={"a": 1})) == 1
        off.cookies = on.cookies
        reads.reset()
        assert off.get("/view").json() == {"a": 1}
        assert reads.reads == [None]  # the store's own default, as before the option existed
        # A write without the option changes nothing about the cookie.
        assert set_cookie(off.post("/update", json={"b": 2})) is None


def test_login_and_logout_with_versioned_cookies(
    reads: CountingStore, clock: FakeClock, items: Inspector
) -> None:
    from .test_lifecycle import lifecycle_app

    app = lifecycle_app(reads, items, clock=clock, eventually_consistent=True)
    with TestClient(app, base_url="https://testserver") as web:
        first = issued_id(web.post("/update", json={"cart": ["tea"]}))
        login = web.post("/login")
        assert version_in(login) == 1
        second = issued_id(login)
        assert second != first and items.item(first) is None
        assert items.moved(first) is not None  # the old ID is the login's moved marker
        assert is_expiry(set_cookie(web.post("/logout")))
        assert items.item(second) is None


def test_stores_without_the_keyword_still_work_but_cannot_read_eventually() -> None:
    store = PlainStore()
    with pytest.raises(ConfigurationError, match="eventually_consistent=True.*PlainStore"):
        SessionMiddleware(session_app(store), store=store, secret_key=SECRET, eventually_consistent=True)
    with TestClient(session_app(store), base_url="https://testserver") as web:
        web.post("/update", json={"a": 1})
        assert web.get("/view").json() == {"a": 1}


def test_a_store_taking_any_keyword_may_read_eventually() -> None:
    class Flexible(PlainStore):
        async def load(self, key: str, **options: Any) -> SessionRecord | MovedRecord | None:
            return await self.inner.load(key, **options)

    store = Flexible()
    SessionMiddleware(session_app(store), store=store, secret_key=SECRET, eventually_consistent=True)
