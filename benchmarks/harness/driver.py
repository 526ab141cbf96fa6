"""Drive an ASGI app in-process, without a network: one request is one direct ASGI call."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message

COOKIE = "session"


@dataclass(slots=True)
class Browser:
    """One client: remembers the session cookie the way a browser would (name=value only)."""

    cookie: str | None = None

    def remember(self, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            if name != b"set-cookie" or not value.startswith(b"session="):
                continue
            text = value.decode("latin-1")
            lowered = text.lower()
            if "max-age=0" in lowered or "01 jan 1970" in lowered:
                self.cookie = None
            else:
                self.cookie = text.split(";", 1)[0].split("=", 1)[1]


@dataclass(slots=True)
class Reply:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


async def request(app: ASGIApp, path: str, browser: Browser | None = None, method: str = "GET") -> Reply:
    """Send one request through ``app`` and return its status and headers; update ``browser``."""
    headers = [(b"host", b"testserver")]
    if browser is not None and browser.cookie is not None:
        headers.append((b"cookie", f"{COOKIE}={browser.cookie}".encode("latin-1")))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
        "state": {},
    }
    reply = Reply()
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = list(message.get("headers", []))

    await app(scope, receive, send)
    if browser is not None:
        browser.remember(reply.headers)
    return reply


async def ok(app: ASGIApp, path: str, browser: Browser) -> Reply:
    """``request`` that must answer 200; raises RuntimeError otherwise."""
    reply = await request(app, path, browser)
    if reply.status != 200:
        raise RuntimeError(f"{path} answered {reply.status}")
    return reply


def session_cookies(reply: Reply) -> list[bytes]:
    """The session cookie's Set-Cookie header values in a reply."""
    return [value for name, value in reply.headers if name == b"set-cookie" and value.startswith(b"session=")]
