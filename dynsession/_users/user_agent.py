"""Short device labels ("Firefox on Linux") for a user's session list, derived from a User-Agent.

The label names a browser family and an operating system, nothing finer: no versions, no device
models, and never the header itself, which is long and identifies a browser more than it needs to.
"""

from __future__ import annotations

import re

MAX_DEVICE_LENGTH = 64
UNKNOWN_DEVICE = "Unknown device"

# Order matters: Chromium-based browsers also claim Chrome and Safari, Chrome claims Safari.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Vivaldi/", "Vivaldi"),
    ("YaBrowser/", "Yandex Browser"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("iPod", "iOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
)
# A program that is not a browser (curl/8.5.0, python-httpx/0.28): its product name, nothing more.
_PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,31}")


def device_label(user_agent: str | None) -> str:
    """A short label for the device behind a User-Agent: "Firefox on Linux", "Safari on iOS",
    "curl", or "Unknown device"."""
    if not user_agent:
        return UNKNOWN_DEVICE
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    if browser == "Safari" and "Safari/" not in user_agent and "Mobile/" not in user_agent:
        browser = None
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return str(browser or system)
    product = _PRODUCT.match(user_agent)
    if product is None or product.group() == "Mozilla":
        return UNKNOWN_DEVICE
    return product.group()


def check_device(device: str) -> str:
    """Return an app-given device label stripped, or raise ValueError when it is empty, longer than
    MAX_DEVICE_LENGTH characters or holds control characters (it is shown in pages and terminals)."""
    label = device.strip() if isinstance(device, str) else ""
    if not label or len(label) > MAX_DEVICE_LENGTH or not label.isprintable():
        raise ValueError(
            f"device must be a non-empty string of at most {MAX_DEVICE_LENGTH} printable characters"
        )
    return label
