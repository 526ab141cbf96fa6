"""Driving races between requests deterministically: a store wrapper that stops one chosen call
until the test lets it go, and browsers that keep their own cookie."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

import anyio
import httpx
from starlette.types import ASGIApp

from dynsession import MovedRecord, MovingStore, SessionRecord, SessionStore, UserSessionStore
from dynsession._envelope.cookies import CookieSigner, store_key
from dynsession.stores.users import BoundSession

from .devices_app import FIREFOX_LINUX
from .items import cookie_value, is_expiry
from .support import SECRET

T = TypeVar("T")


class Stop:
    """One stopped call: ``reached`` is set when the call arrives, which then waits for ``go``."""

    def __init__(self) -> None:
        self.reached = anyio.Event()
        self.go = anyio.Event()


class StoppingStore:
    """Wraps a store (every method of the contracts); :meth:`stop_before` makes the next call to
    one of the named methods wait, whoever makes it."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self._armed: list[tuple[frozenset[str], Stop]] = []

    def stop_before(self, *names: str) -> Stop:
        stop = Stop()
        self._armed.append((frozenset(names), stop))
        return stop

    def stop_after(self, name: str) -> Stop:
        """Like :meth:`stop_before`, once the call has been made (before its caller goes on)."""
        return self.stop_before(f"after {name}")

    async def _checkpoint(self, name: str) -> None:
        for index, (names, stop) in enumerate(self._armed):
            if name in names:
                del self._armed[index]
                stop.reached.set()
                with anyio.fail_after(30):
                    await stop.go.wait()
                return

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        await self._checkpoint("load")
        load: Any = self.inner.load
        found: SessionRecord | MovedRecord | None = (
            await load(key) if consistent is None else await load(key, consistent=consistent)
        )
        return found

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        await self._checkpoint("save")
        await self.inner.save(key, record, expected_version=expected_version)

    async def touch(self, key: str, expires: int) -> bool:
        await self._checkpoint("touch")
        return await self.inner.touch(key, expires)

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        await self._checkpoint("delete")
        await self.inner.delete(key, expected_version=expected_version)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        await self._checkpoint("move")
        assert isinstance(self.inner, MovingStore)
        await self.inner.move(key, marker, expected_version=expected_version)

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]:
        await self._checkpoint("list_user_sessions")
        assert isinstance(self.inner, UserSessionStore)
        found = await self.inner.list_user_sessions(user_id)
        await self._checkpoint("after list_user_sessions")
        return found

    async def delete_sessions(self, keys: Collection[str]) -> None:
        await self._checkpoint("delete_sessions")
        assert isinstance(self.inner, UserSessionStore)
        await self.inner.delete_sessions(keys)


async def while_stopped(
    stop: Stop, first: Callable[[], Awaitable[T]], then: Callable[[], Awaitable[Any]]
) -> tuple[T, Any]:
    """Run ``first`` until it reaches ``stop``, run ``then`` to the end, let ``first`` finish.
    Returns both results."""
    results: dict[str, Any] = {}

    async def run_first() -> None:
        results["first"] = await first()

    async with anyio.create_task_group() as group:
        group.start_soon(run_first)
        with anyio.fail_after(30):
            await stop.reached.wait()
        results["then"] = await then()
        stop.go.set()
    return results["first"], results["then"]


class Browser:
    """One browser: its own cookie (set from every response it gets) and User-Agent. A request
    may name another cookie, as a tab still holding an older one would."""

    def __init__(self, app: ASGIApp, user_agent: str = FIREFOX_LINUX) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="https://testserver",
            headers={"user-agent": user_agent},
        )
        self.cookie: str | None = None

    async def send(
        self, method: str, path: str, *, cookie: str | None = None, **options: Any
    ) -> httpx.Response:
        used = cookie if cookie is not None else self.cookie
        headers = {} if used is None else {"cookie": f"session={used}"}
        response = await self.client.request(method, path, headers=headers, **options)
        self.client.cookies.clear()
        for header in response.headers.get_list("set-cookie"):
            self.cookie = None if is_expiry(header) else cookie_value(header)
        return response

    async def user(self, cookie: str | None = None) -> str | None:
        """Who the session behind ``cookie`` (default: this browser's) is signed in as."""
        response = await self.send("GET", "/me", cookie=cookie)
        assert response.status_code == 200, response.text
        found: str | None = response.json()["user_id"]
        return found

    async def aclose(self) -> None:
        await self.client.aclose()


def new_cookie(response: httpx.Response) -> str | None:
    """The session cookie a response sets (None: none, or an expiry)."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) <= 1, headers
    return None if not headers or is_expiry(headers[0]) else cookie_value(headers[0])


def key_of(cookie: str) -> str:
    parsed = CookieSigner(SECRET).unsign(cookie)
    assert parsed is not None
    return store_key(parsed.session_id)
