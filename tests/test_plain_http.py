"""One warning per middleware when the Secure session cookie is set over plain http to a host
where it cannot come back: the cause of "every request starts a new session" in an app's tests."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from dynsession import MemoryStore, SessionMiddleware

from .support import SECRET

WARNING = (
    "the Secure session cookie was set on a plain-http request to {host!r}, where browsers and test "
    "clients drop it: every request will start a new session. For plain-http development pass "
    'https_only=False; with Starlette\'s TestClient pass base_url="https://testserver". Behind a proxy '
    "that terminates TLS, let the server trust its X-Forwarded-Proto. (Logged once.)"
)


async def count(request: Request) -> JSONResponse:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return JSONResponse({"visits": request.session["visits"]})


async def peek(request: Request) -> JSONResponse:
    return JSONResponse({"visits": request.session.get("visits")})


def counter_app(**options: Any) -> Starlette:
    app = Starlette(routes=[Route("/", count), Route("/peek", peek)])
    app.add_middleware(SessionMiddleware, store=MemoryStore(), secret_key=SECRET, **options)
    return app


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "dynsession" and record.levelno == logging.WARNING
    ]


def test_testclient_on_plain_http_loses_the_session_and_says_why_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(counter_app())

    with caplog.at_level(logging.WARNING, logger="dynsession"):
        visits = [client.get("/").json()["visits"] for _ in range(3)]

    assert visits == [1, 1, 1]
    assert warnings_logged(caplog) == [WARNING.format(host="testserver")]


def test_each_middleware_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    first, second = TestClient(counter_app()), TestClient(counter_app(), base_url="http://shop.example")

    with caplog.at_level(logging.WARNING, logger="dynsession"):
        for _ in range(2):
            first.get("/")
            second.get("/")

    assert warnings_logged(caplog) == [WARNING.format(host="testserver"), WARNING.format(host="shop.example")]


@pytest.mark.parametrize(
    ("base_url", "options"),
    [
        ("https://testserver", {}),
        ("http://testserver", {"https_only": False}),
        ("http://localhost:8000", {}),
        ("http://127.0.0.1:8000", {}),
        ("http://[::1]:8000", {}),
        ("http://shop.localhost", {}),
    ],
    ids=["https", "https_only-off", "localhost", "127.0.0.1", "ipv6-loopback", "dot-localhost"],
)
def test_no_warning_where_the_cookie_comes_back(
    base_url: str, options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(counter_app(**options), base_url=base_url)

    with caplog.at_level(logging.WARNING, logger="dynsession"):
        client.get("/")

    assert warnings_logged(caplog) == []


def test_over_https_the_testclient_keeps_the_session() -> None:
    client = TestClient(counter_app(), base_url="https://testserver")

    assert [client.get("/").json()["visits"] for _ in range(3)] == [1, 2, 3]


def test_requests_that_set_no_cookie_do_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    app = counter_app()
    plain = TestClient(app)

    with caplog.at_level(logging.WARNING, logger="dynsession"):
        plain.get("/peek")
        assert warnings_logged(caplog) == []
        plain.get("/")

    assert warnings_logged(caplog) == [WARNING.format(host="testserver")]
