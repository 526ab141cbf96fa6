"""The example app's pages and settings, through Starlette's TestClient on a MemoryStore."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from dynsession import MemoryStore
from dynsession.cache import MemoryCache
from example_app.app import CATALOGUE_LIFETIME, CATALOGUE_LOCAL_TTL, create_app
from example_app.settings import DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, Settings
from example_app.status import relative, wall_time

from ..cache.conftest import SharedCalls
from ..support import FakeClock

SECRET = "pages-secret"
NONE = "No session stored yet: nothing is written until a page changes the session."


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
    for path in ("/cart", "/login", "/session", "/session.json"):
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
    assert web.get("/session.json").json()["session"]["user"] == {"name": "alice", "since": clock.now}


def test_user_name_is_escaped(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    log_in(web, "<b>mallory</b>")
    assert "&lt;b&gt;mallory&lt;/b&gt;" in web.get("/").text


def test_cart_add_and_remove(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)
    for sku in ("tea", "apple", "tea"):
        assert web.post("/cart/add", data={"sku": sku}, follow_redirects=False).status_code == 303
    data = web.get("/session.json").json()["session"]
    assert data == {"cart:tea": {"qty": 2, "added": clock.now}, "cart:apple": {"qty": 1, "added": clock.now}}
    page = web.get("/cart").text
    assert page.index('data-sku="apple"') < page.index('data-sku="tea"') and "6.40" in page
    web.post("/cart/remove", data={"sku": "tea"})
    assert list(web.get("/session.json").json()["session"]) == ["cart:apple"]
    assert web.post("/cart/add", data={"sku": "caviar"}).status_code == 404


def test_session_json_shows_info_but_never_the_id(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock, idle_timeout=600, absolute_timeout=3600)
    web.get("/")
    signed = web.cookies["session"]
    clock.advance(10)
    body = web.get("/session.json")
    assert body.json() == {
        "stored": True,
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
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in response.headers["set-cookie"]
    assert "session" not in web.cookies
    assert len(memory) == 0
    assert web.get("/session.json").json()["session"] == {}


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
    assert web.get("/session.json").json()["session"] == {}
    assert "Not logged in" in web.get("/cart").text


def status_text(html: str) -> str:
    found = re.search(r'<p id="status-text">(.*?)</p>', html, flags=re.DOTALL)
    assert found is not None, html
    return found[1]


def deadlines(html: str) -> str:
    found = re.search(r'<p id="deadlines">(.*?)</p>', html, flags=re.DOTALL)
    assert found is not None, html
    return " ".join(re.sub(r"</?time>", "", found[1]).split())


def test_each_page_says_what_happened_to_the_session(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock, idle_timeout=600, absolute_timeout=None)

    assert status_text(web.get("/cart").text) == NONE
    first = web.get("/").text
    assert (
        status_text(first)
        == "New session written: this visit changed the session, so it was stored and the cookie set."
    )
    assert NONE not in first
    assert status_text(web.get("/").text) == "Session loaded and saved: this visit changed it."
    assert (
        status_text(web.get("/cart").text)
        == "Session loaded: this page only read it, so nothing was written."
    )

    clock.advance(601)
    expired = web.get("/cart").text
    assert (
        status_text(expired)
        == "Your session has expired: nothing is stored until a page changes the session."
    )
    assert 'id="deadlines"' not in expired
    restarted = web.get("/").text
    assert status_text(restarted) == (
        "Your previous session has expired, so this visit started a new one and stored it."
    )
    assert 'id="visits">1<' in restarted


def test_times_are_clock_times_and_time_left(memory: MemoryStore, clock: FakeClock) -> None:
    web = client(memory, clock)  # idle 30 min, absolute 8 h; the clock starts at 08:00:00 UTC
    assert clock.now == 1_800_000_000

    assert deadlines(web.get("/").text) == (
        "Expires at 08:30:00 UTC (in 30 min) unless you come back sooner; "
        "ends for good at 16:00:00 UTC (in 8 h)."
    )
    clock.advance(50)
    assert deadlines(web.get("/cart").text) == (
        "Expires at 08:30:00 UTC (in 29 min) unless you come back sooner; "
        "ends for good at 16:00:00 UTC (in 7 h 59 min)."
    )
    assert "1800000" not in web.get("/cart").text


def test_session_page_leads_back_and_reports_no_session_after_logout(
    memory: MemoryStore, clock: FakeClock
) -> None:
    web = client(memory, clock)
    log_in(web)
    clock.advance(5)

    page = web.get("/session").text
    assert '<a id="back" class="button" href="/">Back to the shop</a>' in page
    assert "<th>Created</th><td>08:00:00 UTC (5 s ago)</td>" in page
    assert "&#34;name&#34;: &#34;alice&#34;" in page
    assert "No session is stored" not in page

    web.post("/logout")
    after = web.get("/session").text
    assert '<p id="no-session">No session is stored for this browser.</p>' in after
    assert "Created" not in after and 'href="/"' in after
    assert web.get("/session.json").json() == {"stored": False, "session": {}, "info": None}


def test_the_stylesheet_is_served_by_the_app_and_nothing_comes_from_elsewhere(
    memory: MemoryStore, clock: FakeClock
) -> None:
    web = client(memory, clock)
    css = web.get("/static/shop.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".products" in css.text and "url(" not in css.text and "@import" not in css.text

    log_in(web)
    web.post("/cart/add", data={"sku": "tea"})
    for path in ("/", "/cart", "/login", "/session"):
        links = re.findall(r'(?:href|src|action)="([^"]*)"', web.get(path).text)
        assert links and all(link.startswith("/") for link in links), (path, links)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "just now"),
        (59, "in 59 s"),
        (60, "in 1 min"),
        (1799, "in 29 min"),
        (3600, "in 1 h"),
        (28_740, "in 7 h 59 min"),
        (-5, "5 s ago"),
        (-180, "3 min ago"),
    ],
)
def test_relative_times(seconds: int, words: str) -> None:
    assert relative(seconds) == words


def test_wall_time_is_utc() -> None:
    assert wall_time(1_800_000_000) == "08:00:00 UTC"


def test_catalogue_is_computed_once_then_served_from_the_cache(memory: MemoryStore, clock: FakeClock) -> None:
    settings = Settings(secret_key=SECRET)
    cache = MemoryCache(clock=clock)
    web = TestClient(create_app(memory, settings, clock=clock, cache=cache, catalogue_delay=0.05))
    first = web.get("/catalogue")
    assert first.status_code == 200 and "Computed in" in first.text
    assert re.findall(r'data-sku="(\w+)"', first.text) == ["apple", "bread", "cheese", "tea"]
    assert int(first.text.split("Computed in ")[1].split(" ms")[0]) >= 50
    second = web.get("/catalogue")
    assert "Served from cache (this process's memory) in" in second.text and "€4.80" in second.text
    clock.advance(CATALOGUE_LOCAL_TTL)
    assert "Served from cache (the shared cache) in" in web.get("/catalogue").text
    clock.advance(CATALOGUE_LIFETIME)
    assert "Computed in" in web.get("/catalogue").text
    assert len(memory) == 0  # the page reads the session but stores nothing


def test_catalogue_is_served_stale_when_recomputing_fails(memory: MemoryStore, clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)
    web = TestClient(
        create_app(memory, Settings(secret_key=SECRET), clock=clock, cache=cache, catalogue_delay=0)
    )
    assert "Computed in" in web.get("/catalogue").text
    clock.advance(CATALOGUE_LIFETIME)
    SharedCalls(cache).failing = True  # the shared cache fails from now on
    page = web.get("/catalogue")
    assert page.status_code == 200 and "Served a stale copy" in page.text and "€4.80" in page.text
