"""The example app's Devices page, through Starlette's TestClient on a MemoryStore."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from dynsession import MemoryStore
from example_app.app import create_app
from example_app.settings import Settings

from ..devices_app import FIREFOX_LINUX, SAFARI_IPHONE
from ..support import FakeClock
from .test_pages import status_text


@pytest.fixture
def memory(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


def browser(store: MemoryStore, clock: FakeClock, user_agent: str) -> TestClient:
    app = create_app(store, Settings(secret_key="devices-secret"), clock=clock)
    return TestClient(app, base_url="http://testserver", headers={"user-agent": user_agent})


def log_in(web: TestClient, name: str = "alice") -> None:
    response = web.post("/login", data={"username": name, "password": "demo"}, follow_redirects=False)
    assert response.status_code == 303


def rows(web: TestClient) -> list[tuple[str, str, str]]:
    """(device, current, handle) for each row of the Devices page."""
    page = web.get("/devices")
    assert page.status_code == 200
    return re.findall(
        r'<tr data-device="([^"]+)" data-current="(yes|no)">.*?name="handle" value="([^"]+)"',
        page.text,
        re.DOTALL,
    )


def test_devices_needs_a_login(memory: MemoryStore, clock: FakeClock) -> None:
    web = browser(memory, clock, FIREFOX_LINUX)
    response = web.get("/devices", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert 'href="/devices"' not in web.get("/cart").text
    log_in(web)
    assert 'href="/devices"' in web.get("/cart").text


def test_devices_lists_sessions_with_the_current_one_marked(memory: MemoryStore, clock: FakeClock) -> None:
    laptop, phone = browser(memory, clock, FIREFOX_LINUX), browser(memory, clock, SAFARI_IPHONE)
    log_in(laptop)
    clock.advance(120)
    log_in(phone)
    page = phone.get("/devices").text
    assert "(this device)" in page and "2 min ago" in page and "just now" in page
    assert "<time>08:00:00 UTC</time>" in page and "<time>08:02:00 UTC</time>" in page
    assert [(d, c) for d, c, _ in rows(phone)] == [("Safari on iOS", "yes"), ("Firefox on Linux", "no")]
    assert [(d, c) for d, c, _ in rows(laptop)] == [("Firefox on Linux", "yes"), ("Safari on iOS", "no")]


def test_sign_out_one_device_and_all_others(memory: MemoryStore, clock: FakeClock) -> None:
    laptop, phone, tablet = (
        browser(memory, clock, agent) for agent in (FIREFOX_LINUX, SAFARI_IPHONE, SAFARI_IPHONE)
    )
    for web in (laptop, phone, tablet):
        log_in(web)
    phone_handle = next(handle for _, current, handle in rows(phone) if current == "yes")

    done = laptop.post("/devices/sign-out", data={"handle": phone_handle})
    assert 'id="ended">Signed out 1 session.' in done.text
    cart = phone.get("/cart").text
    assert "Not logged in" in cart
    assert status_text(cart) == (
        "This device was signed out from another device: nothing is stored until a page changes it."
    )
    assert status_text(phone.get("/").text) == (
        "This device was signed out from another device, so this visit started a new session."
    )
    assert len(rows(laptop)) == 2

    done = laptop.post("/devices/sign-out-others")
    assert 'id="ended">Signed out 1 session.' in done.text
    assert "Not logged in" in tablet.get("/cart").text
    assert [current for _, current, _ in rows(laptop)] == ["yes"]
    assert "sign-out-others" not in laptop.get("/devices").text


def test_a_session_gone_after_its_deadline_still_reads_as_expired(
    memory: MemoryStore, clock: FakeClock
) -> None:
    """Only a session gone before its deadline counts as signed out; one past it has expired."""
    laptop = browser(memory, clock, FIREFOX_LINUX)
    log_in(laptop)
    laptop.get("/cart")
    clock.advance(1801)  # the default idle timeout, 30 min, has passed
    assert status_text(laptop.get("/cart").text) == (
        "Your session has expired: nothing is stored until a page changes the session."
    )


def test_signing_out_this_device_logs_it_out(memory: MemoryStore, clock: FakeClock) -> None:
    laptop = browser(memory, clock, FIREFOX_LINUX)
    log_in(laptop)
    ((_, _, own),) = rows(laptop)
    response = laptop.post("/devices/sign-out", data={"handle": own}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?bye=1"
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in response.headers["set-cookie"]
    assert len(memory) == 0
