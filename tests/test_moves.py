"""A new ID without losing anyone: renewal aliases (renew_after) and moved-by-login markers.

Requests run concurrently through httpx's ASGI transport; handlers wait at gates so each race is
run in a chosen order on every run, over every store.
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dynsession import (
    ClientBinding,
    ConfigurationError,
    MemoryStore,
    MovedRecord,
    SessionMiddleware,
    SessionRecord,
    SessionStore,
    end_session,
    regenerate_session,
)
from dynsession._envelope.cookies import CookieSigner
from dynsession._request.markers import follow

from .support import SECRET, CountingStore, FakeClock, PlainStore
from .test_concurrency import Gate

pytestmark = pytest.mark.anyio
RENEW = 600
GRACE = 30


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class App:
    """/update, /login, /logout and /view behind the middleware; ``?gate=name`` holds a handler
    after it changed the session until the test opens that gate."""

    def __init__(self, store: SessionStore, clock: FakeClock, **options: Any) -> None:
        self.gates: dict[str, Gate] = {}
        self.app = Starlette(
            routes=[
                Route("/update", self.update, methods=["POST"]),
                Route("/login", self.login, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/view", self.view),
            ]
        )
        self.app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **options)

    async def _gate(self, request: Request) -> None:
        name = request.query_params.get("gate")
        if name is not None:
            await self.gates[name].pass_through()

    async def update(self, request: Request) -> Response:
        request.session.update(await request.json())
        await self._gate(request)
        return JSONResponse(dict(request.session))

    async def login(self, request: Request) -> Response:
        request.session["user"] = "ada"
        regenerate_session(request)
        await self._gate(request)
        return JSONResponse({"ok": True})

    async def logout(self, request: Request) -> Response:
        end_session(request)
        return JSONResponse({"ok": True})

    async def view(self, request: Request) -> Response:
        await self._gate(request)
        return JSONResponse(dict(request.session))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="https://testserver")


def sent(cookie: str) -> dict[str, str]:
    return {"cookie": f"session={cookie}"}


def new_cookie(response: httpx.Response) -> str | None:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) <= 1, headers
    return headers[0].split(";", 1)[0].split("=", 1)[1] if headers else None


def raw_id(cookie: str) -> str:
    parsed = CookieSigner(SECRET).unsign(cookie)
    assert parsed is not None
    return parsed.session_id


def key_of(cookie: str) -> str:
    return hashlib.sha256(raw_id(cookie).encode()).hexdigest()


async def begin(client: httpx.AsyncClient, data: dict[str, Any] | None = None) -> str:
    response = await client.post("/update", json=data or {"seed": 0})
    cookie = new_cookie(response)
    assert response.status_code == 200 and cookie
    client.cookies.clear()
    return cookie


async def view(client: httpx.AsyncClient, cookie: str) -> httpx.Response:
    response = await client.get("/view", headers=sent(cookie))
    assert response.status_code == 200
    return response


async def run_while_held(app: App, gate: str, held: Any, then: Any) -> tuple[httpx.Response, httpx.Response]:
    """Start ``held()`` (a request through ``?gate=``), run ``then()`` once it has loaded and
    changed its session, then let the held request finish. Returns (held, then) responses."""
    app.gates[gate] = Gate()
    results: dict[str, httpx.Response] = {}

    async def first() -> None:
        results["held"] = await held()

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await app.gates[gate].wait_for_all()
        results["then"] = await then()
        app.gates[gate].opened.set()
    return results["held"], results["then"]


# -- 3. a login that parallel requests cannot undo ----------------------------------------------


async def test_the_old_cookie_after_a_login_reads_empty_and_never_gets_a_cookie(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock)
    async with app.client() as client:
        old = await begin(client, {"cart": ["apple"]})
        login = await client.post("/login", headers=sent(old))
        logged_in = new_cookie(login)
        assert logged_in is not None and logged_in != old
        stale = await view(client, old)
        assert stale.json() == {}  # never the new session's data
        assert new_cookie(stale) is None
        assert (await view(client, logged_in)).json() == {"cart": ["apple"], "user": "ada"}


async def test_a_write_with_the_old_cookie_after_a_login_answers_409_and_mints_nothing(
    store: SessionStore, clock: FakeClock
) -> None:
    counting = CountingStore(store)
    app = App(counting, clock)
    async with app.client() as client:
        old = await begin(client)
        logged_in = new_cookie(await client.post("/login", headers=sent(old)))
        assert logged_in is not None
        counting.reset()
        refused = await client.post("/update", json={"late": 1}, headers=sent(old))
        assert refused.status_code == 409
        assert new_cookie(refused) is None
        assert counting.calls == ["load"]  # nothing written: no session minted, the marker kept
        # A logout with the old cookie did not end the logged-in session: no 200 claims it did.
        logout = await client.post("/logout", headers=sent(old))
        assert logout.status_code == 409 and new_cookie(logout) is None
        assert (await view(client, logged_in)).json() == {"seed": 0, "user": "ada"}


async def test_a_write_loaded_before_the_login_and_committed_after_answers_409(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock)
    async with app.client() as browser:
        old = await begin(browser)
        browser.cookies.set("session", old, domain="testserver.local")
        update, login = await run_while_held(
            app,
            "writer",
            lambda: browser.post("/update?gate=writer", json={"late": 1}),
            lambda: browser.post("/login"),
        )
        assert login.status_code == 200
        assert update.status_code == 409 and new_cookie(update) is None
        # The browser ends with the login's cookie, and the session behind it is the logged-in one.
        assert browser.cookies["session"] == new_cookie(login) != old
        assert (await browser.get("/view")).json() == {"seed": 0, "user": "ada"}


async def test_a_write_committed_before_the_login_finishes_is_carried_into_the_new_session(
    store: SessionStore, clock: FakeClock
) -> None:
    counting = CountingStore(store)
    app = App(counting, clock)
    async with app.client() as browser:
        old = await begin(browser)
        browser.cookies.set("session", old, domain="testserver.local")
        counting.reset()
        login, update = await run_while_held(
            app,
            "login",
            lambda: browser.post("/login?gate=login"),
            lambda: browser.post("/update", json={"late": 1}),
        )
        assert update.status_code == 200 and new_cookie(update) is None
        assert login.status_code == 200
        assert browser.cookies["session"] == new_cookie(login) != old
        # The update's 200 is true: its change is in the session the browser now holds.
        assert (await browser.get("/view")).json() == {"seed": 0, "late": 1, "user": "ada"}
        assert (await view(browser, old)).json() == {}
    # The login lost its first move to the update, merged it into the new item and moved again.
    assert counting.calls.count("move") == 2


async def test_a_planted_id_gives_its_planter_nothing_after_the_victim_logs_in(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock)
    async with app.client() as attacker, app.client() as victim:
        planted = await begin(attacker, {"theme": "dark"})
        login = await victim.post("/login", headers=sent(planted))
        assert login.status_code == 200
        victim_cookie = new_cookie(login)
        assert victim_cookie is not None and victim_cookie != planted
        assert (await view(attacker, planted)).json() == {}
        write = await attacker.post("/update", json={"user": "mallory"}, headers=sent(planted))
        assert write.status_code == 409 and new_cookie(write) is None
        clock.advance(GRACE)  # after the grace window the old ID is simply unknown
        after = await attacker.post("/update", json={"x": 1}, headers=sent(planted))
        assert after.status_code == 200
        minted = new_cookie(after)
        assert minted is not None and minted not in (planted, victim_cookie)
        assert after.json() == {"x": 1}
        assert (await view(victim, victim_cookie)).json() == {"theme": "dark", "user": "ada"}


async def test_a_store_without_move_still_logs_in_by_deleting_the_old_item(clock: FakeClock) -> None:
    plain = PlainStore(clock)
    app = App(plain, clock)
    async with app.client() as client:
        old = await begin(client)
        assert new_cookie(await client.post("/login", headers=sent(old))) is not None
        assert await plain.inner.load(key_of(old)) is None
    with pytest.raises(ConfigurationError, match="renew_after needs a store"):
        App(plain, clock, renew_after=RENEW).app.build_middleware_stack()


# -- 2. ID renewal -------------------------------------------------------------------------------


async def test_a_session_older_than_renew_after_gets_a_new_id_keeping_data_and_deadlines(
    store: SessionStore, clock: FakeClock
) -> None:
    counting = CountingStore(store)
    app = App(counting, clock, renew_after=RENEW, absolute_timeout=7200)
    async with app.client() as client:
        start = clock.now
        old = await begin(client, {"cart": ["apple"]})
        clock.advance(RENEW - 1)
        counting.reset()
        assert new_cookie(await view(client, old)) is None  # not due yet
        clock.advance(1)
        counting.reset()
        renewed = await view(client, old)
        assert renewed.json() == {"cart": ["apple"]}
        cookie = new_cookie(renewed)
        assert cookie is not None and cookie != old
        assert counting.calls == ["load", "save", "move"]  # one new item, one alias: two writes
        record = await store.load(key_of(cookie))
        assert isinstance(record, SessionRecord)
        assert (record.created, record.absolute_deadline, record.issued) == (start, start + 7200, clock.now)
        alias = await store.load(key_of(old))
        assert isinstance(alias, MovedRecord) and alias.reason == "renewed"
        assert alias.expires == clock.now + GRACE
        assert follow(raw_id(old), alias.forward) == raw_id(cookie)
        counting.reset()
        assert new_cookie(await view(client, cookie)) is None  # the new ID is not due for RENEW s
        assert counting.calls == ["load"]


async def test_the_old_cookie_follows_the_alias_during_the_grace_window_only(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock, renew_after=RENEW)
    async with app.client() as client:
        old = await begin(client)
        clock.advance(RENEW)
        cookie = new_cookie(await view(client, old))
        assert cookie is not None
        clock.advance(GRACE - 1)
        other_tab = await view(client, old)
        assert other_tab.json() == {"seed": 0}
        assert new_cookie(other_tab) == cookie  # handed the new cookie
        write = await client.post("/update", json={"tab": 2}, headers=sent(old))
        assert write.status_code == 200 and new_cookie(write) == cookie
        assert (await view(client, cookie)).json() == {"seed": 0, "tab": 2}
        clock.advance(1)
        late = await view(client, old)
        assert late.json() == {} and new_cookie(late) is None


async def test_exactly_one_of_racing_requests_renews_and_all_end_on_its_id(
    store: SessionStore, clock: FakeClock
) -> None:
    # Three middlewares on one store, as three worker processes: they cannot take turns in-process.
    counting = CountingStore(store)
    apps = [App(counting, clock, renew_after=RENEW) for _ in range(3)]
    gate = Gate(6)
    for app in apps:
        app.gates["race"] = gate
    clients = [app.client() for app in apps]
    old = await begin(clients[0], {"seed": 0})
    clock.advance(RENEW)
    counting.reset()
    responses: list[httpx.Response] = []

    async def one(index: int) -> None:
        client = clients[index % 3]
        if index % 2:
            responses.append(await client.get("/view?gate=race", headers=sent(old)))
        else:
            responses.append(
                await client.post("/update?gate=race", json={f"k{index}": index}, headers=sent(old))
            )

    async with anyio.create_task_group() as tg:
        for index in range(6):
            tg.start_soon(one, index)
        await gate.wait_for_all()
        gate.opened.set()
    assert [r.status_code for r in responses] == [200] * 6
    cookies = {new_cookie(r) for r in responses}
    assert len(cookies) == 1 and None not in cookies and old not in cookies
    (cookie,) = cookies
    assert cookie is not None
    final = (await view(clients[0], cookie)).json()
    assert final == {"seed": 0, "k0": 0, "k2": 2, "k4": 4}
    # Each request wrote a copy and tried to move the old ID to it; one move won, and each loser
    # deleted its copy (never handed out) and followed the winner's alias.
    assert counting.calls.count("move") == 6
    assert counting.calls.count("delete") == 5
    if isinstance(store, MemoryStore):
        assert len(store) == 2  # the renewed session and the old ID's alias
    for client in clients:
        await client.aclose()


async def test_a_write_loaded_before_a_renewal_lands_in_the_renewed_session(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock, renew_after=RENEW)
    async with app.client() as client:
        old = await begin(client)
        clock.advance(RENEW - 1)
        # The writer loads before the renewal is due, so it does not renew itself.
        app.gates["w"] = Gate()
        results: dict[str, httpx.Response] = {}

        async def write() -> None:
            results["w"] = await client.post("/update?gate=w", json={"late": 1}, headers=sent(old))

        async with anyio.create_task_group() as tg:
            tg.start_soon(write)
            await app.gates["w"].wait_for_all()
            clock.advance(1)
            renewing = await view(client, old)
            app.gates["w"].opened.set()
        cookie = new_cookie(renewing)
        assert cookie is not None
        assert results["w"].status_code == 200 and new_cookie(results["w"]) == cookie
        assert (await view(client, cookie)).json() == {"seed": 0, "late": 1}


async def test_a_login_with_a_renewed_cookie_moves_the_new_session(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock, renew_after=RENEW)
    async with app.client() as client:
        old = await begin(client)
        clock.advance(RENEW)
        renewed = new_cookie(await view(client, old))
        assert renewed is not None
        login = await client.post("/login", headers=sent(old))  # another tab, still on the old cookie
        logged_in = new_cookie(login)
        assert login.status_code == 200 and logged_in not in (None, old, renewed)
        assert (await view(client, renewed)).json() == {}
        assert (await view(client, old)).json() == {}
        assert logged_in is not None
        assert (await view(client, logged_in)).json() == {"seed": 0, "user": "ada"}


async def test_renewal_keeps_client_binding_and_encryption(store: SessionStore, clock: FakeClock) -> None:
    app = App(store, clock, renew_after=RENEW, client_binding=ClientBinding(), encryption_key="k" * 32)
    async with app.client() as client:
        client.headers["user-agent"] = "Firefox"
        old = await begin(client, {"secret": "s3"})
        clock.advance(RENEW)
        cookie = new_cookie(await view(client, old))
        assert cookie is not None
        assert (await view(client, cookie)).json() == {"secret": "s3"}
        record = await store.load(key_of(cookie))
        assert isinstance(record, SessionRecord) and b"s3" not in record.data
        other = await client.get("/view", headers={**sent(cookie), "user-agent": "curl"})
        assert other.json() == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"renew_after": 30}, "renew_after must be longer than renew_grace"),
        ({"renew_after": 60, "renew_grace": 0}, "renew_grace must be whole seconds .* at least 1"),
        ({"renew_after": -1}, "renew_after must be whole seconds .* at least 1"),
    ],
)
async def test_bad_renewal_options_fail_when_built(
    store: SessionStore, clock: FakeClock, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App(store, clock, **options).app.build_middleware_stack()


async def test_a_read_due_for_renewal_that_a_login_overtakes_answers_200_without_a_cookie(
    store: SessionStore, clock: FakeClock
) -> None:
    app = App(store, clock, renew_after=RENEW)
    async with app.client() as client:
        old = await begin(client)
        clock.advance(RENEW)
        read, login = await run_while_held(
            app,
            "read",
            lambda: client.get("/view?gate=read", headers=sent(old)),
            lambda: client.post("/login", headers=sent(old)),
        )
        logged_in = new_cookie(login)
        assert login.status_code == 200 and logged_in is not None
        # The read lost its renewal to the login: nothing of it was lost, and it sets no cookie.
        assert read.status_code == 200 and new_cookie(read) is None
        assert (await view(client, logged_in)).json() == {"seed": 0, "user": "ada"}
