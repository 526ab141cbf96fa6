"""``eventually_consistent=True`` when a browser's answers arrive out of order.

A browser keeps the cookie of whichever answer reaches it last. Each test drives one order exactly:
a request's store call is held until other requests' answers have been delivered, and answers are
applied to the browser's cookie in the order the test names. Stale replicas are played by a store
wrapper that, once ``freeze`` is called for a key, answers eventually consistent reads of it with
the item as it was then (neither local DynamoDB server models replication lag); every read still
reaches the store underneath.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from dynsession import MovedRecord, MovingStore, SessionConflict, SessionRecord, SessionStore
from dynsession._envelope.cookies import CookieSigner, store_key

from .items import cookie_value, is_expiry, set_cookie
from .support import SECRET, FakeClock, session_app
from .test_concurrency import RacingApp, race, start_session, stored

pytestmark = pytest.mark.anyio

Found = SessionRecord | MovedRecord | None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Replica:
    """Passes every call to ``inner``. After ``freeze(key)``, an eventually consistent read of
    ``key`` (``consistent=False``; also ``None`` when ``eventual_by_default``, as with
    ``DynamoDBStore(consistent_read=False)``) returns the item as it was at the freeze.
    ``hold(operation)`` stops the next call of that operation until ``release``. With
    ``hide_conflict_items`` a conflict does not say what it found (as a store may), so the writer
    must read it."""

    def __init__(self, inner: SessionStore, *, eventual_by_default: bool = False) -> None:
        self.inner = inner
        self.eventual_by_default = eventual_by_default
        self.hide_conflict_items = False
        self.frozen: dict[str, Found] = {}
        self.held: dict[str, tuple[anyio.Event, anyio.Event]] = {}
        self.reads: list[bool | None] = []
        self.saved: list[str] = []

    async def freeze(self, key: str) -> None:
        self.frozen[key] = await self._load(key, True)

    def hold(self, operation: str) -> None:
        self.held[operation] = (anyio.Event(), anyio.Event())

    async def reached(self, operation: str) -> None:
        with anyio.fail_after(30):
            await self.held[operation][0].wait()

    def release(self, operation: str) -> None:
        self.held.pop(operation)[1].set()

    async def _pass(self, operation: str) -> None:
        if operation in self.held:
            reached, released = self.held[operation]
            reached.set()
            await released.wait()

    async def _load(self, key: str, consistent: bool | None) -> Found:
        load: Any = self.inner.load
        found: Found = await load(key, consistent=consistent)
        return found

    async def load(self, key: str, *, consistent: bool | None = None) -> Found:
        self.reads.append(consistent)
        found = await self._load(key, consistent)
        eventual = consistent is False or (consistent is None and self.eventual_by_default)
        return self.frozen[key] if eventual and key in self.frozen else found

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self._pass("save")
        self.saved.append(key)
        try:
            await self.inner.save(key, record, expected_version=expected_version)
        except SessionConflict as exc:
            if not self.hide_conflict_items:
                raise
            raise SessionConflict(str(exc)) from None

    async def touch(self, key: str, expires: int) -> bool:
        await self._pass("touch")
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self.inner.delete(key, expected_version=expected_version)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        assert isinstance(self.inner, MovingStore)
        await self.inner.move(key, marker, expected_version=expected_version)


class Browser:
    """One browser's cookie jar: ``send`` uses the cookie it holds now; ``deliver`` applies an
    answer's ``Set-Cookie``, in whatever order the test delivers answers."""

    def __init__(self, web: httpx.AsyncClient) -> None:
        self.web = web
        self.cookie: str | None = None

    async def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {} if self.cookie is None else {"cookie": f"session={self.cookie}"}
        return await self.web.request(method, path, headers=headers, **options)

    def deliver(self, response: httpx.Response) -> None:
        header = set_cookie(response)
        if header is not None:
            self.cookie = None if is_expiry(header) else cookie_value(header)

    def version(self) -> int | None:
        assert self.cookie is not None
        parsed = CookieSigner(SECRET).unsign(self.cookie)
        assert parsed is not None
        return parsed.version

    def key(self) -> str:
        assert self.cookie is not None
        parsed = CookieSigner(SECRET).unsign(self.cookie)
        assert parsed is not None
        return store_key(parsed.session_id)


def client_for(replica: Replica, clock: FakeClock, **options: Any) -> httpx.AsyncClient:
    app = session_app(replica, clock=clock, eventually_consistent=True, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


async def cart(browser: Browser) -> list[str]:
    response = await browser.send("GET", "/view")
    assert response.status_code == 200
    browser.deliver(response)
    items: list[str] = response.json().get("cart", [])
    return items


async def refresh_delivered_after(
    browser: Browser, replica: Replica, writes: list[str], *, deliver_first: httpx.Response | None = None
) -> httpx.Response:
    """A read-only request whose deadline refresh is held while ``deliver_first`` and then each
    write of ``writes`` (an item appended to the cart) is sent and its answer delivered; the read's
    own answer comes back last, and is returned undelivered."""
    replica.hold("touch")
    answers: dict[str, httpx.Response] = {}

    async def read() -> None:
        answers["read"] = await browser.send("GET", "/view")

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        await replica.reached("touch")
        if deliver_first is not None:
            browser.deliver(deliver_first)
        for item in writes:
            written = await browser.send("POST", f"/append?item={item}")
            assert written.status_code == 200
            browser.deliver(written)
        replica.release("touch")
    return answers["read"]


async def test_a_late_refresh_answer_never_lowers_the_version(store: SessionStore, clock: FakeClock) -> None:
    # Default options: the refresh used to re-send the cookie whenever the browser's version was
    # behind the one it read, and its late answer set that older version in the browser.
    replica = Replica(store)
    async with client_for(replica, clock) as web:
        browser = Browser(web)
        browser.deliver(await browser.send("POST", "/append?item=bread"))
        slow_write = await browser.send("POST", "/append?item=milk")  # version 2, answer held
        await replica.freeze(browser.key())  # replicas stay at version 2 from now on
        clock.advance(120)  # a deadline refresh is due
        late = await refresh_delivered_after(browser, replica, ["tea"], deliver_first=slow_write)
        assert browser.version() == 3
        browser.deliver(late)
        assert browser.version() == 3
        # The browser reads its own writes, and a write built on what it reads loses none.
        assert await cart(browser) == ["bread", "milk", "tea"]
        appended = await browser.send("POST", "/append?item=jam")
        assert appended.status_code == 200
        browser.deliver(appended)
        replica.frozen.clear()
        assert await cart(browser) == ["bread", "milk", "tea", "jam"]


async def test_a_late_refresh_answer_with_max_age_reads_strongly_next(
    store: SessionStore, clock: FakeClock
) -> None:
    # max_age: every refresh re-sends the cookie to slide it. It used to carry the version the
    # refresh read, older than a write whose answer arrived first.
    replica = Replica(store)
    async with client_for(replica, clock, max_age=3600) as web:
        browser = Browser(web)
        browser.deliver(await browser.send("POST", "/append?item=bread"))
        await replica.freeze(browser.key())  # replicas stay at version 1
        clock.advance(120)
        late = await refresh_delivered_after(browser, replica, ["tea"])
        assert browser.version() == 2
        browser.deliver(late)
        replica.reads.clear()
        assert await cart(browser) == ["bread", "tea"]
        # The refresh slid the cookie without a version: the next read was strongly consistent.
        assert set_cookie(late) is not None and browser.version() is None
        assert replica.reads == [True]
        appended = await browser.send("POST", "/append?item=jam")
        assert appended.status_code == 200
        browser.deliver(appended)
        assert browser.version() == 3  # the write gave the cookie a version again
        replica.frozen.clear()
        assert await cart(browser) == ["bread", "tea", "jam"]


async def test_a_write_built_on_a_replica_missing_a_seen_write_never_overwrites_it(
    store: SessionStore, clock: FakeClock
) -> None:
    # Two writes of one browser, answered in the reverse order of their commits: the browser keeps
    # the older version, and its next read may accept a replica without the newer write. A write
    # built on that read must not replace what the newer write stored under the same key.
    replica = Replica(store)
    async with client_for(replica, clock) as web:
        browser = Browser(web)
        browser.deliver(await browser.send("POST", "/append?item=bread"))
        first = await browser.send("POST", "/update", json={"theme": "dark"})  # version 2, held
        await replica.freeze(browser.key())
        second = await browser.send("POST", "/append?item=tea")  # version 3
        browser.deliver(second)
        browser.deliver(first)
        assert browser.version() == 2
        built_on_stale = await browser.send("POST", "/append?item=jam")
        # Refused, not merged over "tea": the browser retries once its read is current.
        assert built_on_stale.status_code == 409
        replica.frozen.clear()
        assert await cart(browser) == ["bread", "tea"]
        # A change to a key the unseen write left alone is merged as before.
        await replica.freeze(browser.key())
        other = await browser.send("POST", "/update", json={"lang": "fr"})
        assert other.status_code == 200
        replica.frozen.clear()
        view = (await browser.send("GET", "/view")).json()
        assert view == {"cart": ["bread", "tea"], "theme": "dark", "lang": "fr"}


async def test_the_re_read_after_a_conflict_is_strongly_consistent(
    store: SessionStore, clock: FakeClock
) -> None:
    # A store that reads eventually by default and does not say what a conflict found: the writer
    # that lost must re-read strongly. It used to read a replica that had not seen the session yet,
    # take it for one ended meanwhile, and answer 200 for a write stored nowhere.
    replica = Replica(store, eventual_by_default=True)
    replica.hide_conflict_items = True
    racing = RacingApp(replica, clock, eventually_consistent=True)
    async with racing.client() as web:
        cookie = await start_session(web)
        parsed = CookieSigner(SECRET).unsign(cookie)
        assert parsed is not None
        replica.frozen[store_key(parsed.session_id)] = None  # no replica has the session yet
        replica.reads.clear()
        responses = await race(racing, web, cookie, [{"k0": 0}, {"k1": 1}])
        assert [r.status_code for r in responses] == [200, 200]
        reads = list(replica.reads)
        replica.frozen.clear()
        assert await stored(web, cookie) == {"seed": 0, "k0": 0, "k1": 1}
        # Two loads (eventual, then strong: the replica lacks the session), and the loser's re-read.
        assert sorted(reads) == [False, False, True, True, True]  # type: ignore[type-var]


async def test_a_late_answer_handing_over_a_renewed_id_never_lowers_the_version(
    store: SessionStore, clock: FakeClock
) -> None:
    # A request sent with the old ID after a renewal is served from the new session, and its answer
    # sets the new ID. It used to carry the version it read, older than a write to the new session
    # whose answer arrived first.
    replica = Replica(store)
    async with client_for(replica, clock, renew_after=600, renew_grace=60) as web:
        browser = Browser(web)
        browser.deliver(await browser.send("POST", "/append?item=bread"))
        clock.advance(601)  # the ID is due for renewal
        renewing = await browser.send("POST", "/append?item=milk")  # the new ID, answer held
        with_old_id = await browser.send("GET", "/view")  # forwarded to the new ID, answer held
        assert with_old_id.json() == {"cart": ["bread", "milk"]}
        browser.deliver(renewing)
        await replica.freeze(browser.key())  # replicas keep the renewed session's first version
        written = await browser.send("POST", "/append?item=tea")
        assert written.status_code == 200
        browser.deliver(written)
        browser.deliver(with_old_id)
        assert await cart(browser) == ["bread", "milk", "tea"]


async def test_a_login_built_on_a_replica_missing_a_seen_write_never_overwrites_it(
    store: SessionStore, clock: FakeClock
) -> None:
    # The same for a login's move: refused, and the new ID it had written is deleted again.
    replica = Replica(store)
    racing = RacingApp(replica, clock, eventually_consistent=True)
    async with racing.client() as web:
        browser = Browser(web)
        browser.deliver(await browser.send("POST", "/update", json={"user": "guest"}))
        first = await browser.send("POST", "/update", json={"theme": "dark"})  # version 2, held
        await replica.freeze(browser.key())
        second = await browser.send("POST", "/update", json={"user": "bob"})  # version 3
        browser.deliver(second)
        browser.deliver(first)
        session_key = browser.key()
        replica.saved.clear()
        login = await browser.send("POST", "/login")  # sets "user", built on version 2
        assert login.status_code == 409
        (new_key,) = set(replica.saved)
        assert new_key != session_key and await store.load(new_key) is None
        replica.frozen.clear()
        view = (await browser.send("GET", "/view")).json()
        assert view == {"user": "bob", "theme": "dark"}
