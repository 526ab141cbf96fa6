"""Switching from Starlette's cookie ``SessionMiddleware`` by changing the import keeps an app's tests
passing: the behaviour Starlette's own session tests check holds for dynsession configured with
Starlette's defaults, and the Set-Cookie text is Starlette's, attribute for attribute."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from dynsession import ConfigurationError, SessionMiddleware, SessionStore

from .support import FakeClock

# Starlette's defaults where they differ from dynsession's.
STARLETTE_DEFAULTS: dict[str, Any] = {"max_age": 14 * 24 * 3600, "https_only": False}
SECRET = "example"


async def show(request: Request) -> JSONResponse:
    return JSONResponse({"session": request.session})


async def merge(request: Request) -> JSONResponse:
    request.session.update(await request.json())
    return JSONResponse({"session": request.session})


async def wipe(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({"session": request.session})


async def elsewhere(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


ROUTES = [
    Route("/view_session", show),
    Route("/update_session", merge, methods=["POST"]),
    Route("/clear_session", wipe, methods=["POST"]),
    Route("/no_session", elsewhere),
]

AppFactory = Callable[..., Starlette]


@pytest.fixture
def make_app(store: SessionStore, clock: FakeClock) -> AppFactory:
    """A Starlette app with dynsession on ``store``, Starlette's defaults, overridden by ``options``."""

    def make(**options: Any) -> Starlette:
        settings = {**STARLETTE_DEFAULTS, "secret_key": SECRET, "clock": clock, **options}
        return Starlette(routes=ROUTES, middleware=[Middleware(SessionMiddleware, store=store, **settings)])

    return make


def test_a_session_round_trip_with_a_fourteen_day_max_age(make_app: AppFactory) -> None:
    client = TestClient(make_app())

    assert client.get("/view_session").json() == {"session": {}}
    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    found = re.search(r"; Max-Age=([0-9]+);", response.headers["set-cookie"])
    assert found is not None and int(found[1]) == 1_209_600
    assert client.get("/view_session").json() == {"session": {"some": "data"}}
    assert client.post("/clear_session").json() == {"session": {}}
    assert client.get("/view_session").json() == {"session": {}}


def test_a_negative_max_age_is_refused_not_taken_as_already_expired(make_app: AppFactory) -> None:
    # Starlette accepts max_age=-1 and issues cookies that are expired on arrival; dynsession
    # refuses the setting when the middleware is built (documented in the README's options).
    with pytest.raises(ConfigurationError, match="max_age"):
        make_app(max_age=-1).build_middleware_stack()


def test_a_secure_cookie_comes_back_only_over_https(make_app: AppFactory) -> None:
    app = make_app(https_only=True)
    plain = TestClient(app, base_url="http://testserver")
    secure = TestClient(app, base_url="https://testserver")

    assert plain.get("/view_session").json() == {"session": {}}
    assert plain.post("/update_session", json={"some": "data"}).json() == {"session": {"some": "data"}}
    assert plain.get("/view_session").json() == {"session": {}}

    assert secure.get("/view_session").json() == {"session": {}}
    assert secure.post("/update_session", json={"some": "data"}).json() == {"session": {"some": "data"}}
    assert secure.get("/view_session").json() == {"session": {"some": "data"}}
    assert secure.post("/clear_session").json() == {"session": {}}
    assert secure.get("/view_session").json() == {"session": {}}


def test_the_cookie_path_of_a_mounted_app(make_app: AppFactory) -> None:
    outer = Starlette(routes=[Mount("/second_app", app=make_app(path="/second_app"))])
    client = TestClient(outer, base_url="http://testserver/second_app")

    response = client.post("/update_session", json={"some": "data"})

    assert response.status_code == 200
    found = re.search(r"; path=(\S+);", response.headers["set-cookie"])
    assert found is not None and found[1] == "/second_app"


def test_a_bogus_cookie_is_no_session(make_app: AppFactory) -> None:
    app = make_app()
    assert TestClient(app).post("/update_session", json={"some": "data"}).json() == {
        "session": {"some": "data"}
    }

    bogus = TestClient(app, cookies={"session": "invalid"})

    assert bogus.get("/view_session").json() == {"session": {}}


def test_max_age_none_makes_a_browser_session_cookie(make_app: AppFactory) -> None:
    client = TestClient(make_app(max_age=None))

    response = client.post("/update_session", json={"some": "data"})

    assert response.json() == {"session": {"some": "data"}}
    assert "Max-Age" not in response.headers["set-cookie"]
    client.cookies.delete("session")
    assert client.get("/view_session").json() == {"session": {}}


def test_the_domain_attribute(make_app: AppFactory) -> None:
    client = TestClient(make_app(domain=".example.com"))

    response = client.post("/update_session", json={"some": "data"})

    assert response.json() == {"session": {"some": "data"}}
    assert "domain=.example.com" in response.headers["set-cookie"]
    client.cookies.delete("session")
    assert client.get("/view_session").json() == {"session": {}}


def test_set_cookie_only_when_the_session_changed(make_app: AppFactory) -> None:
    client = TestClient(make_app())

    assert "set-cookie" in client.post("/update_session", json={"some": "data"}).headers
    read = client.get("/view_session")

    assert read.json() == {"session": {"some": "data"}}
    assert "set-cookie" not in read.headers


def test_vary_cookie_only_when_the_session_was_used(make_app: AppFactory) -> None:
    client = TestClient(make_app())

    assert "cookie" in client.post("/update_session", json={"some": "data"}).headers["vary"].lower()
    assert "cookie" in client.get("/view_session").headers["vary"].lower()
    assert "cookie" not in client.get("/no_session").headers.get("vary", "").lower()


EDITS: list[tuple[str, Callable[[dict[str, Any]], object], bool]] = [
    ("set a key", lambda s: s.__setitem__("c", "3"), True),
    ("delete a key", lambda s: s.__delitem__("a"), True),
    ("clear", lambda s: s.clear(), True),
    ("pop a present key", lambda s: s.pop("a"), True),
    ("pop a missing key", lambda s: s.pop("missing", None), False),
    ("setdefault a missing key", lambda s: s.setdefault("b", "2"), True),
    ("setdefault a present key", lambda s: s.setdefault("a", "2"), False),
]


@pytest.mark.parametrize(("edit", "writes"), [(e[1], e[2]) for e in EDITS], ids=[e[0] for e in EDITS])
def test_which_dict_operations_change_the_session(
    make_app: AppFactory, edit: Callable[[dict[str, Any]], object], writes: bool
) -> None:
    # Starlette marks its session modified on exactly these operations; dynsession compares the
    # encoded session instead and must reach the same verdict, seen as a Set-Cookie or none.
    async def apply(request: Request) -> JSONResponse:
        edit(request.session)
        return JSONResponse({"session": request.session})

    app = make_app()
    app.router.routes.append(Route("/edit", apply, methods=["POST"]))
    client = TestClient(app)
    client.post("/update_session", json={"a": "1"})

    response = client.post("/edit")

    assert ("set-cookie" in response.headers) is writes


# -- the header text, side by side with Starlette's own middleware ------------------------------

COOKIE_OPTIONS: list[dict[str, Any]] = [
    {},
    {"max_age": None},
    {"max_age": 3600, "path": "/shop"},
    {"same_site": "strict", "https_only": True},
    {"same_site": "none", "https_only": True, "domain": ".example.com", "partitioned": True},
    {"session_cookie": "sid", "domain": "example.com"},
]


def headers_from(middleware: Middleware, path: str) -> tuple[str, str]:
    """The Set-Cookie of a write (its signed value blanked), then of clearing that session."""
    prefix = path.rstrip("/")
    routes = [Mount(prefix, routes=ROUTES)] if prefix else ROUTES
    client = TestClient(Starlette(routes=routes, middleware=[middleware]), base_url="https://www.example.com")
    written = client.post(f"{prefix}/update_session", json={"some": "data"}).headers["set-cookie"]
    cleared = client.post(f"{prefix}/clear_session").headers["set-cookie"]
    return re.sub(r"^([^=]+)=[^;]*", r"\1=<value>", written), cleared


@pytest.mark.parametrize("options", COOKIE_OPTIONS, ids=lambda options: ",".join(options) or "defaults")
def test_set_cookie_text_is_starlettes(
    store: SessionStore, clock: FakeClock, options: dict[str, Any]
) -> None:
    path = options.get("path", "/")
    theirs = headers_from(Middleware(StarletteSessionMiddleware, secret_key=SECRET, **options), path)
    settings = {**STARLETTE_DEFAULTS, **options}
    ours = headers_from(
        Middleware(SessionMiddleware, store=store, secret_key=SECRET, clock=clock, **settings), path
    )

    assert ours == theirs
