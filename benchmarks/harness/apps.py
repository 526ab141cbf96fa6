"""The same tiny Starlette app behind each session middleware that the benchmarks compare."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as CookieSessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dynsession import SessionMiddleware, SessionStore, end_session, load_session, regenerate_session
from dynsession.fastapi import Session

if TYPE_CHECKING:
    from redis.asyncio import Redis

SECRET = "benchmark-secret-key"
# About 1 KB of JSON: what a signed-in user's session typically carries.
PROFILE: dict[str, Any] = {
    "user_id": 48213,
    "name": "Ada Example",
    "email": "ada@example.com",
    "roles": ["reader", "editor"],
    "preferences": {"theme": "dark", "lang": "en-GB", "tz": "Europe/London", "page_size": 50},
    "csrf": "Jt1l0nQ2uTzQm1b9vXcYkq7HwR4sP0aE3fG6hJ8kL2mN5pQ",
    "recent": [f"/projects/{n}/documents/{n * 7919 % 100000}" for n in range(24)],
}


async def read(request: Request) -> Response:
    return PlainTextResponse(str(request.session.get("n", 0)))


async def write(request: Request) -> Response:
    request.session["n"] = request.session.get("n", 0) + 1
    return PlainTextResponse("written")


async def seed(request: Request) -> Response:
    request.session.update(PROFILE)
    return PlainTextResponse("seeded")


async def login(request: Request) -> Response:
    request.session.update(PROFILE)
    regenerate_session(request)
    return PlainTextResponse("signed in")


_users = itertools.count()


async def signin(request: Request) -> Response:
    """A login that binds the new session to a user, so it goes into the user index."""
    request.session.update(PROFILE)
    regenerate_session(request, user_id=f"user-{next(_users)}", device="Firefox on Linux")
    return PlainTextResponse("signed in")


async def logout(request: Request) -> Response:
    end_session(request)
    return PlainTextResponse("signed out")


async def untouched(request: Request) -> Response:
    return PlainTextResponse("no session here")


async def asset(request: Request) -> Response:
    """A stylesheet or image the app serves itself: it never looks at the session."""
    return PlainTextResponse("body { margin: 0 }", media_type="text/css")


async def lazy_read(request: Request) -> Response:
    session = await load_session(request)
    return PlainTextResponse(str(session.get("n", 0)))


async def lazy_seed(request: Request) -> Response:
    (await load_session(request)).update(PROFILE)
    return PlainTextResponse("seeded")


def routes(*, lifecycle: bool) -> list[BaseRoute]:
    common: list[BaseRoute] = [
        Route("/read", read),
        Route("/write", write),
        Route("/seed", seed),
        Route("/probe", untouched),
    ]
    common.append(Route("/untouched", untouched))
    if lifecycle:
        common += [Route("/login", login), Route("/signin", signin), Route("/logout", logout)]
        common.append(Route("/lazy-read", lazy_read))
        common.append(Route("/lazy-seed", lazy_seed))
        common.append(Mount("/static", routes=[Route("/{name}", asset)]))
    return common


def dynsession_app(store: SessionStore, **options: Any) -> Starlette:
    """The app behind dynsession's middleware (login/logout use its regenerate and end helpers)."""
    options.setdefault("secret_key", SECRET)
    return Starlette(
        routes=routes(lifecycle=True), middleware=[Middleware(SessionMiddleware, store=store, **options)]
    )


def dynsession_fastapi_app(store: SessionStore, **options: Any) -> ASGIApp:
    """A FastAPI app in the pattern the README recommends: ``autoload=False`` and the session as a
    dependency of the routes that use it."""
    app = FastAPI()

    @app.get("/read")
    async def read(session: Session) -> Response:
        return PlainTextResponse(str(session.get("n", 0)))

    @app.get("/seed")
    async def seed(session: Session) -> Response:
        session.update(PROFILE)
        return PlainTextResponse("seeded")

    @app.get("/untouched")
    async def untouched() -> Response:
        return PlainTextResponse("no session here")

    options.setdefault("secret_key", SECRET)
    options.setdefault("autoload", False)
    app.add_middleware(SessionMiddleware, store=store, **options)
    return app


def starlette_cookie_app() -> Starlette:
    """The app behind Starlette's own SessionMiddleware (the whole session in a signed cookie)."""
    middleware = [Middleware(CookieSessionMiddleware, secret_key=SECRET, https_only=True)]
    return Starlette(routes=routes(lifecycle=False), middleware=middleware)


def starsessions_app() -> Starlette:
    """The app behind starsessions with its InMemoryStore, loading the session on every request."""
    from starsessions import InMemoryStore, SessionAutoloadMiddleware
    from starsessions import SessionMiddleware as StarSessionMiddleware

    middleware = [
        Middleware(StarSessionMiddleware, store=InMemoryStore(), cookie_https_only=True, lifetime=1800),
        Middleware(SessionAutoloadMiddleware),
    ]
    return Starlette(routes=routes(lifecycle=False), middleware=middleware)


def starsessions_redis_app(connection: Redis) -> Starlette:
    """The app behind starsessions with its RedisStore over ``connection`` (redis-py's asyncio client)."""
    from starsessions import SessionAutoloadMiddleware
    from starsessions import SessionMiddleware as StarSessionMiddleware
    from starsessions.stores.redis import RedisStore

    store = RedisStore(connection=connection)
    middleware = [
        Middleware(StarSessionMiddleware, store=store, cookie_https_only=True, lifetime=1800),
        Middleware(SessionAutoloadMiddleware),
    ]
    return Starlette(routes=routes(lifecycle=False), middleware=middleware)


class _PlainDict:
    """No session middleware: a bare dict in the scope so the same endpoints run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["session"] = {}
        await self.app(scope, receive, send)


def baseline_app() -> Starlette:
    return Starlette(routes=routes(lifecycle=False), middleware=[Middleware(_PlainDict)])
