"""The example app's pages and settings, through Starlette's TestClient on a MemoryStore."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dynsession import MemoryStore
from example_app.app import create_app
from example_app.settings import DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, Settings

from ..support import FakeClock

SECRET = "pages-secret"


def client(
    store: MemoryStore,
    clock: FakeClock,
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT,
    absolute_timeout: int | None = DEFAULT_ABSOLUTE_TIMEOUT,
) -> TestClient:
    settings = Settings(secret_key=SECRET, idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
    return TestClient(create_app(store, settings, clock=clock), base_url="http://testserver")


@pytest.fixture
def memory(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


def log_in(web: TestClient, name: str = "alice") -> None:
    response = web.post("/login", data={"username": name, "password": "demo"}, follow_redirects=False)
    assert response.status_code == 303


def test_settings_from_env_defaults_and_values() -> None:
    defaults = Settings.from_env({})
    assert (defaults.idle_timeout, defaults.absolute_timeout) == (
        DEFAULT_IDLE_TIMEOUT,
        DEFAULT_ABSOLUTE_TIMEOUT,
    )
    assert defaults.cart_delay == 0 and len(defaults.secret_key) >= 32
    assert Settings.from_env({}).secret_key != defaults.secret_key
    custom = Settings.from_env(
        {
            "EXAMPLE_IDLE_TIMEOUT": "60",
            "EXAMPLE_ABSOLUTE_TIMEOUT": "0",
            "EXAMPLE_SECRET_KEY": "k",
            "EXAMPLE_CART_DELAY": "0.5",
        }
    )
    assert custom == Settings(secret_key="k", idle_timeout=60, absolute_timeout=None, cart_delay=0.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [("EXAMPLE_IDLE_TIMEOUT", "soon"), ("EXAMPLE_IDLE_TIMEOUT", "0"), ("EXAMPLE_ABSOLUTE_TIMEOUT", "-5")],
)
def test_settings_reject_bad_numbers(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_reading_pages_store_nothing(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    for path in ("/cart", "/login", "/session"):
        response = web.get(path)
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"
    home = web.get("/")
    assert "set-cookie" in home.headers
    assert 'id="visits">1<' in home.text and 'id="visits">2<' in web.get("/").text


def test_login_regenerates_and_keeps_data(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    web.get("/")
    before = web.cookies["session"]
    refused = web.post("/login", data={"username": "alice", "password": "nope"})
    assert refused.status_code == 401 and "Wrong user name" in refused.text
    assert web.cookies["session"] == before
    log_in(web)
    assert web.cookies["session"] != before
    home = web.get("/")
    assert "Logged in as <strong>alice</strong>" in home.text and 'id="visits">2<' in home.text
    assert web.get("/session").json()["session"]["user"] == {"name": "alice", "since": clock.now}


def test_user_name_is_escaped(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    log_in(web, "<b>mallory</b>")
    assert "&lt;b&gt;mallory&lt;/b&gt;" in web.get("/").text


def test_cart_add_and_remove(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    for sku in ("tea", "apple", "tea"):
        assert web.post("/cart/add", data={"sku": sku}, follow_redirects=False).status_code == 303
    data = web.get("/session").json()["session"]
    assert data == {"cart:tea": {"qty": 2, "added": clock.now}, "cart:apple": {"qty": 1, "added": clock.now}}
    page = web.get("/cart").text
    assert page.index('data-sku="apple"') < page.index('data-sku="tea"') and "6.40" in page
    web.post("/cart/remove", data={"sku": "tea"})
    assert list(web.get("/session").json()["session"]) == ["cart:apple"]
    assert web.post("/cart/add", data={"sku": "caviar"}).status_code == 404


def test_session_json_shows_info_but_never_the_id(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock, idle_timeout=600, absolute_timeout=3600)
    web.get("/")
    signed = web.cookies["session"]
    clock.advance(10)
    body = web.get("/session")
    assert body.json() == {
        "session": {"visits": 1},
        "info": {
            "created": clock.now - 10,
            "expires": clock.now - 10 + 600,
            "absolute_deadline": clock.now - 10 + 3600,
            "is_new": False,
            "seconds_remaining": 590,
            "user_id": None,
        },
    }
    session_id = signed.rsplit(".", 1)[0]
    assert session_id not in body.text and signed not in body.text


def test_logout_deletes_the_session(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    log_in(web)
    response = web.post("/logout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?bye=1"
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert "session" not in web.cookies
    assert len(memory) == 0
    assert web.get("/session").json()["session"] == {}


@pytest.mark.parametrize(("idle", "absolute", "step", "steps"), [(60, None, 61, 1), (60, 100, 50, 2)])
def test_timeouts_end_the_session(
    memory: MemoryStore, clock: FakeClock, idle: int, absolute: int | None, step: int, steps: int
) -> None:
    web = client(memory, clock, idle_timeout=idle, absolute_timeout=absolute)
    log_in(web)
    for _ in range(steps - 1):
        clock.advance(step)
        assert "Logged in as" in web.get("/cart").text
    clock.advance(step)
    assert web.get("/session").json()["session"] == {}
    assert "Not logged in" in web.get("/cart").text
