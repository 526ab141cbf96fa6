"""Logout, revokes and the per-user cap against renewals and logins running at the same time: once
an end has returned, no cookie the session ever had reads its data, and a move never brings an
ended session back. Each race is driven in a chosen order by stopping one store call."""

from __future__ import annotations

from typing import Any

import pytest

from dynsession import (
    MemoryStore,
    MovedRecord,
    SessionRecord,
    SessionStore,
    UserSessionStore,
    revoke_user_sessions,
)
from dynsession._users import ending
from dynsession._users.user_sessions import session_handle

from .devices_app import SAFARI_IPHONE, devices_app
from .stopping import Browser, StoppingStore, key_of, new_cookie, while_stopped
from .support import CountingStore, FakeClock

pytestmark = pytest.mark.anyio
RENEW, GRACE = 600, 30
DELETES = ("delete", "delete_sessions")  # how an end deletes, before and after the fix


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Setup:
    """The app over a stopping store, and a laptop and a phone of one user."""

    def __init__(self, store: SessionStore, clock: FakeClock, **options: Any) -> None:
        self.store, self.clock = StoppingStore(store), clock
        app = devices_app(self.store, clock=clock, renew_after=RENEW, renew_grace=GRACE, **options)
        self.laptop, self.phone, self.tablet = Browser(app), Browser(app, SAFARI_IPHONE), Browser(app)

    async def sign_in(self, browser: Browser, user: str = "alice") -> str:
        response = await browser.send("POST", "/login", params={"user": user})
        assert response.status_code == 200, response.text
        assert browser.cookie is not None
        return browser.cookie

    async def handles(self, browser: Browser) -> list[str]:
        response = await browser.send("GET", "/sessions")
        assert response.status_code == 200
        return [entry["handle"] for entry in response.json()]

    async def only_own_listed(self, browser: Browser) -> None:
        """``browser``'s user has no session left but the one ``browser`` holds."""
        response = await browser.send("GET", "/sessions")
        assert response.status_code == 200
        assert [entry["current"] for entry in response.json()] == [True]

    async def renew(self, browser: Browser) -> str:
        """A request of ``browser`` that renews its session's ID; returns the new cookie."""
        old = browser.cookie
        assert await browser.user() is not None
        assert browser.cookie is not None and browser.cookie != old
        return browser.cookie

    async def stored(self, cookie: str) -> bool:
        return await self.store.inner.load(key_of(cookie)) is not None

    async def aclose(self) -> None:
        for browser in (self.laptop, self.phone, self.tablet):
            await browser.aclose()


async def assert_ended(setup: Setup, browser: Browser, *cookies: str) -> None:
    """No cookie the session ever had reads it, and its user's list does not show it."""
    for cookie in cookies:
        assert await browser.user(cookie) is None
        response = await browser.send("GET", "/me", cookie=cookie)
        assert response.json()["session"] == {}


# -- 1. an end that loses to a renewal or a login still ends the session ------------------------


async def test_a_logout_that_loses_to_a_renewal_ends_the_renewed_session(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    setup = Setup(user_store, clock)
    old = await setup.sign_in(setup.phone)
    clock.advance(RENEW - 1)  # the logout loads before renewal is due; the other tab after
    stop = setup.store.stop_before(*DELETES)

    async def renew_in_another_tab() -> str:
        clock.advance(1)
        return await setup.renew(setup.phone)

    logout, renewed = await while_stopped(
        stop, lambda: setup.phone.send("POST", "/logout", cookie=old), renew_in_another_tab
    )
    assert logout.status_code == 200
    await assert_ended(setup, setup.phone, old, renewed)
    assert not await setup.stored(renewed)
    await setup.aclose()


async def test_a_logout_costs_one_delete_and_one_more_per_move_it_follows(
    store: SessionStore, clock: FakeClock
) -> None:
    counting = CountingStore(store)
    setup = Setup(counting, clock)
    alone = await setup.sign_in(setup.laptop)
    counting.reset()
    assert (await setup.laptop.send("POST", "/logout", cookie=alone)).status_code == 200
    assert counting.calls == ["load", "delete"]  # as before: one DeleteItem, now conditional

    old = await setup.sign_in(setup.phone)
    clock.advance(RENEW - 1)
    stop = setup.store.stop_before("delete")

    async def renew_in_another_tab() -> str:
        clock.advance(1)
        return await setup.renew(setup.phone)

    counting.reset()
    await while_stopped(stop, lambda: setup.phone.send("POST", "/logout", cookie=old), renew_in_another_tab)
    # The renewal: load, save, move. The logout: load, a delete refused by the alias, a delete of
    # the renewed session on version 1.
    assert sorted(counting.calls) == sorted(["load", "load", "save", "move", "delete", "delete"])
    await setup.aclose()


async def test_a_renewal_that_loses_to_a_logout_discards_its_copy(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    setup = Setup(user_store, clock)
    old = await setup.sign_in(setup.phone)
    clock.advance(RENEW)
    stop = setup.store.stop_before("move")  # the renewal has written its copy, not yet the alias
    renewal, logout = await while_stopped(
        stop,
        lambda: setup.phone.send("GET", "/me", cookie=old),
        lambda: setup.phone.send("POST", "/logout", cookie=old),
    )
    assert logout.status_code == 200 and renewal.status_code == 200
    assert new_cookie(renewal) is None  # a read: nothing lost, and no cookie for a copy now deleted
    await assert_ended(setup, setup.phone, old)
    await setup.aclose()


async def test_a_logout_that_loses_to_a_login_ends_the_logged_in_session(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    setup = Setup(user_store, clock)
    old = await setup.sign_in(setup.phone)
    stop = setup.store.stop_before(*DELETES)
    logout, login = await while_stopped(
        stop,
        lambda: setup.phone.send("POST", "/logout", cookie=old),
        lambda: setup.phone.send("POST", "/login", params={"user": "alice"}, cookie=old),
    )
    assert logout.status_code == 200 and login.status_code == 200
    logged_in = new_cookie(login)
    assert logged_in is not None
    await assert_ended(setup, setup.phone, old, logged_in)
    assert not await setup.stored(logged_in)
    await setup.aclose()


@pytest.mark.parametrize("end", ["revoke_session", "revoke_other_sessions", "revoke_user_sessions"])
async def test_a_revoke_of_a_session_renewed_since_it_was_listed_ends_the_renewed_session(
    user_store: UserSessionStore, clock: FakeClock, end: str
) -> None:
    setup = Setup(user_store, clock)
    await setup.sign_in(setup.laptop)
    old = await setup.sign_in(setup.phone)
    clock.advance(RENEW - 1)
    phone_handle = session_handle(key_of(old))
    assert phone_handle in await setup.handles(setup.laptop)
    stop = setup.store.stop_after("list_user_sessions")  # listed, nothing deleted yet

    async def revoke() -> Any:
        if end == "revoke_session":
            return (await setup.laptop.send("POST", "/revoke", params={"handle": phone_handle})).json()
        if end == "revoke_other_sessions":
            return (await setup.laptop.send("POST", "/revoke-others")).json()
        return {"ended": await revoke_user_sessions(setup.store, "alice", clock=clock)}

    async def renew_the_phone() -> str:
        clock.advance(1)
        return await setup.renew(setup.phone)

    answer, renewed = await while_stopped(stop, revoke, renew_the_phone)
    # The phone's session was ended (where it went), and it counts once.
    assert answer == {"ended": 2 if end == "revoke_user_sessions" else 1}
    await assert_ended(setup, setup.phone, old, renewed)
    assert not await setup.stored(renewed)
    if end != "revoke_user_sessions":
        await setup.only_own_listed(setup.laptop)
    await setup.aclose()


async def test_a_cap_eviction_of_a_session_renewed_since_it_was_listed_ends_the_renewed_session(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    setup = Setup(user_store, clock, max_sessions_per_user=2)
    old = await setup.sign_in(setup.laptop)
    clock.advance(1)
    await setup.sign_in(setup.phone)
    clock.advance(RENEW - 2)  # the laptop's session, the least recently active, is evicted
    stop = setup.store.stop_before(*DELETES)

    async def renew_the_laptop() -> str:
        clock.advance(1)
        return await setup.renew(setup.laptop)

    await while_stopped(stop, lambda: setup.sign_in(setup.tablet), renew_the_laptop)
    renewed = setup.laptop.cookie
    assert renewed is not None
    await assert_ended(setup, setup.laptop, old, renewed)
    assert len(await setup.handles(setup.tablet)) == 2
    await setup.aclose()


# -- 2. a move never brings back a session ended while it ran --------------------------------------


async def test_a_login_whose_session_is_revoked_meanwhile_does_not_bring_it_back(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    setup = Setup(user_store, clock)
    await setup.sign_in(setup.laptop)
    old = await setup.sign_in(setup.phone)
    phone_handle = session_handle(key_of(old))
    stop = setup.store.stop_before("move")  # the login has written the new item, not retired the old

    async def revoke_the_phone() -> Any:
        return (await setup.laptop.send("POST", "/revoke", params={"handle": phone_handle})).json()

    async def log_in_again() -> Any:
        return await setup.phone.send("POST", "/login", params={"user": "alice"}, cookie=old)

    login, revoked = await while_stopped(stop, log_in_again, revoke_the_phone)
    assert revoked == {"ended": 1}
    assert login.status_code == 409 and new_cookie(login) is None
    await assert_ended(setup, setup.phone, old)
    await setup.only_own_listed(setup.laptop)
    await setup.aclose()


async def test_a_revoke_that_loses_to_a_login_ends_the_logged_in_session(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    setup = Setup(user_store, clock)
    await setup.sign_in(setup.laptop)
    old = await setup.sign_in(setup.phone)
    phone_handle = session_handle(key_of(old))
    stop = setup.store.stop_before(*DELETES)

    async def revoke_the_phone() -> Any:
        return (await setup.laptop.send("POST", "/revoke", params={"handle": phone_handle})).json()

    async def log_in_again() -> Any:
        return await setup.phone.send("POST", "/login", params={"user": "alice"}, cookie=old)

    revoked, login = await while_stopped(stop, revoke_the_phone, log_in_again)
    assert revoked == {"ended": 1} and login.status_code == 200
    logged_in = new_cookie(login)
    assert logged_in is not None
    await assert_ended(setup, setup.phone, old, logged_in)
    await setup.only_own_listed(setup.laptop)
    await setup.aclose()


async def test_a_login_whose_anonymous_session_ends_meanwhile_answers_409_and_keeps_nothing(
    store: SessionStore, clock: FakeClock
) -> None:
    # A store that cannot list users: the same rule for a plain session ended by a logout.
    stopping = StoppingStore(store)
    app = devices_app(stopping, clock=clock)
    browser = Browser(app)
    assert (await browser.send("POST", "/write")).status_code == 200
    old = browser.cookie
    assert old is not None
    stop = stopping.stop_before("move")
    login, logout = await while_stopped(
        stop,
        lambda: browser.send("POST", "/move", cookie=old),
        lambda: browser.send("POST", "/logout", cookie=old),
    )
    assert logout.status_code == 200
    assert login.status_code == 409 and new_cookie(login) is None
    assert (await browser.send("GET", "/me", cookie=old)).json()["session"] == {}
    await browser.aclose()


# -- 5. an end reads strongly, whatever the store reads by default ------------------------------


class StaleByDefault:
    """A MemoryStore whose default read is eventually consistent, as ``DynamoDBStore(...,
    consistent_read=False)``'s is, with replicas frozen where ``stale`` says (None: not there
    yet); a strongly consistent read, and every write, reach the real item."""

    def __init__(self, clock: FakeClock) -> None:
        self.inner = MemoryStore(clock=clock)
        self.stale: dict[str, SessionRecord | MovedRecord | None] = {}

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        if consistent is not True and key in self.stale:
            return self.stale[key]
        return await self.inner.load(key, consistent=True)

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self.inner.delete(key, expected_version=expected_version)


def _record(clock: FakeClock) -> SessionRecord:
    now = int(clock())
    return SessionRecord(b'{"user":"alice"}', 1, now, now + 600, None)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_wait(attempt: int) -> None:
        return None

    monkeypatch.setattr(ending, "backoff", no_wait)


@pytest.mark.usefixtures("no_backoff")
async def test_an_end_after_another_request_ended_it_reads_strongly_and_returns() -> None:
    clock = FakeClock()
    store = StaleByDefault(clock)
    await store.save("k", _record(clock), expected_version=None)
    await store.delete("k")  # another request's logout
    store.stale["k"] = _record(clock)  # a replica still has v1
    assert await ending.end_session_item(store, "k", 1) is False


@pytest.mark.usefixtures("no_backoff")
async def test_an_end_of_an_unknown_version_finds_a_session_the_replica_lacks() -> None:
    clock = FakeClock()
    store = StaleByDefault(clock)
    await store.save("k", _record(clock), expected_version=None)
    store.stale["k"] = None  # written a moment ago: not on every replica yet
    assert await ending.end_session_item(store, "k", None) is True
    assert await store.inner.load("k") is None
