"""The example app in headless Chromium: the cookie flow as a real browser sees it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Response, sync_playwright

from .conftest import BROWSER_TEST, CHROMIUM, CHROMIUM_ARGS, ExampleProcess

COOKIE = "session"

pytestmark = BROWSER_TEST


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a throw-away profile."""
    profile = tmp_path / "profile"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


def session_cookie(context: BrowserContext, url: str) -> dict[str, Any] | None:
    found = [dict(cookie) for cookie in context.cookies(url) if cookie.get("name") == COOKIE]
    assert len(found) <= 1
    return found[0] if found else None


def session_json(page: Page) -> dict[str, Any]:
    """GET /session.json from inside the page, so the browser sends its own cookies."""
    result: dict[str, Any] = page.evaluate("fetch('/session.json').then(response => response.json())")
    return result


def status(page: Page) -> str:
    return page.locator("#status-text").inner_text()


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def cart_skus(page: Page) -> list[str]:
    return [str(row.get_attribute("data-sku")) for row in page.locator("tr[data-sku]").all()]


def started(response: Response) -> float:
    return response.request.timing["startTime"] + response.request.timing["requestStart"]


def answered(response: Response) -> float:
    return response.request.timing["startTime"] + response.request.timing["responseStart"]


def test_cookie_flow_in_chromium(
    browser: BrowserContext, example_app: ExampleProcess, tmp_path: Path
) -> None:
    url = example_app.url
    page = browser.new_page()

    # First visit to a page that only reads the session: nothing is stored, so no cookie.
    page.goto(url + "cart")
    assert page.locator("#empty").is_visible()
    assert session_cookie(browser, url) is None
    assert status(page) == "No session stored yet: nothing is written until a page changes the session."
    assert session_json(page) == {"stored": False, "session": {}, "info": None}
    assert session_cookie(browser, url) is None

    # The home page counts visits: the first write sets the cookie, later ones keep its value.
    page.goto(url)
    assert page.locator("#visits").inner_text() == "1"
    assert status(page).startswith("New session written:")
    assert re.fullmatch(
        r"Expires at \d\d:\d\d:\d\d UTC \(in (30|29) min\) unless you come back sooner; "
        r"ends for good at \d\d:\d\d:\d\d UTC \(in (8 h|7 h 59 min)\)\.",
        page.locator("#deadlines").inner_text(),
    )
    # The stylesheet comes from the app itself and is applied.
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"
    cookie = session_cookie(browser, url)
    assert cookie is not None and cookie["httpOnly"] is True
    anonymous = cookie["value"]
    page.reload()
    assert page.locator("#visits").inner_text() == "2"
    assert status(page) == "Session loaded and saved: this visit changed it."
    assert session_cookie(browser, url) == cookie
    shoot(page, tmp_path / "home.png")

    # A failed login changes nothing; a good one moves the session to a new ID and keeps its data.
    page.goto(url + "login")
    page.fill("#username", "alice")
    page.fill("#password", "wrong")
    page.click("#login")
    assert page.locator("#error").is_visible()
    assert session_cookie(browser, url) == cookie
    page.fill("#username", "alice")
    page.fill("#password", "demo")
    page.click("#login")
    page.wait_for_url(url)
    assert "Logged in as alice" in page.locator("#user").inner_text()
    assert page.locator("#visits").inner_text() == "3"
    logged_in = session_cookie(browser, url)
    assert logged_in is not None and logged_in["value"] != anonymous

    # Two tabs add different items at once. The app holds each add for 1.5 s, so both requests
    # load the same version of the session; the second writer merges instead of overwriting.
    tab = browser.new_page()
    page.goto(url + "cart")
    tab.goto(url + "cart")
    with (
        page.expect_response(lambda r: r.url.endswith("/cart/add")) as first_add,
        tab.expect_response(lambda r: r.url.endswith("/cart/add")) as second_add,
    ):
        page.click("#add-apple", no_wait_after=True)
        tab.click("#add-tea", no_wait_after=True)
    assert started(second_add.value) < answered(first_add.value), "the two adds did not overlap"
    assert first_add.value.status == second_add.value.status == 303
    page.wait_for_selector("tr[data-sku]")
    tab.wait_for_selector("tr[data-sku]")
    page.reload()
    assert cart_skus(page) == ["apple", "tea"]
    data = session_json(page)["session"]
    assert data["cart:apple"]["qty"] == 1 and data["cart:tea"]["qty"] == 1
    assert data["user"]["name"] == "alice"

    # The session cookie is HttpOnly: scripts see other cookies but never this one.
    page.evaluate("document.cookie = 'probe=1; path=/'")
    visible = page.evaluate("document.cookie")
    assert "probe=1" in visible
    assert f"{COOKIE}=" not in visible and logged_in["value"] not in visible

    assert status(page) == "Session loaded: this page only read it, so nothing was written."
    shoot(page, tmp_path / "cart.png")

    # The session page shows the stored data with readable times, and leads back to the shop.
    page.goto(url + "session")
    assert '"user"' in page.locator("#session-data").inner_text()
    assert "UTC" in page.locator("#session-info").inner_text()
    shoot(page, tmp_path / "session.png")
    page.click("#back")
    page.wait_for_url(url)
    page.goto(url + "cart")

    # Logout deletes the session and the cookie.
    page.click("#logout")
    page.wait_for_url(url + "login?bye=1")
    assert page.locator("#bye").is_visible()
    assert session_cookie(browser, url) is None
    assert session_json(page) == {"stored": False, "session": {}, "info": None}

    # Back and forward show pages fetched afresh: nothing of the old session comes back.
    page.go_back()
    page.wait_for_url(url + "cart")
    assert page.locator("#empty").is_visible()
    assert "Not logged in" in page.locator("#user").inner_text()
    page.go_forward()
    page.wait_for_url(url + "login?bye=1")
    assert "Not logged in" in page.locator("#user").inner_text()
    tab.reload()
    assert cart_skus(tab) == []
    assert session_cookie(browser, url) is None
    assert session_json(page)["session"] == {}
    assert session_json(tab)["session"] == {}
