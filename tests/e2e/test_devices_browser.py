"""The example app's Devices page in headless Chromium: one user on two devices (two browser
contexts, so two cookie jars), one signs the other out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ..devices_app import FIREFOX_LINUX, SAFARI_IPHONE
from .conftest import BROWSER_TEST, CHROMIUM, CHROMIUM_ARGS, ExampleProcess

pytestmark = BROWSER_TEST


@pytest.fixture
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Page, url: str) -> None:
    page.goto(url + "login")
    page.fill("#username", "alice")
    page.fill("#password", "demo")
    page.click("#login")
    page.wait_for_url(url)
    assert "Logged in as alice" in page.locator("#user").inner_text()


def devices(page: Page) -> list[tuple[str, str]]:
    rows = page.locator("tr[data-device]").all()
    return [(str(row.get_attribute("data-device")), str(row.get_attribute("data-current"))) for row in rows]


def test_two_devices_one_signs_the_other_out(chromium: Browser, example_app: ExampleProcess) -> None:
    url = example_app.url
    laptop = chromium.new_context(user_agent=FIREFOX_LINUX).new_page()
    phone = chromium.new_context(user_agent=SAFARI_IPHONE).new_page()
    log_in(laptop, url)
    log_in(phone, url)

    laptop.click("#devices-link")
    laptop.wait_for_url(url + "devices")
    assert devices(laptop) == [("Firefox on Linux", "yes"), ("Safari on iOS", "no")]
    assert "(this device)" in laptop.locator("tr[data-current=yes]").inner_text()

    # Sign the phone out from the laptop.
    laptop.locator("tr[data-current=no] button.sign-out").click()
    laptop.wait_for_selector("#ended")
    assert laptop.locator("#ended").inner_text() == "Signed out 1 session."
    assert devices(laptop) == [("Firefox on Linux", "yes")]

    # The phone's next request finds no session.
    phone.goto(url + "cart")
    assert "Not logged in" in phone.locator("#user").inner_text()
    phone.goto(url + "devices")
    phone.wait_for_url(url + "login")

    # Signed in again, the phone is signed out by "Sign out all other devices".
    log_in(phone, url)
    laptop.reload()
    assert devices(laptop) == [("Firefox on Linux", "yes"), ("Safari on iOS", "no")]
    laptop.click("#sign-out-others")
    laptop.wait_for_selector("#ended")
    assert devices(laptop) == [("Firefox on Linux", "yes")]
    phone.reload()
    assert "Not logged in" in phone.locator("#user").inner_text()
    laptop.goto(url)
    assert "Logged in as alice" in laptop.locator("#user").inner_text()
