"""Concurrent requests on one session: versioned writes and the merge, overwrite and raise policies.

Requests run concurrently on one event loop through httpx's ASGI transport. Handlers wait at a gate
after changing the session, so every request has loaded the same version before any of them writes:
the race is certain rather than likely, and the policies can be told apart on every run.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dynsession import (
    MemoryStore,
    MovedRecord,
    SessionConflict,
    SessionMiddleware,
    SessionRecord,
    SessionStore,
    end_session,
    regenerate_session,
)
from dynsession._envelope.cookies import CookieSigner, store_key

from .items import is_expiry
from .support import SECRET, CountingStore, FakeClock

WRITERS = 50


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Gate:
    """Holds handlers after they changed the session until ``open()``; notes when all have arrived."""

    def __init__(self, expected: int = 1) -> None:
        self.expected = expected
        self.arrived = 0
        self.all_arrived = anyio.Event()
        self.opened = anyio.Event()

    async def pass_through(self) -> None:
        self.arrived += 1
        if self.arrived == self.expected:
            self.all_arrived.set()
        await self.opened.wait()

    async def wait_for_all(self) -> None:
        with anyio.fail_after(30):
            await self.all_arrived.wait()


class RacingApp:
    """A Starlette app behind the middleware whose ``/update`` can be held at a named gate."""

    def __init__(self, store: SessionStore, clock: FakeClock, **options: Any) -> None:
        self.gates: dict[str, Gate] = {}
        self.app = Starlette(
            routes=[
                Route("/update", self.update, methods=["POST"]),
                Route("/clear", self.clear, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/login", self.login, methods=["POST"]),
                Route("/pop", self.pop, methods=["POST"]),
                Route("/view", self.view),
            ]
        )
        self.app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **options)

    async def update(self, request: Request) -> Response:
        request.session.update(await request.json())
        gate = request.query_params.get("gate")
        if gate is not None:
            await self.gates[gate].pass_through()
        return JSONResponse({"ok": True})

    async def clear(self, request: Request) -> Response:
        request.session.clear()
        return JSONResponse({"ok": True})

    async def logout(self, request: Request) -> Response:
        end_session(request)
        return JSONResponse({"ok": True})

    async def login(self, request: Request) -> Response:
        request.session["user"] = "ada"
        regenerate_session(request)
        await self._hold(request)
        return JSONResponse({"ok": True})

    async def pop(self, request: Request) -> Response:
        for name in await request.json():
            request.session.pop(name, None)
        await self._hold(request)
        return JSONResponse({"ok": True})

    async def _hold(self, request: Request) -> None:
        gate = request.query_params.get("gate")
        if gate is not None:
            await self.gates[gate].pass_through()

    async def view(self, request: Request) -> Response:
        return JSONResponse(dict(request.session))

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="https://testserver")


async def start_session(client: httpx.AsyncClient) -> str:
    response = await client.post("/update", json={"seed": 0})
    assert response.status_code == 200
    cookie = response.cookies["session"]
    assert cookie
    client.cookies.clear()  # every request below names the session explicitly
    return cookie


def with_cookie(cookie: str) -> dict[str, str]:
    return {"cookie": f"session={cookie}"}


async def race(
    racing: RacingApp, client: httpx.AsyncClient, cookie: str, bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    """Send each body as its own concurrent request on one session; all load before any writes."""
    gate = racing.gates["race"] = Gate(len(bodies))
    responses: dict[int, httpx.Response] = {}

    async def one(index: int, body: dict[str, Any]) -> None:
        responses[index] = await client.post("/update?gate=race", json=body, headers=with_cookie(cookie))

    async with anyio.create_task_group() as tg:
        for index, body in enumerate(bodies):
            tg.start_soon(one, index, body)
        await gate.wait_for_all()
        gate.opened.set()
    return [responses[i] for i in range(len(bodies))]


async def stored(client: httpx.AsyncClient, cookie: str) -> dict[str, Any]:
    response = await client.get("/view", headers=with_cookie(cookie))
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def key_of(cookie: str) -> str:
    parsed = CookieSigner(SECRET).unsign(cookie)
    assert parsed is not None
    return store_key(parsed.session_id)


@pytest.mark.anyio
async def test_merge_keeps_every_concurrent_writers_key(store: SessionStore, clock: FakeClock) -> None:
    counting = CountingStore(store)
    racing = RacingApp(counting, clock)
    async with racing.client() as client:
        cookie = await start_session(client)
        counting.reset()
        responses = await race(racing, client, cookie, [{f"k{i}": i} for i in range(WRITERS)])
        assert [r.status_code for r in responses] == [200] * WRITERS
        # Merging keeps the session where it is: no writer moves it or touches the cookie.
        assert not any("set-cookie" in r.headers for r in responses)
        assert await stored(client, cookie) == {"seed": 0, **{f"k{i}": i for i in range(WRITERS)}}
    # Everyone loaded the same version, so all but one writer conflicted and merged at least once.
    assert counting.calls.count("save") >= 2 * WRITERS - 1
    record = await store.load(key_of(cookie))
    assert isinstance(record, SessionRecord) and record.version == 1 + WRITERS


@pytest.mark.anyio
async def test_overwrite_loses_concurrent_writers_keys(store: SessionStore, clock: FakeClock) -> None:
    racing = RacingApp(store, clock, on_conflict="overwrite")
    async with racing.client() as client:
        cookie = await start_session(client)
        responses = await race(racing, client, cookie, [{f"k{i}": i} for i in range(WRITERS)])
        data = await stored(client, cookie)
    survivors = sorted(key for key in data if key.startswith("k"))
    # Each retry writes its own snapshot again, so only the last writer's key is left.
    assert len(survivors) == 1, survivors
    assert data["seed"] == 0
    succeeded = sum(r.status_code == 200 for r in responses)
    assert succeeded == WRITERS, [r.status_code for r in responses]
    assert WRITERS - len(survivors) == 49


@pytest.mark.anyio
async def test_raise_policy_answers_409_to_all_but_the_first_writer(
    store: SessionStore, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock, on_conflict="raise")
    async with racing.client() as client:
        cookie = await start_session(client)
        responses = await race(racing, client, cookie, [{f"k{i}": i} for i in range(5)])
        data = await stored(client, cookie)
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    assert data == {"seed": 0, f"k{winner}": winner}
    # A refused request's own response never reaches the client: it did not happen.
    for response in responses:
        if response.status_code == 409:
            assert b"ok" not in response.content
            assert "set-cookie" not in response.headers


@pytest.mark.anyio
async def test_raise_policy_with_raise_store_errors_propagates_the_conflict(
    store: SessionStore, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock, on_conflict="raise", raise_store_errors=True)
    async with racing.client() as client:
        cookie = await start_session(client)
        gate = racing.gates["race"] = Gate(2)
        outcomes: list[object] = []

        async def one(body: dict[str, Any]) -> None:
            try:
                response = await client.post("/update?gate=race", json=body, headers=with_cookie(cookie))
                outcomes.append(response.status_code)
            except SessionConflict as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(one, {"a": 1})
            tg.start_soon(one, {"b": 2})
            await gate.wait_for_all()
            gate.opened.set()
    assert 200 in outcomes
    assert any(isinstance(outcome, SessionConflict) for outcome in outcomes)


@pytest.mark.anyio
async def test_same_key_later_writer_wins_for_that_key_only(store: SessionStore, clock: FakeClock) -> None:
    racing = RacingApp(store, clock)
    async with racing.client() as client:
        cookie = await start_session(client)
        early, late = racing.gates["early"], racing.gates["late"] = Gate(), Gate()
        results: dict[str, httpx.Response] = {}

        async def post(name: str, body: dict[str, Any]) -> None:
            results[name] = await client.post(f"/update?gate={name}", json=body, headers=with_cookie(cookie))

        async with anyio.create_task_group() as tg:
            tg.start_soon(post, "late", {"colour": "blue", "late_only": True})
            tg.start_soon(post, "early", {"colour": "red", "early_only": True})
            await late.wait_for_all()
            await early.wait_for_all()
            # Both loaded the same version; "early" commits, then "late" conflicts and merges.
            early.opened.set()
            with anyio.fail_after(30):
                while "early" not in results:
                    await anyio.sleep(0.001)
            late.opened.set()
        assert results["early"].status_code == results["late"].status_code == 200
        assert await stored(client, cookie) == {
            "seed": 0,
            "colour": "blue",
            "early_only": True,
            "late_only": True,
        }


async def while_an_update_waits(
    racing: RacingApp, client: httpx.AsyncClient, cookie: str, path: str
) -> tuple[httpx.Response, httpx.Response]:
    """POST ``path`` while an update of the same session has loaded it and waits to save; then let
    the update finish. Returns ``(update response, path response)``."""
    writer = racing.gates["writer"] = Gate()
    results: list[httpx.Response] = []

    async def write() -> None:
        update = await client.post("/update?gate=writer", json={"late": 1}, headers=with_cookie(cookie))
        results.append(update)

    async with anyio.create_task_group() as tg:
        tg.start_soon(write)
        await writer.wait_for_all()
        other = await client.post(path, headers=with_cookie(cookie))
        writer.opened.set()
    return results[0], other


@pytest.mark.anyio
@pytest.mark.parametrize("ending", ["/logout", "/clear"])
async def test_deletion_wins_over_a_concurrent_update(
    store: SessionStore, ending: str, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock)
    async with racing.client() as client:
        cookie = await start_session(client)
        update, ended = await while_an_update_waits(racing, client, cookie, ending)
        assert ended.status_code == 200
        assert is_expiry(ended.headers["set-cookie"])
        # Its change is stored nowhere, so no 200; and the ending request already told the
        # browser to drop the cookie, so the writer sets none.
        assert update.status_code == 409
        assert "set-cookie" not in update.headers
        assert await stored(client, cookie) == {}
    assert await store.load(key_of(cookie)) is None


@pytest.mark.anyio
async def test_update_loaded_before_a_login_answers_409_and_leaves_the_new_cookie_alone(
    store: SessionStore, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock)
    async with racing.client() as client:
        cookie = await start_session(client)
        update, login = await while_an_update_waits(racing, client, cookie, "/login")
        new_cookie = login.cookies["session"]
        assert new_cookie != cookie
        # Its change is in neither session, so no 200; and no cookie that could undo the login.
        assert update.status_code == 409
        assert "set-cookie" not in update.headers
        assert await stored(client, new_cookie) == {"seed": 0, "user": "ada"}
    moved = await store.load(key_of(cookie))
    assert isinstance(moved, MovedRecord) and moved.reason == "privilege" and moved.forward is None


@pytest.mark.anyio
async def test_merge_across_processes_keeps_every_key(store: SessionStore, clock: FakeClock) -> None:
    # Ten middlewares share the store as ten worker processes would: they cannot take turns, so the
    # versioned write, the merge and the backoff alone keep every key.
    counting = CountingStore(store)
    processes = [RacingApp(counting, clock) for _ in range(10)]
    clients = [process.client() for process in processes]
    cookie = await start_session(clients[0])
    gate = Gate(WRITERS)
    for process in processes:
        process.gates["race"] = gate
    counting.reset()
    statuses: list[int] = []

    async def one(index: int) -> None:
        client = clients[index % len(clients)]
        response = await client.post(
            "/update?gate=race", json={f"k{index}": index}, headers=with_cookie(cookie)
        )
        statuses.append(response.status_code)

    async with anyio.create_task_group() as tg:
        for index in range(WRITERS):
            tg.start_soon(one, index)
        await gate.wait_for_all()
        gate.opened.set()
    assert statuses == [200] * WRITERS
    assert await stored(clients[0], cookie) == {"seed": 0, **{f"k{i}": i for i in range(WRITERS)}}
    for client in clients:
        await client.aclose()
    # All loaded one version, so every writer but one lost at least one round.
    assert counting.calls.count("save") >= 2 * WRITERS - 1


async def while_held(
    racing: RacingApp,
    client: httpx.AsyncClient,
    cookie: str,
    held: tuple[str, Any],
    other: tuple[str, Any],
) -> tuple[httpx.Response, httpx.Response]:
    """POST ``held`` (path, JSON body) and hold it after it changed the session; meanwhile POST
    ``other`` to completion; then let the held request finish. Returns ``(held, other)``."""
    gate = racing.gates["held"] = Gate()
    results: list[httpx.Response] = []

    async def hold() -> None:
        path, body = held
        results.append(await client.post(f"{path}?gate=held", json=body, headers=with_cookie(cookie)))

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold)
        await gate.wait_for_all()
        path, body = other
        done = await client.post(path, json=body, headers=with_cookie(cookie))
        assert done.status_code == 200
        gate.opened.set()
    return results[0], done


async def session_holding(client: httpx.AsyncClient, data: dict[str, Any]) -> str:
    response = await client.post("/update", json=data)
    assert response.status_code == 200
    cookie = response.cookies["session"]
    client.cookies.clear()
    return cookie


@pytest.mark.anyio
async def test_emptying_the_session_keeps_a_key_another_request_saved_meanwhile(
    store: SessionStore, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock)
    async with racing.client() as client:
        cookie = await session_holding(client, {"flash": "saved!"})
        # The flash is shown and popped (the session is now empty) while another request is answered
        # 200 for setting the theme.
        popped, _ = await while_held(
            racing, client, cookie, ("/pop", ["flash"]), ("/update", {"theme": "dark"})
        )
        assert popped.status_code == 200
        # The theme is still in the session, so its cookie stays.
        assert "set-cookie" not in popped.headers
        assert await stored(client, cookie) == {"theme": "dark"}


@pytest.mark.anyio
async def test_emptying_the_session_deletes_it_when_the_merge_is_empty_too(
    store: SessionStore, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock)
    async with racing.client() as client:
        cookie = await session_holding(client, {"flash": "saved!", "draft": "text"})
        popped, _ = await while_held(racing, client, cookie, ("/pop", ["flash"]), ("/pop", ["draft"]))
        assert popped.status_code == 200
        assert is_expiry(popped.headers["set-cookie"])
    assert await store.load(key_of(cookie)) is None


@pytest.mark.anyio
async def test_login_carries_over_a_write_saved_while_it_ran(store: SessionStore, clock: FakeClock) -> None:
    racing = RacingApp(store, clock)
    async with racing.client() as client:
        cookie = await start_session(client)
        login, cart = await while_held(racing, client, cookie, ("/login", {}), ("/update", {"cart": ["tea"]}))
        assert login.status_code == cart.status_code == 200
        new_cookie = login.cookies["session"]
        assert new_cookie != cookie
        assert await stored(client, new_cookie) == {"seed": 0, "user": "ada", "cart": ["tea"]}
    moved = await store.load(key_of(cookie))
    assert isinstance(moved, MovedRecord) and moved.reason == "privilege"


@pytest.mark.anyio
async def test_login_under_the_raise_policy_answers_409_and_leaves_the_old_session(
    store: SessionStore, clock: FakeClock
) -> None:
    racing = RacingApp(store, clock, on_conflict="raise")
    async with racing.client() as client:
        cookie = await start_session(client)
        login, _ = await while_held(racing, client, cookie, ("/login", {}), ("/update", {"cart": ["tea"]}))
        assert login.status_code == 409
        assert "set-cookie" not in login.headers
        assert await stored(client, cookie) == {"seed": 0, "cart": ["tea"]}
    if isinstance(store, MemoryStore):
        assert len(store) == 1  # the new item was removed again
