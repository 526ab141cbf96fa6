"""A session bound to a user stays bound when its dict empties and renews like any other; a write
that comes back after a renewal's grace window is over answers 409, never a 200 stored nowhere."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dynsession import MovedRecord, SessionRecord, SessionStore

from .devices_app import devices_app
from .stopping import Browser, StoppingStore, key_of, new_cookie, while_stopped
from .support import FakeClock

pytestmark = pytest.mark.anyio
RENEW, GRACE = 600, 30


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def pop(request: Request) -> Response:
    for name in await request.json():
        request.session.pop(name, None)
    return JSONResponse(dict(request.session))


def app_with_pop(store: SessionStore, clock: FakeClock, **options: Any) -> Any:
    app = devices_app(store, clock=clock, **options)
    app.router.routes.append(Route("/pop", pop, methods=["POST"]))
    return app


def two_processes(store: SessionStore, clock: FakeClock, **options: Any) -> tuple[Browser, Browser]:
    """One browser's two tabs served by two app processes (two middlewares over one store), so
    their writes race in the store rather than take turns in one process."""
    return Browser(app_with_pop(store, clock, **options)), Browser(app_with_pop(store, clock, **options))


async def signed_in(browser: Browser, **params: str) -> str:
    response = await browser.send("POST", "/login", params={"user": "alice", **params})
    assert response.status_code == 200 and browser.cookie is not None
    return browser.cookie


# -- 5. renewal applies to every stored session, empty or not -------------------------------------


async def test_an_empty_signed_in_session_is_renewed_and_its_old_cookie_stops_after_the_grace(
    store: SessionStore, clock: FakeClock
) -> None:
    browser = Browser(app_with_pop(store, clock, renew_after=RENEW, renew_grace=GRACE))
    captured = await signed_in(browser, empty="1")
    assert (await browser.send("GET", "/me")).json()["session"] == {}
    clock.advance(RENEW)
    renewing = await browser.send("GET", "/me")
    renewed = new_cookie(renewing)
    assert renewing.json() == {"session": {}, "user_id": "alice"}
    assert renewed is not None and renewed != captured
    alias = await store.load(key_of(captured))
    assert isinstance(alias, MovedRecord) and alias.reason == "renewed"
    clock.advance(GRACE)
    assert await browser.user(captured) is None  # the cookie captured at login no longer works
    assert await browser.user(renewed) == "alice"
    await browser.aclose()


# -- 6. a bound session ends only by end_session, a revoke, a timeout or the cap ------------------


async def test_popping_the_last_key_of_a_bound_session_keeps_the_user_signed_in(
    store: SessionStore, clock: FakeClock
) -> None:
    browser = Browser(app_with_pop(store, clock))
    cookie = await signed_in(browser)
    emptied = await browser.send("POST", "/pop", json=["signed_in_as"])
    assert emptied.status_code == 200 and emptied.json() == {}
    assert new_cookie(emptied) is None and browser.cookie == cookie  # no expiry sent
    assert await browser.user() == "alice"
    record = await store.load(key_of(cookie))
    assert isinstance(record, SessionRecord) and record.owner is not None and record.version == 2
    # The empty bound session takes writes again, still bound.
    assert (await browser.send("POST", "/write")).status_code == 200
    assert (await browser.send("GET", "/me")).json() == {"session": {"n": 1}, "user_id": "alice"}
    await browser.aclose()


async def test_emptying_an_unbound_session_still_deletes_it(store: SessionStore, clock: FakeClock) -> None:
    browser = Browser(app_with_pop(store, clock))
    assert (await browser.send("POST", "/write")).status_code == 200
    cookie = browser.cookie
    assert cookie is not None
    emptied = await browser.send("POST", "/pop", json=["n"])
    assert emptied.status_code == 200 and browser.cookie is None  # an expiry was sent
    assert await store.load(key_of(cookie)) is None
    await browser.aclose()


async def test_a_bound_session_emptied_while_another_request_writes_keeps_both_outcomes(
    store: SessionStore, clock: FakeClock
) -> None:
    stopping = StoppingStore(store)
    browser, other = two_processes(stopping, clock)
    cookie = await signed_in(browser)
    stop = stopping.stop_before("save", "delete")  # how the pop writes, after the fix and before
    emptied, written = await while_stopped(
        stop,
        lambda: browser.send("POST", "/pop", json=["signed_in_as"], cookie=cookie),
        lambda: other.send("POST", "/write", cookie=cookie),
    )
    assert emptied.status_code == 200 and written.status_code == 200
    # The pop merged onto the write: the key it removed is gone, the write's key kept, still bound.
    final = await browser.send("GET", "/me", cookie=cookie)
    assert final.json() == {"session": {"n": 1}, "user_id": "alice"}
    await browser.aclose()
    await other.aclose()


# -- 7. a write that outlives the renewal's grace window answers 409 ------------------------------


@pytest.mark.parametrize("bound", [False, True])
async def test_a_write_that_outlives_the_grace_window_after_a_renewal_answers_409(
    store: SessionStore, clock: FakeClock, bound: bool
) -> None:
    stopping = StoppingStore(store)
    browser, other = two_processes(stopping, clock, renew_after=RENEW, renew_grace=GRACE)
    if bound:
        old = await signed_in(browser)
    else:
        assert (await browser.send("POST", "/write")).status_code == 200
        old = browser.cookie or ""
    clock.advance(RENEW - 1)  # the writer loads before renewal is due
    stop = stopping.stop_before("save")

    async def renew_then_wait_out_the_grace() -> str | None:
        clock.advance(1)
        renewed = new_cookie(await other.send("GET", "/me", cookie=old))
        clock.advance(GRACE)
        return renewed

    late, renewed = await while_stopped(
        stop, lambda: browser.send("POST", "/write", cookie=old), renew_then_wait_out_the_grace
    )
    assert renewed is not None and renewed != old
    # Not a 200 for a change stored nowhere: the client learns it must retry (with its new cookie).
    assert late.status_code == 409 and new_cookie(late) is None
    expected = {"signed_in_as": "alice"} if bound else {"n": 1}
    assert (await browser.send("GET", "/me", cookie=renewed)).json()["session"] == expected
    await browser.aclose()
    await other.aclose()


async def test_a_write_within_the_grace_window_after_a_renewal_reaches_the_renewed_session(
    store: SessionStore, clock: FakeClock
) -> None:
    stopping = StoppingStore(store)
    browser, other = two_processes(stopping, clock, renew_after=RENEW, renew_grace=GRACE)
    assert (await browser.send("POST", "/write")).status_code == 200
    old = browser.cookie or ""
    clock.advance(RENEW - 1)
    stop = stopping.stop_before("save")

    async def renew() -> str | None:
        clock.advance(1)
        renewed = new_cookie(await other.send("GET", "/me", cookie=old))
        clock.advance(GRACE - 1)
        return renewed

    late, renewed = await while_stopped(stop, lambda: browser.send("POST", "/write", cookie=old), renew)
    assert late.status_code == 200 and new_cookie(late) == renewed is not None
    assert (await browser.send("GET", "/me", cookie=renewed)).json()["session"] == {"n": 2}
    await browser.aclose()
    await other.aclose()
