"""Device labels derived from User-Agent headers: a browser family and a system, never the header."""

from __future__ import annotations

import pytest

from dynsession._users.user_agent import MAX_DEVICE_LENGTH, UNKNOWN_DEVICE, check_device, device_label

from .devices_app import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_IPHONE


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "CriOS/131.0 Mobile/15E148 Safari/604.1",
            "Chrome on iPadOS",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
            "Opera on ChromeOS",
        ),
        ("curl/8.5.0", "curl"),
        ("python-httpx/0.28.1", "python-httpx"),
        ("Mozilla/5.0 (Windows NT 10.0)", "Windows"),
        ("Mozilla/5.0", UNKNOWN_DEVICE),
        ("", UNKNOWN_DEVICE),
        (None, UNKNOWN_DEVICE),
        ("\x00\x01 junk", UNKNOWN_DEVICE),
    ],
)
def test_labels(user_agent: str | None, label: str) -> None:
    assert device_label(user_agent) == label


def test_a_label_is_short_and_never_the_header() -> None:
    header = "x" * 5000 + "/1.0 (secret-tracking-id-1234567890)"
    label = device_label(header)
    assert len(label) <= 32 and "secret" not in label
    for user_agent in (FIREFOX_LINUX, SAFARI_IPHONE, CHROME_WINDOWS):
        assert len(device_label(user_agent)) <= MAX_DEVICE_LENGTH and "/" not in device_label(user_agent)


def test_app_given_labels_are_checked() -> None:
    assert check_device("  Alice's phone ") == "Alice's phone"
    for bad in ("", "   ", "x" * (MAX_DEVICE_LENGTH + 1), "phone\x1b[2J", "a\nb"):
        with pytest.raises(ValueError, match="device must be"):
            check_device(bad)
